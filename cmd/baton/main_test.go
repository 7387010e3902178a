package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the real baton executable, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baton-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "baton")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the baton binary:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the module root, where `make demo` runs.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cleanEnv is the process environment without any Baton, OpenAI or Slack
// setting, nor a variable the example configuration reads, so that the
// developer's own shell cannot change a test.
func cleanEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BATON_") || strings.HasPrefix(kv, "OPENAI_") || strings.HasPrefix(kv, "SLACK_") ||
			strings.HasPrefix(kv, orderAPIEnv+"=") || strings.HasPrefix(kv, "WEBCHAT_IDENTITY_SECRET=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// output collects a process's stdout and stderr and reports the first URL
// it announces (the demo prints it; serve logs it).
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	found bool
	url   chan string
	re    *regexp.Regexp
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if !o.found {
		if m := o.re.FindSubmatch(o.buf.Bytes()); m != nil {
			o.found = true
			o.url <- string(m[1])
		}
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

type process struct {
	cmd  *exec.Cmd
	out  *output
	url  string
	done chan error
}

// start runs the binary and waits until it announces its URL.
func start(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = env
	out := &output{url: make(chan string, 1), re: regexp.MustCompile(`(http://127\.0\.0\.1:\d+)`)}
	cmd.Stdout, cmd.Stderr = out, out
	p := &process{cmd: cmd, out: out, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
		}
	})
	select {
	case p.url = <-out.url:
	case err := <-p.done:
		p.done <- err
		t.Fatalf("baton %v exited before listening: %v\n%s", args, err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("baton %v never announced its URL\n%s", args, out)
	}
	return p
}

func get(t *testing.T, url string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// stop sends sig and asserts a clean exit within five seconds.
func (p *process) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after %v: %v\n%s", sig, err, p.out)
		}
		if took := time.Since(sent); took > 5*time.Second {
			t.Errorf("took %v to exit", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5s after %v\n%s", sig, p.out)
	}
}

// TestDemo is the acceptance path of the README: no configuration, no
// network, both probes answer 200, Ctrl-C exits cleanly within 5 s.
func TestDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, repoRoot(t), cleanEnv("BATON_DATA_DIR="+data), "demo", "--addr", "127.0.0.1:0")
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		t.Run(path, func(t *testing.T) {
			if status, body := get(t, p.url+path, nil); status != 200 {
				t.Errorf("status %d: %s", status, body)
			}
		})
	}
	p.stop(t, syscall.SIGINT)
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatalf("data directory: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode %o, want 700", perm)
	}
	if _, err := os.Stat(filepath.Join(data, sqliteFile)); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestServe(t *testing.T) {
	const token = "serve-test-admin-token"
	data := t.TempDir()
	p := start(t, ".", cleanEnv("BATON_DATA_DIR="+data, "TEST_ADMIN_TOKEN="+token),
		"serve", "--config", "testdata/serve.yaml", "--addr", "127.0.0.1:0", "--log-format", "json")
	bearer := map[string]string{"Authorization": "Bearer " + token}
	tests := []struct {
		path   string
		header map[string]string
		status int
		want   string
	}{
		{"/healthz", nil, 200, `"ok"`},
		{"/readyz", nil, 200, `"ready"`},
		{"/api/v1/conversations", nil, 401, `"unauthorized"`},
		{"/api/v1/conversations", bearer, 200, `"conversations":[]`},
		{"/metrics", nil, 200, `baton_http_requests_total{method="GET",route="/healthz",status="200"} 1`},
		{"/webhooks/whatsapp/shop", nil, 404, `no webhook endpoint`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			status, body := get(t, p.url+tc.path, tc.header)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("status %d body %.300q; want %d containing %q", status, body, tc.status, tc.want)
			}
		})
	}
	p.stop(t, syscall.SIGTERM)
	if !strings.Contains(p.out.String(), `"msg":"stopped"`) {
		t.Errorf("no JSON shutdown log line:\n%s", p.out)
	}
}

// TestInvalidConfig: three different mistakes, all reported with their paths,
// non-zero exit, nothing started.
func TestInvalidConfig(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(binary, "serve", "--config", "testdata/three_mistakes.yaml")
	cmd.Env = cleanEnv("BATON_DATA_DIR=" + data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != exitBadInput {
		t.Fatalf("exit %v, want status %d\n%s", err, exitBadInput, stderr.String())
	}
	for _, want := range []string{
		"3 problem(s)",
		"server.listen: unknown field (line 5)",
		`bots[0].languages[1]: "xx" is not an ISO 639-1 language code`,
		"bots[0].channels.whatsapp.app_secret: required",
	} {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
			}
		})
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was created for an invalid configuration (%v)", err)
	}
}

