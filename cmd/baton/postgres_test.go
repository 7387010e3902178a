package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresURL returns a URL whose connections use a fresh schema (dropped
// at the end of the test), or skips when no test database is configured.
func postgresURL(t *testing.T) string {
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
	schema := "cmd_" + hex.EncodeToString(b)
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

// TestPostgres runs migrate and serve of the real binary on PostgreSQL,
// selected by a postgres:// BATON_DATABASE_URL.
func TestPostgres(t *testing.T) {
	url := postgresURL(t)
	env := cleanEnv("BATON_DATABASE_URL="+url, "BATON_DATA_DIR="+t.TempDir(), "TEST_ADMIN_TOKEN=0123456789abcdef")

	migrate := exec.Command(binary, "migrate", "--config", "testdata/serve.yaml")
	migrate.Env = env
	out, err := migrate.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "database is up to date (postgres)") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	p := start(t, ".", env, "serve", "--config", "testdata/serve.yaml", "--addr", "127.0.0.1:0")
	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			if status, body := get(t, p.url+path, nil); status != 200 {
				t.Errorf("status %d: %s", status, body)
			}
		})
	}
	p.stop(t, syscall.SIGINT)
	if !strings.Contains(p.out.String(), `database=postgres`) && !strings.Contains(p.out.String(), `"database":"postgres"`) {
		t.Errorf("the server did not report PostgreSQL:\n%s", p.out)
	}
}
