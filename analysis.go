package baton

// Analysis is what language understanding says about one customer message.
type Analysis struct {
	MessageID          int64   `json:"message_id,omitempty"`
	Language           string  `json:"language"`
	LanguageConfidence float64 `json:"language_confidence"`
	Intent             string  `json:"intent,omitempty"` // "" when out of scope
	IntentConfidence   float64 `json:"intent_confidence"`
	OutOfScope         bool    `json:"out_of_scope"`
	// TopIntents are the classifier's best intents, best first (at most
	// three): the bot asks which one was meant when the first two are too
	// close to call.
	TopIntents         []IntentScore `json:"top_intents,omitempty"`
	Sentiment          float64       `json:"sentiment"` // [-1, 1]
	SentimentLabel     string        `json:"sentiment_label"`
	WantsHuman         bool          `json:"wants_human"`
	WantsHumanEvidence string        `json:"wants_human_evidence,omitempty"`
	PII                []PIISpan     `json:"pii,omitempty"`
	Entities           []Entity      `json:"entities,omitempty"`
	Summary            string        `json:"summary,omitempty"`
	Source             string        `json:"source"` // "offline" or the LLM's model name
}

// IntentScore is one intent with the classifier's confidence in it.
type IntentScore struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

// Sentiment labels.
const (
	SentimentNegative = "negative"
	SentimentNeutral  = "neutral"
	SentimentPositive = "positive"
)

// PIISpan is a piece of personal data found in a text, by byte offsets.
type PIISpan struct {
	Type  string `json:"type"` // "email", "phone", "card", "iban"
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Entity is a value worth routing on.
type Entity struct {
	Type  string `json:"type"` // "order_number", "email", "phone", "amount"
	Value string `json:"value"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}
