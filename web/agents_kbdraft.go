package web

import (
	"context"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// kbDraftJSON is a KB draft as the agent API takes and shows it before it
// is saved.
type kbDraftJSON struct {
	Title    string `json:"title"`
	Slug     string `json:"slug"`
	Body     string `json:"body"`
	Language string `json:"language"`
}

// kbDraftDefaults: GET /api/v1/conversations/:id/kb-drafts/defaults, what
// a draft saved from the conversation holds when the agent changes
// nothing (the agent's last reply, the customer's question, a slug from
// it, the conversation's language), for a form to show first.
func (s *server) kbDraftDefaults(c *fiber.Ctx) error {
	d, err := deskAction(s, c, nil, func(ctx context.Context, p principal, id int64) (baton.KBDraft, error) {
		return s.cfg.Desk.KBDraftFor(ctx, id, p.actor)
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"draft": kbDraftJSON(d)})
}

// saveKBDraft: POST /api/v1/conversations/:id/kb-drafts {"title", "slug",
// "body", "language"}, every field optional: 201 with the draft article
// version saved for the conversation's bot. It is never published; an
// admin publishes it (POST /api/v1/bots/{bot}/articles/{slug}/publish).
func (s *server) saveKBDraft(c *fiber.Ctx) error {
	var in kbDraftJSON
	a, err := deskAction(s, c, &in, func(ctx context.Context, p principal, id int64) (*baton.Article, error) {
		for _, f := range []struct{ name, v string }{{"title", in.Title}, {"slug", in.Slug}, {"body", in.Body}, {"language", in.Language}} {
			if !utf8.ValidString(f.v) {
				return nil, baton.Errorf(baton.EINVALID, "%s: not valid UTF-8", f.name)
			}
		}
		return s.cfg.Desk.DraftArticle(ctx, id, baton.KBDraft(in), p.actor)
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"article": toArticleJSON(a, true)})
}
