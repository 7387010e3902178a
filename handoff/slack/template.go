package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// The template picker the owner is offered, ephemerally, when the channel's
// window is closed: a select of the window's templates and a Send button
// whose value is the conversation id.
const (
	BlockTemplatePicker = "template_picker"
	ActionTemplatePick  = "pick_template" // the select: choosing sends nothing
	ActionTemplateSend  = "send_template"
)

// maxPickerOptions is Slack's limit on a static select's options.
const maxPickerOptions = 100

// templateValue is a template as the picker's option value names it.
func templateValue(t baton.Template) string { return t.Name + "|" + t.Language }

// templatePicker are the blocks of the closed-window message: what it
// says, then the window's templates (name and language) and Send. None
// when no template may be sent.
func templatePicker(id int64, text string, ts []baton.Template) []slack.Block {
	if len(ts) == 0 {
		return nil
	}
	var opts []*slack.OptionBlockObject
	for _, t := range ts[:min(len(ts), maxPickerOptions)] {
		opts = append(opts, option(templateValue(t), clip(fmt.Sprintf("%s (%s)", t.Name, t.Language), 75)))
	}
	pick := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a template"), ActionTemplatePick, opts...)
	send := slack.NewButtonBlockElement(ActionTemplateSend, strconv.FormatInt(id, 10), plain("Send")).WithStyle(slack.StylePrimary)
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		slack.NewActionBlock(BlockTemplatePicker, pick, send),
	}
}

// templateAction acts on the picker, in the interaction's job; false for
// any other action. Send sends the chosen template through the desk as
// the agent who pressed it, whom the desk holds to the owner's rights;
// a refusal is told to them alone. Once the desk took the template
// nothing here fails the job, which would send it again: the thread
// line that shows its delivery is posted and watched as well as Slack
// allows, and a failure is logged.
func (c *Console) templateAction(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction, tell func(string) error) (bool, error) {
	switch a.ActionID {
	case ActionTemplatePick:
		return true, nil
	case ActionTemplateSend:
	default:
		return false, nil
	}
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil || id <= 0 {
		return true, baton.Errorf(baton.EINVALID, "Slack button %s: value %q is not a conversation id", a.ActionID, a.Value)
	}
	agent, err := c.agentOf(ctx, cb.User.ID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return true, tell("Your Slack account is not linked to a Baton agent (an agent's slack_user_id), so you cannot send from here.")
	}
	if err != nil {
		return true, err
	}
	var picked string
	if st := cb.BlockActionState; st != nil {
		picked = st.Values[BlockTemplatePicker][ActionTemplatePick].SelectedOption.Value
	}
	if picked == "" {
		return true, tell("Not sent: choose a template first, then press Send.")
	}
	v, err := c.Desk.View(ctx, id, baton.Actor{Admin: true})
	if err != nil {
		return true, err
	}
	var tmpl *baton.Template
	for _, t := range v.Window.Templates {
		if templateValue(t) == picked {
			tmpl = &t
			break
		}
	}
	if tmpl == nil {
		name, lang, _ := strings.Cut(picked, "|")
		return true, tell(fmt.Sprintf("Not sent: template %s (%s) is not one this channel may send now.", name, lang))
	}
	m, err := c.Desk.Reply(ctx, id, baton.AgentReply{Template: tmpl}, baton.Actor{AgentID: agent})
	switch code := baton.ErrorCode(err); {
	case err == nil:
	case code == baton.EUNAVAILABLE || code == baton.EINTERNAL:
		return true, err
	default:
		return true, tell("Not sent: " + baton.ErrorMessage(err))
	}
	c.showSent(ctx, id, m, *tmpl, cb.User.ID)
	return true, nil
}

// showSent posts in the card's thread that the template went, and
// watches its delivery there as an owner's reply's is watched.
func (c *Console) showSent(ctx context.Context, id int64, m *baton.Message, t baton.Template, user string) {
	warn := func(what string, err error) {
		c.log().LogAttrs(ctx, slog.LevelWarn, "template sent; "+what, slog.Int64("conversation", id), slog.Int64("message", m.ID), slog.String("error", baton.ErrorMessage(err)))
	}
	team, err := c.workspace(ctx)
	if err != nil {
		warn("no Slack workspace to show it in", err)
		return
	}
	th, err := c.Store.GetSlackThread(ctx, team, id)
	if err != nil {
		warn("no card thread to show it in", err)
		return
	}
	var ts string
	if err := c.call(ctx, "Slack chat.postMessage", func(ctx context.Context) error {
		var err error
		_, ts, err = c.API.PostMessageContext(ctx, th.ChannelID, slack.MsgOptionTS(th.Root()),
			slack.MsgOptionText(fmt.Sprintf("Template *%s* (%s) sent to the customer by <@%s>.", escape(t.Name), escape(t.Language), user), false))
		return err
	}); err != nil {
		warn("could not say so in the thread", err)
		return
	}
	body, err := json.Marshal(threadPayload{payload: payload{Op: opStatus}, MessageID: m.ID, Channel: th.ChannelID, TS: ts})
	if err == nil {
		_, err = c.Store.Enqueue(ctx, &baton.Job{Kind: baton.JobSlack, Key: "slack:status:" + strconv.FormatInt(m.ID, 10), Payload: body, MaxAttempts: statusPolls + 1})
	}
	if err != nil {
		warn("its delivery will not show in Slack", err)
	}
}
