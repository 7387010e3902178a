package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/webchat"
)

// caseRun is one case played in a world of its own: its store, its clock,
// its app.
type caseRun struct {
	r     *runner
	c     Case
	idx   int
	bot   string
	clock *baton.ManualClock
	st    baton.Store
	app   *app.App

	conv    int64 // the customer's current conversation
	lastMsg map[int64]int64
	lastDec map[int64]int64
	buttons []baton.Choice // of the bot's last message
	// lastText is the bot's last replies' text, where SMS numbers its
	// choices.
	lastText string
	seq      int

	apiURL string
	tokens map[string]string

	// What came of it.
	result    CaseResult
	obs       caseObs
	latencies []float64
	// escalations are the escalate decisions, in order.
	escalations []*baton.Decision
	// resolved is set once a step left a conversation of the case
	// resolved; recontact once the customer wrote after that (a survey
	// answer aside).
	resolved, recontact bool
}

// runCase plays case i. An error is returned only when the run cannot go
// on (the store cannot be opened); what the bot did wrong is in the
// result.
func (r *runner) runCase(ctx context.Context, i int) (*caseRun, error) {
	c := r.suite.Cases[i]
	ctx, cancel := context.WithTimeout(ctx, r.opt.CaseTimeout)
	defer cancel()
	clk := baton.NewManualClock(CaseStart())
	st, a, closeCase, err := r.openCase(ctx, i, clk)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.ID, err)
	}
	defer closeCase()
	cr := &caseRun{r: r, c: c, idx: i, bot: r.botOf(c, r.cfg), clock: clk, st: st, app: a,
		lastMsg: map[int64]int64{}, lastDec: map[int64]int64{}, tokens: map[string]string{}}
	cr.result = CaseResult{ID: c.ID, File: c.File, Line: c.Line, Language: c.Language, Channel: c.Channel, Tags: c.Tags, Turns: []TurnResult{}}
	cr.play(ctx)
	return cr, nil
}

// play runs the steps, then checks the conversation's expectations.
func (cr *caseRun) play(ctx context.Context) {
	for i, st := range cr.c.Steps {
		n := i + 1
		var v *stepView
		var err error
		switch st.Kind() {
		case "customer":
			v, err = cr.customer(ctx, n, st.Customer, "", false)
		case "press":
			choice, ok := cr.find(st.Press)
			if !ok && cr.c.Channel == ChannelSMS {
				// SMS has no buttons: the choices are numbered in the
				// text ("1. Returns", "Reply 1 for Yes"), and the
				// customer answers with the number.
				choice, ok = baton.Choice{Title: smsChoice(cr.lastText, st.Press)}, true
			}
			if !ok {
				titles := make([]string, len(cr.buttons))
				for i, b := range cr.buttons {
					titles[i] = b.Title
				}
				cr.fail(n, st.Line, "press", st.Press, strings.Join(titles, " | "), "no button or quick reply with that title in the bot's last message")
				continue
			}
			v, err = cr.customer(ctx, n, choice.Title, choice.ID, false)
		case "csat":
			v, err = cr.customer(ctx, n, strconv.Itoa(st.CSAT), "", true)
		case "wait":
			v, err = cr.wait(ctx, st.WaitFor)
		case "agent":
			v, err = cr.agent(ctx, n, st.Line, st.Agent)
		}
		if err != nil {
			cr.fail(n, st.Line, st.Kind(), "the step runs", baton.ErrorMessage(err), "")
			continue
		}
		if st.Expect != nil && v != nil {
			cr.check(ctx, n, st, st.Expect, v)
		}
	}
	end, err := cr.view(ctx, nil, nil)
	if err != nil {
		cr.fail(0, cr.c.Line, "conversation", "a conversation", baton.ErrorMessage(err), "")
	} else {
		cr.result.Outcome = end.outcome
		if cr.c.Expect != nil {
			cr.check(ctx, 0, Step{}, cr.c.Expect, end)
		}
		cr.observeCase(end)
	}
	cr.result.Passed = len(cr.result.Failures) == 0
}

