package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testSlackThreads(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	t0 := clock.Now()
	ann := seedConversation(t, ctx, st, "shop", "+800")
	ben := seedConversation(t, ctx, st, "shop", "+801")

	save := func(t *testing.T, th baton.SlackThread) *baton.SlackThread {
		t.Helper()
		must(t, st.SaveSlackThread(ctx, &th), "SaveSlackThread")
		return &th
	}
	// wantThread checks that both lookups find want, and only want.
	wantThread := func(t *testing.T, want *baton.SlackThread) {
		t.Helper()
		got, err := st.GetSlackThread(ctx, want.TeamID, want.ConversationID)
		must(t, err, "GetSlackThread")
		sameThread(t, "GetSlackThread", got, want)
		got, err = st.SlackThreadByTS(ctx, want.TeamID, want.ChannelID, want.ThreadTS)
		must(t, err, "SlackThreadByTS")
		sameThread(t, "SlackThreadByTS", got, want)
	}

	var first *baton.SlackThread
	t.Run("save: the card starts the thread", func(t *testing.T) {
		first = save(t, baton.SlackThread{TeamID: "T1", ConversationID: ann.ID, ChannelID: "C-support", MessageTS: "1700000000.000100"})
		if first.ThreadTS != "1700000000.000100" {
			t.Fatalf("ThreadTS = %q, want the card's ts", first.ThreadTS)
		}
		wantTime(t, "CreatedAt", first.CreatedAt, t0)
		wantTime(t, "UpdatedAt", first.UpdatedAt, t0)
		wantThread(t, first)
	})

	t.Run("one thread per workspace", func(t *testing.T) {
		other := save(t, baton.SlackThread{TeamID: "T2", ConversationID: ann.ID, ChannelID: "C-support", MessageTS: "1700000000.000100"})
		wantThread(t, other)
		wantThread(t, first)
	})

	t.Run("saving again moves the card and keeps CreatedAt", func(t *testing.T) {
		later := clock.Advance(time.Minute)
		moved := save(t, baton.SlackThread{TeamID: "T1", ConversationID: ann.ID, ChannelID: "C-billing", MessageTS: "1700000100.000200",
			ThreadTS: "1700000050.000300"})
		wantTime(t, "CreatedAt", moved.CreatedAt, t0)
		wantTime(t, "UpdatedAt", moved.UpdatedAt, later)
		wantThread(t, moved)
		_, err := st.SlackThreadByTS(ctx, "T1", "C-support", "1700000000.000100")
		wantCode(t, err, baton.ENOTFOUND, "the old thread after the move")
		first = moved
	})

	t.Run("bad input changes nothing", func(t *testing.T) {
		long := strings.Repeat("1", baton.MaxSlackID+1)
		cases := []struct {
			name string
			th   baton.SlackThread
			code string
		}{
			{"no conversation", baton.SlackThread{TeamID: "T1", ChannelID: "C-x", MessageTS: "1.1"}, baton.EINVALID},
			{"no team", baton.SlackThread{ConversationID: ann.ID, ChannelID: "C-x", MessageTS: "1.1"}, baton.EINVALID},
			{"no channel", baton.SlackThread{TeamID: "T1", ConversationID: ann.ID, MessageTS: "1.1"}, baton.EINVALID},
			{"no message ts", baton.SlackThread{TeamID: "T1", ConversationID: ann.ID, ChannelID: "C-x", ThreadTS: "1.1"}, baton.EINVALID},
			{"padded channel", baton.SlackThread{TeamID: "T1", ConversationID: ann.ID, ChannelID: " C-x", MessageTS: "1.1"}, baton.EINVALID},
			{"overlong ts", baton.SlackThread{TeamID: "T1", ConversationID: ann.ID, ChannelID: "C-x", MessageTS: long}, baton.EINVALID},
			{"unknown conversation", baton.SlackThread{TeamID: "T1", ConversationID: 987654, ChannelID: "C-x", MessageTS: "1.1"}, baton.ENOTFOUND},
			{"another conversation's thread", baton.SlackThread{TeamID: "T1", ConversationID: ben.ID, ChannelID: "C-billing",
				MessageTS: "1700000200.000100", ThreadTS: "1700000050.000300"}, baton.ECONFLICT},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				th := tc.th
				err := st.SaveSlackThread(ctx, &th)
				wantCode(t, err, tc.code, "SaveSlackThread")
				if th != tc.th {
					t.Errorf("a refused save changed its argument to %+v", th)
				}
				if msg := baton.ErrorMessage(err); !strings.Contains(msg, "Slack thread") {
					t.Errorf("error %q does not say what was refused", msg)
				}
			})
		}
		wantThread(t, first)
		_, err := st.GetSlackThread(ctx, "T1", ben.ID)
		wantCode(t, err, baton.ENOTFOUND, "ben's thread after refused saves")
		_, err = st.GetSlackThread(ctx, "T1", 987654)
		wantCode(t, err, baton.ENOTFOUND, "the unknown conversation's thread")
	})

	t.Run("lookups", func(t *testing.T) {
		cases := []struct {
			name                    string
			team, channel, threadTS string
			conversationID          int64
			getCode, byTSCode       string
		}{
			{"unknown team", "T9", "C-billing", "1700000050.000300", ann.ID, baton.ENOTFOUND, baton.ENOTFOUND},
			{"another channel", "T1", "C-support", "1700000050.000300", ben.ID, baton.ENOTFOUND, baton.ENOTFOUND},
			{"the card's ts is not the thread's", "T1", "C-billing", "1700000100.000200", 987654, baton.ENOTFOUND, baton.ENOTFOUND},
			{"no team", "", "C-billing", "1700000050.000300", ann.ID, baton.EINVALID, baton.EINVALID},
			{"no channel", "T1", "", "1700000050.000300", ann.ID, "", baton.EINVALID},
			{"no thread ts", "T1", "C-billing", "", ann.ID, "", baton.EINVALID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.GetSlackThread(ctx, tc.team, tc.conversationID)
				wantCode(t, err, tc.getCode, "GetSlackThread")
				_, err = st.SlackThreadByTS(ctx, tc.team, tc.channel, tc.threadTS)
				wantCode(t, err, tc.byTSCode, "SlackThreadByTS")
			})
		}
	})

	t.Run("inside a transaction that rolls back", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			th := baton.SlackThread{TeamID: "T1", ConversationID: ben.ID, ChannelID: "C-support", MessageTS: "1700000300.000100"}
			must(t, tx.SaveSlackThread(ctx, &th), "SaveSlackThread in Tx")
			// A refused save leaves the transaction usable.
			taken := baton.SlackThread{TeamID: "T1", ConversationID: ben.ID, ChannelID: "C-billing", MessageTS: "1700000050.000300"}
			wantCode(t, tx.SaveSlackThread(ctx, &taken), baton.ECONFLICT, "another conversation's thread in Tx")
			got, err := tx.GetSlackThread(ctx, "T1", ben.ID)
			must(t, err, "GetSlackThread in Tx")
			sameThread(t, "in Tx", got, &th)
			return baton.Errorf(baton.ECONFLICT, "roll back")
		})
		wantCode(t, err, baton.ECONFLICT, "Tx")
		_, err = st.GetSlackThread(ctx, "T1", ben.ID)
		wantCode(t, err, baton.ENOTFOUND, "ben's thread after the rollback")
	})
}

