package web

import (
	"bytes"
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// The agent API: what the consoles are built on. Every action goes through
// the desk, which checks the actor's right to it, the ids and the state
// machine; this file checks the request itself, so that a bad one reaches
// no desk and changes nothing.

const (
	// agentBodyLimit is the largest body the agent API reads: its bodies
	// are a few short fields.
	agentBodyLimit = 64 << 10
	// maxAgentText is the longest reply or note, in characters: WhatsApp's
	// limit for a text message, the strictest channel's.
	maxAgentText = 4096
	// maxReason bounds an archive reason, kept on the event.
	maxReason = 500
	// maxSnooze is the furthest a snooze may reach: a parked conversation
	// is still a customer waiting.
	maxSnooze = 90 * 24 * time.Hour
	// deskTimeout bounds one desk call of a request.
	deskTimeout = 30 * time.Second
)

// agentConversationJSON is a conversation as the agent API lists it: the
// admin API's fields and the SLA clocks.
type agentConversationJSON struct {
	conversationJSON
	QueuedAt          *time.Time `json:"queued_at,omitempty"`
	AssignedAt        *time.Time `json:"assigned_at,omitempty"`
	FirstResponseDue  *time.Time `json:"first_response_due,omitempty"`
	NextResponseDue   *time.Time `json:"next_response_due,omitempty"`
	FirstAgentReplyAt *time.Time `json:"first_agent_reply_at,omitempty"`
	LastAgentReplyAt  *time.Time `json:"last_agent_reply_at,omitempty"`
	Resolutions       int        `json:"resolutions"`
}

func toAgentConversationJSON(c *baton.Conversation) agentConversationJSON {
	return agentConversationJSON{
		conversationJSON: toConversationJSON(c),
		QueuedAt:         c.QueuedAt, AssignedAt: c.AssignedAt, FirstResponseDue: c.FirstResponseDue,
		NextResponseDue: c.NextResponseDue, FirstAgentReplyAt: c.FirstAgentReplyAt, LastAgentReplyAt: c.LastAgentReplyAt,
		Resolutions: c.Resolutions,
	}
}

type customerJSON struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name,omitempty"`
	Verified   bool              `json:"verified"`
	ExternalID string            `json:"external_id,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	ErasedAt   *time.Time        `json:"erased_at,omitempty"`
}

type templateJSON struct {
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	BodyParams []string `json:"body_params,omitempty"`
}

func toTemplatesJSON(ts []baton.Template) []templateJSON {
	out := make([]templateJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, templateJSON{Name: t.Name, Language: t.Language, BodyParams: t.BodyParams})
	}
	return out
}

type windowJSON struct {
	Open      bool           `json:"open"`
	ClosesAt  *time.Time     `json:"closes_at,omitempty"`
	Templates []templateJSON `json:"templates"`
}

func toWindowJSON(w baton.Window) windowJSON {
	return windowJSON{Open: w.Open, ClosesAt: w.ClosesAt, Templates: toTemplatesJSON(w.Templates)}
}

// viewJSON is GET /api/v1/conversations/:id with a desk: the admin API's
// view (conversation, messages, events, decisions, packet) and the
// customer, the SLA clock and what the channel's window allows now.
type viewJSON struct {
	Conversation agentConversationJSON `json:"conversation"`
	Customer     *customerJSON         `json:"customer"`
	Messages     []messageJSON         `json:"messages"`
	Events       []eventJSON           `json:"events"`
	Decisions    []decisionJSON        `json:"decisions"`
	Packet       *packetJSON           `json:"packet"` // null until the conversation is escalated
	SLA          baton.SLAClock        `json:"sla"`
	Window       windowJSON            `json:"window"`
}

func toViewJSON(v *baton.ConversationView) viewJSON {
	out := viewJSON{
		Conversation: toAgentConversationJSON(v.Conversation),
		Messages:     make([]messageJSON, 0, len(v.Messages)),
		Events:       make([]eventJSON, 0, len(v.Events)),
		Decisions:    make([]decisionJSON, 0, len(v.Decisions)),
		SLA:          v.SLA,
		Window:       toWindowJSON(v.Window),
	}
	if c := v.Customer; c != nil {
		out.Customer = &customerJSON{ID: c.ID, Name: c.Name, Verified: c.Verified, ExternalID: c.ExternalID,
			Attributes: c.Attributes, ErasedAt: c.ErasedAt}
	}
	for _, m := range v.Messages {
		out.Messages = append(out.Messages, toMessageJSON(m))
	}
	for _, e := range v.Events {
		out.Events = append(out.Events, toEventJSON(e))
	}
	for _, d := range v.Decisions {
		out.Decisions = append(out.Decisions, toDecisionJSON(d))
	}
	if v.Packet != nil {
		p := toPacketJSON(v.Packet)
		out.Packet = &p
	}
	return out
}

type agentJSON struct {
	ID             string         `json:"id"`
	BotID          string         `json:"bot_id,omitempty"`
	Name           string         `json:"name"`
	Email          string         `json:"email,omitempty"`
	Skills         []string       `json:"skills"`
	Capacity       map[string]int `json:"capacity"`
	Status         string         `json:"status"`
	SlackUserID    string         `json:"slack_user_id,omitempty"`
	LastAssignedAt *time.Time     `json:"last_assigned_at,omitempty"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// agentLoadJSON is an agent with their assigned and snoozed conversations
// by channel kind ({} for none).
type agentLoadJSON struct {
	agentJSON
	Open map[string]int `json:"open"`
}

func toAgentJSON(a *baton.Agent) agentJSON {
	out := agentJSON{ID: a.ID, BotID: a.BotID, Name: a.Name, Email: a.Email, Skills: a.Skills,
		Capacity: map[string]int{}, Status: string(a.Status), SlackUserID: a.SlackUserID,
		LastAssignedAt: a.LastAssignedAt, UpdatedAt: a.UpdatedAt}
	if out.Skills == nil {
		out.Skills = []string{}
	}
	for k, n := range a.Capacity {
		out.Capacity[string(k)] = n
	}
	return out
}

type tokenJSON struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// decodeAgentBody reads a JSON object of the agent API into v, as
// decodeBody does, within agentBodyLimit. An optional body may be empty.
func decodeAgentBody(c *fiber.Ctx, v any, optional bool) error {
	body := c.Body()
	if len(body) > agentBodyLimit {
		return baton.Errorf(baton.ETOOLARGE, "request body: %d bytes is over the %d KiB limit of the agent API", len(body), agentBodyLimit>>10)
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeBody(c, v)
}

// conversationID reads the :id of the path.
func conversationID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, baton.Errorf(baton.EINVALID, "path: the conversation id must be a positive number")
	}
	return id, nil
}

