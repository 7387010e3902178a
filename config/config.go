// Package config loads and validates Baton's configuration: one YAML file with
// ${ENV} references for secrets, overridden by environment variables. Loading
// reports every problem at once, each with its path, so that an operator fixes
// a file in one pass instead of one error per start.
package config

import (
	"strings"
	"time"
)

// Config is the whole configuration file.
type Config struct {
	Server Server  `yaml:"server"`
	OpenAI OpenAI  `yaml:"openai"`
	Slack  Slack   `yaml:"slack"`
	Bots   []Bot   `yaml:"bots"`
	Queues []Queue `yaml:"queues"`
	Agents []Agent `yaml:"agents"`

	// Dir is the directory of the configuration file; relative paths in the
	// file (kb.dir, nlu.intents) are resolved against it, not against the
	// working directory of whoever started the process.
	Dir string `yaml:"-"`
	// File is the path the configuration was loaded from ("" when it came
	// from the environment alone): problems found later (an intents file
	// the analyser refuses) are reported against it.
	File string `yaml:"-"`
}

// Server configures the process itself.
type Server struct {
	Addr        string `yaml:"addr"`
	PublicURL   string `yaml:"public_url"`
	DataDir     string `yaml:"data_dir"`
	DatabaseURL string `yaml:"database_url"`
	AdminToken  string `yaml:"admin_token"`
	// KeepDoneJobs and KeepDeadJobs are how long finished jobs stay in the
	// database before they are purged (unset: 7d and 30d).
	KeepDoneJobs Duration `yaml:"keep_done_jobs"`
	KeepDeadJobs Duration `yaml:"keep_dead_jobs"`
	// TrustedProxies are the addresses and CIDR ranges of the reverse
	// proxies in front of the server: only their ProxyHeader
	// (X-Forwarded-For when unset) names the client. Without them the
	// client is the TCP peer.
	TrustedProxies []string `yaml:"trusted_proxies"`
	ProxyHeader    string   `yaml:"proxy_header"`
	Limits         Limits   `yaml:"limits"`
}

// OpenAI configures the optional OpenAI-compatible language services.
type OpenAI struct {
	APIKey         string   `yaml:"api_key"`
	BaseURL        string   `yaml:"base_url"`
	ChatModel      string   `yaml:"chat_model"`
	EmbeddingModel string   `yaml:"embedding_model"`
	Timeout        Duration `yaml:"timeout"`
}

// Slack configures the agent console.
type Slack struct {
	BotToken      string `yaml:"bot_token"`
	AppToken      string `yaml:"app_token"`
	SigningSecret string `yaml:"signing_secret"`
}

// Bot is one configured assistant.
type Bot struct {
	ID           string     `yaml:"id"`
	Name         string     `yaml:"name"`
	Languages    []string   `yaml:"languages"`
	KB           KB         `yaml:"kb"`
	NLU          NLU        `yaml:"nlu"`
	Channels     Channels   `yaml:"channels"`
	Escalation   Escalation `yaml:"escalation"`
	ReopenWindow Duration   `yaml:"reopen_window"`
	// Texts override what the bot says, by language and text name
	// (greeting, clarify, escalating, did_this_help, ...).
	Texts map[string]map[string]string `yaml:"texts"`
	// SmallTalk answers intents with a fixed text instead of the KB
	// (intent → text name) [greeting → greeting, thanks → glad_to_help,
	// for the intents the bot has].
	SmallTalk map[string]string `yaml:"small_talk"`
	Actions   []Action          `yaml:"actions"`
	// FollowUp is how long "did this help?" waits before silence counts as
	// a yes [30m; "off": never]; WaitNotice how often a queued customer
	// who writes again hears a person will answer [10m].
	FollowUp   Duration `yaml:"follow_up"`
	WaitNotice Duration `yaml:"wait_notice"`
	// CSAT is the satisfaction survey sent when a conversation is
	// resolved.
	CSAT CSAT `yaml:"csat"`
}

// CSAT is a bot's satisfaction survey: a 1–5 rating, then an optional
// comment. Conversations an agent resolves are surveyed unless Off;
// those the bot resolved alone only with BotResolved.
type CSAT struct {
	Off         bool `yaml:"off"`
	BotResolved bool `yaml:"bot_resolved"`
	// AnswerWindow is how long after the request a rating is taken [7d];
	// CommentWindow how long after the rating the customer's next message
	// is its comment [30m].
	AnswerWindow  Duration `yaml:"answer_window"`
	CommentWindow Duration `yaml:"comment_window"`
	// Template is the approved WhatsApp template sent instead of the
	// question once the 24-hour window has closed; without one such a
	// customer is not asked.
	Template Template `yaml:"template"`
	// Texts override the survey's texts by language and name (see
	// CSATTextNames).
	Texts map[string]map[string]string `yaml:"texts"`
}

