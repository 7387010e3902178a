package baton

import (
	"context"
	"time"
)

// MetricsQuery selects what a MetricsSummary covers: the conversations of
// [From, To), of one queue and one bot when set.
type MetricsQuery struct {
	From    time.Time
	To      time.Time
	QueueID string // "" = every queue
	BotID   string // "" = every bot
	// Now is when the summary is read: what has not happened by then
	// (a first response not due yet, a re-contact window still open) is
	// pending, not a success or a failure. Zero = To.
	Now time.Time
}

// MaxMetricsSpan is the longest period one summary covers: a summary reads
// every conversation of the period.
const MaxMetricsSpan = 366 * 24 * time.Hour

// Validate reports what makes q unfit, with code EINVALID, naming the field
// as the query parameter of the same name (from, to).
func (q *MetricsQuery) Validate() error {
	switch {
	case q.From.IsZero():
		return Errorf(EINVALID, "metrics: from is required")
	case q.To.IsZero():
		return Errorf(EINVALID, "metrics: to is required")
	case !q.From.Before(q.To):
		return Errorf(EINVALID, "metrics: from (%s) must be before to (%s)", q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339))
	case q.To.Sub(q.From) > MaxMetricsSpan:
		return Errorf(EINVALID, "metrics: from %s to %s is longer than %d days; ask for a shorter period",
			q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339), int(MaxMetricsSpan/(24*time.Hour)))
	}
	return nil
}

// MetricsSummary is how the support operation did over a period: how fast
// people answered and resolved, how often the bot resolved alone, why it
// escalated, what customers thought, and who carries what now. Durations
// are in seconds. Human-side figures (response, resolution, queue, SLA)
// cover the conversations escalated in the period; bot-side figures
// (containment, escalation rate) the conversations created in it; CSAT the
// surveys requested in it.
type MetricsSummary struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	QueueID string    `json:"queue,omitempty"`
	BotID   string    `json:"bot,omitempty"`
	Now     time.Time `json:"now"`

	Conversations int `json:"conversations"` // created in the period
	Escalated     int `json:"escalated"`     // escalated in the period

	// FirstResponse is escalation → the first agent reply; Resolution is
	// escalation → resolved (the first time after it); TimeInQueue is one
	// wait in a queue → the assignment that ended it (every wait counts).
	FirstResponse DurationStats `json:"first_response"`
	Resolution    DurationStats `json:"resolution"`
	TimeInQueue   DurationStats `json:"time_in_queue"`

	SLA         []SLAAttainment   `json:"sla"` // by queue, then priority
	Containment Containment       `json:"containment"`
	Escalations []TriggerRate     `json:"escalations"` // by trigger
	CSAT        CSATSummary       `json:"csat"`
	AgentLoad   []AgentLoadMetric `json:"agent_load"` // by agent id, now
}

// DurationStats summarises durations, in seconds. Zero values when Count
// is 0.
type DurationStats struct {
	Count  int     `json:"count"`
	Median float64 `json:"median_seconds"`
	P90    float64 `json:"p90_seconds"`
	Mean   float64 `json:"mean_seconds"`
}

// SLAAttainment is the first-response SLA of one queue and priority: Met
// were answered by FirstResponseDue, Breached after it (or not at all with
// the due time past), Pending are unanswered and not yet due. Rate is
// Met / (Met + Breached); 0 when nothing is decided.
type SLAAttainment struct {
	QueueID  string  `json:"queue"`
	Priority string  `json:"priority"` // low, normal, high, urgent
	Met      int     `json:"met"`
	Breached int     `json:"breached"`
	Pending  int     `json:"pending"`
	Rate     float64 `json:"rate"`
}

// Containment is how often the bot resolved a conversation alone for good:
// Handled are the conversations of the period, BotResolved those the bot
// resolved without a person, ReContacted those of them whose customer came
// back within the window (a new or reopened conversation), Pending those
// whose window is still open. Contained = BotResolved − ReContacted −
// Pending; Rate = Contained / (Handled − Pending).
type Containment struct {
	WindowSeconds float64 `json:"window_seconds"`
	Handled       int     `json:"handled"`
	BotResolved   int     `json:"bot_resolved"`
	ReContacted   int     `json:"re_contacted"`
	Pending       int     `json:"pending"`
	Contained     int     `json:"contained"`
	Rate          float64 `json:"rate"`
}

// TriggerRate is how many of the period's conversations one escalation
// trigger sent to a person, and their share of every conversation of the
// period. A conversation escalated for two reasons counts for both;
// "manual" is an escalation without a trigger (a person moved it).
type TriggerRate struct {
	Trigger string  `json:"trigger"`
	Count   int     `json:"count"`
	Rate    float64 `json:"rate"`
}

// CSATSummary is the satisfaction surveys of the period, overall and by
// bot (automation), queue, agent, escalation trigger ("none": never
// escalated) and by who resolved (bot or agent).
type CSATSummary struct {
	CSATFigures
	ByBot      []CSATGroup `json:"by_bot"`
	ByQueue    []CSATGroup `json:"by_queue"`
	ByAgent    []CSATGroup `json:"by_agent"`
	ByTrigger  []CSATGroup `json:"by_trigger"`
	ByResolver []CSATGroup `json:"by_resolver"` // "bot" and "agent"
}

// CSATFigures are the counts of one group of surveys: Average is the mean
// rating of the answered ones, ResponseRate Answered / Requested.
type CSATFigures struct {
	Requested    int     `json:"requested"`
	Answered     int     `json:"answered"`
	Commented    int     `json:"commented"` // answered with a comment too
	ResponseRate float64 `json:"response_rate"`
	Average      float64 `json:"average"`
	// Ratings counts the answers by rating: Ratings[0] is 1, Ratings[4] 5.
	Ratings [MaxCSATRating]int `json:"ratings"`
}

// CSATGroup is the surveys of one queue, agent, trigger or resolver.
type CSATGroup struct {
	Key string `json:"key"`
	CSATFigures
}

// AgentLoadMetric is what an agent carries now against their capacity,
// over every channel kind.
type AgentLoadMetric struct {
	AgentID  string      `json:"agent"`
	Status   AgentStatus `json:"status"`
	Open     int         `json:"open"`
	Capacity int         `json:"capacity"`
	// Utilisation is Open / Capacity; 0 without capacity.
	Utilisation float64 `json:"utilisation"`
}

// MetricsSource computes a summary. A zero To means now and a zero From
// the seven days before To; the query is validated after those defaults
// (EINVALID).
type MetricsSource interface {
	Summary(ctx context.Context, q MetricsQuery) (*MetricsSummary, error)
}
