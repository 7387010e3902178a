package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// Notification kinds that change what a card shows. Others ("message",
// customer replies) belong in the thread (thread.go).
var cardKinds = map[string]bool{
	"escalated":   true,
	"assigned":    true,
	"transferred": true,
	"woke":        true,
	"sla_warning": true,
	"sla_breach":  true,
	"resolved":    true,
	"claimed":     true,
	"snoozed":     true,
	"archived":    true,
	"to_bot":      true,
}

// buttonActions are the card's buttons that act in one click (the desk's
// notification of the action updates the card). Transfer, Snooze and Save
// reply as KB draft open a modal in the intake ([Modals]) and reach a job
// only when the intake has none.
var buttonActions = map[string]bool{ActionClaim: true, ActionResolve: true, ActionToBot: true}

// Notifier is the desk's baton.Notifier for Slack: it turns every
// notification that changes a card into a JobSlack job, in the
// conversation's order, so that the desk never waits on Slack and a card
// is posted or updated even when Slack was down when it happened.
//
// The jobs that post in a queue's channel (a card not posted there yet, a
// customer's message in the thread) go in the channel's job lane: one at
// a time, in the order they were made, whatever their conversations.
type Notifier struct {
	Store baton.Store
	Clock baton.Clock // [baton.SystemClock]
	// Channels is the Slack channel of each queue, by queue id, as the
	// Console has them; without it no job is put in a lane.
	Channels map[string]string
	// Console, when set, tells which conversations have a card already
	// (their card jobs update it, out of the lane).
	Console *Console
}

// Notify enqueues the card's update, then what the notification means
// for the card's thread and the agents' DMs.
func (n *Notifier) Notify(ctx context.Context, note baton.Notification) error {
	if err := n.notifyCard(ctx, note); err != nil {
		return err
	}
	return n.notifyThread(ctx, note)
}

func (n *Notifier) notifyCard(ctx context.Context, note baton.Notification) error {
	if !cardKinds[note.Kind] || (note.Kind == "sla_warning" && note.AgentID != "") {
		// An SLA warning for the owner comes with one for the queue's
		// channel, which updates the card; the owner's is a message to
		// them.
		return nil
	}
	if note.ConversationID <= 0 {
		return baton.Errorf(baton.EINVALID, "notify Slack of %q: conversation id %d is not valid", note.Kind, note.ConversationID)
	}
	body, err := json.Marshal(payload{Op: opNotify, Kind: note.Kind, QueueID: note.QueueID, AgentID: note.AgentID})
	if err != nil {
		return baton.WrapError(baton.EINTERNAL, err, "encode Slack job")
	}
	now := time.Now()
	if n.Clock != nil {
		now = n.Clock.Now()
	}
	j := &baton.Job{Kind: baton.JobSlack, ConversationID: note.ConversationID, Payload: body, RunAt: now, MaxAttempts: laneMaxAttempts}
	if err := n.cardLane(ctx, j, note.QueueID); err != nil {
		return err
	}
	_, err = n.Store.Enqueue(ctx, j)
	return err
}

// DefaultCallTimeout bounds one Slack Web API call.
const DefaultCallTimeout = 10 * time.Second

// Console runs the JobSlack jobs: it posts a conversation's card in its
// queue's channel the first time and updates it (chat.update) on every
// later change, keeping the card and thread in the store as the one
// record of what Slack shows.
type Console struct {
	API   *slack.Client
	Desk  baton.Desk
	Store baton.Store
	// Channels is the Slack channel of each queue, by queue id; a queue
	// without one gets no cards.
	Channels map[string]string
	// TeamID is the workspace; "" asks Slack (auth.test) once.
	TeamID      string
	CallTimeout time.Duration // [DefaultCallTimeout]
	// PostInterval is the least time between two posts in a channel
	// [DefaultPostInterval]; a 429 holds the channel for its Retry-After.
	PostInterval time.Duration
	// OutageRetryMax caps the delay between tries of a channel's next post
	// while Slack is unreachable [DefaultOutageRetryMax].
	OutageRetryMax time.Duration
	Clock          baton.Clock // [baton.SystemClock]
	Logger         *slog.Logger

	paceMu sync.Mutex
	next   map[string]time.Time // channel id → earliest time of its next post

	mu   sync.Mutex
	team string // TeamID, or what auth.test said
	// ids are the channel ids Slack answered posts to a channel named
	// by name in Channels with, by name: chat.update wants the id.
	ids map[string]string
}

