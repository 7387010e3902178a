package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/storetest"
)

// openStore opens a migrated store on a fresh schema, closed in t.Cleanup.
func openStore(t testing.TB, clock baton.Clock) *Store {
	t.Helper()
	return openURL(t, pgtest.Schema(t), clock)
}

// openURL opens a store on url, closed in t.Cleanup.
func openURL(t testing.TB, url string, clock baton.Clock) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Open(ctx, url, Options{Clock: clock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var server, vector string
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'),
		coalesce((SELECT extversion FROM pg_extension WHERE extname = 'vector'), 'not installed')`).Scan(&server, &vector)
	conn.Close(ctx)
	if err != nil {
		t.Fatalf("read versions: %v", err)
	}
	t.Logf("PostgreSQL %s, pgvector %s", server, vector)
	storetest.Run(t, func(t *testing.T, clock baton.Clock) baton.Store {
		return openStore(t, clock)
	}, storetest.WithTwin(func(t *testing.T, first baton.Store, clock baton.Clock) baton.Store {
		// A pool of its own on the same schema: another process.
		return openURL(t, first.(*Store).cfg.ConnString(), clock)
	}))
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) baton.Store {
		return openStore(b, nil)
	})
}

// BenchmarkAssign reports claims per second. Its figure counts on a
// durable cluster (BATON_PG_DURABLE=1 scripts/with-postgres.sh, as
// scripts/bench.sh runs it): every claim is a commit that waits for its
// WAL flush. The cluster's settings are reported as "durable" (1 = fsync,
// synchronous_commit and full_page_writes on).
func BenchmarkAssign(b *testing.B) {
	storetest.BenchAssign(b, func(b *testing.B) baton.Store {
		st := openStore(b, nil)
		var settings string
		if err := st.pool.QueryRow(context.Background(), `SELECT current_setting('fsync') || current_setting('synchronous_commit') ||
			current_setting('full_page_writes')`).Scan(&settings); err != nil {
			b.Fatal(err)
		}
		durable := 0.0
		if settings == "ononon" {
			durable = 1
		}
		b.Cleanup(func() { b.ReportMetric(durable, "durable") })
		return st
	})
}
