package kb

import (
	"context"
	"path/filepath"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
)

// OpenSQLite opens a fresh SQLite store in dir: the default throwaway KB of
// an evaluation.
func OpenSQLite(ctx context.Context, dir string) (baton.ArticleStore, func() error, error) {
	s, err := sqlite.Open(ctx, filepath.Join(dir, "kb.db"), sqlite.Options{})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}
