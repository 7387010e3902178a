// Package storecase opens the real stores for the tests of the packages
// that run on them (the desk, the Slack console, the assembly): SQLite in
// a temporary directory always, and PostgreSQL in a schema of its own per
// test when the test database is configured. It is test support; the
// store packages' own tests use storetest, which cannot import them.
package storecase

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/sqlite"
)

// Case is one real store a test runs on.
type Case struct {
	Name string
	Open func(t testing.TB, clock baton.Clock) baton.Store
}

// All is SQLite, and PostgreSQL when BATON_TEST_DATABASE_URL is set.
func All() []Case {
	out := []Case{{"sqlite", SQLite}}
	if pgtest.Available() {
		out = append(out, Case{"postgres", Postgres})
	}
	return out
}

// SQLite opens a fresh SQLite store in t's temporary directory, closed
// when t ends.
func SQLite(t testing.TB, clock baton.Clock) baton.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Postgres opens a PostgreSQL store in a schema of its own, closed when t
// ends.
func Postgres(t testing.TB, clock baton.Clock) baton.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{MaxConns: 8, Clock: clock})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
