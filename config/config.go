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

// Escalation is a bot's policy for handing a conversation to a human.
type Escalation struct {
	// NegativeSentiment escalates when a message's sentiment is at or below
	// it (in [-1, 1]); nil keeps the bot's default.
	NegativeSentiment *float64 `yaml:"negative_sentiment"`
	// MaxBotTurns escalates after this many bot answers without resolution;
	// 0 means no limit.
	MaxBotTurns int `yaml:"max_bot_turns"`
	// LoopRepeats escalates when the customer repeats the same question this
	// many times; 0 turns loop detection off.
	LoopRepeats int `yaml:"loop_repeats"`
	// Topics are intents that always go to a human.
	Topics []string `yaml:"topics"`
	// Queue is where escalations go unless a topic or article says
	// otherwise.
	Queue string `yaml:"queue"`
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
