package storetest

import (
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testCSAT(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	t0 := clock.Now()
	ann := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+700")
	ben := queued(t, ctx, st, "shop", baton.ChannelWebChat, "v-700")
	cid := seedConversation(t, ctx, st, "bank", "+701")

	request := func(t *testing.T, c baton.CSAT, wantCreated bool) *baton.CSAT {
		t.Helper()
		created, err := st.RequestCSAT(ctx, &c)
		must(t, err, "RequestCSAT")
		if created != wantCreated {
			t.Fatalf("created = %v, want %v", created, wantCreated)
		}
		return &c
	}

	var first *baton.CSAT
	t.Run("request", func(t *testing.T) {
		first = request(t, baton.CSAT{ConversationID: ann.ID, Resolution: 1, BotID: "shop", QueueID: "support", AgentID: "ada", Channel: baton.ChannelWhatsApp}, true)
		if first.ID == 0 || first.Rating != 0 || first.AnsweredAt != nil || first.BotResolved {
			t.Fatalf("requested = %+v", first)
		}
		wantTime(t, "RequestedAt defaults to now", first.RequestedAt, t0)
	})

	t.Run("the same episode is asked once", func(t *testing.T) {
		clock.Advance(time.Minute)
		again := request(t, baton.CSAT{ConversationID: ann.ID, Resolution: 1, BotID: "shop", AgentID: "bob", Channel: baton.ChannelWhatsApp}, false)
		if !reflect.DeepEqual(again, first) {
			t.Fatalf("a second request = %+v, want the stored %+v", again, first)
		}
	})

	t.Run("bad requests change nothing", func(t *testing.T) {
		cases := []struct {
			name string
			c    baton.CSAT
			code string
		}{
			{"no conversation", baton.CSAT{Resolution: 1, BotID: "shop", Channel: baton.ChannelWhatsApp}, baton.EINVALID},
			{"no episode", baton.CSAT{ConversationID: ann.ID, BotID: "shop", Channel: baton.ChannelWhatsApp}, baton.EINVALID},
			{"no bot", baton.CSAT{ConversationID: ann.ID, Resolution: 2, Channel: baton.ChannelWhatsApp}, baton.EINVALID},
			{"unknown channel", baton.CSAT{ConversationID: ann.ID, Resolution: 2, BotID: "shop", Channel: "fax"}, baton.EINVALID},
			{"answered already", baton.CSAT{ConversationID: ann.ID, Resolution: 2, BotID: "shop", Channel: baton.ChannelWhatsApp, Rating: 5}, baton.EINVALID},
			{"unknown conversation", baton.CSAT{ConversationID: 987654, Resolution: 1, BotID: "shop", Channel: baton.ChannelWhatsApp}, baton.ENOTFOUND},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := tc.c
				_, err := st.RequestCSAT(ctx, &c)
				wantCode(t, err, tc.code, "RequestCSAT")
			})
		}
		all, err := st.ListCSAT(ctx, baton.CSATFilter{})
		must(t, err, "ListCSAT")
		if len(all) != 1 {
			t.Fatalf("%d surveys, want 1", len(all))
		}
	})

	// ann's second episode, ben's survey and cid's bot-resolved one, an
	// hour apart.
	clock.Set(t0.Add(time.Hour))
	annSecond := request(t, baton.CSAT{ConversationID: ann.ID, Resolution: 2, BotID: "shop", QueueID: "support", AgentID: "bob", Channel: baton.ChannelWhatsApp}, true)
	benFirst := request(t, baton.CSAT{ConversationID: ben.ID, Resolution: 1, BotID: "shop", QueueID: "returns", AgentID: "ada", Channel: baton.ChannelWebChat,
		RequestedAt: t0.Add(2 * time.Hour)}, true)
	cidFirst := request(t, baton.CSAT{ConversationID: cid.ID, Resolution: 1, BotID: "bank", Channel: baton.ChannelWhatsApp, BotResolved: true,
		RequestedAt: t0.Add(3 * time.Hour)}, true)

	t.Run("answers", func(t *testing.T) {
		cases := []struct {
			name       string
			a          baton.CSATAnswer
			code       string
			resolution int // the episode answered
		}{
			{"rating too low", baton.CSATAnswer{ConversationID: ann.ID, Rating: 0}, baton.EINVALID, 0},
			{"rating too high", baton.CSATAnswer{ConversationID: ann.ID, Rating: 6}, baton.EINVALID, 0},
			{"negative episode", baton.CSATAnswer{ConversationID: ann.ID, Resolution: -1, Rating: 3}, baton.EINVALID, 0},
			{"comment too long", baton.CSATAnswer{ConversationID: ann.ID, Rating: 3, Comment: strings.Repeat("é", baton.MaxCSATComment+1)}, baton.ETOOLARGE, 0},
			{"no survey for the conversation", baton.CSATAnswer{ConversationID: 987654, Rating: 3}, baton.ENOTFOUND, 0},
			{"no survey for the episode", baton.CSATAnswer{ConversationID: ann.ID, Resolution: 3, Rating: 3}, baton.ENOTFOUND, 0},
			{"the latest episode by default", baton.CSATAnswer{ConversationID: ann.ID, Rating: 2, Comment: "slow"}, "", 2},
			{"an earlier episode by number", baton.CSATAnswer{ConversationID: ann.ID, Resolution: 1, Rating: 5, At: t0.Add(90 * time.Minute)}, "", 1},
			{"the first answer stands", baton.CSATAnswer{ConversationID: ann.ID, Rating: 5}, baton.ECONFLICT, 0},
			{"also by number", baton.CSATAnswer{ConversationID: ann.ID, Resolution: 1, Rating: 1}, baton.ECONFLICT, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				now := clock.Advance(time.Minute)
				got, err := st.AnswerCSAT(ctx, tc.a)
				if tc.code != "" {
					wantCode(t, err, tc.code, "AnswerCSAT")
					return
				}
				must(t, err, "AnswerCSAT")
				at := tc.a.At
				if at.IsZero() {
					at = now
				}
				if got.ConversationID != ann.ID || got.Resolution != tc.resolution || got.Rating != tc.a.Rating || got.Comment != tc.a.Comment {
					t.Fatalf("answered = %+v, want %+v for episode %d", got, tc.a, tc.resolution)
				}
				wantTimePtr(t, "AnsweredAt", got.AnsweredAt, &at)
			})
		}
		list, err := st.ListCSAT(ctx, baton.CSATFilter{ConversationID: ann.ID})
		must(t, err, "ListCSAT")
		if len(list) != 2 || list[0].Rating != 5 || list[1].Rating != 2 || list[1].Comment != "slow" {
			t.Fatalf("ann's surveys = %+v, want 5 then 2 (slow)", list)
		}
	})

	t.Run("concurrent answers: one stands", func(t *testing.T) {
		var won atomic.Int64
		errs := race(8, func(i int) error {
			c, err := st.AnswerCSAT(ctx, baton.CSATAnswer{ConversationID: ben.ID, Rating: i%5 + 1})
			if err == nil {
				won.Store(int64(c.Rating))
			}
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantCode(t, err, baton.ECONFLICT, "a losing answer")
		}
		if ok != 1 {
			t.Fatalf("%d answers stood, want 1", ok)
		}
		list, err := st.ListCSAT(ctx, baton.CSATFilter{ConversationID: ben.ID})
		must(t, err, "ListCSAT")
		if len(list) != 1 || int64(list[0].Rating) != won.Load() {
			t.Fatalf("stored = %+v, want the winner's rating %d", list, won.Load())
		}
	})

	// ann's first episode is rated without a comment, her second with
	// one; ben's is rated; cid's is not.
	t.Run("comments", func(t *testing.T) {
		before, err := st.ListCSAT(ctx, baton.CSATFilter{})
		must(t, err, "ListCSAT")
		byID := map[int64]baton.CSAT{}
		for _, c := range before {
			byID[c.ID] = *c
		}
		cases := []struct {
			name       string
			conv       int64
			resolution int
			comment    string
			code       string
			want       *baton.CSAT // the survey commented on
		}{
			{"negative episode", ann.ID, -1, "fine", baton.EINVALID, nil},
			{"blank comment", ann.ID, 1, " \n\t", baton.EINVALID, nil},
			{"comment too long", ann.ID, 1, strings.Repeat("é", baton.MaxCSATComment+1), baton.ETOOLARGE, nil},
			{"no survey for the conversation", 987654, 0, "fine", baton.ENOTFOUND, nil},
			{"no survey for the episode", ann.ID, 3, "fine", baton.ENOTFOUND, nil},
			{"not rated yet", cid.ID, 0, "fine", baton.EINVALID, nil},
			{"not rated yet, by number", cid.ID, 1, "fine", baton.EINVALID, nil},
			{"the comment given with the rating stands", ann.ID, 0, "actually fine", baton.ECONFLICT, nil},
			{"an earlier episode by number", ann.ID, 1, "Ada was kind", "", first},
			{"the first comment stands", ann.ID, 1, "and quick", baton.ECONFLICT, nil},
			{"the longest comment", ben.ID, 0, strings.Repeat("é", baton.MaxCSATComment), "", benFirst},
			{"then no other", ben.ID, 0, "short", baton.ECONFLICT, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				clock.Advance(time.Minute)
				got, err := st.CommentCSAT(ctx, tc.conv, tc.resolution, tc.comment)
				if tc.code != "" {
					wantCode(t, err, tc.code, "CommentCSAT")
					return
				}
				must(t, err, "CommentCSAT")
				want := byID[tc.want.ID]
				want.Comment = tc.comment
				if !reflect.DeepEqual(*got, want) {
					t.Fatalf("commented = %+v, want %+v", *got, want)
				}
				byID[want.ID] = want
			})
		}
		after, err := st.ListCSAT(ctx, baton.CSATFilter{})
		must(t, err, "ListCSAT")
		if len(after) != len(before) {
			t.Fatalf("%d surveys after the comments, want %d", len(after), len(before))
		}
		for _, c := range after {
			// Only the comments taken changed: ratings, answer times and
			// refused comments did not.
			if !reflect.DeepEqual(*c, byID[c.ID]) {
				t.Errorf("survey %d = %+v, want %+v", c.ID, *c, byID[c.ID])
			}
		}
	})

	t.Run("concurrent comments: one stands", func(t *testing.T) {
		_, err := st.AnswerCSAT(ctx, baton.CSATAnswer{ConversationID: cid.ID, Rating: 4})
		must(t, err, "AnswerCSAT")
		var won atomic.Value
		errs := race(8, func(i int) error {
			c, err := st.CommentCSAT(ctx, cid.ID, 0, "comment "+strconv.Itoa(i))
			if err == nil {
				won.Store(c.Comment)
			}
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantCode(t, err, baton.ECONFLICT, "a losing comment")
		}
		if ok != 1 {
			t.Fatalf("%d comments stood, want 1", ok)
		}
		list, err := st.ListCSAT(ctx, baton.CSATFilter{ConversationID: cid.ID})
		must(t, err, "ListCSAT")
		if len(list) != 1 || list[0].Comment != won.Load() || list[0].Rating != 4 {
			t.Fatalf("stored = %+v, want rating 4 and the winner's comment %q", list, won.Load())
		}
	})

	t.Run("list filters", func(t *testing.T) {
		ids := func(cs ...*baton.CSAT) []int64 {
			var out []int64
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		cases := []struct {
			name string
			f    baton.CSATFilter
			want []int64
		}{
			{"all by request time", baton.CSATFilter{}, ids(first, annSecond, benFirst, cidFirst)},
			{"conversation", baton.CSATFilter{ConversationID: ann.ID}, ids(first, annSecond)},
			{"unknown conversation", baton.CSATFilter{ConversationID: 987654}, nil},
			{"bot", baton.CSATFilter{BotID: "bank"}, ids(cidFirst)},
			{"queue", baton.CSATFilter{QueueID: "support"}, ids(first, annSecond)},
			{"agent", baton.CSATFilter{AgentID: "ada"}, ids(first, benFirst)},
			{"since, inclusive", baton.CSATFilter{Since: t0.Add(2 * time.Hour)}, ids(benFirst, cidFirst)},
			{"until, exclusive", baton.CSATFilter{Until: t0.Add(2 * time.Hour)}, ids(first, annSecond)},
			{"a window", baton.CSATFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, ids(annSecond, benFirst)},
			{"answered", baton.CSATFilter{Answered: true}, ids(first, annSecond, benFirst, cidFirst)},
			{"conversation and agent", baton.CSATFilter{ConversationID: ann.ID, AgentID: "bob"}, ids(annSecond)},
			{"limit", baton.CSATFilter{Limit: 2}, ids(first, annSecond)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListCSAT(ctx, tc.f)
				must(t, err, "ListCSAT")
				if g := ids(got...); !reflect.DeepEqual(g, tc.want) {
					t.Fatalf("ids = %v, want %v", g, tc.want)
				}
			})
		}
		got, err := st.ListCSAT(ctx, baton.CSATFilter{BotID: "bank"})
		must(t, err, "ListCSAT")
		if c := got[0]; !c.BotResolved || c.AgentID != "" || c.QueueID != "" || c.Channel != baton.ChannelWhatsApp || c.Resolution != 1 {
			t.Fatalf("bot-resolved survey = %+v", c)
		}
		wantTime(t, "RequestedAt as given", got[0].RequestedAt, t0.Add(3*time.Hour))
	})
}
