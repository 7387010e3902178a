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
	CreatedAt      time.Time         `json:"created_at"`
}

// TriggerResult is one escalation trigger that fired, with the value that
// made it fire.
type TriggerResult struct {
	Trigger string  `json:"trigger"` // "wants_human", "negative_sentiment", "loop", "topic", ...
	Value   float64 `json:"value,omitempty"`
	Detail  string  `json:"detail,omitempty"`
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
