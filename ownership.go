package baton

import (
	"context"
	"time"
)

// Ownership decides who owns a conversation when its customer writes
// again. Ingestion asks it, inside the transaction that stores the message,
// whenever the message does not simply continue an open conversation (bot,
// queued or assigned): it is the one place the snooze-wake and reopen rules
// live.
type Ownership interface {
	// Resume returns the conversation the message joins: latest itself,
	// moved as the policy says (a snoozed conversation woken, a resolved
	// one reopened; reopened is true then), or nil when the message starts
	// a new conversation with the bot. latest is the customer's latest
	// conversation on the channel, snoozed or resolved; msg is the
	// customer's message, not stored yet (a resolved conversation's
	// survey may take it as its answer: latest is returned then, not
	// reopened); tx is the ingestion's transaction.
	Resume(ctx context.Context, tx Store, bot Bot, latest *Conversation, msg *Message, now time.Time) (conv *Conversation, reopened bool, err error)
}