func (s *suite) testSlackThreadsConcurrently(t *testing.T) {
	const n = 20
	t.Run("racing saves of one conversation leave one thread", func(t *testing.T) {
		a, b, _, ctx := s.pair(t)
		c := seedConversation(t, ctx, a, "shop", "+810")
		saved := make([]baton.SlackThread, n)
		errs := race(n, func(i int) error {
			saved[i] = baton.SlackThread{TeamID: "T1", ConversationID: c.ID, ChannelID: fmt.Sprintf("C-%d", i%3),
				MessageTS: fmt.Sprintf("1700000000.%06d", i)}
			return []baton.Store{a, b}[i%2].SaveSlackThread(ctx, &saved[i])
		})
		for i, err := range errs {
			must(t, err, fmt.Sprintf("SaveSlackThread %d", i))
		}
		got, err := b.GetSlackThread(ctx, "T1", c.ID)
		must(t, err, "GetSlackThread")
		found := 0
		for i := range saved {
			th, err := a.SlackThreadByTS(ctx, "T1", saved[i].ChannelID, saved[i].ThreadTS)
			if baton.ErrorCode(err) == baton.ENOTFOUND {
				continue
			}
			must(t, err, "SlackThreadByTS")
			found++
			sameThread(t, "the one thread left", th, got)
		}
		if found != 1 {
			t.Fatalf("%d of the %d saved threads are found, want exactly 1", found, n)
		}
	})

	t.Run("racing conversations for one thread: one gets it", func(t *testing.T) {
		a, b, _, ctx := s.pair(t)
		convs := make([]*baton.Conversation, n)
		for i := range convs {
			convs[i] = seedConversation(t, ctx, a, "shop", fmt.Sprintf("+82%02d", i))
		}
		errs := race(n, func(i int) error {
			th := baton.SlackThread{TeamID: "T1", ConversationID: convs[i].ID, ChannelID: "C-support", MessageTS: "1700000000.000100"}
			return []baton.Store{a, b}[i%2].SaveSlackThread(ctx, &th)
		})
		winner := -1
		for i, err := range errs {
			switch baton.ErrorCode(err) {
			case "":
				if winner >= 0 {
					t.Fatalf("conversations %d and %d both got the thread", convs[winner].ID, convs[i].ID)
				}
				winner = i
			case baton.ECONFLICT:
			default:
				t.Fatalf("save %d: %v, want success or %s", i, err, baton.ECONFLICT)
			}
		}
		if winner < 0 {
			t.Fatal("no conversation got the thread")
		}
		th, err := b.SlackThreadByTS(ctx, "T1", "C-support", "1700000000.000100")
		must(t, err, "SlackThreadByTS")
		if th.ConversationID != convs[winner].ID {
			t.Fatalf("the thread shows conversation %d, want the winner %d", th.ConversationID, convs[winner].ID)
		}
	})
}

