package evals

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/pii"
)

// CaptureStore is what Capture reads of a stored conversation.
type CaptureStore interface {
	GetConversation(ctx context.Context, id int64) (*baton.Conversation, error)
	GetCustomer(ctx context.Context, id int64) (*baton.Customer, error)
	ListMessages(ctx context.Context, conversationID int64, afterID int64, limit int) ([]*baton.Message, error)
	ListDecisions(ctx context.Context, conversationID int64, limit int) ([]*baton.Decision, error)
	GetPacket(ctx context.Context, conversationID int64) (*baton.HandoffPacket, error)
}

// CaptureOptions configure Capture.
type CaptureOptions struct {
	// CaseID is the case's id (default "captured-<conversation id>").
	CaseID string
}

// Capture turns a stored conversation into a suite case file for a
// reviewer: the customer's turns, redacted, with the channel, language,
// attributes and page context, and the expectations the bot's decisions
// imply, each marked "# review:" because what the bot did is not
// necessarily what it should have done. Nothing personal is written:
// emails, phone numbers, card numbers and IBANs in the customer's text
// become placeholders, attributes holding any are left out, and the
// customer's name and address are never read. An unknown conversation is
// ENOTFOUND.
func Capture(ctx context.Context, st CaptureStore, conversationID int64, opt CaptureOptions) ([]byte, error) {
	conv, err := st.GetConversation(ctx, conversationID)
	if err != nil {
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return nil, baton.Errorf(baton.ENOTFOUND, "conversation %d: no such conversation", conversationID)
		}
		return nil, err
	}
	msgs, err := st.ListMessages(ctx, conv.ID, 0, 0)
	if err != nil {
		return nil, err
	}
	decs, err := st.ListDecisions(ctx, conv.ID, 0)
	if err != nil {
		return nil, err
	}
	packet, err := st.GetPacket(ctx, conv.ID)
	if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
		return nil, err
	}
	var custAttrs map[string]string
	if conv.CustomerID != 0 {
		cust, err := st.GetCustomer(ctx, conv.CustomerID)
		if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			return nil, err
		}
		if cust != nil {
			custAttrs = cust.Attributes
		}
	}
	c := capture{conv: conv, packet: packet}
	c.decisions = map[int64]*baton.Decision{}
	for _, d := range decs {
		c.decisions[d.MessageID] = d // the last decision on a message is the one that stands
	}
	return c.build(msgs, decs, custAttrs, opt)
}

type capture struct {
	conv      *baton.Conversation
	packet    *baton.HandoffPacket
	decisions map[int64]*baton.Decision
	notes     []string // what the reviewer should know about what was left out
}

