package slack

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// The Save reply as KB draft modal: its callback id, blocks and inputs.
const (
	CallbackKBDraft = "baton_kb_draft"

	BlockDraftTitle = "kb_draft_title"
	BlockDraftSlug  = "kb_draft_slug"
	BlockDraftBody  = "kb_draft_body"

	actionDraftTitle = "title"
	actionDraftSlug  = "slug"
	actionDraftBody  = "body"
)

// maxInput is the longest initial value Slack takes in a plain-text
// input; a longer reply is left out of the modal and saved as it is when
// the body is left empty.
const maxInput = 3000

// kbDraftView is the modal of Save reply as KB draft, prefilled with what
// the desk would save (the agent's last reply, the customer's question,
// a slug from it). Every field may be emptied: the desk fills an empty
// one the same way.
func (m *Modals) kbDraftView(ctx context.Context, id int64) (slack.ModalViewRequest, error) {
	def, err := m.Desk.KBDraftFor(ctx, id, baton.Actor{Admin: true})
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	input := func(action, placeholder, value string, maxLen int) *slack.PlainTextInputBlockElement {
		e := slack.NewPlainTextInputBlockElement(plain(placeholder), action)
		if value != "" && utf8.RuneCountInString(value) <= maxLen {
			e.InitialValue = value
		}
		e.MaxLength = maxLen
		return e
	}
	bodyHint := "Markdown. Leave empty to save the agent's last reply to the customer."
	if utf8.RuneCountInString(def.Body) > maxInput {
		bodyHint = fmt.Sprintf("The last reply (%d characters) is too long to show here: leave this empty to save it as it is.", utf8.RuneCountInString(def.Body))
	}
	body := input(actionDraftBody, "The answer, in Markdown", def.Body, maxInput)
	body.Multiline = true
	blocks := []slack.Block{
		slack.NewInputBlock(BlockDraftTitle, plain("Title"), plain("Leave empty for the customer's question."),
			input(actionDraftTitle, "The question the article answers", def.Title, 200)).WithOptional(true),
		slack.NewInputBlock(BlockDraftSlug, plain("Slug"), plain("a-z, 0-9 and hyphens. A slug that is published gets a new draft version beside it."),
			input(actionDraftSlug, "how-to-reset-a-password", def.Slug, 100)).WithOptional(true),
		slack.NewInputBlock(BlockDraftBody, plain("Body"), plain(bodyHint), body).WithOptional(true),
	}
	return modal(CallbackKBDraft, id, "Save as KB draft", "Save draft", blocks...), nil
}

// draftBlock is the modal's field a refusal of the desk is about.
func draftBlock(msg string) string {
	switch {
	case strings.Contains(msg, "slug"):
		return BlockDraftSlug
	case strings.Contains(msg, "title"):
		return BlockDraftTitle
	}
	return BlockDraftBody
}

// submitKBDraft saves the modal's draft through the desk as the agent
// whose slack_user_id submitted it. A refusal keeps the modal open with
// the reason under its field; a saved draft closes it, and the person is
// told, in the card's thread and to them alone, the slug and how to
// publish it.
func (m *Modals) submitKBDraft(ctx context.Context, cb *slack.InteractionCallback) (*slack.ViewSubmissionResponse, error) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil || id <= 0 {
		return nil, baton.Errorf(baton.EINVALID, "Slack view_submission: private_metadata %q is not a conversation id", cb.View.PrivateMetadata)
	}
	agent, err := m.console().agentOf(ctx, cb.User.ID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return fieldErrors(BlockDraftBody, "Your Slack account is not linked to a Baton agent (an agent's slack_user_id)."), nil
	}
	if err != nil {
		return nil, err
	}
	value := func(block, action string) string { return strings.TrimSpace(cb.View.State.Values[block][action].Value) }
	in := baton.KBDraft{Title: value(BlockDraftTitle, actionDraftTitle), Slug: value(BlockDraftSlug, actionDraftSlug), Body: value(BlockDraftBody, actionDraftBody)}
	a, err := m.Desk.DraftArticle(ctx, id, in, baton.Actor{AgentID: agent})
	switch code := baton.ErrorCode(err); {
	case err == nil:
	case code == baton.EUNAVAILABLE || code == baton.EINTERNAL:
		return nil, err
	default:
		msg := baton.ErrorMessage(err)
		return fieldErrors(draftBlock(msg), "Not saved: "+msg), nil
	}
	m.tellSaved(ctx, cb, id, a)
	return nil, nil
}

// tellSaved tells the person who saved a draft that it is saved and how
// it gets published. The draft is saved whatever Slack answers: a failure
// to tell is logged, not returned, so that the modal closes.
func (m *Modals) tellSaved(ctx context.Context, cb *slack.InteractionCallback, id int64, a *baton.Article) {
	c := m.console()
	team := cb.Team.ID
	if team == "" {
		team = cb.User.TeamID
	}
	th, err := m.Store.GetSlackThread(ctx, team, id)
	if err != nil {
		c.log().LogAttrs(ctx, slog.LevelInfo, "KB draft saved; no card thread to say so in", slog.Int64("conversation", id), slog.String("error", baton.ErrorMessage(err)))
		return
	}
	text := fmt.Sprintf("Saved as a KB draft: *%s* (`%s`, version %d, %s). It answers nobody until it is published: "+
		"an admin publishes it with `POST /api/v1/bots/%s/articles/%s/publish` `{\"version\": %d}`, or `baton kb export`, review, `status: published`, `baton kb import`.",
		escape(a.Title), a.Slug, a.Version, a.Language, a.BotID, a.Slug, a.Version)
	if err := c.call(ctx, "Slack chat.postEphemeral", func(ctx context.Context) error {
		_, err := m.API.PostEphemeralContext(ctx, th.ChannelID, cb.User.ID, slack.MsgOptionText(text, false), slack.MsgOptionTS(th.Root()))
		return err
	}); err != nil {
		c.log().LogAttrs(ctx, slog.LevelWarn, "KB draft saved; could not tell the agent in Slack", slog.Int64("conversation", id), slog.String("error", baton.ErrorMessage(err)))
	}
}
