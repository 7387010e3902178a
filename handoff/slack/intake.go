// Package slack is the agents' console in Slack: it takes Slack's requests
// (Events API, interactivity, slash commands) over HTTP, posts a context
// card for every escalation in its queue's channel and keeps that card up
// to date. It talks to the human queue only through baton.Desk and to
// Slack through github.com/slack-go/slack.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// SignatureWindow is how far a request's timestamp may be from now: Slack
// signs the timestamp with the body, so an older request is a replay.
const SignatureWindow = 5 * time.Minute

// Job payload ops: what a JobSlack job does.
const (
	opNotify      = "notify"      // bring a conversation's card up to date
	opEvent       = "event"       // an Events API event_callback
	opInteraction = "interaction" // a button press or other interactivity payload
)

// payload is the payload of a JobSlack job.
type payload struct {
	Op string `json:"op"`
	// Notify: the notification's kind, queue and agent.
	Kind    string `json:"kind,omitempty"`
	QueueID string `json:"queue_id,omitempty"`
	AgentID string `json:"agent_id,omitempty"`
	// Event and interaction: the workspace, Slack's id for it and the
	// body Slack sent (the event_callback envelope, or the interaction
	// payload JSON).
	TeamID  string          `json:"team_id,omitempty"`
	EventID string          `json:"event_id,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// Intake takes what Slack sends the console, over HTTP or from the Socket
// Mode connection ([Socket]) alike. Over HTTP it checks every request's
// signature over the raw body. It answers Slack at once and leaves the work
// to a durable JobSlack job, enqueued in the same transaction as the mark
// that de-duplicates the request, so that a retried delivery acts once
// and an acknowledged one is never lost.
type Intake struct {
	SigningSecret string
	Store         baton.Store
	// Clock is the time the signature window is checked against
	// [baton.SystemClock]. Slack stamps requests with real time, so this is
	// the wall clock outside tests; the store stamps marks and jobs with
	// its own.
	Clock  baton.Clock
	Logger *slog.Logger
	// BotUserID is the console's own Slack user; its messages are never
	// taken as input. Events also name it in authorizations[].user_id.
	BotUserID string
	// Slash answers the /baton commands; nil answers that they are not
	// available.
	Slash *Commands
	// Modals opens the Transfer and Snooze modals and takes their
	// submissions; nil leaves those buttons to the console's job, which
	// says they do not work from Slack.
	Modals *Modals
	// verify checks the signature of a request whose timestamp is within
	// the window; [verifySignature] unless a test replaces it.
	verify func(h http.Header, body []byte, secret string) error
}

// Events, Interactions and Commands are the three Request URLs, for
// web.Config.Slack under "events", "interactions" and "commands".
func (in *Intake) Events() baton.WebhookHandler {
	return handlerFunc(in.events)
}

// Interactions handles Block Kit button presses (block_actions).
func (in *Intake) Interactions() baton.WebhookHandler {
	return handlerFunc(in.interactions)
}

// Commands answers slash commands (/baton), ephemerally.
func (in *Intake) Commands() baton.WebhookHandler {
	return handlerFunc(in.commands)
}

type handlerFunc func(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error)

func (f handlerFunc) ServeWebhook(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	return f(ctx, r)
}

func (in *Intake) now() time.Time {
	if in.Clock == nil {
		return time.Now()
	}
	return in.Clock.Now()
}

func (in *Intake) log() *slog.Logger {
	if in.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Logger
}

// verifySignature is slack-go's SecretsVerifier: it checks the headers,
// the 5-minute window against the wall clock, and the HMAC in constant
// time.
func verifySignature(h http.Header, body []byte, secret string) error {
	sv, err := slack.NewSecretsVerifier(h, secret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

// authenticate rejects a request that Slack did not sign, or signed more
// than SignatureWindow from now, with EUNAUTHORIZED. The window is checked
// here against the injected clock too, so that it holds whatever the
// verifier does and tests can move time; the HMAC itself is slack-go's.
func (in *Intake) authenticate(what string, r *baton.WebhookRequest) error {
	if in.SigningSecret == "" {
		return baton.Errorf(baton.EUNAUTHORIZED, "%s: no signing secret is configured, so no request can be verified", what)
	}
	raw := r.Header.Get("X-Slack-Request-Timestamp")
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return baton.Errorf(baton.EUNAUTHORIZED, "%s: header X-Slack-Request-Timestamp is missing or not a Unix time", what)
	}
	if skew := in.now().Sub(time.Unix(ts, 0)).Abs(); skew > SignatureWindow {
		return baton.Errorf(baton.EUNAUTHORIZED, "%s: request timestamp is %s away from now, outside the %s window (a replay or a wrong clock)",
			what, skew.Round(time.Second), SignatureWindow)
	}
	verify := in.verify
	if verify == nil {
		verify = verifySignature
	}
	if err := verify(r.Header, r.Body, in.SigningSecret); err != nil {
		reason := "does not match the body"
		switch {
		case errors.Is(err, slack.ErrMissingHeaders):
			reason = "is missing"
		case errors.Is(err, slack.ErrExpiredTimestamp):
			reason = "has a timestamp outside the 5-minute window"
		}
		return baton.WrapError(baton.EUNAUTHORIZED, err, what+": X-Slack-Signature "+reason)
	}
	return nil
}

func ok() *baton.WebhookResponse { return &baton.WebhookResponse{Status: http.StatusOK} }

// enqueue marks Slack's id for the request and, the first time only,
// enqueues its job, both in one transaction. It reports whether the
// request was new.
func (in *Intake) enqueue(ctx context.Context, teamID, eventID string, p payload) (bool, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return false, baton.WrapError(baton.EINTERNAL, err, "encode Slack job")
	}
	first := false
	err = in.Store.Tx(ctx, func(tx baton.Store) error {
		first = false
		f, err := tx.MarkSlackEvent(ctx, teamID, eventID, in.now())
		if err != nil || !f {
			return err
		}
		first = true
		if _, err = tx.Enqueue(ctx, &baton.Job{Kind: baton.JobSlack, Payload: body}); err != nil {
			return err
		}
		// Slack retries for about an hour: marks older than keepMarks can
		// go. A few at a time, with each new one, keeps the table small
		// without a sweeper of its own.
		_, err = tx.PurgeSlackEvents(ctx, in.now().Add(-keepMarks), purgeBatch)
		return err
	})
	return first, err
}

// keepMarks is how long a handled event_id is remembered; purgeBatch how
// many older marks each new one clears at most.
const (
	keepMarks  = 24 * time.Hour
	purgeBatch = 20
)

// envelope is the part of an Events API body the intake reads before the
// job does the rest.
type envelope struct {
	Type           string `json:"type"`
	Challenge      string `json:"challenge"`
	TeamID         string `json:"team_id"`
	EventID        string `json:"event_id"`
	Authorizations []struct {
		UserID string `json:"user_id"`
		IsBot  bool   `json:"is_bot"`
	} `json:"authorizations"`
	Event struct {
		Type    string `json:"type"`
		User    string `json:"user"`
		BotID   string `json:"bot_id"`
		SubType string `json:"subtype"`
	} `json:"event"`
}

// events takes an Events API request: the url_verification handshake, or
// an event_callback to de-duplicate and enqueue. Messages from bots (ours
// included) and message subtypes (edits, deletions, broadcasts, joins)
// are acknowledged and dropped, so that nothing the console posts comes
// back to it as input.
func (in *Intake) events(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	if err := in.authenticate("Slack event", r); err != nil {
		return nil, err
	}
	return in.takeEvent(ctx, r.Body, r.Header.Get("X-Slack-Retry-Num"), r.Header.Get("X-Slack-Retry-Reason"))
}

// takeEvent takes an Events API body, whether it came over HTTP or in a
// Socket Mode envelope: the same de-duplication by event_id, the same
// job. retry and reason are Slack's account of a redelivery, for the log.
func (in *Intake) takeEvent(ctx context.Context, body []byte, retry, reason string) (*baton.WebhookResponse, error) {
	const what = "Slack event"
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, baton.WrapError(baton.EINVALID, err, what+": body is not JSON")
	}
	switch env.Type {
	case slackevents.URLVerification:
		if env.Challenge == "" {
			return nil, baton.Errorf(baton.EINVALID, "%s: url_verification without a challenge", what)
		}
		return &baton.WebhookResponse{Status: http.StatusOK, ContentType: "text/plain", Body: []byte(env.Challenge)}, nil
	case slackevents.CallbackEvent:
	default:
		// app_rate_limited and types to come: nothing to do, and an error
		// would only make Slack retry.
		in.log().LogAttrs(ctx, slog.LevelDebug, "Slack event type ignored", slog.String("type", env.Type))
		return ok(), nil
	}
	if err := baton.ValidateSlackIDs(what, "team_id", env.TeamID, "event_id", env.EventID); err != nil {
		return nil, err
	}
	if reason := in.ignore(&env); reason != "" {
		in.log().LogAttrs(ctx, slog.LevelDebug, "Slack event ignored", slog.String("event_id", env.EventID), slog.String("reason", reason))
		return ok(), nil
	}
	first, err := in.enqueue(ctx, env.TeamID, env.EventID, payload{Op: opEvent, TeamID: env.TeamID, EventID: env.EventID, Body: body})
	if err != nil {
		return nil, err
	}
	if !first {
		// Slack retries what it thinks went unanswered (X-Slack-Retry-Num,
		// or retry_attempt in Socket Mode, says which try); the first
		// delivery already has its job.
		in.log().LogAttrs(ctx, slog.LevelInfo, "Slack event already handled", slog.String("event_id", env.EventID),
			slog.String("retry", retry), slog.String("retry_reason", reason))
	}
	return ok(), nil
}

// ignore says why an event is not input for the console, or "".
func (in *Intake) ignore(env *envelope) string {
	ev := env.Event
	if ev.Type != "message" {
		return ""
	}
	switch {
	case ev.BotID != "":
		return "a bot's message"
	case ev.SubType != "":
		return "message subtype " + ev.SubType
	case ev.User != "" && ev.User == in.BotUserID:
		return "our own message"
	}
	for _, a := range env.Authorizations {
		if a.IsBot && a.UserID != "" && a.UserID == ev.User {
			return "our own message"
		}
	}
	return ""
}

// interactions takes a Block Kit interaction: a form with one field,
// payload, holding JSON. It is de-duplicated by its trigger id, which
// Slack makes for every interaction.
func (in *Intake) interactions(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	const what = "Slack interaction"
	if err := in.authenticate(what, r); err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, baton.WrapError(baton.EINVALID, err, what+": body is not a form")
	}
	raw := form.Get("payload")
	if raw == "" {
		return nil, baton.Errorf(baton.EINVALID, "%s: form field payload is missing", what)
	}
	answer, err := in.takeInteraction(ctx, []byte(raw))
	if err != nil || answer == nil {
		return ok(), err
	}
	body, err := json.Marshal(answer)
	if err != nil {
		return nil, baton.WrapError(baton.EINTERNAL, err, what+": encode the answer")
	}
	return &baton.WebhookResponse{Status: http.StatusOK, ContentType: "application/json", Body: body}, nil
}

// takeInteraction takes an interaction payload (JSON), from the HTTP form
// or a Socket Mode envelope alike, and returns what to answer Slack with
// (nil: an empty 200). Transfer and Snooze presses open their modal here
// and a modal's view_submission is acted on here, not in a job: a
// trigger_id is good for 3 seconds, and a modal's field errors exist only
// in the answer to its submission. Every other press is a job.
func (in *Intake) takeInteraction(ctx context.Context, raw []byte) (any, error) {
	const what = "Slack interaction"
	var cb slack.InteractionCallback
	if err := json.Unmarshal(raw, &cb); err != nil {
		return nil, baton.WrapError(baton.EINVALID, err, what+": payload is not an interaction")
	}
	team := cb.Team.ID
	if team == "" {
		team = cb.User.TeamID
	}
	if err := baton.ValidateSlackIDs(what, "team.id", team, "trigger_id", cb.TriggerID); err != nil {
		return nil, err
	}
	if in.Modals != nil {
		if cb.Type == slack.InteractionTypeViewSubmission {
			answer, err := in.Modals.submit(ctx, &cb)
			if answer == nil {
				return nil, err // an empty answer closes the modal
			}
			return answer, err
		}
		if a, ok := opensModal(&cb); ok {
			return nil, in.Modals.open(ctx, &cb, a)
		}
	}
	_, err := in.enqueue(ctx, team, "interaction:"+cb.TriggerID, payload{Op: opInteraction, TeamID: team, EventID: cb.TriggerID, Body: json.RawMessage(raw)})
	return nil, err
}

// commands takes a slash command over HTTP and answers it in the
// response, ephemerally; Socket Mode answers the same in its ack.
func (in *Intake) commands(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	const what = "Slack command"
	if err := in.authenticate(what, r); err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, baton.WrapError(baton.EINVALID, err, what+": body is not a form")
	}
	cmd := slack.SlashCommand{
		Command: strings.TrimSpace(form.Get("command")), Text: form.Get("text"),
		TeamID: form.Get("team_id"), ChannelID: form.Get("channel_id"), UserID: form.Get("user_id"),
		ResponseURL: form.Get("response_url"), TriggerID: form.Get("trigger_id"),
	}
	msg, err := in.takeCommand(ctx, cmd)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, baton.WrapError(baton.EINTERNAL, err, what+": encode the answer")
	}
	return &baton.WebhookResponse{Status: http.StatusOK, ContentType: "application/json", Body: body}, nil
}

// takeCommand answers a slash command, from HTTP or Socket Mode alike:
// through Slash when it is set, with "not available" otherwise.
func (in *Intake) takeCommand(ctx context.Context, cmd slack.SlashCommand) (*slack.Msg, error) {
	if cmd.Command == "" {
		return nil, baton.Errorf(baton.EINVALID, "Slack command: field command is missing")
	}
	if in.Slash == nil {
		return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: cmd.Command + " is not available: use the buttons on the conversation's card."}, nil
	}
	return in.Slash.Answer(ctx, cmd), nil
}