func (cr *caseRun) fail(step, line int, field, want, got, detail string) {
	cr.result.Failures = append(cr.result.Failures, Failure{Step: step, Line: line, Field: field, Want: want, Got: got, Detail: detail})
}

// find is the bot's last button or quick reply with title.
func (cr *caseRun) find(title string) (baton.Choice, bool) {
	for _, b := range cr.buttons {
		if strings.EqualFold(strings.TrimSpace(b.Title), strings.TrimSpace(title)) {
			return b, true
		}
	}
	return baton.Choice{}, false
}

// customer sends one customer message on the case's channel (a button's
// payload with it when pressed), runs the jobs that come due and reads
// what the bot did.
func (cr *caseRun) customer(ctx context.Context, n int, text, payload string, survey bool) (*stepView, error) {
	cr.seq++
	if cr.resolved && !survey {
		cr.recontact = true
	}
	t0 := time.Now()
	if err := cr.send(ctx, text, payload); err != nil {
		return nil, err
	}
	if err := cr.drain(ctx); err != nil {
		return nil, err
	}
	cr.latencies = append(cr.latencies, float64(time.Since(t0).Microseconds())/1000)
	if err := cr.findConversation(ctx); err != nil {
		return nil, err
	}
	v, err := cr.collect(ctx)
	if err != nil {
		return nil, err
	}
	turn := TurnResult{Step: n, Customer: text, Replies: v.replies}
	if turn.Replies == nil {
		turn.Replies = []string{}
	}
	sv, err := cr.view(ctx, v.decision, v.replies)
	if v.decision != nil {
		turn.Decision = record(v.decision)
		if v.decision.Action == baton.ActionEscalate && sv != nil {
			// Where the escalation went, as routing left it.
			turn.Decision.Queue, turn.Decision.Priority = sv.conv.QueueID, baton.PriorityName(sv.conv.Priority)
		}
	}
	cr.result.Turns = append(cr.result.Turns, turn)
	return sv, err
}

