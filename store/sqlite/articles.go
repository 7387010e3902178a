package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/batonhq/baton"
)

const articleCols = `id, bot_id, slug, version, title, body, language, tags, audience, queue_id, skills, url, status, author, hash, created_at`

func scanArticle(r scanner) (*baton.Article, error) {
	var (
		a            baton.Article
		tags, skills sql.NullString
		status       string
		created      int64
	)
	if err := r.Scan(&a.ID, &a.BotID, &a.Slug, &a.Version, &a.Title, &a.Body, &a.Language, &tags, &a.Audience, &a.QueueID, &skills,
		&a.URL, &status, &a.Author, &a.Hash, &created); err != nil {
		return nil, err
	}
	a.Status, a.CreatedAt = baton.ArticleStatus(status), fromTS(created)
	if err := decodeJSON(tags, &a.Tags, "article tags"); err != nil {
		return nil, err
	}
	if err := decodeJSON(skills, &a.Skills, "article skills"); err != nil {
		return nil, err
	}
	return &a, nil
}

func queryArticles(ctx context.Context, q querier, what, query string, args ...any) ([]*baton.Article, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err, what)
	}
	defer rows.Close()
	var out []*baton.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, translate(err, what)
		}
		out = append(out, a)
	}
	return out, translate(rows.Err(), what)
}

// CreateArticleVersion stores a as the next version of its slug.
func (s *Store) CreateArticleVersion(ctx context.Context, a *baton.Article) error {
	if a.Status == "" {
		a.Status = baton.ArticleDraft
	}
	switch {
	case strings.TrimSpace(a.BotID) == "":
		return baton.Errorf(baton.EINVALID, "article: bot id is required")
	case strings.TrimSpace(a.Slug) == "":
		return baton.Errorf(baton.EINVALID, "article: slug is required")
	case a.Status != baton.ArticleDraft && a.Status != baton.ArticlePublished:
		return baton.Errorf(baton.EINVALID, "article %s: unknown status %q", a.Slug, a.Status)
	}
	tags, err := sliceCol(a.Tags)
	if err != nil {
		return err
	}
	skills, err := sliceCol(a.Skills)
	if err != nil {
		return err
	}
	now := s.now()
	return s.writeTx(ctx, "create article "+a.Slug, func(q querier) error {
		var version int
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM articles WHERE bot_id = ? AND slug = ?`, a.BotID, a.Slug).Scan(&version); err != nil {
			return err
		}
		if a.Status == baton.ArticlePublished {
			if _, err := q.ExecContext(ctx, `UPDATE articles SET status = 'draft' WHERE bot_id = ? AND slug = ? AND status = 'published'`, a.BotID, a.Slug); err != nil {
				return err
			}
		}
		var id int64
		if err := q.QueryRowContext(ctx, `INSERT INTO articles (bot_id, slug, version, title, body, language, tags, audience, queue_id, skills, url, status, author, hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.BotID, a.Slug, version, a.Title, a.Body, a.Language, tags, a.Audience, a.QueueID, skills, a.URL, string(a.Status), a.Author, a.Hash, ts(now)).Scan(&id); err != nil {
			return err
		}
		a.ID, a.Version, a.CreatedAt = id, version, now
		return nil
	})
}

// GetArticle returns the newest version of a slug (version 0) or the given
// one.
func (s *Store) GetArticle(ctx context.Context, botID, slug string, version int) (*baton.Article, error) {
	var row *sql.Row
	if version == 0 {
		row = s.reader().QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles WHERE bot_id = ? AND slug = ? ORDER BY version DESC LIMIT 1`, botID, slug)
	} else {
		row = s.reader().QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles WHERE bot_id = ? AND slug = ? AND version = ?`, botID, slug, version)
	}
	a, err := scanArticle(row)
	if err != nil {
		return nil, translate(err, "article "+slug)
	}
	return a, nil
}