// TestRun drives the commands in process.
func TestRun(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   string
		stderr   string
		dataFile bool // the database file exists afterwards
	}{
		{name: "version", args: []string{"version"}, code: 0, stdout: "baton "},
		{name: "root help", args: []string{"--help"}, code: 0, stdout: "baton demo"},
		{name: "serve help", args: []string{"serve", "--help"}, code: 0, stdout: "--shutdown-timeout"},
		{name: "demo help", args: []string{"demo", "--help"}, code: 0, stdout: "no configuration"},
		{name: "migrate help", args: []string{"migrate", "--help"}, code: 0, stdout: "migrations"},
		{name: "version help", args: []string{"version", "--help"}, code: 0, stdout: "version"},
		{name: "nlu is registered", args: []string{"--help"}, code: 0, stdout: "\n  nlu "},
		{name: "serve needs a configuration", args: []string{"serve"}, code: exitBadInput, stderr: "no configuration"},
		{name: "bad log level", args: []string{"serve", "--log-level", "loud", "--config", "testdata/serve.yaml"}, code: exitBadInput, stderr: "--log-level"},
		{name: "bad addr flag", args: []string{"serve", "--addr", "nowhere", "--config", "testdata/serve.yaml"}, env: map[string]string{"TEST_ADMIN_TOKEN": "0123456789abcdef"}, code: exitBadInput, stderr: "--addr"},
		{name: "config from BATON_CONFIG", args: []string{"serve"}, env: map[string]string{"BATON_CONFIG": "testdata/three_mistakes.yaml"}, code: exitBadInput, stderr: "server.listen"},
		{name: "serve needs a bot", args: []string{"serve", "--config", "testdata/no_bots.yaml"}, code: exitBadInput, stderr: "bots: required"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitBadInput, stderr: `unknown command "frobnicate" for "baton"`},
		{name: "mistyped command", args: []string{"sevre"}, code: exitBadInput, stderr: "Did you mean this?\n\tserve\n"},
		{name: "mistyped kb subcommand", args: []string{"kb", "searhc"}, code: exitBadInput, stderr: "unknown command \"searhc\" for \"baton kb\"\n\nDid you mean this?\n\tsearch\n"},
		{name: "mistyped nlu subcommand", args: []string{"nlu", "evl", "--task", "intent"}, code: exitBadInput, stderr: "unknown command \"evl\" for \"baton nlu\"\n\nDid you mean this?\n\teval\n\nRun 'baton nlu --help' for usage."},
		{name: "mistyped help topic", args: []string{"help", "kb", "serch"}, code: exitBadInput, stderr: "Did you mean this?\n\tsearch"},
		{name: "mistyped completion shell", args: []string{"completion", "bsh"}, code: exitBadInput, stderr: "\tbash\n"},
		{name: "group alone prints its help", args: []string{"kb"}, code: 0, stdout: "Usage:\n  baton kb [command]\n"},
		{name: "help topic", args: []string{"help", "kb", "search"}, code: 0, stdout: "baton kb search \"question\" [flags]"},
		{name: "unknown flag", args: []string{"kb", "search", "--bogus", "x"}, code: exitBadInput, stderr: "unknown flag: --bogus\nRun 'baton kb search --help' for usage."},
		{name: "bad flag value", args: []string{"serve", "--workers", "many"}, code: exitBadInput, stderr: `invalid argument "many" for "--workers"`},
		{name: "missing argument", args: []string{"kb", "export"}, code: exitBadInput, stderr: "accepts 1 arg(s), received 0\nRun 'baton kb export --help' for usage."},
		{name: "extra argument", args: []string{"migrate", "now"}, code: exitBadInput, stderr: `unknown command "now" for "baton migrate"`},
		{name: "nlu eval needs its flags", args: []string{"nlu", "eval", "--task", "intent"}, code: exitBadInput, stderr: "--task and --test are both required"},
		{name: "nlu train needs its flags", args: []string{"nlu", "train", "--dir", data}, code: exitBadInput, stderr: "--intents and --dir are both required"},
		{name: "nlu eval of a missing file", args: []string{"nlu", "eval", "--task", "language", "--test", "no/such.tsv"}, code: exitBadInput, stderr: "no/such.tsv"},
		{name: "migrate", args: []string{"migrate", "--data-dir", data}, code: 0, stdout: "database is up to date (sqlite", dataFile: true},
		{name: "migrate again is a no-op", args: []string{"migrate"}, env: map[string]string{"BATON_DATA_DIR": data}, code: 0, stdout: "database is up to date", dataFile: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &env{
				stdout: &stdout,
				stderr: &stderr,
				lookupEnv: func(k string) (string, bool) {
					v, ok := tc.env[k]
					return v, ok
				},
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if code := run(ctx, tc.args, e); code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
			if tc.dataFile {
				if _, err := os.Stat(filepath.Join(data, sqliteFile)); err != nil {
					t.Errorf("database file: %v", err)
				}
			}
		})
	}
}