// send hands the message to the app as its channel would.
func (cr *caseRun) send(ctx context.Context, text, payload string) error {
	c, sec := cr.c, cr.r.channels[cr.bot]
	user := fmt.Sprintf("eval-visitor-%06d", cr.idx)
	mid := fmt.Sprintf("eval-%d-%d", cr.idx, cr.seq)
	switch c.Channel {
	case ChannelWebChat:
		p := webchat.PostRequest{VisitorID: user, ClientMessageID: mid, Text: text, Payload: payload, Attributes: c.Page}
		if len(c.Attributes) > 0 {
			now := cr.clock.Now()
			claims := jwt.MapClaims{"sub": user, "aud": cr.bot, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "attributes": c.Attributes}
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(sec.identitySecret))
			if err != nil {
				return baton.Errorf(baton.EINTERNAL, "sign the web chat token: %w", err)
			}
			p.UserToken = tok
		}
		res, err := cr.app.PostWebChat(ctx, cr.bot, p)
		if err != nil {
			return err
		}
		cr.conv = res.ConversationID
		return nil
	case ChannelWhatsApp:
		return cr.webhook(ctx, "whatsapp", whatsAppBody(sec, cr.phone(), mid, text, payload, cr.clock.Now()), sec)
	case ChannelMessenger:
		return cr.webhook(ctx, "messenger", messengerBody(sec, fmt.Sprintf("%016d", 7000000000000000+cr.idx), mid, text, payload, cr.clock.Now()), sec)
	case ChannelSMS:
		form := url.Values{"MessageSid": {"SM" + fmt.Sprintf("%032x", cr.idx*1000+cr.seq)}, "AccountSid": {sec.twilioSID},
			"From": {"+" + cr.phone()}, "To": {sec.twilioFrom}, "Body": {text}, "NumMedia": {"0"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
		return cr.webhook(ctx, "twilio", []byte(form.Encode()), sec)
	}
	return baton.Errorf(baton.EINVALID, "channel %q", c.Channel)
}

// smsChoice is what an SMS customer writes to choose title: the number
// the bot's text gives it, else the title itself.
func smsChoice(text, title string) string {
	q := regexp.QuoteMeta(strings.TrimSpace(title))
	for _, re := range []string{`(?im)^\s*(\d+)[.)]\s*` + q + `\s*$`, `(?i)\b(\d+)\s+(?:for|=|:)\s*` + q + `\b`} {
		if m := regexp.MustCompile(re).FindStringSubmatch(text); m != nil {
			return m[1]
		}
	}
	return title
}

// phone is the case's customer number (E.164 digits): one per case.
func (cr *caseRun) phone() string { return fmt.Sprintf("1555%07d", cr.idx) }

// webhook posts body to the app's webhook of provider, signed as the
// provider signs it.
func (cr *caseRun) webhook(ctx context.Context, provider string, body []byte, sec channelSecrets) error {
	h := cr.app.Webhook(provider)
	if h == nil {
		return baton.Errorf(baton.EINTERNAL, "the app has no %s webhook", provider)
	}
	pub := strings.TrimRight(cr.r.cfg.Server.PublicURL, "/") + "/webhooks/" + provider + "/" + cr.bot
	req := &baton.WebhookRequest{BotID: cr.bot, Method: http.MethodPost, PublicURL: pub, Query: url.Values{}, Header: http.Header{}, Body: body}
	if provider == "twilio" {
		params, _ := url.ParseQuery(string(body))
		req.Header.Set(channels.TwilioSignatureHeader, channels.TwilioSignature(sec.twilioToken, pub, params))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set(channels.MetaSignatureHeader, "sha256="+channels.HMACSHA256Hex([]byte(sec.metaSecret), body))
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.ServeWebhook(ctx, req)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return baton.Errorf(baton.EINTERNAL, "%s webhook answered %d", provider, resp.Status)
	}
	return nil
}

func whatsAppBody(sec channelSecrets, from, mid, text, payload string, at time.Time) []byte {
	msg := map[string]any{"from": from, "id": "wamid." + mid, "timestamp": strconv.FormatInt(at.Unix(), 10)}
	if payload != "" {
		msg["type"] = "interactive"
		msg["interactive"] = map[string]any{"type": "button_reply", "button_reply": map[string]string{"id": payload, "title": text}}
	} else {
		msg["type"] = "text"
		msg["text"] = map[string]string{"body": text}
	}
	body := map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]string{"display_phone_number": "15550783881", "phone_number_id": sec.phoneNumberID},
			"contacts":          []any{map[string]any{"profile": map[string]string{"name": "Eval Customer"}, "wa_id": from}},
			"messages":          []any{msg},
		}}},
	}}}
	b, _ := json.Marshal(body)
	return b
}

func messengerBody(sec channelSecrets, psid, mid, text, payload string, at time.Time) []byte {
	m := map[string]any{"mid": "m_" + mid, "text": text}
	if payload != "" {
		m["quick_reply"] = map[string]string{"payload": payload}
	}
	body := map[string]any{"object": "page", "entry": []any{map[string]any{
		"id": sec.pageID, "time": at.UnixMilli(), "messaging": []any{map[string]any{
			"sender": map[string]string{"id": psid}, "recipient": map[string]string{"id": sec.pageID},
			"timestamp": at.UnixMilli(), "message": m,
		}},
	}}}
	b, _ := json.Marshal(body)
	return b
}