// checkText validates a free-text field: present, valid UTF-8, at most max
// characters. It returns the text as sent, copied out of fiber's buffer.
func checkText(field, v string, max int) (string, error) {
	switch {
	case strings.TrimSpace(v) == "":
		return "", baton.Errorf(baton.EINVALID, "%s: required, and not only white space", field)
	case !utf8.ValidString(v):
		return "", baton.Errorf(baton.EINVALID, "%s: not valid UTF-8", field)
	case utf8.RuneCountInString(v) > max:
		return "", baton.Errorf(baton.EINVALID, "%s: at most %d characters", field, max)
	}
	return v, nil
}

// checkID validates an agent or queue id of a body.
func checkID(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", baton.Errorf(baton.EINVALID, "%s: required", field)
	case len(v) > 200 || strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "", baton.Errorf(baton.EINVALID, "%s: an id of at most 200 characters on one line", field)
	}
	return v, nil
}

// deskAction is what every request on one conversation shares: the
// principal, the id of the path, the body decoded into in (nil: the action
// takes none, and an empty body or {} is all it accepts), then do, which
// checks what it read and calls the desk within deskTimeout.
func deskAction[T any](s *server, c *fiber.Ctx, in any, do func(ctx context.Context, p principal, id int64) (T, error)) (T, error) {
	var zero T
	p, err := s.principalOf(c)
	if err != nil {
		return zero, err
	}
	id, err := conversationID(c)
	if err != nil {
		return zero, err
	}
	optional := in == nil
	if optional {
		in = &struct{}{}
	}
	if err := decodeAgentBody(c, in, optional); err != nil {
		return zero, err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), deskTimeout)
	defer cancel()
	return do(ctx, p, id)
}

