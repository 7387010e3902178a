package handoff

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
)

// EventKBDraft is the event a KB draft saved from a conversation records.
const EventKBDraft = "kb_draft"

// maxTitle is the KB's limit on a title, in characters.
const maxTitle = 200

// SourceTag is the tag a draft saved from conversation id carries: the
// article front matter has no field for its source, and a tag survives
// `baton kb export` and import, where a line in the body would end up in
// front of customers once the article is published.
func SourceTag(id int64) string { return "conversation-" + strconv.FormatInt(id, 10) }

// KBDraftFor implements baton.Desk: the draft DraftArticle would save with
// every field left empty. A field with nothing to fill it from stays
// empty (no agent reply yet: no body).
func (d *Desk) KBDraftFor(ctx context.Context, id int64, by baton.Actor) (baton.KBDraft, error) {
	conv, err := d.st.GetConversation(ctx, id)
	if err != nil {
		return baton.KBDraft{}, err
	}
	if err := may(conv, by, "save a KB draft from"); err != nil {
		return baton.KBDraft{}, err
	}
	msgs, err := d.st.ListMessages(ctx, id, 0, 0)
	if err != nil {
		return baton.KBDraft{}, err
	}
	return d.draftDefaults(conv, msgs), nil
}

// draftDefaults is what a draft holds when the agent leaves it as it is:
// the last reply an agent sent the customer as the body, the customer's
// last message before it as the title, the conversation's language (or
// the bot's first when the conversation has none the KB knows).
func (d *Desk) draftDefaults(conv *baton.Conversation, msgs []*baton.Message) baton.KBDraft {
	out := baton.KBDraft{Language: conv.Language}
	if kb.ValidLanguage(out.Language) != nil {
		out.Language = ""
		if b, ok := d.bots[conv.BotID]; ok && len(b.Languages) > 0 {
			out.Language = b.Languages[0]
		}
	}
	reply := -1
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Direction == baton.DirectionOut && m.Author == baton.AuthorAgent && strings.TrimSpace(m.Text) != "" {
			reply = i
			break
		}
	}
	if reply < 0 {
		return out
	}
	out.Body = strings.TrimSpace(msgs[reply].Text)
	for i := reply - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Direction == baton.DirectionIn && m.Author == baton.AuthorCustomer && strings.TrimSpace(m.Text) != "" {
			out.Title = titleOf(m.Text)
			break
		}
	}
	out.Slug = kb.Slugify(out.Title)
	if out.Slug == "" && out.Title != "" {
		out.Slug = fallbackSlug(conv.ID)
	}
	return out
}

// titleOf makes a title of a customer's message: one line, within the
// KB's limit.
func titleOf(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxTitle {
		s = string([]rune(s)[:maxTitle-1]) + "…"
	}
	return s
}

// fallbackSlug is the slug of a draft whose title gives none (a title in
// a script other than Latin).
func fallbackSlug(id int64) string { return "conversation-" + strconv.FormatInt(id, 10) + "-answer" }

// DraftArticle implements baton.Desk: the owner (or the last agent of a
// resolved conversation), or the admin, saves an answer as a new draft
// version of a KB article of the conversation's bot, with the conversation
// as its source tag and the actor as its author, and a kb_draft event on
// the conversation, in one transaction. It is never published: a slug
// that has a published version gets a draft version beside it, for an
// author to review and publish (POST /api/v1/bots/{bot}/articles/{slug}/publish).
// The draft follows the rules of an article file, so that `baton kb
// export` writes it and import reads it back unchanged. Saving what the
// slug's newest draft already holds saves nothing and returns that draft.
func (d *Desk) DraftArticle(ctx context.Context, id int64, in baton.KBDraft, by baton.Actor) (*baton.Article, error) {
	if err := valid(by); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("save a KB draft from conversation %d", id)
	if n := len(in.Title) + len(in.Slug) + len(in.Body) + len(in.Language); n > kb.MaxFileSize {
		return nil, baton.Errorf(baton.ETOOLARGE, "%s: %d bytes, over the %d byte limit of an article file", what, n, kb.MaxFileSize)
	}
	var out *baton.Article
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := tx.GetConversation(ctx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "save a KB draft from"); err != nil {
			return err
		}
		msgs, err := tx.ListMessages(ctx, id, 0, 0)
		if err != nil {
			return err
		}
		def := d.draftDefaults(conv, msgs)
		doc := &kb.Document{Title: strings.TrimSpace(in.Title), Slug: strings.TrimSpace(in.Slug), Language: strings.TrimSpace(in.Language),
			Body: in.Body, Tags: []string{SourceTag(id)}, Status: baton.ArticleDraft}
		if strings.TrimSpace(doc.Body) == "" {
			if def.Body == "" {
				return baton.Errorf(baton.EINVALID, "%s: no reply to save: no agent has answered the customer in it yet; write the body yourself", what)
			}
			doc.Body = def.Body
		}
		if doc.Title == "" {
			if def.Title == "" {
				return baton.Errorf(baton.EINVALID, "%s: no title: the customer asked nothing before the reply; give the article a title", what)
			}
			doc.Title = def.Title
		}
		if doc.Slug == "" {
			if doc.Slug = kb.Slugify(doc.Title); doc.Slug == "" {
				doc.Slug = fallbackSlug(id)
			}
		}
		if doc.Language == "" {
			if def.Language == "" {
				return baton.Errorf(baton.EINVALID, "%s: no language: the conversation has none the KB knows; give the article's language", what)
			}
			doc.Language = def.Language
		}
		if err := doc.Validate(); err != nil {
			return baton.WrapError(baton.EINVALID, err, what)
		}
		a := doc.Article(conv.BotID, by.Name())
		newest, err := tx.GetArticle(ctx, conv.BotID, doc.Slug, 0)
		if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
		if newest != nil && newest.Hash == a.Hash {
			pub, err := tx.GetPublishedArticle(ctx, conv.BotID, doc.Slug)
			switch {
			case err == nil && pub.Version == newest.Version:
				return baton.Errorf(baton.EINVALID, "%s: article %s is published with this very text (version %d): nothing to draft", what, doc.Slug, pub.Version)
			case err != nil && baton.ErrorCode(err) != baton.ENOTFOUND:
				return err
			}
			out = newest
			return nil
		}
		if err := tx.CreateArticleVersion(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		ev := &baton.Event{ConversationID: id, Type: EventKBDraft, Actor: by.Name(), Reason: "saved as a KB draft",
			Data: map[string]any{"slug": a.Slug, "version": a.Version, "article": a.ID, "language": a.Language}, At: d.now()}
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}
