package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestCustomerWritesAgain is the conversation state machine as the next
// customer message finds it: the states that take the message as they are
// (stored in one step) and those the ingester decides on.
func TestCustomerWritesAgain(t *testing.T) {
	snooze := func(e *env, id int64) []baton.Transition {
		until := e.clock.Now().Add(time.Hour)
		return []baton.Transition{
			{To: baton.StateAssigned, Actor: "agent:ann", AgentID: ptr("ann")},
			{To: baton.StateSnoozed, Actor: "agent:ann", SnoozedUntil: &until},
		}
	}
	tests := []struct {
		name      string
		moves     func(e *env, id int64) []baton.Transition
		wantState baton.State
		wantNew   bool // a new conversation takes the message
	}{
		{"bot", nil, baton.StateBot, false},
		{"queued", func(*env, int64) []baton.Transition {
			return []baton.Transition{{To: baton.StateQueued, Actor: "bot", QueueID: ptr("billing")}}
		}, baton.StateQueued, false},
		{"assigned", func(*env, int64) []baton.Transition {
			return []baton.Transition{{To: baton.StateAssigned, Actor: "agent:ann", AgentID: ptr("ann")}}
		}, baton.StateAssigned, false},
		{"snoozed wakes to its agent", snooze, baton.StateAssigned, false},
		{"resolved, no reopen window", func(*env, int64) []baton.Transition {
			return []baton.Transition{{To: baton.StateResolved, Actor: "bot"}}
		}, baton.StateBot, true},
		{"archived", func(*env, int64) []baton.Transition {
			return []baton.Transition{{To: baton.StateArchived, Actor: "system"}}
		}, baton.StateBot, true},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{})
				ctx := context.Background()
				e.post("whatsapp", waText("wamid.a1", "16505551234", "hi", start))
				first := onlyConversation(t, e)
				if tc.moves != nil {
					for _, tr := range tc.moves(e, first.ID) {
						if _, _, err := e.st.TransitionConversation(ctx, first.ID, tr); err != nil {
							t.Fatal(err)
						}
					}
				}
				e.clock.Advance(time.Minute)
				wrote := e.clock.Now().Add(-time.Second).Truncate(time.Second)
				before, err := e.st.GetConversation(ctx, first.ID)
				if err != nil {
					t.Fatal(err)
				}
				e.post("whatsapp", waText("wamid.a2", "16505551234", "are you there?", wrote))

				m, err := e.st.GetMessageByProviderID(ctx, baton.ChannelWhatsApp, "wamid.a2")
				if err != nil {
					t.Fatal(err)
				}
				conv, err := e.st.GetConversation(ctx, m.ConversationID)
				if err != nil {
					t.Fatal(err)
				}
				if (conv.ID != first.ID) != tc.wantNew || conv.State != tc.wantState {
					t.Fatalf("message in conversation %d (%s), first was %d; want new=%v in state %s", conv.ID, conv.State, first.ID, tc.wantNew, tc.wantState)
				}
				if conv.LastInboundAt == nil || !conv.LastInboundAt.Equal(wrote) {
					t.Fatalf("LastInboundAt = %v, want when the customer wrote, %v", conv.LastInboundAt, wrote)
				}
				if !tc.wantNew && conv.Version <= before.Version {
					t.Fatalf("version %d, want past %d", conv.Version, before.Version)
				}
				if tc.name == "snoozed wakes to its agent" && (conv.AgentID != "ann" || conv.SnoozedUntil != nil) {
					t.Fatalf("woken conversation = agent %q snoozed until %v", conv.AgentID, conv.SnoozedUntil)
				}
				turns := 0
				for _, j := range e.jobs(baton.JobTurn) {
					if j.Key == fmt.Sprintf("turn:%d", m.ID) {
						turns++
						if j.ConversationID != conv.ID {
							t.Fatalf("turn job of conversation %d, want %d", j.ConversationID, conv.ID)
						}
					}
				}
				if turns != 1 {
					t.Fatalf("%d turn jobs for the message, want 1", turns)
				}

				// The provider sends it again, several times at once:
				// acknowledged, nothing written.
				after, err := e.st.GetConversation(ctx, conv.ID)
				if err != nil {
					t.Fatal(err)
				}
				jobs, msgs := len(e.jobs("")), len(e.messages(conv.ID))
				concurrently(4, func(int) {
					res, err := e.ingester().Ingest(ctx, e.st, baton.InboundMessage{BotID: botID, Channel: baton.ChannelWhatsApp,
						ProviderMessageID: "wamid.a2", From: "16505551234", Text: "are you there?", Timestamp: wrote})
					if err != nil || !res.Duplicate || res.MessageID != m.ID {
						t.Errorf("duplicate: %+v, %v; want a duplicate of message %d", res, err, m.ID)
					}
				})
				again, err := e.st.GetConversation(ctx, conv.ID)
				if err != nil {
					t.Fatal(err)
				}
				if again.Version != after.Version || len(e.jobs("")) != jobs || len(e.messages(conv.ID)) != msgs {
					t.Fatalf("duplicates wrote something: version %d → %d, jobs %d → %d, messages %d → %d",
						after.Version, again.Version, jobs, len(e.jobs("")), msgs, len(e.messages(conv.ID)))
				}
				if n := len(e.conversations()); n != map[bool]int{false: 1, true: 2}[tc.wantNew] {
					t.Fatalf("%d conversations", n)
				}
			})
		}
	}
}

func TestConcurrentMessagesOfOneCustomerAllLand(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			e.post("whatsapp", waText("wamid.o0", "16505551234", "hi", start))
			conv := onlyConversation(t, e)
			const n = 8
			concurrently(n, func(i int) {
				e.post("whatsapp", waText(fmt.Sprintf("wamid.o%d", i+1), "16505551234", fmt.Sprintf("line %d", i), start))
			})
			if cs := e.conversations(); len(cs) != 1 {
				t.Fatalf("%d conversations, want 1", len(cs))
			}
			if ms := e.messages(conv.ID); len(ms) != n+1 {
				t.Fatalf("%d messages, want %d", len(ms), n+1)
			}
			if js := e.jobs(baton.JobTurn); len(js) != n+1 {
				t.Fatalf("%d turn jobs, want %d", len(js), n+1)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
