package handoff

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// fakeStore answers the two calls the policy makes: an agent's status and
// a move, which it records.
type fakeStore struct {
	baton.Store
	agents map[string]baton.AgentStatus
	moved  []baton.Transition
}

func (f *fakeStore) GetAgent(_ context.Context, id string) (*baton.Agent, error) {
	s, ok := f.agents[id]
	if !ok {
		return nil, baton.Errorf(baton.ENOTFOUND, "no agent %s", id)
	}
	return &baton.Agent{ID: id, Status: s}, nil
}

func (f *fakeStore) TransitionConversation(_ context.Context, id int64, t baton.Transition) (*baton.Conversation, *baton.Event, error) {
	f.moved = append(f.moved, t)
	return &baton.Conversation{ID: id, State: t.To}, &baton.Event{}, nil
}

func TestOwnershipResume(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	resolved := func(ago time.Duration, agent, queue string) *baton.Conversation {
		at := now.Add(-ago)
		return &baton.Conversation{ID: 7, State: baton.StateResolved, ResolvedAt: &at, AgentID: agent, QueueID: queue}
	}
	bot := baton.Bot{ID: "b", ReopenAfter: 72 * time.Hour}
	tests := []struct {
		name     string
		latest   *baton.Conversation
		bot      baton.Bot
		want     baton.State // "" = a new conversation
		reopened bool
	}{
		{"snoozed wakes to its agent", &baton.Conversation{ID: 7, State: baton.StateSnoozed, AgentID: "maya"}, bot, baton.StateAssigned, false},
		{"resolved two days ago, agent online: the same agent", resolved(48*time.Hour, "maya", "general"), bot, baton.StateAssigned, true},
		{"resolved two days ago, agent away: the queue", resolved(48*time.Hour, "sam", "general"), bot, baton.StateQueued, true},
		{"resolved by the bot: a new conversation", resolved(time.Hour, "", ""), bot, "", false},
		{"after the window: a new conversation", resolved(73*time.Hour, "maya", "general"), bot, "", false},
		{"no reopen window: a new conversation", resolved(time.Hour, "maya", "general"), baton.Bot{ID: "b"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{agents: map[string]baton.AgentStatus{"maya": baton.AgentOnline, "sam": baton.AgentAway}}
			c, reopened, err := Ownership{}.Resume(context.Background(), st, tc.bot, tc.latest, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if c != nil || len(st.moved) != 0 {
					t.Fatalf("conversation %+v, moves %+v; want a new conversation and no move", c, st.moved)
				}
				return
			}
			if c == nil || c.State != tc.want || reopened != tc.reopened || len(st.moved) != 1 {
				t.Fatalf("conversation %+v reopened %v, moves %+v; want %s", c, reopened, st.moved, tc.want)
			}
			if tc.want == baton.StateQueued && (st.moved[0].AgentID == nil || *st.moved[0].AgentID != "") {
				t.Errorf("a reopen to the queue keeps the agent: %+v", st.moved[0])
			}
		})
	}
}
