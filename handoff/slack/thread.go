package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// More JobSlack ops: the card's thread and the agents' DMs.
const (
	opPost   = "post"   // post a customer's message in the card's thread
	opDM     = "dm"     // tell an agent something in a direct message
	opStatus = "status" // show an agent reply's delivery status on its Slack message
)

// NotePrefix starts a thread reply the owner means as an internal note:
// without it, everything the owner writes in the thread goes to the
// customer. Matched case-insensitively, at the start of the message.
const NotePrefix = "note:"

// Reactions that show an owner's thread reply's delivery status.
const (
	reactionSent      = "outbox_tray"      // the provider took it
	reactionDelivered = "white_check_mark" // delivered or read
	reactionFailed    = "x"                // the provider refused it
)

// threadScan is how many of a conversation's last messages a "message"
// notification looks through for customer messages not yet in the thread:
// a burst of messages gets one notification, for its last.
const threadScan = 20

// threadPayload is what the thread, DM and status jobs carry besides the
// common payload.
type threadPayload struct {
	payload
	MessageID int64  `json:"message_id,omitempty"`
	Channel   string `json:"channel,omitempty"` // status: the Slack message's channel and ts
	TS        string `json:"ts,omitempty"`
}

// notifyThread enqueues what a notification means for the thread and the
// agents' DMs: a customer's messages posted in the thread (one job per
// message, keyed by it, so a message is posted once however many
// notifications name it), and a DM to the agent a conversation was given
// to, warned about or written to.
func (n *Notifier) notifyThread(ctx context.Context, note baton.Notification) error {
	if note.ConversationID <= 0 {
		return nil
	}
	var jobs []*baton.Job
	if note.Kind == "message" {
		conv, err := n.Store.GetConversation(ctx, note.ConversationID)
		if err != nil {
			return err
		}
		recent, err := n.Store.ListRecentMessages(ctx, conv.ID, threadScan)
		if err != nil {
			return err
		}
		for _, m := range recent {
			// What came before the escalation is on the card.
			if m.Direction != baton.DirectionIn || m.Author != baton.AuthorCustomer || (conv.QueuedAt != nil && !m.CreatedAt.After(*conv.QueuedAt)) {
				continue
			}
			j, err := n.job(threadPayload{payload: payload{Op: opPost}, MessageID: m.ID}, conv.ID)
			if err != nil {
				return err
			}
			j.Key = "slack:post:" + strconv.FormatInt(m.ID, 10)
			if err := n.threadLane(ctx, j, conv.QueueID); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
	}
	if dmKinds[note.Kind] && note.AgentID != "" {
		j, err := n.job(threadPayload{payload: payload{Op: opDM, Kind: note.Kind, AgentID: note.AgentID}}, note.ConversationID)
		if err != nil {
			return err
		}
		jobs = append(jobs, j)
	}
	for _, j := range jobs {
		if _, err := n.Store.Enqueue(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// dmKinds are the notifications that DM the agent they name: given the
// conversation, warned about its SLA (the owner's copy), written to by
// the customer.
var dmKinds = map[string]bool{"assigned": true, "transferred": true, "sla_warning": true, "message": true}

func (n *Notifier) job(p threadPayload, conversationID int64) (*baton.Job, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, baton.WrapError(baton.EINTERNAL, err, "encode Slack job")
	}
	now := time.Now()
	if n.Clock != nil {
		now = n.Clock.Now()
	}
	return &baton.Job{Kind: baton.JobSlack, ConversationID: conversationID, Payload: body, RunAt: now}, nil
}

// handleThread runs the thread, DM and status jobs; false when op is
// none of them.
func (c *Console) handleThread(ctx context.Context, j *baton.Job) (bool, error) {
	var p threadPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return true, baton.WrapError(baton.EINVALID, err, "Slack job payload")
	}
	switch p.Op {
	case opPost:
		return true, c.postCustomer(ctx, j.ConversationID, p.MessageID, j.Attempts > 1)
	case opDM:
		return true, c.dm(ctx, j.ConversationID, p)
	case opStatus:
		return true, c.showStatus(ctx, j, p)
	case opEvent:
		return true, c.event(ctx, p.payload)
	}
	return false, nil
}

// threadText is a customer's message as the thread shows it: the text,
// then each attachment as a link (or, without a URL, what it is and where
// to see it).
func threadText(who string, m *baton.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*: %s", escape(who), escape(m.Text))
	for _, a := range m.Attachments {
		label := a.Filename
		if label == "" {
			label = a.Caption
		}
		if label == "" {
			label = string(a.Kind)
		}
		switch {
		case strings.HasPrefix(a.URL, "https://") || strings.HasPrefix(a.URL, "http://"):
			fmt.Fprintf(&b, "\n:paperclip: <%s|%s>", strings.NewReplacer("|", "%7C", ">", "%3E").Replace(a.URL), escape(label))
		case a.Kind == baton.TypeLocation:
			fmt.Fprintf(&b, "\n:round_pushpin: <https://www.openstreetmap.org/?mlat=%g&mlon=%g|%s>", a.Latitude, a.Longitude, escape(label))
		default:
			fmt.Fprintf(&b, "\n:paperclip: %s (open the conversation in the web inbox to see it)", escape(label))
		}
	}
	return b.String()
}

// thread is the conversation's card and thread, the card posted first
// when it has none yet; nil when its queue has no channel. retry says
// that an earlier try may have posted the card.
func (c *Console) thread(ctx context.Context, id int64, retry bool) (*baton.SlackThread, error) {
	team, err := c.workspace(ctx)
	if err != nil {
		return nil, err
	}
	th, err := c.Store.GetSlackThread(ctx, team, id)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		if err := c.syncCard(ctx, id, "", retry); err != nil {
			return nil, err
		}
		th, err = c.Store.GetSlackThread(ctx, team, id)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return nil, nil
		}
	}
	return th, err
}

