// Package pgtest gives a test an empty PostgreSQL schema of its own on the
// throwaway database that scripts/with-postgres.sh starts and names in
// BATON_TEST_DATABASE_URL. A schema per test is much faster than a database
// per test, and keeps one test's job workers away from another's jobs.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Available reports whether a test database is configured.
func Available() bool { return os.Getenv("BATON_TEST_DATABASE_URL") != "" }

// URL returns the test database's URL. Without one the test is skipped,
// unless BATON_REQUIRE_POSTGRES=1 (CI), which makes that a failure.
func URL(t testing.TB) string {
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

// Schema creates an empty schema, dropped when the test ends, and returns a
// URL whose connections use it (the vector extension stays in public,
// shared by every schema).
func Schema(t testing.TB) string {
	t.Helper()
	url := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: connect to the test database: %v", err)
	}
	defer admin.Close(context.Background())
	// Created in a test schema, the extension would go when that schema is
	// dropped. Packages racing to create it is harmless: retry.
	for i := 0; ; i++ {
		_, err = admin.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public`)
		if err == nil || i == 2 {
			break
		}
	}
	if err != nil {
		t.Fatalf("pgtest: create the vector extension: %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema + ",public"
}