func (c *capture) build(msgs []*baton.Message, decs []*baton.Decision, custAttrs map[string]string, opt CaptureOptions) ([]byte, error) {
	id := opt.CaseID
	if id == "" {
		id = "captured-" + strconv.FormatInt(c.conv.ID, 10)
	}
	kase := mapping()
	add(kase, "id", str(id), "review: a name that says what the case tests")
	add(kase, "description", str(fmt.Sprintf("Captured from conversation %d of bot %s.", c.conv.ID, c.conv.BotID)), "review: say what this conversation should prove")
	add(kase, "bot", str(c.conv.BotID), "")
	add(kase, "channel", str(string(c.conv.Channel)), "")
	lang := c.conv.Language
	if lang == "" {
		lang = "en"
		add(kase, "language", str(lang), "review: the conversation has no settled language; en assumed")
	} else {
		add(kase, "language", str(lang), "")
	}
	if c.conv.Channel == baton.ChannelWebChat {
		if attrs := c.attributes("attributes", custAttrs); attrs != nil {
			add(kase, "attributes", attrs, "review: the customer's trusted attributes as they were stored")
		}
		if page := c.attributes("page", c.conv.Attributes); page != nil {
			add(kase, "page", page, "review: the page context the web chat sent")
		}
	} else if len(custAttrs)+len(c.conv.Attributes) > 0 {
		// A suite plays attributes and page context through the web
		// chat's signed token and page only.
		c.notes = append(c.notes, fmt.Sprintf("the customer's attributes and page context are not replayed: a %s case cannot carry them, only a webchat one", c.conv.Channel))
	}
	add(kase, "tags", flowSeq("captured"), "")

	steps := &yaml.Node{Kind: yaml.SequenceNode}
	agentMsgs, skipped := 0, 0
	for _, m := range msgs {
		switch {
		case m.Direction == baton.DirectionOut && m.Author == baton.AuthorAgent:
			agentMsgs++
			continue
		case m.Direction != baton.DirectionIn || m.Author != baton.AuthorCustomer:
			continue
		}
		step := mapping()
		text, spans := pii.Redact(strings.TrimSpace(m.Text))
		switch {
		case (m.Type == baton.TypeButton || m.Type == baton.TypeList) && text != "":
			add(step, "press", str(text), "")
		case text != "":
			comment := ""
			if len(spans) > 0 {
				comment = "redacted: " + spanKinds(spans)
			}
			add(step, "customer", quoted(text), comment)
		default:
			skipped++
			continue
		}
		if d := c.decisions[m.ID]; d != nil {
			if exp := c.stepExpect(d); len(exp.Content) > 0 {
				add(step, "expect", exp, "")
			}
		}
		steps.Content = append(steps.Content, step)
	}
	if len(steps.Content) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "conversation %d has no customer text to replay", c.conv.ID)
	}
	if agentMsgs > 0 {
		c.notes = append(c.notes, fmt.Sprintf("%d agent message(s) are not replayed: add agent steps (claim, reply, resolve) if the case should cover them", agentMsgs))
	}
	if skipped > 0 {
		c.notes = append(c.notes, fmt.Sprintf("%d customer message(s) without text (images, locations, ...) are left out", skipped))
	}
	add(kase, "steps", steps, "")
	if exp := c.conversationExpect(decs); len(exp.Content) > 0 {
		add(kase, "expect", exp, "")
	}

	root := mapping()
	cases := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{kase}}
	add(root, "cases", cases, "")
	head := []string{
		fmt.Sprintf("Captured from conversation %d (bot %s, %s) by baton eval capture.", c.conv.ID, c.conv.BotID, c.conv.Channel),
		"The expectations are what the bot did, not necessarily what it should have done:",
		"confirm or correct every line marked \"review:\", then remove the marks.",
		"Emails, phone numbers, card numbers and IBANs in the customer's text are replaced",
		"by placeholders; read the text once more for anything else personal.",
	}
	for _, n := range c.notes {
		head = append(head, "Note: "+n+".")
	}
	root.HeadComment = strings.Join(head, "\n")
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "capture: writing the case: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "capture: writing the case: %w", err)
	}
	return buf.Bytes(), nil
}

// attributes keeps the attributes without personal data, sorted; those
// holding any are left out and named in a note.
func (c *capture) attributes(what string, attrs map[string]string) *yaml.Node {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	var dropped []string
	for _, k := range keys {
		v := attrs[k]
		if hasPII(k) || hasPII(v) {
			dropped = append(dropped, k)
			continue
		}
		n.Content = append(n.Content, str(k), str(v))
	}
	if len(dropped) > 0 {
		c.notes = append(c.notes, fmt.Sprintf("%s %s held personal data and are left out", what, strings.Join(dropped, ", ")))
	}
	if len(n.Content) == 0 {
		return nil
	}
	return n
}

// stepExpect is what the bot's decision on a turn implies.
func (c *capture) stepExpect(d *baton.Decision) *yaml.Node {
	e := mapping()
	if a := d.Analysis; a != nil {
		if a.Language != "" {
			add(e, "language", str(a.Language), "review: the bot read the message as "+a.Language)
		}
		switch {
		case a.OutOfScope:
			add(e, "intent", str("out_of_scope"), "review: the bot found no intent it knows")
		case a.Intent != "":
			add(e, "intent", str(a.Intent), fmt.Sprintf("review: the bot read %s at %.0f %% confidence; is it what the customer meant?", a.Intent, 100*a.IntentConfidence))
		}
	}
	add(e, "action", str(d.Action), "review: what the bot did"+detail(d.Detail))
	if d.Action == baton.ActionAnswer && len(d.Citations) > 0 {
		slugs := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, ct := range d.Citations {
			slugs.Content = append(slugs.Content, str(ct.Slug))
		}
		add(e, "cites", slugs, "review: the articles the answer cited; any one of them passes")
	}
	if d.Action == baton.ActionEscalate {
		add(e, "escalated", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "review: the bot handed the conversation to a person here")
		if t := firedTrigger(d.Triggers); t != "" {
			add(e, "trigger", str(t), "review: the trigger that fired")
		}
	}
	return e
}