// postCustomer posts a customer's message in its conversation's thread.
// On a retry it first looks in the thread for the message's marker: an
// earlier try may have posted it and lost Slack's answer.
func (c *Console) postCustomer(ctx context.Context, id, messageID int64, retry bool) error {
	m, err := c.Store.GetMessage(ctx, messageID)
	if err != nil {
		return err
	}
	if m.ConversationID != id {
		return baton.Errorf(baton.EINVALID, "Slack thread post: message %d is not in conversation %d", messageID, id)
	}
	th, err := c.thread(ctx, id, retry)
	if err != nil || th == nil {
		return err
	}
	if retry {
		posted, err := c.postedMessage(ctx, th.ChannelID, th.Root(), messageID)
		if err != nil || posted {
			return err
		}
	}
	who := "Customer"
	if conv, err := c.Store.GetConversation(ctx, id); err == nil {
		if cust, err := c.Store.GetCustomer(ctx, conv.CustomerID); err == nil && cust.Name != "" {
			who = cust.Name
		}
	}
	_, _, err = c.postMessage(ctx, th.ChannelID, slack.MsgOptionText(threadText(who, m), false), slack.MsgOptionTS(th.Root()),
		marker(markerMessage, "message_id", messageID))
	return err
}

// dm tells an agent with a Slack account, in a direct message, that a
// conversation was given to them, is near its SLA or has a new customer
// message. Agents without a slack_user_id are not told here.
func (c *Console) dm(ctx context.Context, id int64, p threadPayload) error {
	a, err := c.Store.GetAgent(ctx, p.AgentID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if a.SlackUserID == "" {
		return nil
	}
	conv, err := c.Store.GetConversation(ctx, id)
	if err != nil {
		return err
	}
	if conv.Owner() != a.ID {
		// It moved on before the DM went: news of a conversation that is
		// no longer theirs would mislead.
		return nil
	}
	var text string
	switch p.Kind {
	case "assigned", "transferred":
		text = fmt.Sprintf("Conversation %d is yours now.", id)
	case "sla_warning":
		text = fmt.Sprintf("SLA warning: conversation %d needs your reply soon.", id)
	case "message":
		text = fmt.Sprintf("The customer wrote again in conversation %d.", id)
	default:
		return nil
	}
	team, err := c.workspace(ctx)
	if err != nil {
		return err
	}
	if th, err := c.Store.GetSlackThread(ctx, team, id); err == nil {
		// A link to the thread, where the agent answers.
		text += fmt.Sprintf(" <https://slack.com/app_redirect?channel=%s|Open its card>", th.ChannelID)
	}
	var channel string
	if err := c.call(ctx, "Slack conversations.open", func(ctx context.Context) error {
		ch, _, _, err := c.API.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{a.SlackUserID}})
		if err == nil {
			channel = ch.ID
		}
		return err
	}); err != nil {
		return err
	}
	return c.call(ctx, "Slack chat.postMessage", func(ctx context.Context) error {
		_, _, err := c.API.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false))
		return err
	})
}

