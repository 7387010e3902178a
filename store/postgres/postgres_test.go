package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/storetest"
)

// testURL returns BATON_TEST_DATABASE_URL. Without it the test skips, unless
// BATON_REQUIRE_POSTGRES=1 (CI) makes a missing database a failure.
func testURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("BATON_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("BATON_REQUIRE_POSTGRES") == "1" {
			t.Fatal("BATON_REQUIRE_POSTGRES=1 but BATON_TEST_DATABASE_URL is not set (run under scripts/with-postgres.sh)")
		}
		t.Skip("BATON_TEST_DATABASE_URL not set; run under scripts/with-postgres.sh")
	}
	return url
}

// freshSchema creates an empty schema (dropped in t.Cleanup) and returns a
// URL whose connections use it. A schema per test is much faster than a
// database per test; the vector extension lives in public, shared.
func freshSchema(t testing.TB) string {
	t.Helper()
	url := testURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer admin.Close(context.Background())
	// Creating the extension first keeps it out of the per-test schemas
	// (it would otherwise land in the first schema on the search path and
	// go with it on drop). Two packages racing here is harmless: retry.
	for i := 0; ; i++ {
		_, err = admin.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public`)
		if err == nil || i == 2 {
			break
		}
	}
	if err != nil {
		t.Fatalf("create the vector extension: %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema + ",public"
}

// openStore opens a migrated store on a fresh schema, closed in t.Cleanup.
func openStore(t testing.TB, clock baton.Clock) *Store {
	t.Helper()
	return openURL(t, freshSchema(t), clock)
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
	url := testURL(t)
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
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) baton.Store {
		return openStore(b, nil)
	})
}
