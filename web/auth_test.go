package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/limit"
	"github.com/batonhq/baton/web"
)

// TestFailedAdminAuth: 3,000 wrong tokens from one address, concurrently.
// Past the limit they are refused with 429 before the token is checked
// (a right token too), and the log has one line for the address and one
// summary, not a line per attempt.
func TestFailedAdminAuth(t *testing.T) {
	st := openStore(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	guard := limit.NewGuard("admin API", limit.Rate{N: 10, Per: time.Minute}, limit.GuardOptions{Logger: log, Every: time.Hour})
	base, _ := serve(t, web.Config{Store: st, AdminToken: adminToken, AuthGuard: guard, Logger: log})

	const attempts, workers = 3000, 16
	var unauthorized, limited atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < attempts; i += workers {
				req, _ := http.NewRequest("GET", base+"/api/v1/conversations", nil)
				req.Header.Set("Authorization", "Bearer wrong-token-"+strconv.Itoa(i))
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 401:
					unauthorized.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if unauthorized.Load() != 10 || limited.Load() != attempts-10 {
		t.Fatalf("%d unauthorized, %d refused; want 10 and the rest", unauthorized.Load(), limited.Load())
	}
	status, hdr, body := do(t, "GET", base+"/api/v1/conversations", nil, map[string]string{"Authorization": "Bearer " + adminToken})
	if status != 429 || errorCode(t, body) != baton.ERATELIMITED {
		t.Fatalf("the right token from a limited address: %d %s, want 429 before the check", status, body)
	}
	if s, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || s < 1 || s > 6 {
		t.Errorf("Retry-After %q, want the seconds until one more try (at most 6)", hdr.Get("Retry-After"))
	}
	guard.Flush()
	var own, summaries, perRequest int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q", line)
		}
		switch m["msg"] {
		case "authentication failed":
			own++
		case "authentication failures":
			summaries++
			if m["failed"].(float64)+m["refused"].(float64) != attempts {
				// 3,000 wrong tokens and the right one, less the first
				// failure, which had its own line.
				t.Errorf("summary counts %v, want %d", m, attempts)
			}
		case "request failed":
			if m["level"] != "DEBUG" {
				perRequest++
			}
		}
		if strings.Contains(line, "wrong-token") || strings.Contains(line, adminToken) {
			t.Fatalf("a token reached the log: %s", line)
		}
	}
	if own != 1 || summaries != 1 || perRequest != 0 {
		t.Fatalf("%d lines of their own, %d summaries, %d warnings per request; want 1, 1, 0:\n%.2000s", own, summaries, perRequest, logs.String())
	}
}

// TestClientBehindTrustedProxy: the failed-auth limit follows the address
// a trusted proxy forwarded, and ignores what an untrusted peer claims.
func TestClientBehindTrustedProxy(t *testing.T) {
	st := openStore(t)
	newServer := func(p *limit.Proxies) string {
		guard := limit.NewGuard("admin API", limit.Rate{N: 1, Per: time.Hour}, limit.GuardOptions{Every: time.Hour})
		base, _ := serve(t, web.Config{Store: st, AdminToken: adminToken, AuthGuard: guard, Proxies: p})
		return base
	}
	try := func(base, forwarded string) int {
		status, _, _ := do(t, "GET", base+"/api/v1/conversations", nil, map[string]string{"Authorization": "Bearer nope", "X-Forwarded-For": forwarded})
		return status
	}
	behind := newServer(limit.NewProxies([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, ""))
	if try(behind, "203.0.113.1") != 401 || try(behind, "203.0.113.1") != 429 {
		t.Fatal("the forwarded client is not limited")
	}
	if s := try(behind, "203.0.113.2"); s != 401 {
		t.Fatalf("another forwarded client shares the limit: %d", s)
	}
	direct := newServer(nil)
	if try(direct, "203.0.113.1") != 401 || try(direct, "203.0.113.9") != 429 {
		t.Fatal("an untrusted peer picked its own bucket with X-Forwarded-For")
	}
}

// TestSuccessfulAdminAuthSpendsNothing: an operator's right token, used
// often, never runs into the failure limit.
func TestSuccessfulAdminAuthSpendsNothing(t *testing.T) {
	st := openStore(t)
	guard := limit.NewGuard("admin API", limit.Rate{N: 3, Per: time.Minute}, limit.GuardOptions{})
	base, _ := serve(t, web.Config{Store: st, AdminToken: adminToken, AuthGuard: guard})
	for i := 0; i < 30; i++ {
		status, _, body := do(t, "GET", base+"/api/v1/conversations", nil, map[string]string{"Authorization": "Bearer " + adminToken})
		if status != 200 {
			t.Fatalf("request %d with the right token: %d %s", i+1, status, body)
		}
	}
}
