package limit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// clock is a hand-moved time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func TestKeyed(t *testing.T) {
	clk := newClock()
	k := NewKeyed("posts per visitor", Rate{N: 3, Per: time.Minute}, Options{Now: clk.now})
	for i := 0; i < 3; i++ {
		if err := k.Allow("a"); err != nil {
			t.Fatalf("post %d of a burst of 3: %v", i+1, err)
		}
	}
	err := k.Allow("a")
	if baton.ErrorCode(err) != baton.ERATELIMITED || baton.HTTPStatus(err) != 429 {
		t.Fatalf("fourth post: %v, want rate_limited (429)", err)
	}
	// One token comes back every 20 s.
	if wait, ok := RetryAfter(err); !ok || wait != 20*time.Second {
		t.Fatalf("retry after %v %v, want 20s", wait, ok)
	}
	if msg := baton.ErrorMessage(err); !strings.Contains(msg, "3/1m") || !strings.Contains(msg, "retry after 20 s") || strings.Contains(msg, `"a"`) {
		t.Errorf("message %q: want the limit and the wait, not the key", msg)
	}
	if err := k.Allow("b"); err != nil {
		t.Errorf("another key shares the bucket: %v", err)
	}
	// A refusal spends nothing: after 20 s exactly one more is allowed.
	clk.add(20 * time.Second)
	if err := k.Allow("a"); err != nil {
		t.Errorf("after the wait: %v", err)
	}
	if err := k.Allow("a"); err == nil {
		t.Error("a second post after one token came back")
	}
	var off *Keyed
	if NewKeyed("x", Rate{}, Options{}) != nil || off.Allow("a") != nil {
		t.Error("an off rate must limit nothing")
	}
}

