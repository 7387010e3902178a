package jobs_test

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
	"github.com/batonhq/baton/store/postgres"
)

// openPostgres opens a real PostgreSQL store on a fresh schema (dropped at
// the end of the test), or skips when no test database is configured.
func openPostgres(t testing.TB) baton.Store {
	t.Helper()
	url := os.Getenv("BATON_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("BATON_REQUIRE_POSTGRES") == "1" {
			t.Fatal("BATON_REQUIRE_POSTGRES=1 but BATON_TEST_DATABASE_URL is not set")
		}
		t.Skip("BATON_TEST_DATABASE_URL not set; run under scripts/with-postgres.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer admin.Close(context.Background())
	// The extension belongs in public, shared by every test schema; created
	// in ours it would go when the schema is dropped.
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
	schema := "jobs_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	st, err := postgres.Open(ctx, url+sep+"search_path="+schema+",public", postgres.Options{})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		_ = st.Close()
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
	return st
}
