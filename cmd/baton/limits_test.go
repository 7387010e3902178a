package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/batonhq/baton/config"
)

// TestServeWiresLimits: server.limits reach the routes of a running server.
func TestServeWiresLimits(t *testing.T) {
	const token = "0123456789abcdef"
	cfg, err := config.Load("testdata/limits.yaml", config.MapEnv(map[string]string{"TEST_ADMIN_TOKEN": token}))
	if err != nil {
		t.Fatal(err)
	}
	f := &serveFlags{addr: "127.0.0.1:0", dataDir: t.TempDir(), shutdownTimeout: 2 * time.Second, workers: 1}
	if err := f.apply(cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := listen(cfg.Server.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, &env{stdout: io.Discard, stderr: io.Discard}, slog.New(slog.DiscardHandler), cfg, f, ln, func(u string) { urls <- u })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path, body string, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 429 without Retry-After", method, path)
		}
		return resp.StatusCode
	}
	post := func(visitor, id string) int {
		return call("POST", "/chat/shop/messages", fmt.Sprintf(`{"visitor_id":%q,"client_message_id":%q,"text":"hi"}`, visitor, id), nil)
	}
	tests := []struct {
		name string
		got  func() int
		want int
	}{
		{"first post", func() int { return post("visitor-aaaaaaaaaa", "c-00000001") }, 200},
		{"second post", func() int { return post("visitor-aaaaaaaaaa", "c-00000002") }, 200},
		{"third post of the visitor", func() int { return post("visitor-aaaaaaaaaa", "c-00000003") }, 429},
		{"another visitor, third post of the address", func() int { return post("visitor-bbbbbbbbbb", "c-00000001") }, 429},
		{"wrong admin token", func() int {
			return call("GET", "/api/v1/conversations", "", map[string]string{"Authorization": "Bearer wrong"})
		}, 401},
		{"second wrong admin token", func() int {
			return call("GET", "/api/v1/conversations", "", map[string]string{"Authorization": "Bearer wrong"})
		}, 401},
		{"the right token after two failures", func() int {
			return call("GET", "/api/v1/conversations", "", map[string]string{"Authorization": "Bearer " + token})
		}, 429},
	}
	for _, tc := range tests {
		if got := tc.got(); got != tc.want {
			t.Fatalf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	// One stream per visitor.
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", base+"/chat/shop/stream?visitor_id=visitor-cccccccccc", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("first stream: %d", resp.StatusCode)
	}
	if s := call("GET", "/chat/shop/stream?visitor_id=visitor-cccccccccc", "", nil); s != 429 {
		t.Fatalf("second stream of the visitor: %d, want 429", s)
	}
}
