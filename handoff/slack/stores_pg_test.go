package slack

import (
	"context"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
)

// moreStores is PostgreSQL, in a schema of its own per test, when
// BATON_TEST_DATABASE_URL is set.
func moreStores() []storeCase {
	if !pgtest.Available() {
		return nil
	}
	return []storeCase{{"postgres", func(t testing.TB, clock baton.Clock) baton.Store {
		t.Helper()
		s, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{MaxConns: 4, Clock: clock})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}}
}
