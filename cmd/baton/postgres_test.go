package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/batonhq/baton/store/postgres/pgtest"
)

// TestPostgres runs migrate and serve of the real binary on PostgreSQL,
// selected by a postgres:// BATON_DATABASE_URL.
func TestPostgres(t *testing.T) {
	url := pgtest.Schema(t)
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
