package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
)

// openPostgres opens a real PostgreSQL store on a fresh schema, or skips
// when no test database is configured.
func openPostgres(t testing.TB) baton.Store {
	t.Helper()
	url := pgtest.Schema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
