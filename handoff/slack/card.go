package slack

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// Action ids of the card's buttons. Each button's value is the
// conversation id in decimal; the block is BlockActions.
const (
	BlockActions = "escalation_actions"

	ActionClaim    = "claim_conversation"    // take the conversation
	ActionTransfer = "transfer_conversation" // to an agent or a queue, with a note (a modal)
	ActionSnooze   = "snooze_conversation"   // park it until a time (a modal)
	ActionResolve  = "resolve_conversation"  // done
	ActionToBot    = "to_bot_conversation"   // hand it back to the triage bot
	ActionKBDraft  = "save_kb_draft"         // keep the agent's last reply as a draft KB article
)

// cardMessages is how many of the last messages the card shows; the
// thread has the rest.
const cardMessages = 5

// maxCardText bounds a quoted message: a section's text may be 3000
// characters, and the card has several.
const maxCardText = 400

// CardMessage is a Slack message: the notification text (what Slack
// shows in notifications and where blocks cannot be drawn) and the
// blocks.
type CardMessage struct {
	Text   string
	Blocks []slack.Block
}

// Card is the context card of a conversation: everything an agent needs to
// take it over without asking the customer to repeat themselves, and the
// buttons to act on it. notice, when set, is the latest change the card
// reports at its top ("SLA warning: ...", "Claimed by ..."). It reads only
// v, so the same view gives the same card.
func Card(v *baton.ConversationView, notice string) CardMessage {
	conv := v.Conversation
	p := v.Packet
	if p == nil {
		p = &baton.HandoffPacket{ConversationID: conv.ID, Channel: conv.Channel, Language: conv.Language, QueueID: conv.QueueID}
	}
	who := customerName(v)
	channel := channelName(conv.Channel)
	text := fmt.Sprintf("Escalation from %s on %s (conversation %d): %s", who, channel, conv.ID, stateLine(conv))

	var blocks []slack.Block
	blocks = append(blocks, slack.NewHeaderBlock(plain(fmt.Sprintf("%s · %s · #%d", who, channel, conv.ID))))
	if notice != "" {
		blocks = append(blocks, slack.NewContextBlock("notice", md(":bell: "+escape(notice))))
	}
	blocks = append(blocks, slack.NewSectionBlock(md("*Status:* "+stateLine(conv)), []*slack.TextBlockObject{
		md("*Queue*\n" + orDash(escape(conv.QueueID))),
		md("*Language*\n" + orDash(escape(p.Language))),
		md(fmt.Sprintf("*Sentiment*\n%+.2f (trend %+.2f)", p.Sentiment, p.SentimentTrend)),
		md("*Priority*\n" + strconv.Itoa(conv.Priority)),
		md("*SLA*\n" + slaLine(v.SLA)),
		md("*Intent*\n" + intentLine(p)),
	}, nil))
	if p.Summary != "" {
		blocks = append(blocks, slack.NewSectionBlock(md("*Summary*\n"+clip(escape(p.Summary), 2000)), nil, nil))
	}
	if len(p.Reasons) > 0 {
		var b strings.Builder
		b.WriteString("*Why it was escalated*")
		for _, r := range p.Reasons {
			fmt.Fprintf(&b, "\n• `%s` value %s (threshold %s)", r.Trigger, num(r.Value), num(r.Threshold))
			if r.Detail != "" {
				b.WriteString(": " + clip(escape(r.Detail), 200))
			}
		}
		blocks = append(blocks, slack.NewSectionBlock(md(b.String()), nil, nil))
	}
	trust := "unverified: as the customer or their app sent them"
	if p.Customer.Verified {
		trust = "verified by the host app"
	}
	if s := attrs(p.Customer.Attributes); s != "" {
		blocks = append(blocks, slack.NewSectionBlock(md("*Customer attributes* ("+trust+")\n"+s), nil, nil))
	}
	if s := attrs(p.Attributes); s != "" {
		blocks = append(blocks, slack.NewSectionBlock(md("*Page context*\n"+s), nil, nil))
	}
	if len(p.ArticlesTried) > 0 {
		var b strings.Builder
		b.WriteString("*KB articles the bot tried*")
		for _, a := range p.ArticlesTried {
			title := escape(a.Title)
			if a.URL != "" {
				title = "<" + a.URL + "|" + title + ">"
			}
			fmt.Fprintf(&b, "\n• %s (`%s`, score %.2f)", title, escape(a.Slug), a.Score)
		}
		blocks = append(blocks, slack.NewSectionBlock(md(b.String()), nil, nil))
	}
	if s := lastMessages(v.Messages); s != "" {
		blocks = append(blocks, slack.NewSectionBlock(md("*Last messages*\n"+s), nil, nil))
	}
	blocks = append(blocks, slack.NewDividerBlock())
	if buttons := actions(conv); len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock(BlockActions, buttons...))
	}
	return CardMessage{Text: text, Blocks: blocks}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, clip(s, 150), false, false)
}