// TestKeyedMemoryIsBounded: a flood of distinct keys keeps at most MaxKeys
// buckets, and a key that keeps spending is not forgotten into a full
// bucket.
func TestKeyedMemoryIsBounded(t *testing.T) {
	clk := newClock()
	k := NewKeyed("posts per address", Rate{N: 2, Per: time.Hour}, Options{Now: clk.now, MaxKeys: 100})
	for i := 0; i < 10000; i++ {
		_ = k.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := k.buckets.Len(); n > 100 {
		t.Fatalf("%d buckets kept, want at most 100", n)
	}
	_ = k.Allow("hot")
	_ = k.Allow("hot")
	for i := 0; i < 50; i++ {
		_ = k.Allow(fmt.Sprintf("cold-%d", i))
		if err := k.Allow("hot"); err == nil {
			t.Fatalf("the spent bucket of a busy key came back full after %d other keys", i)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {20 * time.Second, 20}} {
		if got := RetryAfterSeconds(tc.d); got != tc.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestSlots(t *testing.T) {
	s := NewSlots("reply streams", "visitor", 2, 3, 10*time.Second)
	r1, err := s.Acquire("a")
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := s.Acquire("a")
	_, err = s.Acquire("a")
	if baton.ErrorCode(err) != baton.ERATELIMITED || !strings.Contains(baton.ErrorMessage(err), "2 open at once per visitor") {
		t.Fatalf("third stream of a visitor: %v", err)
	}
	if wait, _ := RetryAfter(err); wait != 10*time.Second {
		t.Errorf("retry after %v", wait)
	}
	rb, err := s.Acquire("b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire("c"); err == nil || !strings.Contains(baton.ErrorMessage(err), "3 open at once in total") {
		t.Fatalf("fourth stream in total: %v", err)
	}
	r1()
	r1() // a second release gives back nothing more
	if total, a := s.Open("a"); total != 2 || a != 1 {
		t.Fatalf("after one release: %d open, %d of a", total, a)
	}
	if _, err := s.Acquire("c"); err != nil {
		t.Fatalf("a released slot is free again: %v", err)
	}
	r2()
	rb()
	if _, a := s.Open("a"); a != 0 || len(s.byKey) != 1 {
		t.Errorf("released keys are kept: %v", s.byKey)
	}
	var off *Slots
	if NewSlots("x", "y", 0, 0, 0) != nil {
		t.Error("no bounds must be off")
	}
	if release, err := off.Acquire("a"); err != nil || release == nil {
		t.Error("off slots refused")
	}
}

// logLines counts JSON log lines by message.
func logLines(buf *syncBuffer) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		out[m["msg"].(string)] = append(out[m["msg"].(string)], m)
	}
	return out
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestGuard: 3,000 wrong tokens from one address log one line of their own
// and one summary, and past the limit are refused before any check.
func TestGuard(t *testing.T) {
	clk := newClock()
	logs := &syncBuffer{}
	g := NewGuard("admin API", Rate{N: 5, Per: time.Minute}, GuardOptions{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Every: time.Hour, Options: Options{Now: clk.now},
	})
	refused := 0
	for i := 0; i < 3000; i++ {
		a, err := g.Begin("192.0.2.7")
		if err != nil {
			if baton.ErrorCode(err) != baton.ERATELIMITED {
				t.Fatal(err)
			}
			refused++
			continue
		}
		a.Failed("wrong token")
	}
	if refused != 2995 {
		t.Fatalf("%d refused, want all but the first 5", refused)
	}
	if _, err := g.Begin("192.0.2.8"); err != nil {
		t.Fatalf("another address is refused: %v", err)
	}
	clk.add(12 * time.Second)
	a, err := g.Begin("192.0.2.7")
	if err != nil {
		t.Fatalf("one failure is allowed again after 12 s: %v", err)
	}
	a.Succeeded()
	for i := 0; i < 100; i++ {
		a, err := g.Begin("192.0.2.7")
		if err != nil {
			t.Fatalf("successful attempt %d refused: successes must not use up the budget: %v", i, err)
		}
		a.Succeeded()
	}
	// Attempts in flight at once hold the budget: with one failure left,
	// a second concurrent attempt is refused until the first is decided.
	first, err := g.Begin("192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Begin("192.0.2.7"); err == nil {
		t.Fatal("a concurrent attempt passed on the one failure the first holds")
	}
	first.Succeeded()
	g.Flush()
	lines := logLines(logs)
	if n := len(lines["authentication failed"]); n != 1 {
		t.Fatalf("%d per-attempt lines, want 1:\n%s", n, logs.String())
	}
	sum := lines["authentication failures"]
	if len(sum) != 1 || sum[0]["failed"] != float64(4) || sum[0]["refused"] != float64(2995+1) || sum[0]["addresses"] != float64(1) {
		t.Fatalf("summary %v", sum)
	}
	if first := lines["authentication failed"][0]; first["client"] != "192.0.2.7" || first["reason"] != "wrong token" {
		t.Errorf("first line %v", first)
	}
	if len(lines) != 2 {
		t.Errorf("unexpected lines:\n%s", logs.String())
	}
}

// TestGuardSummaryTimer: without Flush, the summary comes by itself after
// the interval, and many addresses do not mean one line each.
func TestGuardSummaryTimer(t *testing.T) {
	logs := &syncBuffer{}
	g := NewGuard("admin API", Rate{N: 1000, Per: time.Minute}, GuardOptions{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Every: 50 * time.Millisecond, MaxLines: 3,
	})
	for i := 0; i < 200; i++ {
		a, err := g.Begin(fmt.Sprintf("198.51.100.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		a.Failed("missing token")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(logLines(logs)["authentication failures"]) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no summary:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	lines := logLines(logs)
	if n := len(lines["authentication failed"]); n != 3 {
		t.Errorf("%d lines of their own, want MaxLines (3)", n)
	}
	if s := lines["authentication failures"][0]; s["failed"] != float64(197) || s["addresses"] != float64(197) {
		t.Errorf("summary %v", s)
	}
	g.Flush()
}

func TestClient(t *testing.T) {
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name    string
		proxies *Proxies
		header  []string
		want    string
	}{
		{"no proxies: the peer, whatever the header says", nil, []string{"203.0.113.9"}, "127.0.0.1"},
		{"untrusted peer: the header is ignored", NewProxies([]netip.Prefix{proxy}, ""), []string{"203.0.113.9"}, "127.0.0.1"},
		{"trusted peer without a header", NewProxies([]netip.Prefix{loopback}, ""), nil, "127.0.0.1"},
		{"trusted peer: the address it forwarded", NewProxies([]netip.Prefix{loopback}, ""), []string{"203.0.113.9"}, "203.0.113.9"},
		{"a forged entry left of the real one", NewProxies([]netip.Prefix{loopback}, ""), []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"past a chain of trusted proxies", NewProxies([]netip.Prefix{loopback, proxy}, ""), []string{"1.2.3.4, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"several header lines", NewProxies([]netip.Prefix{loopback, proxy}, ""), []string{"1.2.3.4", "203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"garbage stops the walk at the last trusted hop", NewProxies([]netip.Prefix{loopback, proxy}, ""), []string{"203.0.113.9, unknown, 10.1.2.3"}, "10.1.2.3"},
		{"with a port", NewProxies([]netip.Prefix{loopback}, ""), []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"another header", NewProxies([]netip.Prefix{loopback}, "X-Real-IP"), []string{"203.0.113.9"}, "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString(tc.proxies.Client(c)) })
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = app.Listener(ln) }()
			defer func() { _ = app.Shutdown() }()
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
			for _, h := range tc.header {
				req.Header.Add("X-Forwarded-For", h)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != tc.want {
				t.Errorf("client %q, want %q", body, tc.want)
			}
		})
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3::9":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ff::1": "2001:db8:1:2::/64",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.7": "10.0.0.7/32", "10.1.2.3/8": "10.0.0.0/8", "::1": "::1/128"} {
		p, err := ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%s) = %v, %v; want %s", in, p, err, want)
		}
	}
	if _, err := ParsePrefix("proxy.internal"); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("a host name: %v", err)
	}
}

func TestGuardWithoutLimit(t *testing.T) {
	logs := &syncBuffer{}
	g := NewGuard("admin API", Rate{}, GuardOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Every: time.Hour})
	for i := 0; i < 100; i++ {
		a, err := g.Begin("192.0.2.7")
		if err != nil {
			t.Fatalf("attempt %d refused with the limit off: %v", i, err)
		}
		a.Failed("wrong token")
	}
	g.Flush()
	lines := logLines(logs)
	if len(lines["authentication failed"]) != 1 || lines["authentication failures"][0]["failed"] != float64(99) {
		t.Errorf("warnings not aggregated with the limit off:\n%s", logs.String())
	}
}
