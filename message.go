package baton

import (
	"context"
	"encoding/json"
	"time"
)

// Direction says which way a message went.
type Direction string

const (
	DirectionIn   Direction = "in"   // from the customer
	DirectionOut  Direction = "out"  // to the customer
	DirectionNote Direction = "note" // internal, never sent
)

// Author says who wrote a message.
type Author string

const (
	AuthorCustomer Author = "customer"
	AuthorBot      Author = "bot"
	AuthorAgent    Author = "agent"
	AuthorSystem   Author = "system"
)

// DeliveryStatus tracks an outbound message. Statuses only move forward (see
// Rank): a late "delivered" never overwrites "read".
type DeliveryStatus string

const (
	StatusReceived  DeliveryStatus = "received" // inbound messages
	StatusQueued    DeliveryStatus = "queued"
	StatusSending   DeliveryStatus = "sending"
	StatusSent      DeliveryStatus = "sent"
	StatusDelivered DeliveryStatus = "delivered"
	StatusRead      DeliveryStatus = "read"
	StatusFailed    DeliveryStatus = "failed"
)

// Rank orders statuses so that updates arriving out of order can be applied
// forward only. Failed outranks everything but read: a provider that reports
// failure after delivery is rare and the failure is the news.
func (s DeliveryStatus) Rank() int {
	switch s {
	case StatusReceived, StatusQueued:
		return 0
	case StatusSending:
		return 1
	case StatusSent:
		return 2
	case StatusDelivered:
		return 3
	case StatusFailed:
		return 4
	case StatusRead:
		return 5
	}
	return -1
}

// MessageType is the provider-neutral kind of a message.
type MessageType string

const (
	TypeText        MessageType = "text"
	TypeImage       MessageType = "image"
	TypeAudio       MessageType = "audio"
	TypeVideo       MessageType = "video"
	TypeDocument    MessageType = "document"
	TypeSticker     MessageType = "sticker"
	TypeLocation    MessageType = "location"
	TypeContacts    MessageType = "contacts"
	TypeButton      MessageType = "button"      // a tapped reply button, quick reply or postback
	TypeList        MessageType = "list"        // a chosen list row
	TypeReaction    MessageType = "reaction"    // an emoji on an earlier message
	TypeTemplate    MessageType = "template"    // outbound provider template
	TypeUnsupported MessageType = "unsupported" // kept with its raw type
)

// Attachment is media or structured content carried by a message.
type Attachment struct {
	Kind      MessageType       `json:"kind"`
	URL       string            `json:"url,omitempty"`
	MediaID   string            `json:"media_id,omitempty"` // provider media handle (downloadable via its API)
	MIMEType  string            `json:"mime_type,omitempty"`
	Caption   string            `json:"caption,omitempty"`
	Filename  string            `json:"filename,omitempty"`
	Latitude  float64           `json:"latitude,omitempty"`
	Longitude float64           `json:"longitude,omitempty"`
	Data      map[string]string `json:"data,omitempty"` // anything else worth keeping (contact fields, sha256, ...)
}

