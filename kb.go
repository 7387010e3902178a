package baton

import (
	"context"
	"strings"
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

// Validate reports what is wrong with a gap before it is stored.
func (g *Gap) Validate() error {
	switch {
	case strings.TrimSpace(g.BotID) == "":
		return Errorf(EINVALID, "gap: bot id is required")
	case strings.TrimSpace(g.Question) == "":
		return Errorf(EINVALID, "gap: question is required")
	case g.Reason != GapUnanswered && g.Reason != GapEscalated:
		return Errorf(EINVALID, "gap: unknown reason %q", g.Reason)
	}
	return nil
}