// conversationExpect is what the conversation as a whole came to.
func (c *capture) conversationExpect(decs []*baton.Decision) *yaml.Node {
	e := mapping()
	escalated := c.packet != nil || c.conv.QueuedAt != nil
	trigger := ""
	for _, d := range decs {
		if d.Action == baton.ActionEscalate {
			escalated = true
			if trigger == "" {
				trigger = firedTrigger(d.Triggers)
			}
		}
	}
	if c.packet != nil {
		if t := firedTrigger(c.packet.Reasons); t != "" {
			trigger = t
		}
	}
	// The outcome as the runner reads a replayed conversation, where no
	// agent acts: the last action that was not a wait or nothing counts.
	var outcome, why string
	archived, answers, last := c.conv.State == baton.StateArchived && !escalated, 0, ""
	for _, d := range decs {
		switch d.Action {
		case baton.ActionArchive:
			archived = true
		case baton.ActionAnswer, baton.ActionAction:
			answers++
		}
		if d.Action != baton.ActionNone && d.Action != baton.ActionWait {
			last = d.Action
		}
	}
	switch {
	case archived:
		outcome, why = "archived", "the conversation was archived"
	case escalated:
		outcome, why = "escalated", "the bot escalated"
	case c.conv.State == baton.StateResolved:
		outcome, why = "bot_resolved", "the bot resolved the conversation"
	case last == baton.ActionClarify:
		outcome, why = "clarified", "the bot's last turn asked to clarify"
	case answers > 0:
		outcome, why = "bot_resolved", "the bot answered"
	}
	if outcome == "" {
		outcome, why = "open", "nothing settled the conversation"
	}
	add(e, "outcome", str(outcome), "review: "+why+"; is that what should happen?")
	add(e, "escalated", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(escalated)}, "review: should this conversation reach a person?")
	if !escalated {
		return e
	}
	if trigger != "" {
		add(e, "trigger", str(trigger), "review: why it was escalated")
	}
	queue, prio := c.conv.QueueID, c.conv.Priority
	if c.packet != nil {
		// The packet is the escalation as routed; a later transfer by an
		// agent moved the conversation, not the bot's decision.
		queue, prio = c.packet.QueueID, c.packet.Priority
	}
	if queue != "" {
		add(e, "queue", str(queue), "review: the queue it was routed to")
		add(e, "priority", str(baton.PriorityName(prio)), "review: the priority it was given")
	}
	return e
}

// hasPII looks at s as it is and percent-decoded: a page URL carries an
// email in its query as "a%40b.com".
func hasPII(s string) bool {
	if len(pii.Find(s)) > 0 {
		return true
	}
	if u, err := url.QueryUnescape(s); err == nil && u != s {
		return len(pii.Find(u)) > 0
	}
	return false
}

func firedTrigger(ts []baton.TriggerResult) string {
	for _, t := range ts {
		if t.Fired {
			return t.Trigger
		}
	}
	return ""
}

func detail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + pii.String(s) + ")"
}

func spanKinds(spans []baton.PIISpan) string {
	seen := map[string]bool{}
	var kinds []string
	for _, s := range spans {
		if !seen[s.Type] {
			seen[s.Type] = true
			kinds = append(kinds, s.Type)
		}
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ", ")
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func flowSeq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// add appends key: value to a mapping, with comment after the value on
// its line ("# " is added).
func add(m *yaml.Node, key string, v *yaml.Node, comment string) {
	k := str(key)
	k.Tag = ""
	if comment != "" {
		if v.Kind == yaml.ScalarNode || v.Style == yaml.FlowStyle {
			v.LineComment = "# " + comment
		} else {
			k.LineComment = "# " + comment
		}
	}
	m.Content = append(m.Content, k, v)
}
