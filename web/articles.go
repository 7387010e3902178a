package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
)

// articleWriteTimeout bounds one write of the article API: a save embeds
// the article's chunks, which may call an embedding provider.
const articleWriteTimeout = 2 * time.Minute

// defaultAuthor is recorded on versions made through the API when the
// request names no author: the admin token is shared, so the API cannot
// know the person.
const defaultAuthor = "admin-api"

// articleJSON is an article version as the admin API shows it.
type articleJSON struct {
	ID            int64     `json:"id"`
	BotID         string    `json:"bot_id"`
	Slug          string    `json:"slug"`
	Version       int       `json:"version"`
	Title         string    `json:"title"`
	Body          string    `json:"body,omitempty"`
	Language      string    `json:"language"`
	Tags          []string  `json:"tags"`
	Audience      string    `json:"audience,omitempty"`
	Queue         string    `json:"queue,omitempty"`
	Skills        []string  `json:"skills"`
	URL           string    `json:"url,omitempty"`
	TranslationOf string    `json:"translation_of,omitempty"`
	Status        string    `json:"status"`
	Author        string    `json:"author"`
	CreatedAt     time.Time `json:"created_at"`
}

func toArticleJSON(a *baton.Article, withBody bool) articleJSON {
	d := kb.DocumentFromArticle(a)
	out := articleJSON{
		ID: a.ID, BotID: a.BotID, Slug: a.Slug, Version: a.Version, Title: a.Title, Language: a.Language,
		Tags: d.Tags, Audience: a.Audience, Queue: a.QueueID, Skills: a.Skills, URL: a.URL,
		TranslationOf: d.TranslationOf, Status: string(a.Status), Author: a.Author, CreatedAt: a.CreatedAt,
	}
	if withBody {
		out.Body = a.Body
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.Skills == nil {
		out.Skills = []string{}
	}
	return out
}

// articleIn is the body of PUT .../articles/:slug. The read-only fields of
// articleJSON are accepted, so that a client can send back what it got,
// edited; id, version and created_at are ignored, slug and bot_id must
// match the path.
type articleIn struct {
	Title         string   `json:"title"`
	Body          string   `json:"body"`
	Language      string   `json:"language"`
	Tags          []string `json:"tags"`
	Status        string   `json:"status"`
	Audience      string   `json:"audience"`
	Queue         string   `json:"queue"`
	Skills        []string `json:"skills"`
	URL           string   `json:"url"`
	TranslationOf string   `json:"translation_of"`
	Author        string   `json:"author"`

	Slug      string          `json:"slug"`
	BotID     string          `json:"bot_id"`
	ID        json.RawMessage `json:"id"`
	Version   json.RawMessage `json:"version"`
	CreatedAt json.RawMessage `json:"created_at"`
}

// decodeBody reads a JSON object into v; unknown fields and trailing data
// are errors, so that a typo in a field name is not silently ignored.
func decodeBody(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return baton.Errorf(baton.EINVALID, "request body: want a JSON object, got nothing")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return baton.Errorf(baton.EINVALID, "request body: not valid JSON at byte %d: %v", syn.Offset, err)
		}
		return baton.Errorf(baton.EINVALID, "request body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return baton.Errorf(baton.EINVALID, "request body: data after the JSON object")
	}
	return nil
}

// articleBot returns the bot of the path; an unconfigured bot is 404.
func (s *server) articleBot(c *fiber.Ctx) (baton.Bot, error) {
	id := c.Params("bot")
	b, ok := s.bots[id]
	if !ok {
		return baton.Bot{}, baton.Errorf(baton.ENOTFOUND, "no bot %q", id)
	}
	return b, nil
}

// author checks the optional author of a write.
func author(a string) (string, error) {
	a = strings.TrimSpace(a)
	if a == "" {
		return defaultAuthor, nil
	}
	if utf8.RuneCountInString(a) > 100 || strings.IndexFunc(a, unicode.IsControl) >= 0 {
		return "", baton.Errorf(baton.EINVALID, "author: at most 100 characters on one line")
	}
	return a, nil
}

// version reads a positive version number from a query parameter.
func positiveVersion(what, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, baton.Errorf(baton.EINVALID, "%s: want a version number (1, 2, ...), got %q", what, v)
	}
	return n, nil
}