// drain runs the jobs that are due until none is.
func (cr *caseRun) drain(ctx context.Context) error {
	for range 50 {
		n, err := cr.app.RunJobs(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// findConversation follows the customer to their newest conversation
// (a message after a resolution may open a new one).
func (cr *caseRun) findConversation(ctx context.Context) error {
	cs, err := cr.st.ListConversations(ctx, baton.ConversationFilter{BotID: cr.bot})
	if err != nil {
		return err
	}
	for _, c := range cs {
		cr.conv = max(cr.conv, c.ID)
	}
	if cr.conv == 0 {
		return errNoConversation
	}
	return nil
}

// turnRead is what one step left: the new decisions and replies.
type turnRead struct {
	decision *baton.Decision // the last new one
	replies  []string
}

// collect reads what is new in the conversation since the last read.
func (cr *caseRun) collect(ctx context.Context) (turnRead, error) {
	var out turnRead
	if cr.conv == 0 {
		return out, nil
	}
	msgs, err := cr.st.ListMessages(ctx, cr.conv, cr.lastMsg[cr.conv], 0)
	if err != nil {
		return out, err
	}
	var buttons []baton.Choice
	replied := false
	for _, m := range msgs {
		cr.lastMsg[cr.conv] = max(cr.lastMsg[cr.conv], m.ID)
		if m.Direction != baton.DirectionOut {
			continue
		}
		replied = true
		out.replies = append(out.replies, m.Text)
		if o, err := baton.OutboundOf(m); err == nil {
			buttons = append(buttons, o.Buttons...)
			if o.List != nil {
				for _, s := range o.List.Sections {
					for _, row := range s.Rows {
						buttons = append(buttons, baton.Choice{ID: row.ID, Title: row.Title})
					}
				}
			}
		}
	}
	if replied {
		cr.buttons = buttons
		cr.lastText = strings.Join(out.replies, "\n")
	}
	ds, err := cr.st.ListDecisions(ctx, cr.conv, 0)
	if err != nil {
		return out, err
	}
	for _, d := range ds {
		if d.ID <= cr.lastDec[cr.conv] {
			continue
		}
		cr.lastDec[cr.conv] = d.ID
		out.decision = d
		if d.Action == baton.ActionEscalate {
			cr.escalations = append(cr.escalations, d)
		}
	}
	return out, nil
}

// wait moves the case's clock by d, stopping at each pending job's time on
// the way to run it then (a follow-up, an SLA timer, a snooze's end), so
// that every job runs at the time it was due and sees what the jobs before
// it did.
func (cr *caseRun) wait(ctx context.Context, d time.Duration) (*stepView, error) {
	end := cr.clock.Now().Add(d)
	for range 1000 {
		jobs, err := cr.st.ListJobs(ctx, baton.JobFilter{Status: baton.JobPending})
		if err != nil {
			return nil, err
		}
		next := end
		for _, j := range jobs {
			if j.RunAt.After(cr.clock.Now()) && j.RunAt.Before(next) {
				next = j.RunAt
			}
		}
		cr.clock.Advance(next.Sub(cr.clock.Now()))
		if err := cr.drain(ctx); err != nil {
			return nil, err
		}
		if !cr.clock.Now().Before(end) {
			break
		}
	}
	if cr.conv != 0 {
		if _, err := cr.collect(ctx); err != nil {
			return nil, err
		}
	}
	return cr.view(ctx, nil, nil)
}

// agent plays an agent's move through the agent API, over HTTP on a
// loopback listener, with the agent's own token.
func (cr *caseRun) agent(ctx context.Context, n, line int, a *AgentStep) (*stepView, error) {
	base, err := cr.api()
	if err != nil {
		return nil, err
	}
	tok, err := cr.token(ctx, a.As)
	if err != nil {
		return nil, err
	}
	conv := fmt.Sprintf("%s/api/v1/conversations/%d", base, cr.conv)
	method, path := http.MethodPost, ""
	var body any
	switch a.Do {
	case AgentClaim:
		path = conv + "/claim"
	case AgentReply:
		path, body = conv+"/messages", map[string]string{"text": a.Text}
	case AgentNote:
		path, body = conv+"/notes", map[string]string{"text": a.Text}
	case AgentTransfer:
		path, body = conv+"/transfer", map[string]string{"queue": a.Queue, "agent": a.Agent, "note": a.Note}
	case AgentSnooze:
		path, body = conv+"/snooze", map[string]string{"for": a.For}
	case AgentResolve:
		path = conv + "/resolve"
	case AgentToBot:
		path = conv + "/bot"
	case AgentStatus:
		method, path, body = http.MethodPut, base+"/api/v1/agents/me/status", map[string]string{"status": a.Status}
	}
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cr.r.client.Do(req)
	if err != nil {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "agent API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var eb baton.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		cr.fail(n, line, "agent."+a.Do, "accepted", fmt.Sprintf("%d %s", resp.StatusCode, eb.Error.Message), "the agent API refused the move")
	}
	if err := cr.drain(ctx); err != nil {
		return nil, err
	}
	if _, err := cr.collect(ctx); err != nil {
		return nil, err
	}
	return cr.view(ctx, nil, nil)
}

// api serves the case's app on a loopback port, once.
func (cr *caseRun) api() (string, error) {
	if cr.apiURL != "" {
		return cr.apiURL, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", baton.Errorf(baton.EUNAVAILABLE, "agent API: listen on loopback: %w", err)
	}
	go func() { _ = cr.app.Serve(ln) }()
	cr.apiURL = "http://" + ln.Addr().String()
	return cr.apiURL, nil
}

// token is agent's API token in the case's store, made on first use.
func (cr *caseRun) token(ctx context.Context, agent string) (string, error) {
	if t, ok := cr.tokens[agent]; ok {
		return t, nil
	}
	secret, err := baton.NewTokenSecret()
	if err != nil {
		return "", err
	}
	t := &baton.AgentToken{AgentID: agent, Name: "eval", Prefix: baton.TokenPrefix(secret), Hash: baton.HashToken(secret)}
	if err := cr.st.CreateAgentToken(ctx, t); err != nil {
		return "", fmt.Errorf("agent %s: token: %w", agent, err)
	}
	cr.tokens[agent] = secret
	return secret, nil
}

// stepView is the conversation as an expectation reads it after a step
// (decision and replies set for a customer step) or at the end.
type stepView struct {
	decision   *baton.Decision
	replies    []string
	conv       *baton.Conversation
	escalated  bool
	triggers   []string // fired by the escalations so far
	outcome    string
	csat       int
	skills     []string // of the assigned agent
	recontact  bool     // the customer wrote after a resolution
	botAnswers int
}

// view reads the conversation's state now.
func (cr *caseRun) view(ctx context.Context, d *baton.Decision, replies []string) (*stepView, error) {
	if cr.conv == 0 {
		return nil, errNoConversation
	}
	conv, err := cr.st.GetConversation(ctx, cr.conv)
	if err != nil {
		return nil, err
	}
	v := &stepView{decision: d, replies: replies, conv: conv}
	cs, err := cr.st.ListConversations(ctx, baton.ConversationFilter{BotID: cr.bot})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	evs, err := cr.st.ListEventsFor(ctx, ids)
	if err != nil {
		return nil, err
	}
	var resolvedAt *time.Time
	agentResolved := false
	for _, e := range evs {
		if e.Type != "transition" {
			continue
		}
		switch e.To {
		case baton.StateQueued, baton.StateAssigned:
			if e.From == baton.StateBot || e.From == "" {
				v.escalated = true
			}
		case baton.StateResolved:
			if resolvedAt == nil {
				at := e.At
				resolvedAt = &at
			}
			if strings.HasPrefix(e.Actor, "agent:") || v.escalated {
				agentResolved = agentResolved || e.ConversationID == conv.ID
			}
		}
	}
	if len(cr.escalations) > 0 {
		v.escalated = true
	}
	seen := map[string]bool{}
	for _, e := range cr.escalations {
		for _, t := range e.Triggers {
			if t.Fired && !seen[t.Trigger] {
				seen[t.Trigger] = true
				v.triggers = append(v.triggers, t.Trigger)
			}
		}
	}
	if resolvedAt != nil {
		cr.resolved = true
	}
	v.recontact = cr.recontact
	ds, err := cr.st.ListDecisions(ctx, conv.ID, 0)
	if err != nil {
		return nil, err
	}
	var last string
	for _, d := range ds {
		switch d.Action {
		case baton.ActionAnswer, baton.ActionAction:
			v.botAnswers++
		}
		if d.Action != baton.ActionNone && d.Action != baton.ActionWait {
			last = d.Action
		}
	}
	switch {
	case conv.State == baton.StateArchived:
		v.outcome = OutcomeArchived
	case v.escalated && conv.State == baton.StateResolved && agentResolved:
		v.outcome = OutcomeAgentResolved
	case v.escalated:
		v.outcome = OutcomeEscalated
	case conv.State == baton.StateResolved:
		v.outcome = OutcomeBotResolved
	case last == baton.ActionClarify:
		v.outcome = OutcomeClarified
	case v.botAnswers > 0:
		v.outcome = OutcomeBotResolved
	default:
		v.outcome = OutcomeOpen
	}
	if conv.AgentID != "" {
		if a, err := cr.st.GetAgent(ctx, conv.AgentID); err == nil {
			v.skills = a.Skills
		}
	}
	surveys, err := cr.st.ListCSAT(ctx, baton.CSATFilter{ConversationID: conv.ID, Answered: true})
	if err != nil {
		return nil, err
	}
	if len(surveys) > 0 {
		v.csat = surveys[len(surveys)-1].Rating
	}
	return v, nil
}

// assignee is the agent who has (or last had) the conversation.
func assignee(c *baton.Conversation) string { return c.AgentID }

// record is the part of a decision a report keeps.
func record(d *baton.Decision) *DecisionRecord {
	rec := &DecisionRecord{Action: d.Action, Detail: d.Detail}
	if a := d.Analysis; a != nil {
		rec.Language, rec.Intent, rec.Confidence, rec.OutOfScope, rec.Sentiment = a.Language, a.Intent, round(a.IntentConfidence), a.OutOfScope, round(a.Sentiment)
	}
	for _, c := range d.Citations {
		rec.Citations = append(rec.Citations, c.Slug)
	}
	for _, t := range d.Triggers {
		if t.Fired {
			rec.Triggers = append(rec.Triggers, t.Trigger)
		}
	}
	if mem, err := bots.MemoryOf(d); err == nil && mem.Ran != nil && len(mem.Ran.Values) > 0 {
		rec.Slots = mem.Ran.Values
	}
	return rec
}

// round keeps four decimals: what a reader compares, and the same in
// every run.
func round(v float64) float64 {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	r, _ := strconv.ParseFloat(s, 64)
	if r == 0 {
		return 0
	}
	return r
}

// check compares one expectation with the view and records each miss.
func (cr *caseRun) check(ctx context.Context, step int, st Step, e *Expect, v *stepView) {
	miss := func(key, want, got, detail string) {
		cr.fail(step, e.lineOf(key), key, want, got, detail)
	}
	cr.obs.expectations++
	d := v.decision
	var an baton.DecisionAnalysis
	if d != nil && d.Analysis != nil {
		an = *d.Analysis
	}
	action := ""
	if d != nil {
		action = d.Action
	}
	if e.Language != "" {
		got := an.Language
		cr.obs.language = append(cr.obs.language, pair{e.Language, got})
		if got != e.Language {
			miss("language", e.Language, got, "")
		}
	}
	if e.Intent != "" {
		got := intentOf(d)
		cr.obs.intent = append(cr.obs.intent, pair{e.Intent, got})
		if got != e.Intent {
			miss("intent", e.Intent, got, fmt.Sprintf("confidence %.2f", an.IntentConfidence))
		}
	}
	if e.Sentiment != "" {
		got := ""
		if d != nil && d.Analysis != nil {
			got = cr.r.labels.Label(an.Sentiment)
		}
		cr.obs.sentiment = append(cr.obs.sentiment, pair{e.Sentiment, got})
		if got != e.Sentiment {
			miss("sentiment", e.Sentiment, got, fmt.Sprintf("score %.2f", an.Sentiment))
		}
	}
	if e.Action != "" && action != e.Action {
		detail := ""
		if d != nil {
			detail = d.Detail
		}
		miss("action", e.Action, action, detail)
	}
	if len(e.Cites) > 0 {
		var got []string
		if d != nil {
			for _, c := range d.Citations {
				got = append(got, c.Slug)
			}
		}
		cr.obs.cites = append(cr.obs.cites, citeObs{want: e.Cites, got: got})
		if !slices.ContainsFunc(got, func(s string) bool { return slices.Contains(e.Cites, s) }) {
			miss("cites", strings.Join(e.Cites, " | "), strings.Join(got, ", "), "")
		}
	}
	text := strings.Join(v.replies, "\n")
	lower := strings.ToLower(text)
	for _, s := range e.Contains {
		if !strings.Contains(lower, strings.ToLower(s)) {
			miss("contains", s, text, "")
		}
	}
	for _, s := range e.NotContains {
		if strings.Contains(lower, strings.ToLower(s)) {
			miss("not_contains", s, text, "")
		}
	}
	if e.Matches != "" {
		if re, err := regexp.Compile(e.Matches); err == nil && !re.MatchString(text) {
			miss("matches", e.Matches, text, "")
		}
	}
	if e.ActionName != "" || len(e.Slots) > 0 {
		name, slots := "", map[string]string{}
		if d != nil && d.Action == baton.ActionAction {
			name, _, _ = strings.Cut(d.Detail, ":")
			name, _, _ = strings.Cut(name, " failed")
			if mem, err := bots.MemoryOf(d); err == nil && mem.Ran != nil {
				slots = mem.Ran.Values
			}
		}
		if e.ActionName != "" && name != e.ActionName {
			miss("action_name", e.ActionName, name, "")
		}
		for _, k := range sortedKeys(e.Slots) {
			if !strings.EqualFold(slots[k], e.Slots[k]) {
				miss("slots."+k, e.Slots[k], slots[k], "")
			}
		}
	}
	if e.Escalated != nil && *e.Escalated != v.escalated {
		miss("escalated", strconv.FormatBool(*e.Escalated), strconv.FormatBool(v.escalated), "")
	}
	if e.Trigger != "" && !slices.Contains(v.triggers, e.Trigger) {
		miss("trigger", e.Trigger, strings.Join(v.triggers, ", "), "")
	}
	route := func(key string, ok bool) {
		if v.escalated {
			cr.obs.route(key, ok)
		}
	}
	if e.Queue != "" {
		ok := v.conv.QueueID == e.Queue
		route("queue", ok)
		if !ok {
			miss("queue", e.Queue, v.conv.QueueID, "")
		}
	}
	if e.Priority != "" {
		got := ""
		if v.escalated {
			got = baton.PriorityName(v.conv.Priority)
		}
		ok := got == e.Priority
		route("priority", ok)
		if !ok {
			miss("priority", e.Priority, got, "")
		}
	}
	if len(e.Skills) > 0 {
		ok := true
		for _, s := range e.Skills {
			ok = ok && slices.Contains(v.skills, s)
		}
		route("skills", ok)
		if !ok {
			miss("skills", strings.Join(e.Skills, ", "), strings.Join(v.skills, ", "), "the assigned agent's skills")
		}
	}
	if e.AssignedTo != "" && assignee(v.conv) != e.AssignedTo {
		miss("assigned_to", e.AssignedTo, assignee(v.conv), "")
	}
	if e.Status != "" && string(v.conv.State) != e.Status {
		miss("status", e.Status, string(v.conv.State), "")
	}
	if e.Outcome != "" && v.outcome != e.Outcome {
		miss("outcome", e.Outcome, v.outcome, "")
	}
	if e.CSAT != 0 && v.csat != e.CSAT {
		miss("csat", strconv.Itoa(e.CSAT), strconv.Itoa(v.csat), "")
	}
	if e.Judge != "" {
		switch {
		case cr.r.judge == nil:
			cr.obs.judgeSkipped++
		default:
			customer := st.Customer
			if customer == "" {
				customer = st.Press
			}
			pass, reason, err := cr.r.judge.grade(ctx, e.Judge, customer, v.replies)
			if err != nil {
				pass, reason = false, "the judge could not grade: "+baton.ErrorMessage(err)
			}
			cr.obs.judged = append(cr.obs.judged, pass)
			if !pass {
				miss("judge", e.Judge, text, reason)
			}
		}
	}
}

// intentOf is the intent a decision read, out_of_scope when it read none.
func intentOf(d *baton.Decision) string {
	if d == nil || d.Analysis == nil {
		return ""
	}
	if d.Analysis.OutOfScope || d.Analysis.Intent == "" {
		return OutOfScope
	}
	return d.Analysis.Intent
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
