package baton_test

import (
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func ptr[T any](v T) *T { return &v }

func TestConversationApply(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := now.Add(time.Hour)
	tests := []struct {
		name    string
		from    baton.State
		agent   string
		tr      baton.Transition
		wantErr bool
		check   func(t *testing.T, c *baton.Conversation)
	}{
		{"escalate", baton.StateBot, "", baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: ptr("billing")}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.QueueID != "billing" {
					t.Errorf("queue = %q", c.QueueID)
				}
			}},
		{"claim", baton.StateQueued, "", baton.Transition{To: baton.StateAssigned, Actor: "agent:ann", AgentID: ptr("ann")}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.AgentID != "ann" {
					t.Errorf("agent = %q", c.AgentID)
				}
			}},
		{"assign without agent", baton.StateQueued, "", baton.Transition{To: baton.StateAssigned, Actor: "system"}, true, nil},
		{"snooze", baton.StateAssigned, "ann", baton.Transition{To: baton.StateSnoozed, Actor: "agent:ann", SnoozedUntil: &later}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.SnoozedUntil == nil || !c.SnoozedUntil.Equal(later) {
					t.Errorf("snoozed until = %v", c.SnoozedUntil)
				}
			}},
		{"snooze in the past", baton.StateAssigned, "ann", baton.Transition{To: baton.StateSnoozed, Actor: "agent:ann", SnoozedUntil: &now}, true, nil},
		{"wake", baton.StateSnoozed, "ann", baton.Transition{To: baton.StateAssigned, Actor: "system"}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.AgentID != "ann" || c.SnoozedUntil != nil {
					t.Errorf("agent = %q, snoozed = %v", c.AgentID, c.SnoozedUntil)
				}
			}},
		{"resolve", baton.StateAssigned, "ann", baton.Transition{To: baton.StateResolved, Actor: "agent:ann"}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.ResolvedAt == nil || !c.ResolvedAt.Equal(now) {
					t.Errorf("resolved at = %v", c.ResolvedAt)
				}
			}},
		{"bot resolves", baton.StateBot, "", baton.Transition{To: baton.StateResolved, Actor: "bot"}, false, nil},
		{"reopen to same agent", baton.StateResolved, "ann", baton.Transition{To: baton.StateAssigned, Actor: "customer"}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.AgentID != "ann" || c.ResolvedAt != nil {
					t.Errorf("agent = %q resolved = %v", c.AgentID, c.ResolvedAt)
				}
			}},
		{"reopen to queue", baton.StateResolved, "ann", baton.Transition{To: baton.StateQueued, Actor: "customer"}, false,
			func(t *testing.T, c *baton.Conversation) {
				if c.AgentID != "" {
					t.Errorf("agent kept: %q", c.AgentID)
				}
			}},
		{"spam", baton.StateBot, "", baton.Transition{To: baton.StateArchived, Actor: "agent:ann", Reason: "spam"}, false, nil},
		{"archived is final", baton.StateArchived, "", baton.Transition{To: baton.StateBot, Actor: "system"}, true, nil},
		{"bot cannot snooze", baton.StateBot, "", baton.Transition{To: baton.StateSnoozed, Actor: "bot", SnoozedUntil: &later}, true, nil},
		{"snoozed cannot queue", baton.StateSnoozed, "ann", baton.Transition{To: baton.StateQueued, Actor: "system"}, true, nil},
		{"unknown state", baton.StateBot, "", baton.Transition{To: "limbo", Actor: "bot"}, true, nil},
		{"no actor", baton.StateBot, "", baton.Transition{To: baton.StateQueued}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &baton.Conversation{ID: 1, State: tt.from, AgentID: tt.agent, QueueID: "general"}
			before := *c
			ev, err := c.Apply(tt.tr, now)
			if tt.wantErr {
				if baton.ErrorCode(err) != baton.EINVALID {
					t.Fatalf("err = %v, want EINVALID", err)
				}
				if c.State != before.State || c.AgentID != before.AgentID || c.QueueID != before.QueueID {
					t.Fatalf("failed transition changed the conversation: %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if c.State != tt.tr.To || ev.From != tt.from || ev.To != tt.tr.To || ev.Actor != tt.tr.Actor || !ev.At.Equal(now) {
				t.Fatalf("state %s, event %+v", c.State, ev)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestDeliveryStatusRankForwardOnly(t *testing.T) {
	order := []baton.DeliveryStatus{baton.StatusQueued, baton.StatusSending, baton.StatusSent, baton.StatusDelivered, baton.StatusRead}
	for i := 1; i < len(order); i++ {
		if order[i].Rank() <= order[i-1].Rank() {
			t.Errorf("%s does not outrank %s", order[i], order[i-1])
		}
	}
	if baton.StatusDelivered.Rank() >= baton.StatusRead.Rank() {
		t.Errorf("late delivered would overwrite read")
	}
}