// isChannelID reports whether a configured channel is an id (C…, G…) and
// not a name.
func isChannelID(s string) bool {
	if len(s) < 2 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// sameChannel reports whether a card posted in channel id is in the
// configured channel. A channel configured by name is known by the id
// Slack answered the first post there with; until one was posted in this
// process the card is taken to be in it, so that a restart never posts a
// second card (the cost: a transfer to a queue configured by name right
// after a restart updates the card where it is).
func (c *Console) sameChannel(id, configured string) bool {
	if isChannelID(configured) || id == configured {
		return id == configured
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	known, ok := c.ids[configured]
	return !ok || known == id
}

// channelID is the id of a configured channel: itself, or the id Slack
// answered a post there with; "" while unknown.
func (c *Console) channelID(configured string) string {
	if isChannelID(configured) {
		return configured
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[configured]
}

// knownTeam is the workspace when known without asking Slack.
func (c *Console) knownTeam() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.team != "" {
		return c.team
	}
	return c.TeamID
}

func (c *Console) learn(configured, id string) {
	if isChannelID(configured) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[string]string{}
	}
	c.ids[configured] = id
}

func (c *Console) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// call runs one Web API call within the call timeout.
func (c *Console) call(ctx context.Context, what string, f func(ctx context.Context) error) error {
	d := c.CallTimeout
	if d <= 0 {
		d = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := f(ctx); err != nil {
		return classify(err, what)
	}
	return nil
}

// transient are the Web API errors (HTTP 200, "ok": false) that a later
// try may not get; every other one (a wrong channel, a revoked token)
// needs a person, and retrying only hides it.
var transient = map[string]bool{"internal_error": true, "fatal_error": true, "service_unavailable": true, "request_timeout": true, "ratelimited": true}

// classify gives a Slack failure its code: 429 is a RetryLater after
// Slack's Retry-After, a 5xx or a network failure EUNAVAILABLE (retried
// with backoff), anything else EINVALID (dead-lettered with the reason).
func classify(err error, what string) error {
	var limited *slack.RateLimitedError
	var status slack.StatusCodeError
	var resp slack.SlackErrorResponse
	switch {
	case errors.As(err, &limited):
		return &baton.RetryLater{After: limited.RetryAfter, Err: baton.WrapError(baton.ERATELIMITED, err, what)}
	case errors.As(err, &status):
		if status.Code >= http.StatusInternalServerError {
			return baton.WrapError(baton.EUNAVAILABLE, err, what)
		}
		return baton.WrapError(baton.EINVALID, err, what)
	case errors.As(err, &resp):
		if transient[resp.Err] {
			return baton.WrapError(baton.EUNAVAILABLE, err, what)
		}
		return baton.WrapError(baton.EINVALID, err, what+": Slack said "+resp.Err)
	}
	return baton.WrapError(baton.EUNAVAILABLE, err, what)
}

// workspace is the team id cards are kept under.
func (c *Console) workspace(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.team == "" {
		c.team = c.TeamID
	}
	if c.team != "" {
		return c.team, nil
	}
	err := c.call(ctx, "Slack auth.test", func(ctx context.Context) error {
		r, err := c.API.AuthTestContext(ctx)
		if err == nil {
			c.team = r.TeamID
		}
		return err
	})
	return c.team, err
}

// HandleJob runs one JobSlack job.
func (c *Console) HandleJob(ctx context.Context, j *baton.Job) error {
	var p payload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return baton.WrapError(baton.EINVALID, err, "Slack job payload")
	}
	return c.laneVerdict(j, p.Op, c.handle(ctx, j, p))
}

func (c *Console) handle(ctx context.Context, j *baton.Job, p payload) error {
	switch p.Op {
	case opNotify:
		return c.syncCard(ctx, j.ConversationID, notice(p), j.Attempts > 1)
	case opInteraction:
		return c.interact(ctx, p)
	}
	if handled, err := c.handleThread(ctx, j); handled {
		return err
	}
	return baton.Errorf(baton.EINVALID, "Slack job %d: unknown op %q", j.ID, p.Op)
}

// notice is what the card says about the change that caused the job.
func notice(p payload) string {
	switch p.Kind {
	case "escalated":
		return ""
	case "assigned":
		return "Assigned to " + p.AgentID
	case "transferred":
		if p.AgentID != "" {
			return "Transferred to " + p.AgentID
		}
		return "Transferred to queue " + p.QueueID
	case "woke":
		return "Snooze ended"
	case "sla_warning":
		return "SLA warning: a reply is due soon"
	case "sla_breach":
		return "SLA breach: a reply is overdue"
	case "resolved":
		if p.AgentID == "" {
			return "Resolved"
		}
		return "Resolved by " + p.AgentID
	case "claimed":
		return "Claimed by " + p.AgentID
	case "to_bot":
		return "Handed back to the bot by " + p.AgentID
	case "snoozed":
		return "Snoozed by " + p.AgentID
	case "archived":
		return "Archived"
	}
	return ""
}

// syncCard brings the conversation's card up to date: posted in its
// queue's channel when it has none there, updated otherwise. On a retry
// (an earlier try may have posted the card and not lived to save it) the
// card is first looked for in the channel by its marker.
func (c *Console) syncCard(ctx context.Context, id int64, notice string, retry bool) error {
	if id <= 0 {
		return baton.Errorf(baton.EINVALID, "Slack card: job has no conversation")
	}
	v, err := c.Desk.View(ctx, id, baton.Actor{Admin: true})
	if err != nil {
		return err
	}
	channel := c.Channels[v.Conversation.QueueID]
	if channel == "" {
		c.log().LogAttrs(ctx, slog.LevelDebug, "queue has no Slack channel, no card", slog.Int64("conversation", id), slog.String("queue", v.Conversation.QueueID))
		return nil
	}
	team, err := c.workspace(ctx)
	if err != nil {
		return err
	}
	th, err := c.Store.GetSlackThread(ctx, team, id)
	if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
		return err
	}
	card := Card(v, notice)
	opts := []slack.MsgOption{slack.MsgOptionText(card.Text, false), slack.MsgOptionBlocks(card.Blocks...)}
	if th != nil && c.sameChannel(th.ChannelID, channel) {
		return c.call(ctx, "Slack chat.update", func(ctx context.Context) error {
			_, _, _, err := c.API.UpdateMessageContext(ctx, th.ChannelID, th.MessageTS, opts...)
			return err
		})
	}
	if th != nil {
		// The conversation moved to a queue with another channel: the old
		// card says where it went, and the new channel gets a card of its
		// own. The old card is a courtesy; the new one is the job.
		moved := Card(v, "Moved to queue "+v.Conversation.QueueID)
		if err := c.call(ctx, "Slack chat.update", func(ctx context.Context) error {
			_, _, _, err := c.API.UpdateMessageContext(ctx, th.ChannelID, th.MessageTS,
				slack.MsgOptionText(moved.Text, false), slack.MsgOptionBlocks(moved.Blocks[:len(moved.Blocks)-1]...))
			return err
		}); err != nil {
			c.log().LogAttrs(ctx, slog.LevelWarn, "could not mark the old Slack card as moved", slog.Int64("conversation", id), slog.String("error", baton.ErrorMessage(err)))
		}
	}
	if retry {
		// A channel configured by name is known by id only after a post
		// there in this process: before, there is no looking.
		if chID := c.channelID(channel); chID != "" {
			ts, err := c.postedCard(ctx, chID, id)
			if err != nil {
				return err
			}
			if ts != "" {
				c.log().LogAttrs(ctx, slog.LevelInfo, "Slack card found posted by an earlier try, not posted again", slog.Int64("conversation", id))
				return c.Store.SaveSlackThread(ctx, &baton.SlackThread{TeamID: team, ConversationID: id, ChannelID: chID, MessageTS: ts})
			}
		}
	}
	postedChannel, ts, err := c.postMessage(ctx, channel, append(opts, marker(markerCard, "conversation_id", id))...)
	if err != nil {
		return err
	}
	c.learn(channel, postedChannel)
	return c.Store.SaveSlackThread(ctx, &baton.SlackThread{TeamID: team, ConversationID: id, ChannelID: postedChannel, MessageTS: ts})
}