// KB says where a bot's articles come from and how sure an answer must be.
type KB struct {
	Dir             string   `yaml:"dir"`
	AnswerThreshold *float64 `yaml:"answer_threshold"`
}

// NLU points at a bot's intent definitions.
type NLU struct {
	Intents string `yaml:"intents"`
}

// Channels holds the credentials of each customer-facing channel. A nil
// block means the channel is off.
type Channels struct {
	WhatsApp  *WhatsApp  `yaml:"whatsapp"`
	Messenger *Messenger `yaml:"messenger"`
	Twilio    *Twilio    `yaml:"twilio"`
	WebChat   *WebChat   `yaml:"webchat"`
}

// WhatsApp is the WhatsApp Cloud API channel.
type WhatsApp struct {
	PhoneNumberID string   `yaml:"phone_number_id"`
	AccessToken   string   `yaml:"access_token"`
	AppSecret     string   `yaml:"app_secret"`
	VerifyToken   string   `yaml:"verify_token"`
	APIBase       string   `yaml:"api_base"`
	Template      Template `yaml:"template"`
}

// Template is the message template used outside the 24-hour window.
type Template struct {
	Name     string `yaml:"name"`
	Language string `yaml:"language"`
}

// Messenger is the Facebook Messenger channel.
type Messenger struct {
	PageID          string `yaml:"page_id"`
	PageAccessToken string `yaml:"page_access_token"`
	AppSecret       string `yaml:"app_secret"`
	VerifyToken     string `yaml:"verify_token"`
	APIBase         string `yaml:"api_base"`
}

// Twilio is the SMS channel.
type Twilio struct {
	AccountSID string `yaml:"account_sid"`
	AuthToken  string `yaml:"auth_token"`
	From       string `yaml:"from"`
	PublicURL  string `yaml:"public_url"`
	APIBase    string `yaml:"api_base"`
}

// WebChat is the embeddable browser chat.
type WebChat struct {
	Enabled        bool   `yaml:"enabled"`
	IdentitySecret string `yaml:"identity_secret"`
}

// Escalation is a bot's policy for handing a conversation to a person:
// where escalations go by default and each trigger's settings. Trigger
// names are fixed (evals and agents read them); a trigger left out keeps
// its default, "off: true" turns it off (wants_human cannot be).
type Escalation struct {
	// Queue and Priority are where an escalation goes when its trigger
	// names no queue [the bot's first queue; normal].
	Queue             string             `yaml:"queue"`
	Priority          string             `yaml:"priority"`
	WantsHuman        Trigger            `yaml:"wants_human"`
	NegativeSentiment Trigger            `yaml:"negative_sentiment"`
	SentimentTrend    Trigger            `yaml:"sentiment_trend"`
	RepeatedFailure   Trigger            `yaml:"repeated_failure"`
	NotHelped         Trigger            `yaml:"not_helped"`
	Loop              Trigger            `yaml:"loop"`
	MaxTurns          Trigger            `yaml:"max_turns"`
	ActionFailed      Trigger            `yaml:"action_failed"`
	Topics            []TopicTrigger     `yaml:"topics"`
	Attributes        []AttributeTrigger `yaml:"attributes"`
	Spam              Spam               `yaml:"spam"`
}

// Trigger is one escalation trigger's settings; which settings a trigger
// takes is checked (threshold: negative_sentiment, sentiment_trend;
// messages: sentiment_trend; count: repeated_failure, max_turns;
// similarity: loop).
type Trigger struct {
	Off        bool     `yaml:"off"`
	Threshold  *float64 `yaml:"threshold"`
	Messages   int      `yaml:"messages"`
	Count      int      `yaml:"count"`
	Similarity *float64 `yaml:"similarity"`
	Queue      string   `yaml:"queue"`
	Priority   string   `yaml:"priority"`
}

// TopicTrigger sends an intent to a person, always.
type TopicTrigger struct {
	Intent        string   `yaml:"intent"`
	MinConfidence *float64 `yaml:"min_confidence"`
	Queue         string   `yaml:"queue"` // [the intent's queue in the intents file, else the default]
	Priority      string   `yaml:"priority"`
}

