package baton

import "time"

// HandoffPacket is the typed context that travels with an escalation and
// every transfer, so that no agent asks the customer to repeat themselves.
type HandoffPacket struct {
	ConversationID int64             `json:"conversation_id"`
	Summary        string            `json:"summary"`
	Reasons        []TriggerResult   `json:"reasons"`
	Customer       CustomerProfile   `json:"customer"`
	Channel        ChannelKind       `json:"channel"`
	Attributes     map[string]string `json:"attributes,omitempty"` // page, product, order sent by the app
	Language       string            `json:"language"`
	Intent         string            `json:"intent,omitempty"`
	IntentScore    float64           `json:"intent_confidence,omitempty"`
	Sentiment      float64           `json:"sentiment"`
	SentimentTrend float64           `json:"sentiment_trend"`
	ArticlesTried  []ArticleRef      `json:"articles_tried,omitempty"`
	FailedAnswers  []string          `json:"failed_answers,omitempty"`
	QueueID        string            `json:"queue_id"`
	Skills         []string          `json:"skills,omitempty"`
	Priority       int               `json:"priority"`
	CreatedAt      time.Time         `json:"created_at"` // the first escalation
	UpdatedAt      time.Time         `json:"updated_at"` // the last change (a transfer)
}

// Escalation trigger names. They are fixed: evals, agents and dashboards
// read them.
const (
	TriggerWantsHuman        = "wants_human"
	TriggerNegativeSentiment = "negative_sentiment"
	TriggerSentimentTrend    = "sentiment_trend"
	TriggerRepeatedFailure   = "repeated_failure"
	TriggerNotHelped         = "not_helped"
	TriggerLoop              = "loop"
	TriggerTopic             = "topic"
	TriggerAttribute         = "attribute"
	TriggerMaxTurns          = "max_turns"
	TriggerSpam              = "spam"
	TriggerActionFailed      = "action_failed"
)

// TriggerResult is one escalation trigger as the policy evaluated it: the
// value it read, the threshold it compared with and whether it fired. A
// packet's reasons are the ones that fired.
type TriggerResult struct {
	Trigger   string  `json:"trigger"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Fired     bool    `json:"fired"`
	Detail    string  `json:"detail,omitempty"` // the topic's intent, the attribute's key, the wants-human evidence
}

// CustomerProfile is the part of a customer an agent sees.
type CustomerProfile struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name,omitempty"`
	Verified   bool              `json:"verified"`
	Address    string            `json:"address"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// ArticleRef is a KB article the bot tried, with its retrieval score.
type ArticleRef struct {
	Slug  string  `json:"slug"`
	Title string  `json:"title"`
	URL   string  `json:"url,omitempty"`
	Score float64 `json:"score"`
}