func md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// escape keeps text that came from customers, bots or agents from being
// read as Slack markup: an "<!channel>" typed by a customer must not ping
// a whole channel.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

func customerName(v *baton.ConversationView) string {
	if v.Packet != nil && v.Packet.Customer.Name != "" {
		return v.Packet.Customer.Name
	}
	if v.Customer != nil && v.Customer.Name != "" {
		return v.Customer.Name
	}
	return "Customer " + strconv.FormatInt(v.Conversation.CustomerID, 10)
}

func channelName(k baton.ChannelKind) string {
	switch k {
	case baton.ChannelWhatsApp:
		return "WhatsApp"
	case baton.ChannelMessenger:
		return "Messenger"
	case baton.ChannelSMS:
		return "SMS"
	case baton.ChannelWebChat:
		return "web chat"
	}
	return string(k)
}

func stateLine(c *baton.Conversation) string {
	switch c.State {
	case baton.StateQueued:
		return "waiting for an agent"
	case baton.StateAssigned:
		return "with " + escape(c.AgentID)
	case baton.StateSnoozed:
		if c.SnoozedUntil != nil {
			return "snoozed by " + escape(c.AgentID) + " until " + slackDate(*c.SnoozedUntil)
		}
		return "snoozed by " + escape(c.AgentID)
	case baton.StateResolved:
		return "resolved"
	case baton.StateArchived:
		return "archived"
	case baton.StateBot:
		return "back with the bot"
	}
	return string(c.State)
}

// slackDate is t as Slack draws it in each reader's own time zone, with
// the UTC time as the fallback for clients that cannot.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// slaLine is the running SLA clock as a due time: Slack cannot count
// down, and a due time needs no update to stay right.
func slaLine(s baton.SLAClock) string {
	var parts []string
	if s.Breached {
		parts = append(parts, ":rotating_light: breached")
	}
	switch {
	case s.FirstAgentReplyAt == nil && s.FirstResponseDue != nil:
		parts = append(parts, "first reply due "+slackDate(*s.FirstResponseDue))
	case s.NextResponseDue != nil:
		parts = append(parts, "next reply due "+slackDate(*s.NextResponseDue))
	}
	if len(parts) == 0 {
		return "no clock running"
	}
	return strings.Join(parts, ", ")
}

func intentLine(p *baton.HandoffPacket) string {
	if p.Intent == "" {
		return "–"
	}
	return fmt.Sprintf("`%s` (%.2f)", escape(p.Intent), p.IntentScore)
}

func attrs(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "• %s: %s", escape(k), clip(escape(m[k]), 200))
	}
	return b.String()
}

// lastMessages quotes the last messages the customer saw or wrote;
// internal notes stay in the thread.
func lastMessages(ms []*baton.Message) string {
	var shown []*baton.Message
	for i := len(ms) - 1; i >= 0 && len(shown) < cardMessages; i-- {
		if ms[i].Direction != baton.DirectionNote {
			shown = append(shown, ms[i])
		}
	}
	slices.Reverse(shown)
	var b strings.Builder
	for _, m := range shown {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		who := "Customer"
		switch m.Author {
		case baton.AuthorBot:
			who = "Bot"
		case baton.AuthorAgent:
			who = "Agent " + escape(m.AuthorID)
		case baton.AuthorSystem:
			who = "System"
		}
		text := m.Text
		if text == "" {
			text = "[" + string(m.Type) + "]"
		}
		fmt.Fprintf(&b, "*%s:* %s", who, clip(escape(strings.ReplaceAll(text, "\n", " ")), maxCardText))
	}
	return b.String()
}

// actions are the buttons that make sense in the conversation's state.
func actions(c *baton.Conversation) []slack.BlockElement {
	id := strconv.FormatInt(c.ID, 10)
	button := func(action, label string, style slack.Style) slack.BlockElement {
		b := slack.NewButtonBlockElement(action, id, plain(label))
		if style != "" {
			b = b.WithStyle(style)
		}
		return b
	}
	kb := button(ActionKBDraft, "Save reply as KB draft", "")
	switch c.State {
	case baton.StateResolved, baton.StateArchived, baton.StateBot:
		return []slack.BlockElement{kb}
	}
	var out []slack.BlockElement
	if c.State == baton.StateQueued {
		out = append(out, button(ActionClaim, "Claim", slack.StylePrimary))
	}
	return append(out,
		button(ActionTransfer, "Transfer", ""),
		button(ActionSnooze, "Snooze", ""),
		button(ActionResolve, "Resolve", slack.StyleDanger),
		button(ActionToBot, "Back to bot", ""),
		kb)
}
