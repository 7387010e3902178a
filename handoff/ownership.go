package handoff

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// Ownership is the conversation ownership policy ingestion asks when a
// customer writes to a conversation that is not simply open:
//
//   - snoozed: it wakes up to its agent, now, whatever the snooze time
//     said;
//   - resolved within the bot's reopen window: it reopens to the same
//     agent when they are online, else to the queue it was in, with its
//     packet and history; one the bot resolved itself (no queue, no agent)
//     starts afresh, since the bot never owns a reopened conversation;
//   - resolved after the window, or archived: a new conversation with the
//     bot (ingestion links it to the old one).
type Ownership struct{}

var _ baton.Ownership = Ownership{}

// Resume implements baton.Ownership.
func (Ownership) Resume(ctx context.Context, tx baton.Store, bot baton.Bot, latest *baton.Conversation, now time.Time) (*baton.Conversation, bool, error) {
	switch latest.State {
	case baton.StateSnoozed:
		c, _, err := tx.TransitionConversation(ctx, latest.ID, baton.Transition{
			To: baton.StateAssigned, Actor: "customer", Reason: "customer wrote while snoozed",
		})
		if err != nil {
			return nil, false, fmt.Errorf("wake conversation %d: %w", latest.ID, err)
		}
		return c, false, nil
	case baton.StateResolved:
		t, ok := reopening(ctx, tx, bot, latest, now)
		if !ok {
			return nil, false, nil
		}
		c, _, err := tx.TransitionConversation(ctx, latest.ID, t)
		if err != nil {
			return nil, false, fmt.Errorf("reopen conversation %d: %w", latest.ID, err)
		}
		return c, true, nil
	}
	return nil, false, nil
}

// reopening is the move that reopens a resolved conversation, when the
// customer wrote within the bot's reopen window.
func reopening(ctx context.Context, tx baton.Store, bot baton.Bot, conv *baton.Conversation, now time.Time) (baton.Transition, bool) {
	if bot.ReopenAfter <= 0 || conv.ResolvedAt == nil || now.Sub(*conv.ResolvedAt) > bot.ReopenAfter {
		return baton.Transition{}, false
	}
	reason := "customer wrote within the reopen window"
	if conv.AgentID != "" {
		if a, err := tx.GetAgent(ctx, conv.AgentID); err == nil && a.Status == baton.AgentOnline {
			return baton.Transition{To: baton.StateAssigned, Actor: "customer", Reason: reason}, true
		}
	}
	if conv.QueueID == "" {
		return baton.Transition{}, false
	}
	empty := ""
	return baton.Transition{To: baton.StateQueued, Actor: "customer", Reason: reason, AgentID: &empty}, true
}
