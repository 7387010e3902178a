package handoff

import (
	"context"
	"fmt"
	"strconv"

	"github.com/batonhq/baton"
)

// SLAKey is the key of a conversation's one live SLA timer: it is
// superseded as the conversation moves, never duplicated.
func SLAKey(conversationID int64) string { return "sla:" + strconv.FormatInt(conversationID, 10) }

// SnoozeKey is the key of a snoozed conversation's wake-up timer.
func SnoozeKey(conversationID int64) string { return "snooze:" + strconv.FormatInt(conversationID, 10) }

// Violation is an open conversation that nobody is looking after.
type Violation struct {
	ConversationID int64
	State          baton.State
	Problem        string
}

func (v Violation) String() string {
	return fmt.Sprintf("conversation %d (%s): %s", v.ConversationID, v.State, v.Problem)
}

// Check verifies the no-orphan invariant on a live store: every open
// conversation is the bot's, queued with a live SLA timer, assigned to an
// agent who exists, or snoozed by an agent who exists with a wake-up timer.
// It reads; it changes nothing.
func Check(ctx context.Context, st baton.Store) ([]Violation, error) {
	convs, err := st.ListConversations(ctx, baton.ConversationFilter{States: []baton.State{
		baton.StateBot, baton.StateQueued, baton.StateAssigned, baton.StateSnoozed}})
	if err != nil {
		return nil, fmt.Errorf("doctor: list conversations: %w", err)
	}
	timers := map[string]bool{}
	for _, kind := range []string{baton.JobSLA, baton.JobSnooze} {
		for _, status := range []baton.JobStatus{baton.JobPending, baton.JobRunning} {
			jobs, err := st.ListJobs(ctx, baton.JobFilter{Kind: kind, Status: status})
			if err != nil {
				return nil, fmt.Errorf("doctor: list %s timers: %w", kind, err)
			}
			for _, j := range jobs {
				timers[j.Key] = true
			}
		}
	}
	agents := map[string]bool{}
	all, err := st.ListAgents(ctx)
	if err != nil {
		return nil, fmt.Errorf("doctor: list agents: %w", err)
	}
	for _, a := range all {
		agents[a.ID] = true
	}
	var out []Violation
	add := func(c *baton.Conversation, problem string) {
		out = append(out, Violation{ConversationID: c.ID, State: c.State, Problem: problem})
	}
	for _, c := range convs {
		switch c.State {
		case baton.StateQueued:
			if !timers[SLAKey(c.ID)] {
				add(c, "queued without a live SLA timer: nobody will notice if it waits too long")
			}
		case baton.StateAssigned, baton.StateSnoozed:
			switch {
			case c.AgentID == "":
				add(c, "owned by no agent")
			case !agents[c.AgentID]:
				add(c, fmt.Sprintf("owned by agent %q, who does not exist", c.AgentID))
			}
			if c.State == baton.StateSnoozed && !timers[SnoozeKey(c.ID)] {
				add(c, "snoozed without a wake-up timer")
			}
		}
	}
	return out, nil
}
