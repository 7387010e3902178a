package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// testGaps runs when the store also keeps KB gaps (baton.GapStore).
func (s *suite) testGaps(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	gs, ok := st.(baton.GapStore)
	if !ok {
		t.Skip("store does not implement baton.GapStore")
	}
	t0 := clock.Now()
	var ids []int64
	for i, g := range []*baton.Gap{
		{BotID: "shop", ConversationID: 1, MessageID: 10, Question: "can I pay with [redacted]?", Language: "en", Reason: baton.GapUnanswered, Grounded: 0.21},
		{BotID: "acme", Question: "other bot", Reason: baton.GapUnanswered},
		{BotID: "shop", Question: "where is my parcel", Reason: baton.GapEscalated, At: t0.Add(2 * time.Hour)},
		{BotID: "shop", Question: "do you ship to Mars", Reason: baton.GapUnanswered},
	} {
		clock.Advance(time.Minute)
		must(t, gs.RecordGap(ctx, g), "RecordGap")
		if g.ID == 0 {
			t.Fatalf("gap %d: id not set", i)
		}
		ids = append(ids, g.ID)
	}
	cases := []struct {
		name  string
		bot   string
		since time.Time
		limit int
		want  []int64
	}{
		{"oldest first", "shop", t0, 0, []int64{ids[0], ids[3], ids[2]}},
		{"since", "shop", t0.Add(3 * time.Minute), 0, []int64{ids[3], ids[2]}},
		{"limit", "shop", t0, 2, []int64{ids[0], ids[3]}},
		{"other bot", "acme", t0, 0, []int64{ids[1]}},
		{"nothing", "nobody", t0, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gs.ListGaps(ctx, tc.bot, tc.since, tc.limit)
			must(t, err, "ListGaps")
			var gotIDs []int64
			for _, g := range got {
				gotIDs = append(gotIDs, g.ID)
			}
			if !reflect.DeepEqual(gotIDs, tc.want) {
				t.Fatalf("ids = %v, want %v", gotIDs, tc.want)
			}
		})
	}
	got, err := gs.ListGaps(ctx, "shop", t0, 1)
	must(t, err, "ListGaps")
	g := got[0]
	if g.ConversationID != 1 || g.MessageID != 10 || g.Question != "can I pay with [redacted]?" || g.Language != "en" ||
		g.Reason != baton.GapUnanswered || g.Grounded != 0.21 {
		t.Fatalf("gap = %+v", g)
	}
	wantTime(t, "At defaults to now", g.At, t0.Add(time.Minute))
	for name, bad := range map[string]*baton.Gap{
		"no bot":      {Question: "x", Reason: baton.GapUnanswered},
		"no question": {BotID: "shop", Reason: baton.GapUnanswered},
		"bad reason":  {BotID: "shop", Question: "x", Reason: "bored"},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, gs.RecordGap(ctx, bad), baton.EINVALID, "RecordGap")
		})
	}
}
