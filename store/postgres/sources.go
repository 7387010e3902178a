package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// SetArticleSource records what the last import of a slug read.
func (s *Store) SetArticleSource(ctx context.Context, src *baton.ArticleSource) error {
	if err := src.Validate(); err != nil {
		return err
	}
	at := s.now()
	_, err := s.q().Exec(ctx, `INSERT INTO article_sources (bot_id, slug, file, hash, imported_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (bot_id, slug) DO UPDATE SET file = excluded.file, hash = excluded.hash, imported_at = excluded.imported_at`,
		src.BotID, src.Slug, src.File, src.Hash, at)
	if err != nil {
		return wrapErr(err, "set article source "+src.Slug)
	}
	src.ImportedAt = at
	return nil
}

// ListArticleSources returns a bot's sources ordered by slug.
func (s *Store) ListArticleSources(ctx context.Context, botID string) ([]*baton.ArticleSource, error) {
	rows, err := s.q().Query(ctx, `SELECT bot_id, slug, file, hash, imported_at FROM article_sources WHERE bot_id = $1 ORDER BY slug`, botID)
	if err != nil {
		return nil, wrapErr(err, "list article sources")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*baton.ArticleSource, error) {
		var src baton.ArticleSource
		err := row.Scan(&src.BotID, &src.Slug, &src.File, &src.Hash, &src.ImportedAt)
		src.ImportedAt = src.ImportedAt.UTC()
		return &src, err
	})
	return out, wrapErr(err, "list article sources")
}

// DeleteArticleSource forgets a slug's source.
func (s *Store) DeleteArticleSource(ctx context.Context, botID, slug string) error {
	_, err := s.q().Exec(ctx, `DELETE FROM article_sources WHERE bot_id = $1 AND slug = $2`, botID, slug)
	return wrapErr(err, "delete article source "+slug)
}