// Message is one entry of a conversation's transcript.
type Message struct {
	ID             int64
	ConversationID int64
	BotID          string
	Channel        ChannelKind
	ProviderID     string // the provider's message id; unique per channel when set
	Direction      Direction
	Author         Author
	AuthorID       string // agent id for agent messages
	Type           MessageType
	Text           string
	Payload        string // button / quick-reply / postback payload
	ReplyTo        string // provider id of the message this one answers
	Attachments    []Attachment
	Status         DeliveryStatus
	StatusCode     string // provider error code when failed
	StatusReason   string // provider error title / reason when failed
	Metadata       json.RawMessage
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// IsAgentReply reports whether m is an agent's answer to the customer: an
// outbound message written by a person. It is what stops the SLA clocks;
// bot and system messages and internal notes are not responses.
func (m *Message) IsAgentReply() bool {
	return m.Direction == DirectionOut && m.Author == AuthorAgent
}

// InboundMessage is what a channel adapter produces from a provider webhook,
// before it is stored: provider-neutral, with the provider's ids kept.
type InboundMessage struct {
	BotID             string
	Channel           ChannelKind
	ProviderMessageID string
	From              string // the customer's address on the channel
	ProfileName       string
	Type              MessageType
	RawType           string // the provider's own type name, kept for unsupported ones
	Text              string
	Payload           string
	ReplyTo           string
	Attachments       []Attachment
	Attributes        map[string]string // page context from web chat (url, product, order); untrusted, kept on the conversation
	Verified          bool              // identity vouched for (signed web chat user)
	ExternalID        string            // the host app's user id when Verified
	// CustomerAttributes are attributes the host app signed together with
	// the identity (plan, vip, email, ...). Only a channel that verified
	// the signature sets them, and only with Verified; they are merged into
	// the customer's attributes, which a page can never write.
	CustomerAttributes map[string]string
	Timestamp          time.Time
}

// StatusUpdate is a provider's report on an outbound message.
type StatusUpdate struct {
	Channel    ChannelKind
	ProviderID string
	Status     DeliveryStatus
	Code       string
	Reason     string
	At         time.Time
}

// InboundAppend is an inbound message for the conversation its sender is
// already in. See InboundStore.
type InboundAppend struct {
	Identity    ChannelIdentity // the sender (BotID, Channel, Address)
	ProfileName string          // fills the customer's name when it is empty
	// ExternalID, when set, requires a customer already verified with this
	// id (a signed web chat user).
	ExternalID string
	States     []State  // the conversation states that take the message as they are
	Message    *Message // its ConversationID comes from the conversation
	InboundAt  time.Time
	Turn       bool // enqueue the message's TurnJob, due now
}

// AppendResult says what AppendInbound did.
type AppendResult struct {
	Appended       bool // the message, its conversation's update and its turn job were stored
	Duplicate      bool // the message was stored before: nothing was written
	CustomerID     int64
	ConversationID int64
	TurnJobID      int64
}

// InboundStore stores the common inbound message, one that needs no
// decision, in one step: on PostgreSQL one statement, one round trip.
type InboundStore interface {
	// AppendInbound stores a.Message in the latest conversation of
	// a.Identity's customer on its channel that is not archived, when that
	// conversation's state is one of a.States (and, with a.ExternalID, the
	// customer is verified with that id), atomically: the message (a.Message.ID
	// set), the conversation's LastInboundAt moved forward to a.InboundAt
	// (with its Version bumped), the customer's empty name filled from
	// a.ProfileName, and with a.Turn the message's TurnJob. A message whose
	// channel and provider id are stored already writes nothing: Duplicate
	// is set and a.Message.ID is the stored one. When there is no such
	// identity or conversation nothing is written and Appended and
	// Duplicate are false: the caller opens, wakes or reopens a conversation
	// in a transaction of its own.
	AppendInbound(ctx context.Context, a *InboundAppend) (AppendResult, error)
}

// MessageStore keeps transcripts.
type MessageStore interface {
	// InsertMessage stores m and sets m.ID and the times (CreatedAt zero =
	// now; Status "" = received for inbound, queued otherwise). An agent's
	// reply (m.IsAgentReply) also updates its conversation, in the same
	// step: FirstAgentReplyAt is set if empty, LastAgentReplyAt moves
	// forward to m.CreatedAt, NextResponseDue is cleared, and the Version
	// is bumped (re-read the conversation before UpdateConversation). When
	// m.ProviderID is set and a
	// message with the same channel and provider id exists, nothing is
	// written, m.ID is set to the existing row and created is false. This
	// is enforced by a unique key, never by check-then-insert.
	InsertMessage(ctx context.Context, m *Message) (created bool, err error)
	GetMessage(ctx context.Context, id int64) (*Message, error)
	GetMessageByProviderID(ctx context.Context, ch ChannelKind, providerID string) (*Message, error)
	// ListMessages returns a conversation's transcript in the order messages
	// were stored, after the message afterID (0 for all), at most limit (0
	// for all).
	ListMessages(ctx context.Context, conversationID int64, afterID int64, limit int) ([]*Message, error)
	// ListRecentMessages returns the last limit messages of a conversation
	// (0 for all; negative is EINVALID), oldest first: a turn reads its
	// recent transcript without loading a long history.
	ListRecentMessages(ctx context.Context, conversationID int64, limit int) ([]*Message, error)
	// BeginSend marks an outbound message in flight (queued → sending) at
	// at, before it is handed to its provider, and reports whether it was
	// in flight already: an earlier attempt died between the provider's
	// call and recording the answer, so the provider may have the message
	// and this send is in doubt. A message in any other status is ECONFLICT
	// and is left as it is.
	BeginSend(ctx context.Context, id int64, at time.Time) (inDoubt bool, err error)
	// AbortSend puts an in-flight message back to queued: its provider
	// answered that it did not take it, so the next attempt is not in
	// doubt. A message that is not in flight is left as it is.
	AbortSend(ctx context.Context, id int64, at time.Time) error
	// SetProviderID records the provider's id of an outbound message once it
	// was accepted, and marks it sent.
	SetProviderID(ctx context.Context, id int64, providerID string, at time.Time) error
	// UpdateMessageStatus applies a status forward only (by Rank) and
	// reports whether anything changed. Unknown provider ids are ENOTFOUND.
	UpdateMessageStatus(ctx context.Context, u StatusUpdate) (changed bool, err error)
	// SetMessageStatus sets the status of one message by id, forward only.
	SetMessageStatus(ctx context.Context, id int64, status DeliveryStatus, code, reason string, at time.Time) (changed bool, err error)
}
