package kb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb/hashembed"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/sqlite"
)

// testStore is one real store to run a test against.
type testStore struct {
	name  string
	store baton.Store
	bot   string // unique per test, so that a shared Postgres database needs no cleanup
}

// stores returns a fresh SQLite store, and a Postgres one when
// BATON_TEST_DATABASE_URL is set.
func stores(t testing.TB) []testStore {
	t.Helper()
	ctx := context.Background()
	var out []testStore
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	out = append(out, testStore{name: "sqlite", store: s, bot: uniqueBot()})
	if url := os.Getenv("BATON_TEST_DATABASE_URL"); url != "" {
		p, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { p.Close() })
		out = append(out, testStore{name: "postgres", store: p, bot: uniqueBot()})
	}
	return out
}

func uniqueBot() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "bot-" + hex.EncodeToString(b)
}

func embedder(t testing.TB) *hashembed.Embedder {
	t.Helper()
	e, err := hashembed.New(hashembed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// copyDir copies the fixture KB so that a test can edit it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
