package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/batonhq/baton/config"
)

// TestServeBudgetsBotTurns: server.limits.bot_turns_per_conversation holds
// back the bot's third turn in a conversation; the customer's messages are
// all stored.
func TestServeBudgetsBotTurns(t *testing.T) {
	const token = "0123456789abcdef"
	cfg, err := config.Load("testdata/turns.yaml", config.MapEnv(map[string]string{"TEST_ADMIN_TOKEN": token}))
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
	transcript := func() (in, out int) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1/conversations/1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			Messages []struct {
				Direction string `json:"direction"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		for _, m := range v.Messages {
			if m.Direction == "in" {
				in++
			} else if m.Direction == "out" {
				out++
			}
		}
		return in, out
	}
	for i := 1; i <= 3; i++ {
		body := fmt.Sprintf(`{"visitor_id":"visitor-aaaaaaaaaa","client_message_id":"c-%08d","text":"question %d"}`, i, i)
		resp, err := client.Post(base+"/chat/shop/messages", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post %d: status %d", i, resp.StatusCode)
		}
		want := min(i, 2)
		deadline := time.Now().Add(10 * time.Second)
		for {
			in, out := transcript()
			if in == i && out == want {
				break
			}
			if out > want {
				t.Fatalf("after message %d: %d bot replies, want %d", i, out, want)
			}
			if time.Now().After(deadline) {
				t.Fatalf("after message %d: %d in, %d out; want %d in, %d out", i, in, out, i, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The third turn stays deferred: no reply shows up meanwhile.
	time.Sleep(500 * time.Millisecond)
	if _, out := transcript(); out != 2 {
		t.Fatalf("%d bot replies after the budget ran out, want 2", out)
	}
}