// GetPublishedArticle returns the published version of a slug.
func (s *Store) GetPublishedArticle(ctx context.Context, botID, slug string) (*baton.Article, error) {
	a, err := scanArticle(s.reader().QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles WHERE bot_id = ? AND slug = ? AND status = 'published'`, botID, slug))
	if err != nil {
		return nil, translate(err, "published article "+slug)
	}
	return a, nil
}

// ListArticleVersions returns every version of a slug, oldest first.
func (s *Store) ListArticleVersions(ctx context.Context, botID, slug string) ([]*baton.Article, error) {
	return queryArticles(ctx, s.reader(), "list versions of "+slug,
		`SELECT `+articleCols+` FROM articles WHERE bot_id = ? AND slug = ? ORDER BY version`, botID, slug)
}

// ListArticles returns the newest (or the published) version of each slug.
func (s *Store) ListArticles(ctx context.Context, f baton.ArticleFilter) ([]*baton.Article, error) {
	var (
		where []string
		args  []any
	)
	if f.BotID != "" {
		where, args = append(where, "a.bot_id = ?"), append(args, f.BotID)
	}
	if f.Language != "" {
		where, args = append(where, "a.language = ?"), append(args, f.Language)
	}
	if f.Published {
		where = append(where, "a.status = 'published'")
	} else {
		where = append(where, "a.version = (SELECT MAX(v.version) FROM articles v WHERE v.bot_id = a.bot_id AND v.slug = a.slug)")
	}
	cols := "a." + strings.ReplaceAll(articleCols, ", ", ", a.")
	return queryArticles(ctx, s.reader(), "list articles",
		`SELECT `+cols+` FROM articles a`+whereClause(where)+` ORDER BY a.slug, a.bot_id`+limitClause(f.Limit), args...)
}

// PublishArticle makes one version the published one; version 0
// unpublishes the slug.
func (s *Store) PublishArticle(ctx context.Context, botID, slug string, version int) error {
	return s.writeTx(ctx, "publish article "+slug, func(q querier) error {
		var n int
		if version == 0 {
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM articles WHERE bot_id = ? AND slug = ?`, botID, slug).Scan(&n); err != nil {
				return err
			}
		} else {
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM articles WHERE bot_id = ? AND slug = ? AND version = ?`, botID, slug, version).Scan(&n); err != nil {
				return err
			}
		}
		if n == 0 {
			if version == 0 {
				return baton.Errorf(baton.ENOTFOUND, "article %s: not found", slug)
			}
			return baton.Errorf(baton.ENOTFOUND, "article %s version %d: not found", slug, version)
		}
		if _, err := q.ExecContext(ctx, `UPDATE articles SET status = 'draft' WHERE bot_id = ? AND slug = ? AND status = 'published' AND version <> ?`,
			botID, slug, version); err != nil {
			return err
		}
		if version == 0 {
			return nil
		}
		_, err := q.ExecContext(ctx, `UPDATE articles SET status = 'published' WHERE bot_id = ? AND slug = ? AND version = ?`, botID, slug, version)
		return err
	})
}

// ReplaceChunks sets the chunks of an article version.
func (s *Store) ReplaceChunks(ctx context.Context, articleID int64, chunks []baton.Chunk) error {
	type row struct {
		heading sql.NullString
		vector  []byte
	}
	rows := make([]row, len(chunks))
	for i, c := range chunks {
		if len(c.Embedding) > 0 && strings.TrimSpace(c.Model) == "" {
			return baton.Errorf(baton.EINVALID, "article %d chunk %d: an embedding needs its model", articleID, i)
		}
		h, err := sliceCol(c.HeadingPath)
		if err != nil {
			return err
		}
		rows[i] = row{heading: h, vector: encodeVector(c.Embedding)}
	}
	return s.writeTx(ctx, "replace chunks of article "+itoa(articleID), func(q querier) error {
		var botID, slug, language string
		if err := q.QueryRowContext(ctx, `SELECT bot_id, slug, language FROM articles WHERE id = ?`, articleID).Scan(&botID, &slug, &language); err != nil {
			if err == sql.ErrNoRows {
				return baton.Errorf(baton.ENOTFOUND, "article %d: not found", articleID)
			}
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM chunks WHERE article_id = ?`, articleID); err != nil {
			return err
		}
		for i := range chunks {
			c := &chunks[i]
			model := c.Model
			if len(c.Embedding) == 0 {
				model = ""
			}
			if err := q.QueryRowContext(ctx, `INSERT INTO chunks (article_id, ord, heading_path, text, fts_text, hash, model, dim, embedding)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				articleID, c.Ord, rows[i].heading, c.Text, ftsText(language, c.Text), c.Hash, model, len(c.Embedding), rows[i].vector).Scan(&c.ID); err != nil {
				return err
			}
			c.ArticleID, c.BotID, c.Slug, c.Language = articleID, botID, slug, language
		}
		return nil
	})
}

// hitCols are a chunk's columns without its embedding: search results are
// read, never compared again, and decoding a vector per hit is wasted work.
const hitCols = `c.id, c.article_id, a.bot_id, a.slug, a.language, c.ord, c.heading_path, c.text, c.hash, c.model`

// chunkCols add the embedding, for ListChunks.
const chunkCols = hitCols + `, c.embedding`

// scanHit scans hitCols and then extra.
func scanHit(r scanner, extra ...any) (baton.Chunk, error) {
	var (
		c       baton.Chunk
		heading sql.NullString
	)
	dest := append([]any{&c.ID, &c.ArticleID, &c.BotID, &c.Slug, &c.Language, &c.Ord, &heading, &c.Text, &c.Hash, &c.Model}, extra...)
	if err := r.Scan(dest...); err != nil {
		return c, err
	}
	if err := decodeJSON(heading, &c.HeadingPath, "chunk heading path"); err != nil {
		return c, err
	}
	return c, nil
}

// scanChunk scans chunkCols.
func scanChunk(r scanner) (baton.Chunk, error) {
	var vector []byte
	c, err := scanHit(r, &vector)
	if err != nil {
		return c, err
	}
	c.Embedding = decodeVector(vector)
	return c, nil
}

// ListChunks returns the chunks of an article version in order.
func (s *Store) ListChunks(ctx context.Context, articleID int64) ([]baton.Chunk, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+chunkCols+` FROM chunks c JOIN articles a ON a.id = c.article_id
		WHERE c.article_id = ? ORDER BY c.ord, c.id`, articleID)
	if err != nil {
		return nil, translate(err, "list chunks")
	}
	defer rows.Close()
	var out []baton.Chunk
	for rows.Next() {
		c, err := scanChunk(rows)
		if err != nil {
			return nil, translate(err, "list chunks")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "list chunks")
}
