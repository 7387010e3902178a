package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// requireAdmin guards the admin API with the configured bearer token. An
// address over its failure rate is refused before its token is looked at;
// failures are counted and logged, aggregated, by the guard.
func (s *server) requireAdmin(c *fiber.Ctx) error {
	if s.cfg.AdminToken == "" {
		return baton.Errorf(baton.EFORBIDDEN, "the admin API is disabled: set server.admin_token or BATON_ADMIN_TOKEN")
	}
	client := s.cfg.Proxies.Client(c)
	attempt, err := s.cfg.AuthGuard.Begin(client)
	if err != nil {
		return err
	}
	auth := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(auth, "Bearer ")
	// Comparing digests keeps the comparison constant-time in the token's
	// length as well as its content.
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.cfg.AdminToken))
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		reason := "wrong token"
		switch {
		case auth == "":
			reason = "no Authorization header"
		case !ok:
			reason = "not a bearer token"
		}
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="baton"`)
		err := baton.Errorf(baton.EUNAUTHORIZED, "a valid admin bearer token is required")
		if s.cfg.AuthGuard == nil {
			return err
		}
		attempt.Failed(reason)
		return reported{err}
	}
	attempt.Succeeded()
	return c.Next()
}

const (
	defaultListLimit = 50
	maxListLimit     = 500
	// validStates are the states the conversation list filters on, named
	// in its error so that the client can fix the request.
	validStates = "bot, queued, assigned, snoozed, resolved or archived (comma-separated)"
)

// getConversation: GET /api/v1/conversations/:id, with transcript, events,
// the bot's decisions and, once escalated, the handoff packet.
func (s *server) getConversation(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return baton.Errorf(baton.EINVALID, "conversation id must be a positive number")
	}
	ctx := c.UserContext()
	conv, err := s.cfg.Store.GetConversation(ctx, id)
	if err != nil {
		return err
	}
	// A turn commits its decision, packet, events and replies together;
	// reading the decisions, packet and events before the transcript means
	// that whatever decision the view shows, its replies are in it too.
	decisions, err := s.cfg.Store.ListDecisions(ctx, id, 0)
	if err != nil {
		return err
	}
	packet, err := s.cfg.Store.GetPacket(ctx, id)
	if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
		return err
	}
	events, err := s.cfg.Store.ListEvents(ctx, id)
	if err != nil {
		return err
	}
	msgs, err := s.cfg.Store.ListMessages(ctx, id, 0, 0)
	if err != nil {
		return err
	}
	out := struct {
		Conversation conversationJSON `json:"conversation"`
		Messages     []messageJSON    `json:"messages"`
		Events       []eventJSON      `json:"events"`
		Decisions    []decisionJSON   `json:"decisions"`
		Packet       *packetJSON      `json:"packet"` // null until the conversation is escalated
	}{Conversation: toConversationJSON(conv), Messages: []messageJSON{}, Events: []eventJSON{}, Decisions: []decisionJSON{}}
	for _, m := range msgs {
		out.Messages = append(out.Messages, toMessageJSON(m))
	}
	for _, e := range events {
		out.Events = append(out.Events, toEventJSON(e))
	}
	for _, d := range decisions {
		out.Decisions = append(out.Decisions, toDecisionJSON(d))
	}
	if packet != nil {
		p := toPacketJSON(packet)
		out.Packet = &p
	}
	return c.JSON(out)
}

// The admin API speaks snake_case JSON of its own, so that renaming a Go
// field never breaks a client.

type conversationJSON struct {
	ID             int64             `json:"id"`
	BotID          string            `json:"bot_id"`
	CustomerID     int64             `json:"customer_id"`
	Channel        string            `json:"channel"`
	Address        string            `json:"address"`
	State          string            `json:"state"`
	QueueID        string            `json:"queue_id,omitempty"`
	AgentID        string            `json:"agent_id,omitempty"`
	Priority       int               `json:"priority"`
	Language       string            `json:"language,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	LastInboundAt  *time.Time        `json:"last_inbound_at,omitempty"`
	LastOutboundAt *time.Time        `json:"last_outbound_at,omitempty"`
	SnoozedUntil   *time.Time        `json:"snoozed_until,omitempty"`
	ResolvedAt     *time.Time        `json:"resolved_at,omitempty"`
	Version        int               `json:"version"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

func toConversationJSON(c *baton.Conversation) conversationJSON {
	return conversationJSON{
		ID: c.ID, BotID: c.BotID, CustomerID: c.CustomerID, Channel: string(c.Channel), Address: c.Address,
		State: string(c.State), QueueID: c.QueueID, AgentID: c.AgentID, Priority: c.Priority, Language: c.Language,
		Attributes: c.Attributes, LastInboundAt: c.LastInboundAt, LastOutboundAt: c.LastOutboundAt,
		SnoozedUntil: c.SnoozedUntil, ResolvedAt: c.ResolvedAt, Version: c.Version,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

type messageJSON struct {
	ID           int64              `json:"id"`
	Direction    string             `json:"direction"`
	Author       string             `json:"author"`
	AuthorID     string             `json:"author_id,omitempty"`
	Type         string             `json:"type"`
	Text         string             `json:"text,omitempty"`
	Payload      string             `json:"payload,omitempty"`
	Attachments  []baton.Attachment `json:"attachments,omitempty"`
	ProviderID   string             `json:"provider_id,omitempty"`
	Status       string             `json:"status"`
	StatusCode   string             `json:"status_code,omitempty"`
	StatusReason string             `json:"status_reason,omitempty"`
	CreatedAt    time.Time          `json:"created_at"`
}

func toMessageJSON(m *baton.Message) messageJSON {
	return messageJSON{
		ID: m.ID, Direction: string(m.Direction), Author: string(m.Author), AuthorID: m.AuthorID,
		Type: string(m.Type), Text: m.Text, Payload: m.Payload, Attachments: m.Attachments,
		ProviderID: m.ProviderID, Status: string(m.Status), StatusCode: m.StatusCode,
		StatusReason: m.StatusReason, CreatedAt: m.CreatedAt,
	}
}

type eventJSON struct {
	ID     int64          `json:"id"`
	Type   string         `json:"type"`
	From   string         `json:"from,omitempty"`
	To     string         `json:"to,omitempty"`
	Actor  string         `json:"actor"`
	Reason string         `json:"reason,omitempty"`
	Data   map[string]any `json:"data,omitempty"`
	At     time.Time      `json:"at"`
}

func toEventJSON(e *baton.Event) eventJSON {
	return eventJSON{ID: e.ID, Type: e.Type, From: string(e.From), To: string(e.To), Actor: e.Actor,
		Reason: e.Reason, Data: e.Data, At: e.At}
}

type decisionJSON struct {
	MessageID int64          `json:"message_id"`
	Action    string         `json:"action"`
	Analysis  *analysisJSON  `json:"analysis"` // null when the bot did not analyse
	Citations []citationJSON `json:"citations"`
	Triggers  []triggerJSON  `json:"triggers"`
	TookMS    float64        `json:"took_ms"` // to the microsecond: an offline turn takes less than one
	Detail    string         `json:"detail,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

