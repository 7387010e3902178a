package baton

import (
	"context"
	"time"
)

// Gap reasons.
const (
	GapUnanswered = "unanswered" // the KB had no grounded answer
	GapEscalated  = "escalated"  // the conversation went to a human
)

// Gap is a customer question the KB did not answer well: the KB authors'
// to-do list. Question is stored redacted.
type Gap struct {
	ID             int64
	BotID          string
	ConversationID int64
	MessageID      int64
	Question       string
	Language       string
	Reason         string // GapUnanswered or GapEscalated
	Grounded       float64
	At             time.Time
}

// GapStore records gaps and lists them for clustering.
type GapStore interface {
	RecordGap(ctx context.Context, g *Gap) error
	// ListGaps returns the bot's gaps at or after since, oldest first, at
	// most limit (0 = all).
	ListGaps(ctx context.Context, botID string, since time.Time, limit int) ([]*Gap, error)
}
