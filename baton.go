// Package baton is the domain of the Baton support platform: the types every
// capability shares (customers, conversations, messages, queues, agents,
// articles, jobs), the small interfaces they talk through, and the error
// codes. It imports only the standard library; every adapter and capability
// lives in a sub-package and depends on this one, never the other way round.
package baton

import (
	"context"
	"time"
)

// ChannelKind names a customer-facing messaging channel.
type ChannelKind string

const (
	ChannelWhatsApp  ChannelKind = "whatsapp"
	ChannelMessenger ChannelKind = "messenger"
	ChannelSMS       ChannelKind = "sms"
	ChannelWebChat   ChannelKind = "webchat"
)

// Valid reports whether k is one of the known channel kinds.
func (k ChannelKind) Valid() bool {
	switch k {
	case ChannelWhatsApp, ChannelMessenger, ChannelSMS, ChannelWebChat:
		return true
	}
	return false
}

// Bot is a configured assistant. Bots come from configuration, not from the
// store; the store keys everything by Bot.ID.
type Bot struct {
	ID          string
	Name        string
	Languages   []string // ISO 639-1; the first is the default
	Collection  string   // KB collection the bot answers from
	Queues      []string // queue ids the bot may escalate to
	ReopenAfter time.Duration
}

// Clock is the source of time, so that tests can move it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, always in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// LLM is a chat-completion model behind any OpenAI-compatible API.
type LLM interface {
	// Complete sends the messages and returns the assistant's reply. When
	// schema is non-nil the reply must be JSON matching it.
	Complete(ctx context.Context, req CompletionRequest) (CompletionResponse, error)
	Model() string
}

// CompletionRequest is one chat completion call.
type CompletionRequest struct {
	System      string
	Messages    []ChatMessage
	JSONSchema  []byte // optional JSON schema for structured output
	SchemaName  string
	Temperature float32
	MaxTokens   int
}

// ChatMessage is one turn sent to an LLM.
type ChatMessage struct {
	Role    string // "user" or "assistant"
	Content string
}

// CompletionResponse is the model's answer.
type CompletionResponse struct {
	Content string
	Model   string
}

// Embedder turns text into vectors. Vectors of different models are never
// compared: Model and Dim are stored with every vector.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Model() string
	Dim() int
}

// Sender delivers one outbound message through a provider. It returns the
// provider's message id. Implementations classify failures with error codes:
// EUNAVAILABLE (retry), EINVALID / EFORBIDDEN (permanent).
type Sender interface {
	Send(ctx context.Context, conv *Conversation, msg *Message) (providerID string, err error)
}

// Notifier tells humans (agents, in Slack or the browser inbox) that something
// happened to a conversation.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is one event for the agent console.
type Notification struct {
	Kind           string // "escalated", "message", "sla_warning", "sla_breach", "transferred", ...
	ConversationID int64
	QueueID        string
	AgentID        string
	Text           string
	Packet         *HandoffPacket
}

// Redactor removes personal data (e-mail addresses, phone numbers, card
// numbers, IBANs) from free text before it reaches a log line or a third
// party. The offline implementation is in nlu/pii; adapters that must not
// import nlu get it injected.
type Redactor interface {
	Redact(text string) string
}

// RedactFunc adapts a function to Redactor.
type RedactFunc func(text string) string

// Redact implements Redactor.
func (f RedactFunc) Redact(text string) string { return f(text) }