// listConversations: GET /api/v1/conversations?bot=&state=a,b&queue=&agent=&limit=.
// Every filter is checked: a bot or queue that is not configured, an agent
// who does not exist (agent=me is the caller) and an unknown state are
// 400. An agent who works for one bot lists that bot's conversations.
func (s *server) listConversations(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := baton.ConversationFilter{BotID: c.Query("bot"), QueueID: c.Query("queue"), Limit: defaultListLimit}
	if f.BotID != "" {
		if _, ok := s.bots[f.BotID]; !ok {
			return baton.Errorf(baton.EINVALID, "query parameter bot: no bot %q is configured", f.BotID)
		}
	}
	if f.QueueID != "" {
		if _, ok := s.queues[f.QueueID]; !ok {
			return baton.Errorf(baton.EINVALID, "query parameter queue: no queue %q is configured", f.QueueID)
		}
	}
	switch agent := c.Query("agent"); agent {
	case "":
	case "me":
		a, err := p.asAgent("query parameter agent=me")
		if err != nil {
			return err
		}
		f.AgentID = a.ID
	default:
		if _, err := s.cfg.Store.GetAgent(ctx, agent); err != nil {
			if baton.ErrorCode(err) == baton.ENOTFOUND {
				return baton.Errorf(baton.EINVALID, "query parameter agent: no agent %q", agent)
			}
			return err
		}
		f.AgentID = agent
	}
	if v := c.Query("state"); v != "" {
		for _, st := range strings.Split(v, ",") {
			state := baton.State(strings.TrimSpace(st))
			if !state.Valid() {
				return baton.Errorf(baton.EINVALID, "query parameter state: unknown state; use %s", validStates)
			}
			f.States = append(f.States, state)
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return baton.Errorf(baton.EINVALID, "query parameter limit: want a number from 1 to %d", maxListLimit)
		}
		f.Limit = n
	}
	if f.BotID, err = p.scopeBot(f.BotID, "query parameter bot"); err != nil {
		return err
	}
	convs, err := s.cfg.Store.ListConversations(ctx, f)
	if err != nil {
		return err
	}
	out := make([]agentConversationJSON, 0, len(convs))
	for _, cv := range convs {
		out = append(out, toAgentConversationJSON(cv))
	}
	return c.JSON(fiber.Map{"conversations": out})
}

// scopeBot narrows a listing to the bot an agent works for: an agent with
// one bot sees that bot's conversations and queues only; asking for another
// is 403. The admin token, even acting for an agent, sees every bot.
func (p principal) scopeBot(bot, field string) (string, error) {
	if p.actor.Admin || p.agent == nil || p.agent.BotID == "" {
		return bot, nil
	}
	if bot != "" && bot != p.agent.BotID {
		return "", baton.Errorf(baton.EFORBIDDEN, "%s: agent %s works for bot %s only", field, p.agent.ID, p.agent.BotID)
	}
	return p.agent.BotID, nil
}

// viewConversation: GET /api/v1/conversations/:id with a desk.
func (s *server) viewConversation(c *fiber.Ctx) error {
	v, err := deskAction(s, c, nil, func(ctx context.Context, p principal, id int64) (*baton.ConversationView, error) {
		return s.cfg.Desk.View(ctx, id, p.actor)
	})
	if err != nil {
		return err
	}
	return c.JSON(toViewJSON(v))
}

// answerConversation is the answer to every lifecycle action.
func answerConversation(c *fiber.Ctx, conv *baton.Conversation, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"conversation": toAgentConversationJSON(conv)})
}

// answerMessage is the answer to a note or a reply: 201 with the message.
func answerMessage(c *fiber.Ctx, m *baton.Message, err error) error {
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"message": toMessageJSON(m)})
}