// listArticles: GET /api/v1/bots/:bot/articles?published=&language=&limit=
// — the newest version of each slug, or the published one.
func (s *server) listArticles(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	f := baton.ArticleFilter{BotID: b.ID, Language: c.Query("language"), Limit: defaultListLimit}
	if v := c.Query("published"); v != "" {
		p, err := strconv.ParseBool(v)
		if err != nil {
			return baton.Errorf(baton.EINVALID, "query parameter published: want true or false, got %q", v)
		}
		f.Published = p
	}
	if f.Language != "" {
		if err := kb.ValidLanguage(f.Language); err != nil {
			return baton.Errorf(baton.EINVALID, "query parameter language: %v", err)
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return baton.Errorf(baton.EINVALID, "query parameter limit: want a number from 1 to %d, got %q", maxListLimit, v)
		}
		f.Limit = n
	}
	arts, err := s.cfg.KB.Store.ListArticles(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"articles": summaries(arts)})
}

// getArticle: GET /api/v1/bots/:bot/articles/:slug?version= — the newest
// version (or the one asked for) with its body, and which version is
// published (0: none).
func (s *server) getArticle(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	version := 0
	if v := c.Query("version"); v != "" {
		if version, err = positiveVersion("query parameter version", v); err != nil {
			return err
		}
	}
	ctx := c.UserContext()
	a, err := s.cfg.KB.Store.GetArticle(ctx, b.ID, slug, version)
	if err != nil {
		return err
	}
	published, err := s.publishedVersion(ctx, b.ID, slug)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"article": toArticleJSON(a, true), "published_version": published})
}

func (s *server) publishedVersion(ctx context.Context, botID, slug string) (int, error) {
	p, err := s.cfg.KB.Store.GetPublishedArticle(ctx, botID, slug)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return 0, nil
	case err != nil:
		return 0, err
	}
	return p.Version, nil
}

// listArticleVersions: GET /api/v1/bots/:bot/articles/:slug/versions,
// oldest first, without bodies.
func (s *server) listArticleVersions(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	vs, err := s.cfg.KB.Store.ListArticleVersions(c.UserContext(), b.ID, slug)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no article %q", slug)
	}
	return c.JSON(fiber.Map{"versions": summaries(vs)})
}

// putArticle: PUT /api/v1/bots/:bot/articles/:slug creates or updates an
// article from JSON, validated as an article file is. A new version is made
// only when the content changed; a status change alone publishes or
// unpublishes the newest version. Status defaults to draft and language to
// the bot's default language.
func (s *server) putArticle(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	var in articleIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if in.Slug != "" && in.Slug != slug {
		return baton.Errorf(baton.EINVALID, "slug %q in the body differs from %q in the path; to rename, create the new slug and unpublish the old one", in.Slug, slug)
	}
	if in.BotID != "" && in.BotID != b.ID {
		return baton.Errorf(baton.EINVALID, "bot_id %q in the body differs from %q in the path", in.BotID, b.ID)
	}
	who, err := author(in.Author)
	if err != nil {
		return err
	}
	d := &kb.Document{
		Title: in.Title, Slug: slug, Language: in.Language, Tags: in.Tags, Status: baton.ArticleStatus(in.Status),
		Audience: in.Audience, Queue: in.Queue, Skills: in.Skills, URL: in.URL, TranslationOf: in.TranslationOf, Body: in.Body,
	}
	if d.Status == "" {
		d.Status = baton.ArticleDraft
	}
	if d.Language == "" && len(b.Languages) > 0 {
		d.Language = b.Languages[0]
	}
	if err := d.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), articleWriteTimeout)
	defer cancel()
	if err := s.checkTranslation(ctx, b.ID, d); err != nil {
		return err
	}
	res, err := s.cfg.KB.Save(ctx, b.ID, d, who)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if res.Change == kb.Created {
		status = fiber.StatusCreated
	}
	return s.changeResponse(ctx, c.Status(status), b.ID, slug, res)
}

