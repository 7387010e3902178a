package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
)

// lockedBuffer is written by the server goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemoStaysEmbedded: whatever the environment says, the demo runs on the
// embedded database, and a cancelled context stops it cleanly.
func TestDemoStaysEmbedded(t *testing.T) {
	data := t.TempDir()
	r := runDemo(t, map[string]string{
		"BATON_DATABASE_URL": "postgres://nobody@192.0.2.1:1/none",
		"OPENAI_API_KEY":     "sk-not-used",
		"BATON_DATA_DIR":     data,
	}, nil)
	tests := []struct {
		name string
		ok   bool
	}{
		{"prints that it runs", strings.Contains(r.stdout, "Baton demo is running")},
		{"prints the admin API line with a generated token", regexp.MustCompile(`Bearer [0-9a-f]{48}`).MatchString(r.stdout)},
		{"says it ignores the database URL", strings.Contains(r.stderr, "ignoring the database URL")},
		{"uses the embedded database", strings.Contains(r.stderr, `"database":"sqlite `+filepath.Join(data, sqliteFile))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("not so:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
		})
	}
}

func TestLogger(t *testing.T) {
	tests := []struct {
		name     string
		format   string
		level    string
		terminal bool
		want     string // substring of the line logged at info
		wantCode string
	}{
		{name: "terminal gets text", format: "auto", level: "info", terminal: true, want: "level=INFO msg=hello"},
		{name: "pipe gets JSON", format: "auto", level: "info", want: `"msg":"hello"`},
		{name: "forced text", format: "text", level: "info", want: "msg=hello"},
		{name: "forced json", format: "json", level: "info", terminal: true, want: `"level":"INFO"`},
		{name: "level filters", format: "json", level: "warn", want: ""},
		{name: "bad format", format: "xml", level: "info", wantCode: baton.EINVALID},
		{name: "bad level", format: "json", level: "loud", wantCode: baton.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			g := &globalFlags{logFormat: tc.format, logLevel: tc.level}
			log, err := g.logger(&env{stderr: &buf, isTerminal: tc.terminal})
			if code := baton.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("error %v, want code %q", err, tc.wantCode)
			}
			if err != nil {
				return
			}
			log.Info("hello")
			if tc.want == "" && buf.Len() != 0 {
				t.Errorf("logged %q below the level", buf.String())
			}
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("logged %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

// TestAddressInUse: serve and demo on a taken port fail at once with a
// clear error (exit 1: the command was valid), before they create the data
// directory, migrate or import anything.
func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	tests := []struct {
		name string
		args []string
	}{
		{"serve", []string{"serve", "--config", "testdata/serve.yaml", "--addr", addr}},
		{"demo", []string{"demo", "--config", "../../examples/sportshop/baton.yaml", "--addr", addr}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			var stdout, stderr bytes.Buffer
			e := &env{stdout: &stdout, stderr: &stderr, lookupEnv: config.MapEnv(map[string]string{
				"TEST_ADMIN_TOKEN": "0123456789abcdef",
				"BATON_DATA_DIR":   data,
			})}
			code := run(context.Background(), append(tc.args, "--log-format", "json"), e)
			if code != exitFailure || !strings.Contains(stderr.String(), "listen on "+addr+": the address is already in use") {
				t.Errorf("exit %d, stderr %q; want %d naming the address", code, stderr.String(), exitFailure)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("the data directory was created (%v)", err)
			}
			for _, msg := range []string{"store ready", "kb imported", "applied migration"} {
				if strings.Contains(stderr.String(), msg) {
					t.Errorf("logged %q before failing:\n%s", msg, stderr.String())
				}
			}
		})
	}
}

// demoRun is one start of the demo in process on a loopback port.
type demoRun struct {
	url, token     string
	stdout, stderr string
	// out is the output so far, while the demo runs.
	out *lockedBuffer
}

// stdoutNow is what the demo printed so far.
func (r demoRun) stdoutNow() string { return r.out.String() }

// runDemo starts the demo, calls while(run) once it listens, then stops it.
func runDemo(t *testing.T, vars map[string]string, while func(r demoRun)) demoRun {
	t.Helper()
	var stdout, stderr lockedBuffer
	e := &env{stdout: &stdout, stderr: &stderr, lookupEnv: config.MapEnv(vars)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"demo", "--config", "../../examples/sportshop/baton.yaml", "--addr", "127.0.0.1:0", "--log-format", "json"}, e)
	}()
	line := regexp.MustCompile(`Bearer (\S+)' (http://\S+)/api/v1/conversations`)
	deadline := time.Now().Add(30 * time.Second)
	r := demoRun{out: &stdout}
	for {
		if m := line.FindStringSubmatch(stdout.String()); m != nil {
			r.token, r.url = m[1], m[2]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo never printed its admin API line\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
		}
		select {
		case code := <-exit:
			t.Fatalf("the demo exited with %d\nstderr: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if while != nil {
		while(r)
	}
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d\nstderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop")
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
}

// TestDemoKeepsItsAdminToken: the token the demo prints is kept in the data
// directory (0600) and works after a restart; a file others could read is
// replaced; BATON_ADMIN_TOKEN wins over the file and leaves it alone.
func TestDemoKeepsItsAdminToken(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{"BATON_DATA_DIR": data}
	file := filepath.Join(data, adminTokenFile)
	conversations := func(r demoRun) int {
		status, _ := get(t, r.url+"/api/v1/conversations", map[string]string{"Authorization": "Bearer " + r.token})
		return status
	}
	mode := func() os.FileMode {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	content := func() string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}

	first := runDemo(t, vars, nil)
	if m := mode(); m != 0o600 {
		t.Errorf("token file mode %04o, want 0600", m)
	}
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory %v, %v; want mode 0700", fi, err)
	}
	if content() != first.token || len(first.token) < config.MinAdminTokenLen {
		t.Fatalf("file holds %q, the demo printed %q", content(), first.token)
	}

	t.Run("a restart keeps the token and the printed curl line works", func(t *testing.T) {
		runDemo(t, vars, func(r demoRun) {
			if r.token != first.token {
				t.Errorf("token %q after a restart, was %q", r.token, first.token)
			}
			r.token = first.token
			if status := conversations(r); status != 200 {
				t.Errorf("the first run's curl line gets %d", status)
			}
		})
	})

	t.Run("a file others can read is replaced", func(t *testing.T) {
		if err := os.Chmod(file, 0o644); err != nil {
			t.Fatal(err)
		}
		r := runDemo(t, vars, func(r demoRun) {
			old := r
			old.token = first.token
			if status := conversations(old); status != 401 {
				t.Errorf("the exposed token still gets %d", status)
			}
			if status := conversations(r); status != 200 {
				t.Errorf("the new token gets %d", status)
			}
		})
		if r.token == first.token || content() != r.token || mode() != 0o600 {
			t.Errorf("token %q (was %q), file %q mode %04o", r.token, first.token, content(), mode())
		}
		if !strings.Contains(r.stderr, "readable by others") {
			t.Errorf("no warning:\n%s", r.stderr)
		}
	})

	t.Run("an unusable file is replaced", func(t *testing.T) {
		if err := os.WriteFile(file, []byte("short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runDemo(t, vars, nil)
		if r.token == "short" || content() != r.token || mode() != 0o600 {
			t.Errorf("token %q, file %q mode %04o", r.token, content(), mode())
		}
	})

	t.Run("BATON_ADMIN_TOKEN wins and the file is left alone", func(t *testing.T) {
		kept := content()
		const explicit = "explicit-admin-token-0123"
		r := runDemo(t, map[string]string{"BATON_DATA_DIR": data, "BATON_ADMIN_TOKEN": explicit}, func(r demoRun) {
			if status := conversations(r); status != 200 {
				t.Errorf("the explicit token gets %d", status)
			}
		})
		if r.token != explicit || content() != kept {
			t.Errorf("printed %q, file %q (was %q)", r.token, content(), kept)
		}
	})
}
