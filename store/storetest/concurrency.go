package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/batonhq/baton"
)

// race runs f on n goroutines released at the same moment and returns their
// errors by index.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			errs[i] = f(i)
		}(i)
	}
	close(gate)
	wg.Wait()
	return errs
}

func (s *suite) testConcurrency(t *testing.T) {
	const n = 8

	t.Run("first messages of a new customer from duplicate webhooks", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		ids := make([]int64, n)
		errs := race(n, func(i int) error {
			c, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelMessenger, Address: "psid-1"}, "Lea")
			if err == nil {
				ids[i] = c.ID
			}
			return err
		})
		for i, err := range errs {
			must(t, err, fmt.Sprintf("upsert %d", i))
			if ids[i] != ids[0] {
				t.Fatalf("customer ids = %v, want one customer", ids)
			}
		}
	})

	t.Run("transitions serialise", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		c := seedConversation(t, ctx, st, "shop", "+4000")
		_, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: ptr("q0")})
		must(t, err, "escalate")
		errs := race(n, func(i int) error {
			_, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "system", Reason: "transfer", QueueID: ptr(fmt.Sprintf("q%d", i+1))})
			return err
		})
		for i, err := range errs {
			must(t, err, fmt.Sprintf("transfer %d", i))
		}
		got, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get")
		if got.Version != 2+n {
			t.Fatalf("version = %d after %d transitions from version 2, want %d (an update was lost)", got.Version, n, 2+n)
		}
		evs, err := st.ListEvents(ctx, c.ID)
		must(t, err, "ListEvents")
		if len(evs) != 1+n {
			t.Fatalf("%d events, want %d", len(evs), 1+n)
		}
	})

	t.Run("one of several updates of the same version wins", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		c := seedConversation(t, ctx, st, "shop", "+4001")
		errs := race(n, func(i int) error {
			cp := *c
			cp.Language = fmt.Sprintf("l%d", i)
			return st.UpdateConversation(ctx, &cp)
		})
		won := 0
		for _, err := range errs {
			switch baton.ErrorCode(err) {
			case "":
				won++
			case baton.ECONFLICT:
			default:
				t.Fatalf("update: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d updates of version 1 succeeded, want exactly 1", won)
		}
		got, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get")
		if got.Version != 2 {
			t.Fatalf("version = %d, want 2", got.Version)
		}
	})

	t.Run("racing article versions", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		errs := race(n, func(i int) error {
			return st.CreateArticleVersion(ctx, &baton.Article{BotID: "shop", Slug: "race", Title: fmt.Sprint(i), Status: baton.ArticlePublished})
		})
		for i, err := range errs {
			must(t, err, fmt.Sprintf("create %d", i))
		}
		vs, err := st.ListArticleVersions(ctx, "shop", "race")
		must(t, err, "ListArticleVersions")
		published := 0
		for i, v := range vs {
			if v.Version != i+1 {
				t.Fatalf("versions are not 1..%d: %d at %d", n, v.Version, i)
			}
			if v.Status == baton.ArticlePublished {
				published++
			}
		}
		if len(vs) != n || published != 1 {
			t.Fatalf("%d versions, %d published; want %d and 1", len(vs), published, n)
		}
	})
}