type analysisJSON struct {
	Language         string  `json:"language"`
	Intent           string  `json:"intent"`
	IntentConfidence float64 `json:"intent_confidence"`
	OutOfScope       bool    `json:"out_of_scope"`
	Sentiment        float64 `json:"sentiment"`
	SentimentTrend   float64 `json:"sentiment_trend"`
	WantsHuman       bool    `json:"wants_human"`
}

type citationJSON struct {
	Slug  string  `json:"slug"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

type triggerJSON struct {
	Trigger   string  `json:"trigger"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Fired     bool    `json:"fired"`
	Detail    string  `json:"detail,omitempty"`
}

// MarshalDecision is d in the JSON the admin API shows it in, so that a
// tool that prints decisions ("baton chat") speaks the same shape.
func MarshalDecision(d *baton.Decision) ([]byte, error) { return json.Marshal(toDecisionJSON(d)) }

func toDecisionJSON(d *baton.Decision) decisionJSON {
	out := decisionJSON{
		MessageID: d.MessageID, Action: d.Action, Citations: make([]citationJSON, 0, len(d.Citations)),
		Triggers: toTriggersJSON(d.Triggers), TookMS: float64(d.Took.Microseconds()) / 1000,
		Detail: d.Detail, CreatedAt: d.CreatedAt,
	}
	if a := d.Analysis; a != nil {
		out.Analysis = &analysisJSON{
			Language: a.Language, Intent: a.Intent, IntentConfidence: a.IntentConfidence, OutOfScope: a.OutOfScope,
			Sentiment: a.Sentiment, SentimentTrend: a.SentimentTrend, WantsHuman: a.WantsHuman,
		}
	}
	for _, c := range d.Citations {
		out.Citations = append(out.Citations, citationJSON{Slug: c.Slug, Title: c.Title, Score: c.Score})
	}
	return out
}

