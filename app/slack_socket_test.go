package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/gorilla/websocket"
)

// TestSlackSocketModeWired: with a bot token and an app-level token (no
// signing secret), the app opens a Socket Mode connection when it starts,
// a /baton command that comes over it acts through the desk and is
// answered in the ack, and Shutdown closes the connection.
func TestSlackSocketModeWired(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			acks := make(chan json.RawMessage, 4)
			closed := make(chan struct{})
			web := &slackAPI{}
			mux := http.NewServeMux()
			var srv *httptest.Server
			mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer xapp-1-test" {
					fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
					return
				}
				fmt.Fprintf(w, `{"ok":true,"url":%q}`, "ws"+strings.TrimPrefix(srv.URL, "http")+"/link")
			})
			mux.HandleFunc("/link", func(w http.ResponseWriter, r *http.Request) {
				conn, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer conn.Close()
				cmd, _ := json.Marshal(map[string]string{"command": "/baton", "text": "status online", "user_id": "U0EMRE", "team_id": "T0TEAM"})
				env, _ := json.Marshal(map[string]any{"envelope_id": "env-1", "type": "slash_commands", "payload": json.RawMessage(cmd), "accepts_response_payload": true})
				for _, f := range []string{`{"type":"hello","num_connections":1}`, string(env)} {
					if err := conn.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
						return
					}
				}
				for {
					_, b, err := conn.ReadMessage()
					if err != nil {
						close(closed)
						return
					}
					acks <- b
				}
			})
			mux.Handle("/", web)
			srv = httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			fakeURL, _ := url.Parse(srv.URL)

			clock := baton.NewManualClock(start)
			st := sc.Open(t, clock)
			cfg := deskConfig(t, "http://127.0.0.1:1", "http://127.0.0.1:1")
			cfg.Slack.BotToken, cfg.Slack.AppToken = "xoxb-test", "xapp-1-test"
			cfg.Agents[2].SlackUserID = "U0EMRE"
			if problems := cfg.Validate(); len(problems) > 0 {
				t.Fatal(problems)
			}
			a, err := app.New(context.Background(), cfg, app.Options{Store: st, Logger: slog.New(slog.DiscardHandler), Clock: clock,
				Jobs: fastJobs(), HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: toFake{fakeURL}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Start(); err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					_ = a.Shutdown(context.Background())
				}
			})

			select {
			case b := <-acks:
				var ack struct {
					EnvelopeID string `json:"envelope_id"`
					Payload    struct {
						ResponseType string `json:"response_type"`
						Text         string `json:"text"`
					} `json:"payload"`
				}
				if err := json.Unmarshal(b, &ack); err != nil || ack.EnvelopeID != "env-1" || ack.Payload.ResponseType != "ephemeral" || !strings.Contains(ack.Payload.Text, "now online") {
					t.Fatalf("ack %s (%v)", b, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no ack over Socket Mode")
			}
			if ag, err := st.GetAgent(context.Background(), "emre"); err != nil || ag.Status != baton.AgentOnline {
				t.Fatalf("emre after /baton status online: %+v, %v", ag, err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := a.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			stopped = true
			select {
			case <-closed:
			case <-time.After(5 * time.Second):
				t.Fatal("Shutdown left the Socket Mode connection open")
			}
		})
	}
}
