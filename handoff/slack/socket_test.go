package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// fakeSocketMode plays Slack's Socket Mode: apps.connections.open answers
// with a ws:// URL on the same server, and each WebSocket connection gets
// the next script of frames, then has every frame the client sends
// (the acks) recorded.
type fakeSocketMode struct {
	srv *httptest.Server

	mu      sync.Mutex
	scripts [][]string // frames per connection, in order
	opens   int
	auth    []string // Authorization of each apps.connections.open
	conns   int
	closed  int // connections the client ended
	refuse  int // how many first opens answer invalid_auth
	acks    chan socketAck
}

type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func newFakeSocketMode(t *testing.T, scripts ...[]string) *fakeSocketMode {
	f := &fakeSocketMode{scripts: scripts, acks: make(chan socketAck, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.opens++
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		refused := f.opens <= f.refuse
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refused {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"url":%q}`, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/link")
	})
	mux.HandleFunc("/link", f.link)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSocketMode) link(w http.ResponseWriter, r *http.Request) {
	conn, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	f.mu.Lock()
	var script []string
	if f.conns < len(f.scripts) {
		script = f.scripts[f.conns]
	}
	f.conns++
	f.mu.Unlock()
	// Acks are read while the script is sent: a script step "wait N"
	// holds the next frames until N more acks came on this connection,
	// as Slack's disconnect warning comes well after what it delivered.
	mine := make(chan struct{}, 64)
	go func() {
		for _, frame := range script {
			var n int
			if _, err := fmt.Sscanf(frame, "wait %d", &n); err == nil {
				for range n {
					<-mine
				}
				continue
			}
			if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
				return
			}
		}
	}()
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			f.mu.Lock()
			f.closed++
			f.mu.Unlock()
			close(mine)
			return
		}
		var a socketAck
		if json.Unmarshal(b, &a) == nil {
			f.acks <- a
			mine <- struct{}{}
		}
	}
}

// envelope is a Socket Mode frame of typ carrying payload.
func socketEnvelope(t *testing.T, id, typ string, payload []byte, retry int) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"envelope_id": id, "type": typ, "payload": json.RawMessage(payload),
		"accepts_response_payload": typ == "slash_commands", "retry_attempt": retry, "retry_reason": map[bool]string{true: "timeout"}[retry > 0]})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const socketHello = `{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0APP"},"debug_info":{"host":"applink-test"}}`

// waitAcks collects n acks by envelope id.
func (f *fakeSocketMode) waitAcks(t *testing.T, n int) map[string]socketAck {
	t.Helper()
	got := map[string]socketAck{}
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case a := <-f.acks:
			got[a.EnvelopeID] = a
		case <-deadline:
			t.Fatalf("got %d acks %v, want %d", len(got), got, n)
		}
	}
	return got
}

func TestSocketModeTakesEnvelopesLikeHTTP(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			ctx := context.Background()
			st := sc.Open(t, baton.SystemClock{})
			event := fixture(t, "CONSTRUCTED_event_callback_thread_reply.json")
			command, _ := json.Marshal(slack.SlashCommand{Command: "/baton", Text: "mine", UserID: "U0NOBODY", TeamID: "T0TEAM", ChannelID: "C0ESCALATE"})
			fake := newFakeSocketMode(t,
				[]string{
					socketHello,
					socketEnvelope(t, "env-event", "events_api", event, 0),
					// Slack redelivers the same event in a new envelope.
					socketEnvelope(t, "env-replay", "events_api", event, 1),
					socketEnvelope(t, "env-bot", "events_api", botMessageEvent(t), 0),
					socketEnvelope(t, "env-press", "interactive", fixture(t, "CONSTRUCTED_block_actions_button.json"), 0),
					socketEnvelope(t, "env-command", "slash_commands", command, 0),
					// A modal's submission by someone linked to no agent.
					socketEnvelope(t, "env-submit", "interactive", fixture(t, "CONSTRUCTED_view_submission.json"), 0),
					// Slack asks for a new connection now and then.
					"wait 6",
					`{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-test"}}`,
				},
				[]string{socketHello, socketEnvelope(t, "env-after", "events_api", ownMessageEvent(t), 0)},
			)
			api := slack.New("xoxb-test", slack.OptionAppLevelToken("xapp-1-test"), slack.OptionAPIURL(fake.srv.URL+"/"))
			sock := &Socket{API: api, Intake: &Intake{Store: st, BotUserID: "U0BOTUSER", Slash: &Commands{Store: st}, Modals: &Modals{Store: st}}}
			if err := sock.Start(ctx); err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					_ = sock.Stop(context.Background())
				}
			})

			acks := fake.waitAcks(t, 7)
			for _, id := range []string{"env-event", "env-replay", "env-bot", "env-press", "env-command", "env-submit", "env-after"} {
				if _, ok := acks[id]; !ok {
					t.Errorf("envelope %s not acknowledged; acks %v", id, acks)
				}
			}
			var answer slack.Msg
			if err := json.Unmarshal(acks["env-command"].Payload, &answer); err != nil || answer.ResponseType != slack.ResponseTypeEphemeral || !strings.Contains(answer.Text, "not linked") {
				t.Errorf("slash command ack payload %s (%v), want an ephemeral 'not linked' answer", acks["env-command"].Payload, err)
			}
			var refused slack.ViewSubmissionResponse
			if err := json.Unmarshal(acks["env-submit"].Payload, &refused); err != nil || refused.ResponseAction != slack.RAErrors || !strings.Contains(refused.Errors[BlockNote], "not linked") {
				t.Errorf("view_submission ack payload %s (%v), want field errors saying 'not linked'", acks["env-submit"].Payload, err)
			}
			if p := acks["env-event"].Payload; len(p) != 0 {
				t.Errorf("event ack carries payload %s", p)
			}

			js, err := st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobSlack})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]int{}
			for _, j := range js {
				var p payload
				if err := json.Unmarshal(j.Payload, &p); err != nil {
					t.Fatal(err)
				}
				ops[p.Op+" "+p.EventID]++
			}
			want := map[string]int{"event Ev0AGENTREPLY": 1, "interaction 1234567890.1234567890.abcdef": 1}
			if fmt.Sprint(ops) != fmt.Sprint(want) {
				t.Errorf("jobs %v, want %v: the replay, the bot's and our own message make none", ops, want)
			}

			fake.mu.Lock()
			opens, auth := fake.opens, fake.auth
			fake.mu.Unlock()
			if opens != 2 {
				t.Errorf("apps.connections.open called %d times, want 2 (a reconnect after disconnect)", opens)
			}
			for _, a := range auth {
				if a != "Bearer xapp-1-test" {
					t.Errorf("apps.connections.open with Authorization %q, want the app-level token", a)
				}
			}

			stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := sock.Stop(stopCtx); err != nil {
				t.Fatalf("stop: %v", err)
			}
			stopped = true
			deadline := time.Now().Add(5 * time.Second)
			for {
				fake.mu.Lock()
				closed := fake.closed
				fake.mu.Unlock()
				if closed == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of 2 connections closed after Stop", closed)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := sock.Stop(stopCtx); err != nil {
				t.Errorf("second stop: %v", err)
			}
		})
	}
}

