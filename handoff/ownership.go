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
//     said, with a fresh next-response clock;
//   - resolved, with a survey open: a message that answers the survey
//     is recorded as the answer and reopens nothing;
//   - resolved within the bot's reopen window: it reopens to the same
//     agent when they are online and have room, else to the queue it was
//     in, with its packet and history; one the bot resolved itself (no
//     queue, no agent) starts afresh, since the bot never owns a reopened
//     conversation;
//   - resolved after the window, or archived: a new conversation with the
//     bot (ingestion links it to the old one).
type Ownership struct {
	// Desk arms the SLA clocks of a woken or reopened conversation and
	// routes one reopened to its queue. nil: the conversation only moves.
	Desk *Desk
	// Surveys, when set, is asked first whether a message to a resolved
	// conversation answers its satisfaction survey.
	Surveys Surveyor
}

var _ baton.Ownership = Ownership{}

// Resume implements baton.Ownership.
func (o Ownership) Resume(ctx context.Context, tx baton.Store, bot baton.Bot, latest *baton.Conversation, msg *baton.Message, now time.Time) (*baton.Conversation, bool, error) {
	switch latest.State {
	case baton.StateSnoozed:
		if o.Desk != nil {
			c, err := o.Desk.Wake(ctx, tx, latest, "customer")
			if err != nil {
				return nil, false, fmt.Errorf("wake conversation %d: %w", latest.ID, err)
			}
			return c, false, nil
		}
		c, _, err := tx.TransitionConversation(ctx, latest.ID, baton.Transition{
			To: baton.StateAssigned, Actor: "customer", Reason: "customer wrote while snoozed",
		})
		if err != nil {
			return nil, false, fmt.Errorf("wake conversation %d: %w", latest.ID, err)
		}
		return c, false, nil
	case baton.StateResolved:
		if o.Surveys != nil && msg != nil {
			answered, err := o.Surveys.Answer(ctx, tx, latest, msg)
			if err != nil {
				return nil, false, fmt.Errorf("conversation %d: take the survey answer: %w", latest.ID, err)
			}
			if answered {
				return latest, false, nil
			}
		}
		c, err := o.reopen(ctx, tx, bot, latest, now)
		if err != nil || c == nil {
			return nil, false, err
		}
		return c, true, nil
	}
	return nil, false, nil
}

// reopen reopens a resolved conversation when the customer wrote within the
// bot's reopen window, or returns nil.
func (o Ownership) reopen(ctx context.Context, tx baton.Store, bot baton.Bot, conv *baton.Conversation, now time.Time) (*baton.Conversation, error) {
	if bot.ReopenAfter <= 0 || conv.ResolvedAt == nil || now.Sub(*conv.ResolvedAt) > bot.ReopenAfter {
		return nil, nil
	}
	const reason = "customer wrote within the reopen window"
	if conv.AgentID != "" {
		if o.Desk == nil {
			if a, err := tx.GetAgent(ctx, conv.AgentID); err == nil && a.Status == baton.AgentOnline {
				return o.move(ctx, tx, conv, baton.Transition{To: baton.StateAssigned, Actor: "customer", Reason: reason})
			}
		} else {
			// Back to the same agent only if they can take it now: online,
			// under capacity, checked atomically.
			c, _, err := tx.AssignConversation(ctx, conv.ID, conv.AgentID, baton.Assignment{Actor: "customer", Reason: reason,
				From: []baton.State{baton.StateResolved}})
			if err == nil {
				return c, o.Desk.arm(ctx, tx, c, armWake)
			}
			if _, refused := baton.AsAssignRefused(err); !refused && baton.ErrorCode(err) != baton.ENOTFOUND && baton.ErrorCode(err) != baton.EINVALID {
				return nil, fmt.Errorf("reopen conversation %d to %s: %w", conv.ID, conv.AgentID, err)
			}
		}
	}
	if conv.QueueID == "" {
		return nil, nil
	}
	c, err := o.move(ctx, tx, conv, baton.Transition{To: baton.StateQueued, Actor: "customer", Reason: reason, AgentID: ptr("")})
	if err != nil || o.Desk == nil {
		return c, err
	}
	return c, o.Desk.Queued(ctx, tx, c)
}

func (o Ownership) move(ctx context.Context, tx baton.Store, conv *baton.Conversation, t baton.Transition) (*baton.Conversation, error) {
	c, _, err := tx.TransitionConversation(ctx, conv.ID, t)
	if err != nil {
		return nil, fmt.Errorf("reopen conversation %d: %w", conv.ID, err)
	}
	return c, nil
}
