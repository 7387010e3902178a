package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// wantDecision compares every field; State byte for byte, since it is the
// bot's own memory.
func wantDecision(t *testing.T, got, want *baton.Decision) {
	t.Helper()
	g, w := *got, *want
	gs, ws := g.State, w.State
	g.State, w.State = nil, nil
	wantTime(t, fmt.Sprintf("decision %d CreatedAt", want.ID), got.CreatedAt, want.CreatedAt)
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("decision = %#v\nwant       %#v", g, w)
	}
	if (gs == nil) != (ws == nil) || string(gs) != string(ws) {
		t.Errorf("decision %d state = %q (nil %v), want %q (nil %v)", want.ID, gs, gs == nil, ws, ws == nil)
	}
}

func decisionIDs(ds []*baton.Decision) []int64 {
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func (s *suite) testDecisions(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	conv := seedConversation(t, ctx, st, "shop", "+4000")
	msg := inbound(conv, "wamid.D1", "where is my order?")
	_, err := st.InsertMessage(ctx, msg)
	must(t, err, "InsertMessage")

	t.Run("round trip of every field", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+4001")
		earlier := clock.Now().Add(-time.Hour)
		cases := []struct {
			name string
			in   baton.Decision
			want func(in baton.Decision) baton.Decision // what comes back besides ID and CreatedAt
		}{
			{name: "everything set", in: baton.Decision{
				MessageID: 41, Action: baton.ActionAnswer,
				Analysis: &baton.DecisionAnalysis{Language: "tr", Intent: "order_status", IntentConfidence: 0.87,
					OutOfScope: true, Sentiment: -0.25, SentimentTrend: -0.5, WantsHuman: true},
				Citations: []baton.Citation{{Slug: "shipping-times", Title: "Shipping times", Score: 0.91}, {Slug: "returns", Title: "Returns", Score: 0.3}},
				Triggers: []baton.TriggerResult{
					{Trigger: baton.TriggerNegativeSentiment, Value: -0.25, Threshold: -0.6},
					{Trigger: baton.TriggerTopic, Value: 1, Threshold: 1, Fired: true, Detail: "refund"},
				},
				Took:   1234567*time.Microsecond + 890*time.Nanosecond,
				Detail: "track_order",
				State:  json.RawMessage(`{"asked": "order_number",  "slots":{"email":"a@example.com"},"n":[1,2]}`),
			}, want: func(in baton.Decision) baton.Decision {
				in.Took = 1234567 * time.Microsecond // kept to the microsecond
				return in
			}},
			{name: "nothing set comes back nil", in: baton.Decision{Action: baton.ActionNone}},
			{name: "empty stays empty, zero analysis stays non-nil", in: baton.Decision{
				Action: baton.ActionClarify, Analysis: &baton.DecisionAnalysis{},
				Citations: []baton.Citation{}, Triggers: []baton.TriggerResult{}, State: json.RawMessage(`{}`),
			}},
			{name: "JSON null state kept", in: baton.Decision{Action: baton.ActionWait, State: json.RawMessage(`null`)}},
			{name: "empty state comes back nil", in: baton.Decision{Action: baton.ActionEscalate, State: json.RawMessage{}},
				want: func(in baton.Decision) baton.Decision { in.State = nil; return in }},
			{name: "explicit creation time kept", in: baton.Decision{Action: baton.ActionArchive, CreatedAt: earlier}},
		}
		var stored []*baton.Decision
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				now := clock.Advance(time.Second)
				d := tc.in
				d.ConversationID = conv.ID
				must(t, st.InsertDecision(ctx, &d), "InsertDecision")
				if d.ID == 0 {
					t.Fatal("InsertDecision did not set the id")
				}
				wantCreated := now
				if !tc.in.CreatedAt.IsZero() {
					wantCreated = tc.in.CreatedAt
				}
				wantTime(t, "CreatedAt set on insert", d.CreatedAt, wantCreated)
				want := d
				if tc.want != nil {
					want = tc.want(d)
				}
				stored = append(stored, &want)
				got, err := st.ListDecisions(ctx, conv.ID, 1)
				must(t, err, "ListDecisions")
				if len(got) != 1 {
					t.Fatalf("ListDecisions(limit 1) = %d decisions, want 1", len(got))
				}
				wantDecision(t, got[0], &want)
			})
		}
		t.Run("all of them, in order", func(t *testing.T) {
			got, err := st.ListDecisions(ctx, conv.ID, 0)
			must(t, err, "ListDecisions")
			if len(got) != len(stored) {
				t.Fatalf("%d decisions, want %d", len(got), len(stored))
			}
			for i := range got {
				wantDecision(t, got[i], stored[i])
			}
		})
	})

	t.Run("invalid decisions change nothing", func(t *testing.T) {
		cases := []struct {
			name string
			d    baton.Decision
			code string
		}{
			{"no action", baton.Decision{ConversationID: conv.ID, MessageID: msg.ID}, baton.EINVALID},
			{"unknown action", baton.Decision{ConversationID: conv.ID, Action: "reply"}, baton.EINVALID},
			{"action in another case", baton.Decision{ConversationID: conv.ID, Action: "Answer"}, baton.EINVALID},
			{"negative duration", baton.Decision{ConversationID: conv.ID, Action: baton.ActionAnswer, Took: -time.Millisecond}, baton.EINVALID},
			{"state not JSON", baton.Decision{ConversationID: conv.ID, Action: baton.ActionAnswer, State: json.RawMessage(`{asked`)}, baton.EINVALID},
			{"unknown conversation", baton.Decision{ConversationID: 999999, Action: baton.ActionAnswer}, baton.ENOTFOUND},
			{"no conversation", baton.Decision{Action: baton.ActionAnswer}, baton.ENOTFOUND},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := tc.d
				wantCode(t, st.InsertDecision(ctx, &d), tc.code, "InsertDecision")
				if d.ID != 0 {
					t.Errorf("refused decision got id %d", d.ID)
				}
			})
		}
		for _, id := range []int64{conv.ID, 999999} {
			got, err := st.ListDecisions(ctx, id, 0)
			must(t, err, "ListDecisions")
			if len(got) != 0 {
				t.Fatalf("conversation %d has %d decisions after refused inserts, want 0", id, len(got))
			}
		}
	})

	t.Run("the last limit, oldest first", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+4002")
		other := seedConversation(t, ctx, st, "shop", "+4003")
		var want []int64
		for i := range 5 {
			clock.Advance(time.Second)
			d := &baton.Decision{ConversationID: conv.ID, Action: baton.ActionAnswer, Detail: fmt.Sprintf("turn %d", i)}
			must(t, st.InsertDecision(ctx, d), "InsertDecision")
			want = append(want, d.ID)
			must(t, st.InsertDecision(ctx, &baton.Decision{ConversationID: other.ID, Action: baton.ActionNone}), "InsertDecision other")
		}
		cases := []struct {
			name  string
			limit int
			want  []int64
		}{
			{"all", 0, want},
			{"last one", 1, want[4:]},
			{"last two", 2, want[3:]},
			{"exactly all", 5, want},
			{"more than there are", 10, want},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListDecisions(ctx, conv.ID, tc.limit)
				must(t, err, "ListDecisions")
				if ids := decisionIDs(got); !reflect.DeepEqual(ids, tc.want) {
					t.Fatalf("ids = %v, want %v", ids, tc.want)
				}
				for _, d := range got {
					if d.ConversationID != conv.ID {
						t.Fatalf("decision of conversation %d listed for %d", d.ConversationID, conv.ID)
					}
				}
			})
		}
		t.Run("negative limit", func(t *testing.T) {
			_, err := st.ListDecisions(ctx, conv.ID, -1)
			wantCode(t, err, baton.EINVALID, "ListDecisions limit -1")
		})
		t.Run("unknown conversation has none", func(t *testing.T) {
			got, err := st.ListDecisions(ctx, 999999, 3)
			must(t, err, "ListDecisions unknown")
			if len(got) != 0 {
				t.Fatalf("unknown conversation has %d decisions", len(got))
			}
		})
	})

	t.Run("inside a transaction", func(t *testing.T) {
		boom := errors.New("boom")
		packet := func() *baton.HandoffPacket {
			return &baton.HandoffPacket{ConversationID: conv.ID, Summary: "wants a refund", QueueID: "billing"}
		}
		err := st.Tx(ctx, func(tx baton.Store) error {
			d := &baton.Decision{ConversationID: conv.ID, MessageID: msg.ID, Action: baton.ActionEscalate}
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
			if err := tx.SavePacket(ctx, packet()); err != nil {
				return err
			}
			// The transaction reads its own writes.
			ds, err := tx.ListDecisions(ctx, conv.ID, 0)
			if err != nil {
				return err
			}
			if len(ds) != 1 || ds[0].ID != d.ID {
				return fmt.Errorf("inside the transaction: decisions %v, want [%d]", decisionIDs(ds), d.ID)
			}
			if _, err := tx.GetPacket(ctx, conv.ID); err != nil {
				return fmt.Errorf("inside the transaction: %w", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx error = %v, want boom", err)
		}
		ds, err := st.ListDecisions(ctx, conv.ID, 0)
		must(t, err, "ListDecisions")
		if len(ds) != 0 {
			t.Fatalf("rolled back decisions persisted: %v", decisionIDs(ds))
		}
		_, err = st.GetPacket(ctx, conv.ID)
		wantCode(t, err, baton.ENOTFOUND, "GetPacket after rollback")

		now := clock.Advance(time.Minute)
		var id int64
		must(t, st.Tx(ctx, func(tx baton.Store) error {
			d := &baton.Decision{ConversationID: conv.ID, MessageID: msg.ID, Action: baton.ActionEscalate}
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
			id = d.ID
			return tx.SavePacket(ctx, packet())
		}), "Tx commit")
		ds, err = st.ListDecisions(ctx, conv.ID, 0)
		must(t, err, "ListDecisions")
		if ids := decisionIDs(ds); !reflect.DeepEqual(ids, []int64{id}) {
			t.Fatalf("committed decisions = %v, want [%d]", ids, id)
		}
		got, err := st.GetPacket(ctx, conv.ID)
		must(t, err, "GetPacket")
		if got.Summary != "wants a refund" {
			t.Fatalf("committed packet summary = %q", got.Summary)
		}
		wantTime(t, "committed packet CreatedAt", got.CreatedAt, now)
	})
}

func (s *suite) testPackets(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	conv := seedConversation(t, ctx, st, "shop", "+4100")

	t.Run("none before escalation", func(t *testing.T) {
		_, err := st.GetPacket(ctx, conv.ID)
		wantCode(t, err, baton.ENOTFOUND, "GetPacket before SavePacket")
		_, err = st.GetPacket(ctx, 999999)
		wantCode(t, err, baton.ENOTFOUND, "GetPacket unknown conversation")
	})

	t.Run("unknown conversation", func(t *testing.T) {
		wantCode(t, st.SavePacket(ctx, &baton.HandoffPacket{ConversationID: 999999, QueueID: "billing"}), baton.ENOTFOUND, "SavePacket unknown")
		wantCode(t, st.SavePacket(ctx, &baton.HandoffPacket{QueueID: "billing"}), baton.ENOTFOUND, "SavePacket no conversation")
		_, err := st.GetPacket(ctx, 999999)
		wantCode(t, err, baton.ENOTFOUND, "GetPacket after a refused save")
	})

	first := clock.Advance(time.Minute)
	full := &baton.HandoffPacket{
		ConversationID: conv.ID,
		Summary:        "Order A-1 is late; the customer asked twice and wants a refund.",
		Reasons: []baton.TriggerResult{
			{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true, Detail: "talk to a person"},
			{Trigger: baton.TriggerSentimentTrend, Value: -0.45, Threshold: -0.4, Fired: true},
		},
		Customer:       baton.CustomerProfile{ID: conv.CustomerID, Name: "Bo", Verified: true, Address: "+4100", Attributes: map[string]string{"plan": "pro"}},
		Channel:        baton.ChannelWhatsApp,
		Attributes:     map[string]string{"order": "A-1", "page": "/orders/A-1"},
		Language:       "de",
		Intent:         "refund",
		IntentScore:    0.82,
		Sentiment:      -0.6,
		SentimentTrend: -0.45,
		ArticlesTried:  []baton.ArticleRef{{Slug: "refunds", Title: "Refunds", URL: "https://help.example.com/refunds", Score: 0.44}},
		FailedAnswers:  []string{"Refunds take 5 to 7 days."},
		QueueID:        "billing",
		Skills:         []string{"de", "refunds"},
		Priority:       baton.PriorityHigh,
	}

	t.Run("round trip", func(t *testing.T) {
		p := *full
		must(t, st.SavePacket(ctx, &p), "SavePacket")
		wantTime(t, "CreatedAt set on save", p.CreatedAt, first)
		wantTime(t, "UpdatedAt set on save", p.UpdatedAt, first)
		got, err := st.GetPacket(ctx, conv.ID)
		must(t, err, "GetPacket")
		wantTime(t, "CreatedAt", got.CreatedAt, first)
		wantTime(t, "UpdatedAt", got.UpdatedAt, first)
		if !reflect.DeepEqual(got, &p) {
			t.Fatalf("packet = %#v\nwant     %#v", got, &p)
		}
	})

	t.Run("a second save replaces it and keeps the creation time", func(t *testing.T) {
		second := clock.Advance(time.Hour)
		p := baton.HandoffPacket{
			ConversationID: conv.ID, Summary: "Transferred to tech.", Channel: baton.ChannelWhatsApp, Language: "de",
			Reasons:   []baton.TriggerResult{{Trigger: baton.TriggerActionFailed, Value: 1, Threshold: 1, Fired: true}},
			QueueID:   "tech",
			Priority:  baton.PriorityNormal,
			CreatedAt: second.Add(time.Minute), // ignored: the first save's stays
		}
		must(t, st.SavePacket(ctx, &p), "SavePacket again")
		wantTime(t, "CreatedAt after replace", p.CreatedAt, first)
		wantTime(t, "UpdatedAt after replace", p.UpdatedAt, second)
		got, err := st.GetPacket(ctx, conv.ID)
		must(t, err, "GetPacket")
		if !reflect.DeepEqual(got, &p) {
			t.Fatalf("packet = %#v\nwant     %#v", got, &p)
		}
		if got.Intent != "" || got.Attributes != nil || got.ArticlesTried != nil {
			t.Fatalf("fields of the first packet survived the replace: %+v", got)
		}
	})

	t.Run("an explicit creation time is kept on the first save", func(t *testing.T) {
		other := seedConversation(t, ctx, st, "shop", "+4101")
		escalated := clock.Now().Add(-time.Minute)
		p := baton.HandoffPacket{ConversationID: other.ID, QueueID: "billing", CreatedAt: escalated}
		must(t, st.SavePacket(ctx, &p), "SavePacket")
		got, err := st.GetPacket(ctx, other.ID)
		must(t, err, "GetPacket")
		wantTime(t, "CreatedAt", got.CreatedAt, escalated)
		wantTime(t, "UpdatedAt", got.UpdatedAt, clock.Now())
		if mine, err := st.GetPacket(ctx, conv.ID); err != nil || mine.QueueID != "tech" {
			t.Fatalf("the other conversation's packet changed: %+v, %v", mine, err)
		}
	})
}
