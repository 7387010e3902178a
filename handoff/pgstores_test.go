package handoff_test

import (
	"context"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
)

// morestores are the stores beyond SQLite the tests run on: PostgreSQL, in
// a schema of its own per test, when the test database is configured.
func morestores() []storeCase {
	if !pgtest.Available() {
		return nil
	}
	return []storeCase{{"postgres", func(t testing.TB, clock baton.Clock) baton.Store {
		s, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{MaxConns: 8, Clock: clock})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}}
}
