package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const articleCols = `id, bot_id, slug, version, title, body, language, tags, audience, queue_id, skills, url, status, author,
	hash, created_at`

func scanArticle(row pgx.Row) (*baton.Article, error) {
	a := &baton.Article{}
	err := row.Scan(&a.ID, &a.BotID, &a.Slug, &a.Version, &a.Title, &a.Body, &a.Language, &a.Tags, &a.Audience,
		&a.QueueID, &a.Skills, &a.URL, &a.Status, &a.Author, &a.Hash, &a.CreatedAt)
	if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return a, nil
}

func collectArticles(rows pgx.Rows, err error) ([]*baton.Article, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*baton.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// lockSlug serialises version numbering and publishing of one slug.
func lockSlug(ctx context.Context, q querier, botID, slug string) error {
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockAreaArticle, botID+"\x1f"+slug)
	return wrapErr(err, "lock article")
}

func (s *Store) CreateArticleVersion(ctx context.Context, a *baton.Article) error {
	status := a.Status
	if status == "" {
		status = baton.ArticleDraft
	}
	switch {
	case a.BotID == "":
		return baton.Errorf(baton.EINVALID, "article: bot id is empty")
	case a.Slug == "":
		return baton.Errorf(baton.EINVALID, "article: slug is empty")
	case status != baton.ArticleDraft && status != baton.ArticlePublished:
		return baton.Errorf(baton.EINVALID, "article %s: unknown status %q", a.Slug, status)
	}
	now := s.now()
	return s.inTx(ctx, func(q querier) error {
		if err := lockSlug(ctx, q, a.BotID, a.Slug); err != nil {
			return err
		}
		if status == baton.ArticlePublished {
			if _, err := q.Exec(ctx, `UPDATE articles SET status = 'draft' WHERE bot_id = $1 AND slug = $2 AND status = 'published'`,
				a.BotID, a.Slug); err != nil {
				return wrapErr(err, "create article version: unpublish the previous one")
			}
		}
		var id int64
		var version int
		err := q.QueryRow(ctx, `
			INSERT INTO articles (bot_id, slug, version, title, body, language, tags, audience, queue_id, skills, url, status,
				author, hash, created_at)
			SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
			FROM articles WHERE bot_id = $1 AND slug = $2
			RETURNING id, version`,
			a.BotID, a.Slug, a.Title, a.Body, a.Language, a.Tags, a.Audience, a.QueueID, a.Skills, a.URL, string(status),
			a.Author, a.Hash, now).Scan(&id, &version)
		if err != nil {
			return wrapErr(err, "create article version")
		}
		a.ID, a.Version, a.Status, a.CreatedAt = id, version, status, now
		return nil
	})
}

func (s *Store) GetArticle(ctx context.Context, botID, slug string, version int) (*baton.Article, error) {
	a, err := scanArticle(s.q().QueryRow(ctx, `
		SELECT `+articleCols+` FROM articles WHERE bot_id = $1 AND slug = $2 AND ($3 = 0 OR version = $3)
		ORDER BY version DESC LIMIT 1`, botID, slug, version))
	if err != nil {
		return nil, wrapErr(err, "get article")
	}
	return a, nil
}

func (s *Store) GetPublishedArticle(ctx context.Context, botID, slug string) (*baton.Article, error) {
	a, err := scanArticle(s.q().QueryRow(ctx, `
		SELECT `+articleCols+` FROM articles WHERE bot_id = $1 AND slug = $2 AND status = 'published'`, botID, slug))
	if err != nil {
		return nil, wrapErr(err, "get published article")
	}
	return a, nil
}

func (s *Store) ListArticleVersions(ctx context.Context, botID, slug string) ([]*baton.Article, error) {
	as, err := collectArticles(s.q().Query(ctx, `
		SELECT `+articleCols+` FROM articles WHERE bot_id = $1 AND slug = $2 ORDER BY version`, botID, slug))
	if err != nil {
		return nil, wrapErr(err, "list article versions")
	}
	return as, nil
}

// ListArticles returns one version per slug (the newest, or the published
// one), ordered by bot and slug.
func (s *Store) ListArticles(ctx context.Context, f baton.ArticleFilter) ([]*baton.Article, error) {
	lim := any(nil)
	if f.Limit > 0 {
		lim = f.Limit
	}
	as, err := collectArticles(s.q().Query(ctx, `
		SELECT `+articleCols+` FROM (
			SELECT DISTINCT ON (bot_id, slug) * FROM articles
			WHERE ($1 = '' OR bot_id = $1) AND (NOT $2 OR status = 'published')
			ORDER BY bot_id, slug, version DESC
		) a
		WHERE ($3 = '' OR language = $3)
		ORDER BY bot_id, slug LIMIT $4`, f.BotID, f.Published, f.Language, lim))
	if err != nil {
		return nil, wrapErr(err, "list articles")
	}
	return as, nil
}

func (s *Store) PublishArticle(ctx context.Context, botID, slug string, version int) error {
	if version < 0 {
		return baton.Errorf(baton.EINVALID, "publish article %s: negative version %d", slug, version)
	}
	return s.inTx(ctx, func(q querier) error {
		if err := lockSlug(ctx, q, botID, slug); err != nil {
			return err
		}
		var exists bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM articles WHERE bot_id = $1 AND slug = $2 AND ($3 = 0 OR version = $3))`,
			botID, slug, version).Scan(&exists); err != nil {
			return wrapErr(err, "publish article")
		}
		if !exists {
			if version == 0 {
				return baton.Errorf(baton.ENOTFOUND, "article %s of bot %s not found", slug, botID)
			}
			return baton.Errorf(baton.ENOTFOUND, "article %s of bot %s has no version %d", slug, botID, version)
		}
		if _, err := q.Exec(ctx, `UPDATE articles SET status = 'draft' WHERE bot_id = $1 AND slug = $2 AND status = 'published' AND version <> $3`,
			botID, slug, version); err != nil {
			return wrapErr(err, "publish article: unpublish")
		}
		if version == 0 {
			return nil
		}
		_, err := q.Exec(ctx, `UPDATE articles SET status = 'published' WHERE bot_id = $1 AND slug = $2 AND version = $3`, botID, slug, version)
		return wrapErr(err, "publish article")
	})
}