// threadEvent is the part of a message event the console reads.
type threadEvent struct {
	Event struct {
		Type     string `json:"type"`
		SubType  string `json:"subtype"`
		BotID    string `json:"bot_id"`
		Channel  string `json:"channel"`
		User     string `json:"user"`
		Text     string `json:"text"`
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"event"`
}

// event acts on an Events API event: a reply in a card's thread. From the
// conversation's owner it goes to the customer (or, with NotePrefix, is
// an internal note); from anyone else it is an internal note, and they
// are offered Claim. Every other event is not for the console.
func (c *Console) event(ctx context.Context, p payload) error {
	var e threadEvent
	if err := json.Unmarshal(p.Body, &e); err != nil {
		return baton.WrapError(baton.EINVALID, err, "Slack event body")
	}
	ev := e.Event
	if ev.Type != "message" || ev.SubType != "" || ev.BotID != "" || ev.ThreadTS == "" || ev.ThreadTS == ev.TS || ev.User == "" {
		c.log().LogAttrs(ctx, slog.LevelDebug, "Slack event not a thread reply", slog.String("event_id", p.EventID), slog.String("type", ev.Type))
		return nil
	}
	th, err := c.Store.SlackThreadByTS(ctx, p.TeamID, ev.Channel, ev.ThreadTS)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil // a thread that is not a card's
	}
	if err != nil {
		return err
	}
	id := th.ConversationID
	tell := func(text string, blocks ...slack.Block) error {
		opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionTS(ev.ThreadTS)}
		if len(blocks) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(blocks...))
		}
		return c.call(ctx, "Slack chat.postEphemeral", func(ctx context.Context) error {
			_, err := c.API.PostEphemeralContext(ctx, ev.Channel, ev.User, opts...)
			return err
		})
	}
	text := strings.TrimSpace(plainText(ev.Text))
	agent, err := c.agentOf(ctx, ev.User)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		if _, err := c.Desk.Note(ctx, id, fmt.Sprintf("From Slack user %s (not linked to an agent): %s", ev.User, text), baton.Actor{Admin: true}); err != nil {
			return err
		}
		return tell("Kept as an internal note: the customer does not see it. Your Slack account is not linked to a Baton agent (an agent's slack_user_id), so you cannot claim the conversation.")
	}
	if err != nil {
		return err
	}
	conv, err := c.Store.GetConversation(ctx, id)
	if err != nil {
		return err
	}
	if conv.Owner() != agent {
		// The admin's right, in the agent's name: a note never reaches
		// the customer, and whoever writes in the thread is heard.
		if _, err := c.Desk.Note(ctx, id, text, baton.Actor{Admin: true, AgentID: agent}); err != nil {
			return err
		}
		msg := "Kept as an internal note: the customer does not see it, as the conversation is not yours."
		claim := slack.NewButtonBlockElement(ActionClaim, strconv.FormatInt(id, 10), slack.NewTextBlockObject(slack.PlainTextType, "Claim", false, false))
		return tell(msg, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, msg+" Claim it to answer the customer.", false, false), nil, nil),
			slack.NewActionBlock("claim_offer", claim))
	}
	if len(text) >= len(NotePrefix) && strings.EqualFold(text[:len(NotePrefix)], NotePrefix) {
		body := strings.TrimSpace(text[len(NotePrefix):])
		if body == "" {
			return tell("Nothing after " + NotePrefix + ": no note kept.")
		}
		_, err := c.Desk.Note(ctx, id, body, baton.Actor{AgentID: agent})
		return c.refused(ctx, err, tell)
	}
	m, err := c.Desk.Reply(ctx, id, baton.AgentReply{Text: text}, baton.Actor{AgentID: agent})
	if baton.ErrorCode(err) == baton.EINVALID {
		if v, verr := c.Desk.View(ctx, id, baton.Actor{AgentID: agent}); verr == nil && !v.Window.Open {
			msg := closedWindow(conv.Channel, v.Window)
			return tell(msg, templatePicker(id, msg, v.Window.Templates)...)
		}
	}
	if err != nil {
		return c.refused(ctx, err, tell)
	}
	body, err := json.Marshal(threadPayload{payload: payload{Op: opStatus}, MessageID: m.ID, Channel: ev.Channel, TS: ev.TS})
	if err != nil {
		return baton.WrapError(baton.EINTERNAL, err, "encode Slack job")
	}
	// Not tied to the conversation: watching a delivery must not hold
	// back the conversation's next thread posts.
	_, err = c.Store.Enqueue(ctx, &baton.Job{Kind: baton.JobSlack, Key: "slack:status:" + strconv.FormatInt(m.ID, 10), Payload: body, MaxAttempts: statusPolls + 1})
	return err
}

// refused tells the agent why the desk did not do what they wrote, or
// returns the error when a retry may succeed.
func (c *Console) refused(_ context.Context, err error, tell func(string, ...slack.Block) error) error {
	switch code := baton.ErrorCode(err); {
	case err == nil:
		return nil
	case code == baton.EUNAVAILABLE || code == baton.EINTERNAL:
		return err
	}
	return tell("Not sent: " + baton.ErrorMessage(err))
}

// closedWindow tells the owner that free text cannot reach the customer
// now and which templates can (the picker, templatePicker, offers them).
func closedWindow(ch baton.ChannelKind, w baton.Window) string {
	msg := fmt.Sprintf("Not sent: the %s window is closed, so the customer cannot get free text now.", ch)
	if len(w.Templates) == 0 {
		return msg + " No template is configured to reopen it."
	}
	var names []string
	for _, t := range w.Templates {
		names = append(names, fmt.Sprintf("%s (%s)", t.Name, t.Language))
	}
	return msg + " Choose one of these templates below and press Send (or send it from the web inbox or the agent API): " + strings.Join(names, ", ") + "."
}

// statusPolls is how many times a reply's delivery status is looked at,
// at statusEvery doubling up to statusMax: about a day in all.
const (
	statusPolls = 20
	statusEvery = 5 * time.Second
	statusMax   = 2 * time.Hour
)

// showStatus shows an owner's reply's delivery status as a reaction on
// its Slack message: outbox_tray once the provider took it,
// white_check_mark when delivered or read, x when it failed. Until the
// status is final it looks again later; after statusPolls it stops.
func (c *Console) showStatus(ctx context.Context, j *baton.Job, p threadPayload) error {
	m, err := c.Store.GetMessage(ctx, p.MessageID)
	if err != nil {
		return err
	}
	ref := slack.NewRefToMessage(p.Channel, p.TS)
	react := func(name string, remove bool) error {
		what := "Slack reactions.add"
		if remove {
			what = "Slack reactions.remove"
		}
		err := c.call(ctx, what, func(ctx context.Context) error {
			if remove {
				return c.API.RemoveReactionContext(ctx, name, ref)
			}
			return c.API.AddReactionContext(ctx, name, ref)
		})
		var resp slack.SlackErrorResponse
		if errors.As(err, &resp) && (resp.Err == "already_reacted" || resp.Err == "no_reaction") {
			return nil
		}
		return err
	}
	final := ""
	switch m.Status {
	case baton.StatusDelivered, baton.StatusRead:
		final = reactionDelivered
	case baton.StatusFailed:
		final = reactionFailed
	case baton.StatusSent:
		if err := react(reactionSent, false); err != nil {
			return err
		}
	}
	if final != "" {
		if err := react(final, false); err != nil {
			return err
		}
		return react(reactionSent, true)
	}
	if j.Attempts >= statusPolls {
		c.log().LogAttrs(ctx, slog.LevelInfo, "stopped watching a Slack reply's delivery", slog.Int64("message", m.ID), slog.String("status", string(m.Status)))
		return nil
	}
	after := statusEvery << min(j.Attempts, 12)
	return &baton.RetryLater{After: min(after, statusMax), Err: baton.Errorf(baton.EUNAVAILABLE, "message %d is %s: delivery not final yet", m.ID, m.Status)}
}