// interact runs a button press: as the agent the Slack user is linked to
// (slack_user_id), through the desk, which checks their right to it. A
// refusal is told to the person who pressed, ephemerally; the card's
// update is a job of its own, so that a Slack failure while updating it
// never runs the action twice.
func (c *Console) interact(ctx context.Context, p payload) error {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(p.Body, &cb); err != nil {
		return baton.WrapError(baton.EINVALID, err, "Slack interaction payload")
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		c.log().LogAttrs(ctx, slog.LevelInfo, "Slack interaction type not acted on", slog.String("type", string(cb.Type)))
		return nil
	}
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	tell := func(text string) error {
		if channel == "" || cb.User.ID == "" {
			return nil
		}
		return c.call(ctx, "Slack chat.postEphemeral", func(ctx context.Context) error {
			_, err := c.API.PostEphemeralContext(ctx, channel, cb.User.ID, slack.MsgOptionText(text, false))
			return err
		})
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if picker, err := c.templateAction(ctx, &cb, a, tell); picker {
			if err != nil {
				return err
			}
			continue
		}
		if !buttonActions[a.ActionID] {
			if err := tell("This server does not open that button's form in Slack: use the web inbox or the agent API."); err != nil {
				return err
			}
			continue
		}
		id, err := strconv.ParseInt(a.Value, 10, 64)
		if err != nil || id <= 0 {
			return baton.Errorf(baton.EINVALID, "Slack button %s: value %q is not a conversation id", a.ActionID, a.Value)
		}
		agent, err := c.agentOf(ctx, cb.User.ID)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			if err := tell("Your Slack account is not linked to a Baton agent (an agent's slack_user_id), so you cannot act on conversations here."); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		by := baton.Actor{AgentID: agent}
		switch a.ActionID {
		case ActionClaim:
			_, err = c.Desk.Claim(ctx, id, by)
		case ActionResolve:
			_, err = c.Desk.Resolve(ctx, id, by)
		case ActionToBot:
			_, err = c.Desk.ToBot(ctx, id, by)
		}
		switch code := baton.ErrorCode(err); {
		case err == nil:
		case code == baton.EUNAVAILABLE || code == baton.EINTERNAL:
			return err
		default:
			if err := tell("Not done: " + baton.ErrorMessage(err)); err != nil {
				return err
			}
			continue
		}
	}
	return nil
}

// agentOf is the agent whose slack_user_id is user, ENOTFOUND when none.
func (c *Console) agentOf(ctx context.Context, user string) (string, error) {
	if user == "" {
		return "", baton.Errorf(baton.ENOTFOUND, "Slack interaction names no user")
	}
	agents, err := c.Store.ListAgents(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range agents {
		if a.SlackUserID == user {
			return a.ID, nil
		}
	}
	return "", baton.Errorf(baton.ENOTFOUND, "no agent has Slack user %s", user)
}