// claim: POST /api/v1/conversations/:id/claim.
func (s *server) claim(c *fiber.Ctx) error {
	conv, err := deskAction(s, c, nil, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		if _, err := p.asAgent("claim"); err != nil {
			return nil, err
		}
		return s.cfg.Desk.Claim(ctx, id, p.actor)
	})
	return answerConversation(c, conv, err)
}

// assign: POST /api/v1/conversations/:id/assign {"agent"}.
func (s *server) assign(c *fiber.Ctx) error {
	var in struct {
		Agent string `json:"agent"`
	}
	conv, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		agent, err := checkID("agent", in.Agent)
		if err != nil {
			return nil, err
		}
		return s.cfg.Desk.Assign(ctx, id, agent, p.actor)
	})
	return answerConversation(c, conv, err)
}

// transfer: POST /api/v1/conversations/:id/transfer {"agent" | "queue", "note"}.
func (s *server) transfer(c *fiber.Ctx) error {
	var in struct {
		Agent string `json:"agent"`
		Queue string `json:"queue"`
		Note  string `json:"note"`
	}
	conv, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		var (
			to  baton.TransferTo
			err error
		)
		switch {
		case in.Agent != "" && in.Queue != "":
			return nil, baton.Errorf(baton.EINVALID, "transfer: give agent or queue, not both")
		case in.Agent != "":
			to.Agent, err = checkID("agent", in.Agent)
		case in.Queue != "":
			if to.Queue, err = checkID("queue", in.Queue); err == nil {
				if _, ok := s.queues[to.Queue]; !ok {
					err = baton.Errorf(baton.ENOTFOUND, "transfer: queue %q does not exist", to.Queue)
				}
			}
		default:
			err = baton.Errorf(baton.EINVALID, "transfer: agent or queue is required")
		}
		if err == nil && in.Note != "" {
			to.Note, err = checkText("note", in.Note, maxAgentText)
		}
		if err != nil {
			return nil, err
		}
		return s.cfg.Desk.Transfer(ctx, id, to, p.actor)
	})
	return answerConversation(c, conv, err)
}

// snooze: POST /api/v1/conversations/:id/snooze {"until": RFC 3339 | "for": duration}.
func (s *server) snooze(c *fiber.Ctx) error {
	var in struct {
		Until string `json:"until"`
		For   string `json:"for"`
	}
	conv, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		until, err := snoozeUntil(in.Until, in.For, s.cfg.Clock.Now())
		if err != nil {
			return nil, err
		}
		return s.cfg.Desk.Snooze(ctx, id, until, p.actor)
	})
	return answerConversation(c, conv, err)
}

// snoozeUntil reads a snooze's end: an RFC 3339 time or a duration from
// now, within maxSnooze.
func snoozeUntil(until, dur string, now time.Time) (time.Time, error) {
	var t time.Time
	switch {
	case until != "" && dur != "":
		return t, baton.Errorf(baton.EINVALID, "snooze: give until or for, not both")
	case until != "":
		var err error
		if t, err = time.Parse(time.RFC3339, until); err != nil {
			return t, baton.Errorf(baton.EINVALID, "until: want an RFC 3339 time such as 2026-03-02T09:00:00Z")
		}
		if !t.After(now) {
			return t, baton.Errorf(baton.EINVALID, "until: must be in the future")
		}
	case dur != "":
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			return t, baton.Errorf(baton.EINVALID, "for: want a positive duration such as 30m or 4h")
		}
		t = now.Add(d)
	default:
		return t, baton.Errorf(baton.EINVALID, "snooze: until or for is required")
	}
	if t.Sub(now) > maxSnooze {
		return t, baton.Errorf(baton.EINVALID, "snooze: at most %d days ahead", int(maxSnooze/(24*time.Hour)))
	}
	return t.UTC(), nil
}

// resolve: POST /api/v1/conversations/:id/resolve.
func (s *server) resolve(c *fiber.Ctx) error {
	conv, err := deskAction(s, c, nil, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		return s.cfg.Desk.Resolve(ctx, id, p.actor)
	})
	return answerConversation(c, conv, err)
}