// AttributeTrigger sends customers with a trusted attribute value to a
// person (VIP, say). Values empty: any value.
type AttributeTrigger struct {
	Key      string   `yaml:"key"`
	Values   []string `yaml:"values"`
	Queue    string   `yaml:"queue"`
	Priority string   `yaml:"priority"`
}

// Spam archives a conversation nobody should see: senders matching a
// pattern (path.Match on the channel address, e.g. "+1900*") or messages
// matching a regular expression.
type Spam struct {
	Senders  []string `yaml:"senders"`
	Patterns []string `yaml:"patterns"`
}

// Action is a declarative HTTP action bound to an intent.
type Action struct {
	Name    string        `yaml:"name"`
	Intent  string        `yaml:"intent"`
	Slots   []Slot        `yaml:"slots"`
	Request ActionRequest `yaml:"request"`
	// Reply and NotFound are templates by language over {{.slots.NAME}}
	// and {{.result...}}; NotFound answers a 404.
	Reply    map[string]string `yaml:"reply"`
	NotFound map[string]string `yaml:"not_found"`
}

// Slot is a value an action asks the customer for.
type Slot struct {
	Name    string            `yaml:"name"`
	Entity  string            `yaml:"entity"`  // order_number, email, phone, amount
	Pattern string            `yaml:"pattern"` // anchored regular expression a value must match
	Prompt  map[string]string `yaml:"prompt"`  // by language
}

// ActionRequest is an action's HTTP call. URL and Body are templates over
// {{.slots.NAME}}; secrets in headers are written ${VAR}.
type ActionRequest struct {
	Method  string            `yaml:"method"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	Timeout Duration          `yaml:"timeout"`
}

// Queue is a human queue.
type Queue struct {
	ID           string   `yaml:"id"`
	Bot          string   `yaml:"bot"`
	Name         string   `yaml:"name"`
	Skills       []string `yaml:"skills"`
	Priority     string   `yaml:"priority"`
	SlackChannel string   `yaml:"slack_channel"`
	SLA          SLA      `yaml:"sla"`
	// Hours are when the queue's people work; SLA targets count working
	// time, and a customer escalated while it is closed is told when a
	// person will answer. Unset: always open.
	Hours QueueHours `yaml:"hours"`
}

// QueueHours are a queue's working hours: an IANA time zone and an opening
// span per day ("09:00-18:00"), by day name or range ("mon-fri").
type QueueHours struct {
	Timezone string            `yaml:"timezone"`
	Days     map[string]string `yaml:"days"`
}

// SLA is a queue's response-time policy. Targets are keyed by priority name
// (low, normal, high, urgent).
type SLA struct {
	FirstResponse map[string]Duration `yaml:"first_response"`
	NextResponse  map[string]Duration `yaml:"next_response"`
	WarnRatio     *float64            `yaml:"warn_ratio"`
	BreachAction  string              `yaml:"breach_action"`
	FallbackQueue string              `yaml:"fallback_queue"`
}

// Agent is a person answering escalated conversations.
type Agent struct {
	ID          string         `yaml:"id"`
	Bot         string         `yaml:"bot"`
	Name        string         `yaml:"name"`
	Email       string         `yaml:"email"`
	Skills      []string       `yaml:"skills"`
	Capacity    map[string]int `yaml:"capacity"`
	SlackUserID string         `yaml:"slack_user_id"`
}

// Duration is a duration written as text ("90s", "2h", "7d"). It is parsed
// during validation so that a bad value is reported with its path rather
// than aborting the whole decode.
type Duration string

// Value returns the parsed duration; call it only on a validated Config.
func (d Duration) Value() time.Duration {
	v, _ := parseDuration(string(d))
	return v
}

// parseDuration accepts Go durations plus whole days ("7d"), since support
// windows are usually stated in days.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := time.ParseDuration(strings.TrimSuffix(s, "d") + "h")
		if err != nil {
			return 0, err
		}
		return n * 24, nil
	}
	return time.ParseDuration(s)
}

func (w *WhatsApp) apiBase() string {
	if w == nil {
		return ""
	}
	return w.APIBase
}

func (m *Messenger) apiBase() string {
	if m == nil {
		return ""
	}
	return m.APIBase
}

func (t *Twilio) apiBase() string {
	if t == nil {
		return ""
	}
	return t.APIBase
}