func (s *suite) testSlackEvents(t *testing.T) {
	t.Run("marks", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		cases := []struct {
			name, team, event string
			first             bool
			code              string
		}{
			{"the first delivery", "T1", "Ev01", true, ""},
			{"Slack's retry", "T1", "Ev01", false, ""},
			{"the same id in another workspace", "T2", "Ev01", true, ""},
			{"another event", "T1", "Ev02", true, ""},
			{"no team", "", "Ev03", false, baton.EINVALID},
			{"no event id", "T1", "", false, baton.EINVALID},
			{"an overlong event id", "T1", strings.Repeat("E", baton.MaxSlackID+1), false, baton.EINVALID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				clock.Advance(time.Second)
				first, err := st.MarkSlackEvent(ctx, tc.team, tc.event, time.Time{})
				wantCode(t, err, tc.code, "MarkSlackEvent")
				if first != tc.first {
					t.Fatalf("first = %v, want %v", first, tc.first)
				}
			})
		}
		// A refused mark wrote nothing: the event is new afterwards.
		first, err := st.MarkSlackEvent(ctx, "T1", "Ev03", time.Time{})
		must(t, err, "MarkSlackEvent")
		if !first {
			t.Fatal("an event whose mark was refused is not new")
		}
	})

	t.Run("racing marks of one event: exactly one is first", func(t *testing.T) {
		a, b, clock, ctx := s.pair(t)
		const n = 20
		for round, event := range []string{"Ev10", "Ev11", "Ev12"} {
			firsts := make([]bool, n)
			errs := race(n, func(i int) error {
				var err error
				firsts[i], err = []baton.Store{a, b}[i%2].MarkSlackEvent(ctx, "T1", event, clock.Now())
				return err
			})
			count := 0
			for i, err := range errs {
				must(t, err, fmt.Sprintf("round %d: MarkSlackEvent %d", round, i))
				if firsts[i] {
					count++
				}
			}
			if count != 1 {
				t.Fatalf("round %d: %d of %d marks were first, want exactly 1", round, count, n)
			}
		}
	})

	t.Run("purge", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		t0 := clock.Now()
		for i, event := range []string{"Ev20", "Ev21", "Ev22", "Ev23"} {
			_, err := st.MarkSlackEvent(ctx, "T1", event, t0.Add(time.Duration(i)*time.Hour))
			must(t, err, "MarkSlackEvent")
		}
		_, err := st.PurgeSlackEvents(ctx, t0.Add(time.Hour), 0)
		wantCode(t, err, baton.EINVALID, "PurgeSlackEvents with limit 0")
		purge := func(before time.Time, limit, want int) {
			t.Helper()
			n, err := st.PurgeSlackEvents(ctx, before, limit)
			must(t, err, "PurgeSlackEvents")
			if n != want {
				t.Fatalf("PurgeSlackEvents(before %v, limit %d) = %d, want %d", before.Sub(t0), limit, n, want)
			}
		}
		cutoff := t0.Add(150 * time.Minute) // after Ev20, Ev21, Ev22
		purge(cutoff, 2, 2)
		purge(cutoff, 2, 1)
		purge(cutoff, 2, 0)
		for _, tc := range []struct {
			event string
			first bool
		}{{"Ev20", true}, {"Ev21", true}, {"Ev22", true}, {"Ev23", false}} {
			first, err := st.MarkSlackEvent(ctx, "T1", tc.event, time.Time{})
			must(t, err, "MarkSlackEvent after the purge")
			if first != tc.first {
				t.Errorf("%s after the purge: first = %v, want %v (only marks before the cutoff are forgotten)", tc.event, first, tc.first)
			}
		}
	})
}

func sameThread(t *testing.T, what string, got, want *baton.SlackThread) {
	t.Helper()
	if got.TeamID != want.TeamID || got.ConversationID != want.ConversationID || got.ChannelID != want.ChannelID ||
		got.MessageTS != want.MessageTS || got.ThreadTS != want.ThreadTS {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
	wantTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+": UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}