// archive: POST /api/v1/conversations/:id/archive {"reason"}.
func (s *server) archive(c *fiber.Ctx) error {
	var in struct {
		Reason string `json:"reason"`
	}
	conv, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		reason, err := checkText("reason", in.Reason, maxReason)
		if err != nil {
			return nil, err
		}
		if strings.IndexFunc(reason, unicode.IsControl) >= 0 {
			return nil, baton.Errorf(baton.EINVALID, "reason: one line, without control characters")
		}
		return s.cfg.Desk.Archive(ctx, id, reason, p.actor)
	})
	return answerConversation(c, conv, err)
}

// toBot: POST /api/v1/conversations/:id/bot hands the conversation back to
// the bot.
func (s *server) toBot(c *fiber.Ctx) error {
	conv, err := deskAction(s, c, nil, func(ctx context.Context, p principal, id int64) (*baton.Conversation, error) {
		return s.cfg.Desk.ToBot(ctx, id, p.actor)
	})
	return answerConversation(c, conv, err)
}

// note: POST /api/v1/conversations/:id/notes {"text"}: 201 with the note.
func (s *server) note(c *fiber.Ctx) error {
	var in struct {
		Text string `json:"text"`
	}
	m, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Message, error) {
		text, err := checkText("text", in.Text, maxAgentText)
		if err != nil {
			return nil, err
		}
		return s.cfg.Desk.Note(ctx, id, text, p.actor)
	})
	return answerMessage(c, m, err)
}

// reply: POST /api/v1/conversations/:id/messages {"text" | "template"}: 201
// with the message, queued for delivery. Free text the channel's window
// does not allow now is 409 with reason "window_closed" and the templates
// that may be sent instead.
func (s *server) reply(c *fiber.Ctx) error {
	var in struct {
		Text     string        `json:"text"`
		Template *templateJSON `json:"template"`
	}
	m, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Message, error) {
		r, err := agentReply(in.Text, in.Template)
		if err != nil {
			return nil, err
		}
		m, err := s.cfg.Desk.Reply(ctx, id, r, p.actor)
		if err != nil && baton.ErrorCode(err) == baton.EINVALID && r.Template == nil {
			// The desk refuses free text outside the window as invalid;
			// whether that is why is what the view says.
			if v, verr := s.cfg.Desk.View(ctx, id, p.actor); verr == nil && !v.Window.Open {
				return nil, windowClosed(err, v.Window)
			}
		}
		return m, err
	})
	return answerMessage(c, m, err)
}

// agentReply checks a reply's body: text or a template, not both.
func agentReply(text string, t *templateJSON) (baton.AgentReply, error) {
	var (
		r   baton.AgentReply
		err error
	)
	switch {
	case text != "" && t != nil:
		return r, baton.Errorf(baton.EINVALID, "message: give text or template, not both")
	case t == nil:
		r.Text, err = checkText("text", text, maxAgentText)
		return r, err
	}
	if t.Name, err = checkID("template.name", t.Name); err != nil {
		return r, err
	}
	if t.Language, err = checkID("template.language", t.Language); err != nil {
		return r, err
	}
	for i, v := range t.BodyParams {
		if _, err := checkText("template.body_params["+strconv.Itoa(i)+"]", v, maxAgentText); err != nil {
			return r, err
		}
	}
	r.Template = &baton.Template{Name: t.Name, Language: t.Language, BodyParams: t.BodyParams}
	return r, nil
}

// queueJSON is a configured queue and how many conversations wait in it.
type queueJSON struct {
	ID           string     `json:"id"`
	BotID        string     `json:"bot_id"`
	Name         string     `json:"name"`
	Skills       []string   `json:"skills"`
	Priority     int        `json:"priority"`
	SlackChannel string     `json:"slack_channel,omitempty"`
	Fallback     string     `json:"fallback,omitempty"`
	Open         bool       `json:"open"`            // within its working hours now
	Opens        string     `json:"opens,omitempty"` // when it opens next, when closed
	Waiting      int        `json:"waiting"`
	OldestSince  *time.Time `json:"oldest_waiting_since,omitempty"`
}

