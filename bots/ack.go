// Package bots runs the bot side of a conversation: the turn job that
// decides what to answer. Until the triage bot exists, Acknowledger answers
// new customer messages with a fixed text, through the real outbox.
package bots

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// DefaultAcknowledgement is what Acknowledger says when not told otherwise.
const DefaultAcknowledgement = "Thanks for your message. We have received it and will get back to you shortly."

// Acknowledger is the baton.JobHandler of turn jobs for now: it answers a
// customer's new messages with one fixed text, while the bot owns the
// conversation.
type Acknowledger struct {
	Store baton.Store
	Text  string
	// Budget, when set, is the cost guard on bot turns per conversation.
	Budget TurnBudget
}

// TurnBudget spends one bot turn of a conversation's budget and returns 0,
// or returns how long until the conversation may have one (and spends
// nothing). It is asked only for turns that would answer, not for the
// turns of a burst that a later turn answers.
type TurnBudget func(conversationID int64) (wait time.Duration)

// overBudget is the deferral of a turn over its conversation's budget: the
// job runs again once a turn is there, and answers whatever the customer
// wrote by then in one reply.
func overBudget(convID int64, wait time.Duration) error {
	return &baton.RetryLater{After: wait, Err: baton.Errorf(baton.ERATELIMITED, "conversation %d: bot turns over budget", convID)}
}

// HandleJob implements baton.JobHandler. It is idempotent: a turn whose
// message was already answered, or that a later message will answer, does
// nothing, so a retried or duplicated turn never sends twice, and a burst of
// messages gets one acknowledgement.
func (a *Acknowledger) HandleJob(ctx context.Context, j *baton.Job) error {
	var p baton.TurnPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.MessageID == 0 {
		return baton.Errorf(baton.EINVALID, "turn job %d: payload has no message id", j.ID)
	}
	text := a.Text
	if text == "" {
		text = DefaultAcknowledgement
	}
	return a.Store.Tx(ctx, func(tx baton.Store) error {
		m, err := tx.GetMessage(ctx, p.MessageID)
		if err != nil {
			return fmt.Errorf("turn job %d: %w", j.ID, err)
		}
		conv, err := tx.GetConversation(ctx, m.ConversationID)
		if err != nil {
			return fmt.Errorf("turn job %d: %w", j.ID, err)
		}
		if conv.State != baton.StateBot {
			return nil // a person owns it; the bot stays quiet
		}
		if m.Type == baton.TypeReaction {
			return nil // an emoji on an earlier message asks for nothing
		}
		later, err := tx.ListMessages(ctx, conv.ID, m.ID, 0)
		if err != nil {
			return fmt.Errorf("turn job %d: %w", j.ID, err)
		}
		for _, l := range later {
			if l.Direction == baton.DirectionIn || (l.Direction == baton.DirectionOut && l.Author == baton.AuthorBot) {
				return nil // answered already, or a later turn will answer
			}
		}
		if a.Budget != nil {
			if wait := a.Budget(conv.ID); wait > 0 {
				return overBudget(conv.ID, wait)
			}
		}
		reply := &baton.Message{Author: baton.AuthorBot, Type: baton.TypeText, Text: text}
		return baton.EnqueueReply(ctx, tx, conv, reply)
	})
}