// toTriggersJSON never returns nil: a client reads [] when nothing was
// evaluated.
func toTriggersJSON(ts []baton.TriggerResult) []triggerJSON {
	out := make([]triggerJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, triggerJSON{Trigger: t.Trigger, Value: t.Value, Threshold: t.Threshold, Fired: t.Fired, Detail: t.Detail})
	}
	return out
}

type packetJSON struct {
	ConversationID   int64               `json:"conversation_id"`
	Summary          string              `json:"summary"`
	Reasons          []triggerJSON       `json:"reasons"`
	Customer         customerProfileJSON `json:"customer"`
	Channel          string              `json:"channel"`
	Attributes       map[string]string   `json:"attributes,omitempty"`
	Language         string              `json:"language"`
	Intent           string              `json:"intent,omitempty"`
	IntentConfidence float64             `json:"intent_confidence,omitempty"`
	Sentiment        float64             `json:"sentiment"`
	SentimentTrend   float64             `json:"sentiment_trend"`
	ArticlesTried    []articleRefJSON    `json:"articles_tried,omitempty"`
	FailedAnswers    []string            `json:"failed_answers,omitempty"`
	QueueID          string              `json:"queue_id"`
	Skills           []string            `json:"skills,omitempty"`
	Priority         int                 `json:"priority"`
	CreatedAt        time.Time           `json:"created_at"`
	UpdatedAt        time.Time           `json:"updated_at"`
}

type customerProfileJSON struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name,omitempty"`
	Verified   bool              `json:"verified"`
	Address    string            `json:"address"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

type articleRefJSON struct {
	Slug  string  `json:"slug"`
	Title string  `json:"title"`
	URL   string  `json:"url,omitempty"`
	Score float64 `json:"score"`
}

func toPacketJSON(p *baton.HandoffPacket) packetJSON {
	out := packetJSON{
		ConversationID: p.ConversationID, Summary: p.Summary, Reasons: toTriggersJSON(p.Reasons),
		Customer: customerProfileJSON{ID: p.Customer.ID, Name: p.Customer.Name, Verified: p.Customer.Verified,
			Address: p.Customer.Address, Attributes: p.Customer.Attributes},
		Channel: string(p.Channel), Attributes: p.Attributes, Language: p.Language, Intent: p.Intent,
		IntentConfidence: p.IntentScore, Sentiment: p.Sentiment, SentimentTrend: p.SentimentTrend,
		FailedAnswers: p.FailedAnswers, QueueID: p.QueueID, Skills: p.Skills, Priority: p.Priority,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	for _, a := range p.ArticlesTried {
		out.ArticlesTried = append(out.ArticlesTried, articleRefJSON{Slug: a.Slug, Title: a.Title, URL: a.URL, Score: a.Score})
	}
	return out
}