// listQueues: GET /api/v1/queues[?bot=]: the configured queues (an agent's
// bot's only) with the conversations waiting in each, by id.
func (s *server) listQueues(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	bot := c.Query("bot")
	if bot != "" {
		if _, ok := s.bots[bot]; !ok {
			return baton.Errorf(baton.EINVALID, "query parameter bot: no bot %q is configured", bot)
		}
	}
	if bot, err = p.scopeBot(bot, "query parameter bot"); err != nil {
		return err
	}
	// One read of every waiting conversation, counted here: the store has
	// no count by queue.
	waiting, err := s.cfg.Store.ListConversations(c.UserContext(), baton.ConversationFilter{BotID: bot, States: []baton.State{baton.StateQueued}})
	if err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	byID := map[string]*queueJSON{}
	out := make([]*queueJSON, 0, len(s.queues))
	for _, q := range s.cfg.Queues {
		if bot != "" && q.BotID != bot {
			continue
		}
		j := &queueJSON{ID: q.ID, BotID: q.BotID, Name: q.Name, Skills: q.Skills, Priority: q.Priority,
			SlackChannel: q.SlackChannel, Fallback: q.Fallback, Open: q.Hours.Open(now)}
		if j.Skills == nil {
			j.Skills = []string{}
		}
		if !j.Open {
			j.Opens = q.Hours.Describe(now)
		}
		byID[q.ID] = j
		out = append(out, j)
	}
	for _, cv := range waiting {
		j, ok := byID[cv.QueueID]
		if !ok {
			continue
		}
		j.Waiting++
		since := cv.QueuedAt
		if since == nil {
			since = &cv.UpdatedAt
		}
		if j.OldestSince == nil || since.Before(*j.OldestSince) {
			j.OldestSince = since
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return c.JSON(fiber.Map{"queues": out})
}

// me: GET /api/v1/me: who the token is and whom it acts for.
func (s *server) me(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	out := struct {
		Admin bool       `json:"admin"`
		Agent *agentJSON `json:"agent"` // null when the admin token acts for nobody
		Token *tokenJSON `json:"token"` // the agent token used; null for the admin token
	}{Admin: p.actor.Admin}
	if p.agent != nil {
		a := toAgentJSON(p.agent)
		out.Agent = &a
	}
	if t := p.token; t != nil {
		out.Token = &tokenJSON{ID: t.ID, Name: t.Name, Prefix: t.Prefix, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
	}
	return c.JSON(out)
}

// listAgents: GET /api/v1/agents (admin token): every agent with their open
// conversations per channel kind.
func (s *server) listAgents(c *fiber.Ctx) error {
	loads, err := s.cfg.Store.AgentLoads(c.UserContext(), "")
	if err != nil {
		return err
	}
	out := make([]agentLoadJSON, 0, len(loads))
	for _, l := range loads {
		a := agentLoadJSON{agentJSON: toAgentJSON(&l.Agent), Open: map[string]int{}}
		for k, n := range l.Open {
			a.Open[string(k)] = n
		}
		out = append(out, a)
	}
	return c.JSON(fiber.Map{"agents": out})
}

// myStatus: GET /api/v1/agents/me/status.
func (s *server) myStatus(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	a, err := p.asAgent("agent status")
	if err != nil {
		return err
	}
	// Read again: the principal's copy is from before this request's wait.
	fresh, err := s.cfg.Store.GetAgent(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"agent_id": fresh.ID, "status": string(fresh.Status)})
}

// setMyStatus: PUT /api/v1/agents/me/status {"status": online | away | offline}.
func (s *server) setMyStatus(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decodeAgentBody(c, &in, false); err != nil {
		return err
	}
	a, err := p.asAgent("agent status")
	if err != nil {
		return err
	}
	st := baton.AgentStatus(in.Status)
	switch st {
	case baton.AgentOnline, baton.AgentAway, baton.AgentOffline:
	default:
		return baton.Errorf(baton.EINVALID, "status: want online, away or offline")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), deskTimeout)
	defer cancel()
	updated, err := s.cfg.Desk.SetStatus(ctx, a.ID, st, p.actor)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"agent": toAgentJSON(updated)})
}
