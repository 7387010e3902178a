package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/cmd/baton/internal/config"
	"github.com/batonhq/baton/store/sqlite"
)

// TestSyncAgentsKeepsStatus: a restart updates what the configuration says
// about an agent and keeps what happened at run time.
func TestSyncAgentsKeepsStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Load("testdata/serve.yaml", config.MapEnv(map[string]string{"TEST_ADMIN_TOKEN": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	agents := cfg.DomainAgents()
	if err := syncAgents(ctx, st, agents); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAgentStatus(ctx, "ana", baton.AgentOnline); err != nil {
		t.Fatal(err)
	}
	agents = cfg.DomainAgents()
	agents[0].Name = "Ana Lima"
	if err := syncAgents(ctx, st, agents); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetAgent(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"status survives a restart", string(got.Status), string(baton.AgentOnline)},
		{"configuration is applied", got.Name, "Ana Lima"},
		{"capacity from configuration", strconv.Itoa(got.Capacity[baton.ChannelWebChat]), "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	fresh := cfg.DomainAgents()
	fresh[0].ID = "new"
	if err := syncAgents(ctx, st, fresh[:1]); err != nil {
		t.Fatal(err)
	}
	if a, err := st.GetAgent(ctx, "new"); err != nil || a.Status != baton.AgentOffline {
		t.Errorf("a new agent = %+v, %v; want offline", a, err)
	}
}

func TestJobMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newJobMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.observe("turn", "done", 10*time.Millisecond)
	m.observe("turn", "done", 20*time.Millisecond)
	m.observe("deliver", "dead", time.Millisecond)
	m.deliveryInDoubt(baton.ChannelWhatsApp)
	tests := []struct {
		kind, outcome string
		want          float64
	}{
		{"turn", "done", 2},
		{"deliver", "dead", 1},
		{"turn", "retry", 0},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.outcome, func(t *testing.T) {
			if got := counter(t, reg, "baton_jobs_total", tc.kind, tc.outcome); got != tc.want {
				t.Errorf("baton_jobs_total = %v, want %v", got, tc.want)
			}
		})
	}
	if got := labelled(t, reg, "baton_deliveries_in_doubt_total", "channel", "whatsapp"); got != 1 {
		t.Errorf("baton_deliveries_in_doubt_total{channel=whatsapp} = %v, want 1", got)
	}
	if got := labelled(t, reg, "baton_deliveries_in_doubt_total", "channel", "sms"); got != 0 {
		t.Errorf("baton_deliveries_in_doubt_total{channel=sms} = %v, want 0", got)
	}
	if _, err := newJobMetrics(reg); err == nil {
		t.Error("registering the job metrics twice must fail")
	}
}

// counter reads a counter with the given kind and outcome labels from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, kind, outcome string) float64 {
	t.Helper()
	return labelled(t, reg, name, "kind", kind, "outcome", outcome)
}

// labelled reads the counter of reg named name whose labels include the
// given name/value pairs.
func labelled(t *testing.T, reg *prometheus.Registry, name string, pairs ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i+1 < len(pairs); i += 2 {
				match = match && labels[pairs[i]] == pairs[i+1]
			}
			if match {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

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
	var stdout, stderr lockedBuffer
	e := &env{
		stdout: &stdout,
		stderr: &stderr,
		lookupEnv: config.MapEnv(map[string]string{
			"BATON_DATABASE_URL": "postgres://nobody@192.0.2.1:1/none",
			"OPENAI_API_KEY":     "sk-not-used",
			"BATON_DATA_DIR":     data,
		}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"demo", "--config", "../../examples/sportshop/baton.yaml", "--addr", "127.0.0.1:0", "--log-format", "json"}, e)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "Baton demo is running") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo never started\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
		}
		select {
		case code := <-exit:
			t.Fatalf("the demo exited with %d\nstderr: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d\nstderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop when its context was cancelled")
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"prints the admin API line with a generated token", regexp.MustCompile(`Bearer [0-9a-f]{48}`).MatchString(stdout.String())},
		{"says it ignores the database URL", strings.Contains(stderr.String(), "ignoring the database URL")},
		{"uses the embedded database", strings.Contains(stderr.String(), `"database":"sqlite `+filepath.Join(data, sqliteFile))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("not so:\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
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

// TestServeAddressInUse: a taken port is a clear error, and nothing is left
// running.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, lookupEnv: config.MapEnv(map[string]string{
		"TEST_ADMIN_TOKEN": "0123456789abcdef",
		"BATON_DATA_DIR":   t.TempDir(),
	})}
	code := run(context.Background(), []string{"serve", "--config", "testdata/serve.yaml", "--addr", ln.Addr().String()}, e)
	if code != exitFailure || !strings.Contains(stderr.String(), "listen on "+ln.Addr().String()) {
		t.Errorf("exit %d, stderr %q; want %d naming the address", code, stderr.String(), exitFailure)
	}
}