func TestSocketModeStartNeedsItsParts(t *testing.T) {
	for _, s := range []*Socket{{}, {API: slack.New("xoxb-test")}, {Intake: &Intake{}}} {
		if err := s.Start(context.Background()); baton.ErrorCode(err) != baton.EINVALID {
			t.Errorf("start %+v: %v, want invalid", s, err)
		}
	}
}

// TestSocketModeRetriesWhatSlackGoGivesUp: slack-go stops on an
// invalid_auth from apps.connections.open (it takes it for fatal); the
// service tries again after a backoff and serves once Slack accepts.
func TestSocketModeRetriesWhatSlackGoGivesUp(t *testing.T) {
	st := stores()[0].Open(t, baton.SystemClock{})
	fake := newFakeSocketMode(t, []string{socketHello, socketEnvelope(t, "env-1", "events_api", fixture(t, "CONSTRUCTED_event_callback_thread_reply.json"), 0)})
	fake.refuse = 1
	api := slack.New("xoxb-test", slack.OptionAppLevelToken("xapp-1-test"), slack.OptionAPIURL(fake.srv.URL+"/"))
	sock := &Socket{API: api, Intake: &Intake{Store: st}}
	if err := sock.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sock.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	if acks := fake.waitAcks(t, 1); acks["env-1"].EnvelopeID != "env-1" {
		t.Fatalf("acks %v", acks)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.opens != 2 {
		t.Errorf("apps.connections.open called %d times, want 2 (refused, then accepted)", fake.opens)
	}
}
