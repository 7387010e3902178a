package slack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
)

// apiCall is one Web API call the fake received.
type apiCall struct {
	Method  string // "chat.postMessage", ...
	Channel string
	TS      string
	Text    string
	Blocks  string // the blocks JSON as sent
	User    string // chat.postEphemeral's recipient
	Trigger string // views.open's trigger_id
	View    string // views.open's view JSON as sent
	Thread  string // chat.postMessage's thread_ts
	Meta    string // chat.postMessage's metadata JSON as sent
	Status  int    // what the fake answered
}

// fakeMessage is a message the fake keeps in a channel, for
// conversations.history and conversations.replies.
type fakeMessage struct {
	TS, Thread, Text string
	Meta             map[string]any
}

// fakeSlack plays the Slack Web API on loopback and records every call.
// Tests script failures: the next calls of a method answer 429 with a
// Retry-After, or an "ok": false error.
type fakeSlack struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	seq     int
	limited map[string]int    // method -> how many next calls answer 429
	fail    map[string]string // method -> the error every call answers
	// lost: method -> how many next calls are carried out and then
	// answered 500, as when Slack's answer is lost on the way back.
	lost     map[string]int
	channels map[string][]fakeMessage // channel -> its messages, oldest first
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{limited: map[string]int{}, fail: map[string]string{}, lost: map[string]int{}, channels: map[string][]fakeMessage{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a slack-go client of the fake.
func (f *fakeSlack) client() *slack.Client {
	return slack.New("xoxb-test", slack.OptionAPIURL(f.srv.URL+"/"))
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	var js struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&js); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/")
	c := apiCall{Method: method, Channel: r.PostForm.Get("channel"), TS: r.PostForm.Get("ts"), Text: r.PostForm.Get("text"), Blocks: r.PostForm.Get("blocks"),
		User: r.PostForm.Get("user"), Trigger: js.TriggerID, View: string(js.View), Thread: r.PostForm.Get("thread_ts"), Meta: r.PostForm.Get("metadata"),
		Status: http.StatusOK}
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := func(v map[string]any) {
		f.calls = append(f.calls, c)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer xoxb-test" && r.PostForm.Get("token") != "xoxb-test" {
		answer(map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	if f.limited[method] > 0 {
		f.limited[method]--
		c.Status = http.StatusTooManyRequests
		f.calls = append(f.calls, c)
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if e := f.fail[method]; e != "" {
		answer(map[string]any{"ok": false, "error": e})
		return
	}
	switch method {
	case "auth.test":
		answer(map[string]any{"ok": true, "team_id": "T0TEAM", "user_id": "U0BOTUSER", "bot_id": "B0BOT"})
	case "chat.postMessage":
		f.seq++
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		m := fakeMessage{TS: ts, Thread: c.Thread, Text: c.Text}
		if c.Meta != "" {
			var meta struct {
				EventType    string         `json:"event_type"`
				EventPayload map[string]any `json:"event_payload"`
			}
			if err := json.Unmarshal([]byte(c.Meta), &meta); err != nil {
				c.Status = http.StatusBadRequest
				f.calls = append(f.calls, c)
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			m.Meta = map[string]any{"event_type": meta.EventType, "event_payload": meta.EventPayload}
		}
		f.channels[c.Channel] = append(f.channels[c.Channel], m)
		if f.lost[method] > 0 {
			f.lost[method]--
			c.Status = http.StatusInternalServerError
			f.calls = append(f.calls, c)
			http.Error(w, "lost", http.StatusInternalServerError)
			return
		}
		answer(map[string]any{"ok": true, "channel": c.Channel, "ts": ts, "message": map[string]any{"ts": ts, "text": c.Text}})
	case "conversations.history", "conversations.replies":
		// Newest first for history, the thread oldest first for replies,
		// as Slack answers; metadata only when asked for.
		var out []map[string]any
		all := r.PostForm.Get("include_all_metadata") == "1"
		msgs := f.channels[c.Channel]
		for i := range msgs {
			m := msgs[i]
			if method == "conversations.history" {
				m = msgs[len(msgs)-1-i]
				if m.Thread != "" {
					continue
				}
			} else if m.TS != c.TS && m.Thread != c.TS {
				continue
			}
			v := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
			if m.Thread != "" {
				v["thread_ts"] = m.Thread
			}
			if all && m.Meta != nil {
				v["metadata"] = m.Meta
			}
			out = append(out, v)
		}
		answer(map[string]any{"ok": true, "messages": out, "has_more": false})
	case "chat.postEphemeral":
		answer(map[string]any{"ok": true, "message_ts": "1700000099.000001"})
	case "views.open":
		answer(map[string]any{"ok": true, "view": map[string]any{"id": "V0MODAL"}})
	case "chat.update":
		answer(map[string]any{"ok": true, "channel": c.Channel, "ts": c.TS, "text": c.Text})
	default:
		c.Status = http.StatusNotFound
		f.calls = append(f.calls, c)
		http.Error(w, "unknown method", http.StatusNotFound)
	}
}

// take returns the calls so far and forgets them.
func (f *fakeSlack) take() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

func (f *fakeSlack) limit(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited[method] = n
}

// lose makes the next n calls of method happen and answer 500.
func (f *fakeSlack) lose(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost[method] = n
}

func (f *fakeSlack) failWith(method, e string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = e
}