// checkTranslation holds the API to the rule import applies: a translation
// names a stored article in another language.
func (s *server) checkTranslation(ctx context.Context, botID string, d *kb.Document) error {
	if d.TranslationOf == "" {
		return nil
	}
	orig, err := s.cfg.KB.Store.GetArticle(ctx, botID, d.TranslationOf, 0)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return baton.Errorf(baton.EINVALID, "translation_of %q: no article with that slug", d.TranslationOf)
	case err != nil:
		return err
	case orig.Language == d.Language:
		return baton.Errorf(baton.EINVALID, "translation_of %q: that article is also in %q; a translation is in another language", d.TranslationOf, orig.Language)
	}
	return nil
}

// changeResponse answers a write with what it did and the article's newest
// version as it now stands.
func (s *server) changeResponse(ctx context.Context, c *fiber.Ctx, botID, slug string, res kb.SaveResult) error {
	a, err := s.cfg.KB.Store.GetArticle(ctx, botID, slug, 0)
	if err != nil {
		return err
	}
	published, err := s.publishedVersion(ctx, botID, slug)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"change": res.Change, "article": toArticleJSON(a, true), "published_version": published})
}

// publishArticle: POST .../articles/:slug/publish {"version": n} makes
// version n the published one, with embedded chunks, so that it answers at
// once.
func (s *server) publishArticle(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	var in struct {
		Version int `json:"version"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return baton.Errorf(baton.EINVALID, "version: give the version to publish (1, 2, ...); to unpublish, POST .../unpublish")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), articleWriteTimeout)
	defer cancel()
	res, err := s.cfg.KB.Publish(ctx, b.ID, slug, in.Version)
	if err != nil {
		return err
	}
	return s.changeResponse(ctx, c, b.ID, slug, res)
}

// unpublishArticle: POST .../articles/:slug/unpublish, and DELETE
// .../articles/:slug: the article stops answering; its versions are kept.
func (s *server) unpublishArticle(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	ctx, cancel := context.WithTimeout(c.UserContext(), articleWriteTimeout)
	defer cancel()
	if _, err := s.cfg.KB.Store.GetArticle(ctx, b.ID, slug, 0); err != nil {
		return err
	}
	published, err := s.publishedVersion(ctx, b.ID, slug)
	if err != nil {
		return err
	}
	res := kb.SaveResult{Change: kb.Unchanged}
	if published > 0 {
		if res, err = s.cfg.KB.Publish(ctx, b.ID, slug, 0); err != nil {
			return err
		}
	}
	return s.changeResponse(ctx, c, b.ID, slug, res)
}

// restoreArticle: POST .../articles/:slug/restore {"version": n, "publish":
// bool} makes version n's content the newest version again (history is
// never rewritten).
func (s *server) restoreArticle(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	var in struct {
		Version int    `json:"version"`
		Publish bool   `json:"publish"`
		Author  string `json:"author"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return baton.Errorf(baton.EINVALID, "version: give the version to restore (1, 2, ...)")
	}
	who, err := author(in.Author)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), articleWriteTimeout)
	defer cancel()
	res, err := s.cfg.KB.Restore(ctx, b.ID, slug, in.Version, who, in.Publish)
	if err != nil {
		return err
	}
	return s.changeResponse(ctx, c, b.ID, slug, res)
}

// draftFromReply: POST /api/v1/bots/:bot/drafts/from-reply {"question",
// "reply", "language", "author"} saves an agent's reply that resolved a gap
// as a draft article for an author to review and publish. Language defaults
// to the bot's default language.
func (s *server) draftFromReply(c *fiber.Ctx) error {
	b, err := s.articleBot(c)
	if err != nil {
		return err
	}
	var in struct {
		Question string `json:"question"`
		Reply    string `json:"reply"`
		Language string `json:"language"`
		Author   string `json:"author"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	who, err := author(in.Author)
	if err != nil {
		return err
	}
	if in.Language == "" && len(b.Languages) > 0 {
		in.Language = b.Languages[0]
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), articleWriteTimeout)
	defer cancel()
	a, err := kb.DraftFromReply(ctx, s.cfg.KB.Store, b.ID, in.Question, in.Reply, in.Language, who)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"article": toArticleJSON(a, true)})
}

// summaries are articles as listed: without their bodies.
func summaries(arts []*baton.Article) []articleJSON {
	out := make([]articleJSON, 0, len(arts))
	for _, a := range arts {
		out = append(out, toArticleJSON(a, false))
	}
	return out
}
