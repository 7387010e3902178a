package sqlite

import (
	"context"

	"github.com/batonhq/baton"
)

// SetArticleSource records what the last import of a slug read.
func (s *Store) SetArticleSource(ctx context.Context, src *baton.ArticleSource) error {
	if err := src.Validate(); err != nil {
		return err
	}
	at := s.now()
	return s.writeOne(ctx, "set article source "+src.Slug, func(q querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO article_sources (bot_id, slug, file, hash, imported_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (bot_id, slug) DO UPDATE SET file = excluded.file, hash = excluded.hash, imported_at = excluded.imported_at`,
			src.BotID, src.Slug, src.File, src.Hash, ts(at)); err != nil {
			return err
		}
		src.ImportedAt = at
		return nil
	})
}

// ListArticleSources returns a bot's sources ordered by slug.
func (s *Store) ListArticleSources(ctx context.Context, botID string) ([]*baton.ArticleSource, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT bot_id, slug, file, hash, imported_at FROM article_sources WHERE bot_id = ? ORDER BY slug`, botID)
	if err != nil {
		return nil, translate(err, "list article sources")
	}
	defer rows.Close()
	var out []*baton.ArticleSource
	for rows.Next() {
		var (
			src baton.ArticleSource
			at  int64
		)
		if err := rows.Scan(&src.BotID, &src.Slug, &src.File, &src.Hash, &at); err != nil {
			return nil, translate(err, "list article sources")
		}
		src.ImportedAt = fromTS(at)
		out = append(out, &src)
	}
	return out, translate(rows.Err(), "list article sources")
}

// DeleteArticleSource forgets a slug's source.
func (s *Store) DeleteArticleSource(ctx context.Context, botID, slug string) error {
	return s.writeOne(ctx, "delete article source "+slug, func(q querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM article_sources WHERE bot_id = ? AND slug = ?`, botID, slug)
		return err
	})
}
