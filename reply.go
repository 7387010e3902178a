package baton

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// DeliverPayload is the payload of a deliver job.
type DeliverPayload struct {
	MessageID int64 `json:"message_id"`
}

// ReplyStore is what EnqueueReply writes to: a Store, or the transaction
// handle a Store.Tx callback gets.
type ReplyStore interface {
	InsertMessage(ctx context.Context, m *Message) (created bool, err error)
	Enqueue(ctx context.Context, j *Job) (created bool, err error)
}

// EnqueueReply stores msg as an outbound message of conv (status queued) and
// enqueues the deliver job that will send it, both on tx, so that a reply is
// either durable and on its way or not there at all. Call it inside a
// Store.Tx together with whatever caused the reply.
func EnqueueReply(ctx context.Context, tx ReplyStore, conv *Conversation, msg *Message) error {
	if conv == nil || conv.ID == 0 {
		return Errorf(EINVALID, "reply: no conversation")
	}
	if msg.Text == "" && len(msg.Attachments) == 0 && len(msg.Metadata) == 0 {
		return Errorf(EINVALID, "reply to conversation %d: nothing to send (no text, attachment or template)", conv.ID)
	}
	if msg.Author == "" {
		msg.Author = AuthorBot
	}
	if msg.Type == "" {
		msg.Type = TypeText
	}
	if _, err := OutboundOf(msg); err != nil {
		return err
	}
	msg.ConversationID = conv.ID
	msg.BotID = conv.BotID
	msg.Channel = conv.Channel
	msg.Direction = DirectionOut
	msg.Status = StatusQueued
	msg.ProviderID = ""
	if _, err := tx.InsertMessage(ctx, msg); err != nil {
		return fmt.Errorf("reply to conversation %d: store message: %w", conv.ID, err)
	}
	payload, _ := json.Marshal(DeliverPayload{MessageID: msg.ID})
	job := &Job{
		Kind:           JobDeliver,
		ConversationID: conv.ID, // replies of one conversation go out in order
		Key:            "deliver:" + strconv.FormatInt(msg.ID, 10),
		Payload:        payload,
	}
	if _, err := tx.Enqueue(ctx, job); err != nil {
		return fmt.Errorf("reply to conversation %d: enqueue delivery: %w", conv.ID, err)
	}
	return nil
}
