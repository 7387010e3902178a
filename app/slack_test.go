package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

const slackSecret = "slack-signing-secret"

// slackAPI plays the Slack Web API for the app: it answers auth.test,
// chat.postMessage and chat.update and records the posts and updates.
type slackAPI struct {
	mu    sync.Mutex
	calls []url.Values // with "method" added
}

func (s *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	v := url.Values{}
	for k, vs := range r.PostForm {
		v[k] = vs
	}
	v.Set("method", method)
	s.mu.Lock()
	s.calls = append(s.calls, v)
	n := len(s.calls)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "auth.test":
		fmt.Fprint(w, `{"ok":true,"team_id":"T0TEAM","user_id":"U0BOT"}`)
	case "views.open":
		fmt.Fprint(w, `{"ok":true,"view":{"id":"V0MODAL"}}`)
	case "chat.postMessage", "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, r.PostForm.Get("channel"), n)
	default:
		fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

func (s *slackAPI) posts(method string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, c := range s.calls {
		if c.Get("method") == method {
			out = append(out, c)
		}
	}
	return out
}

// toFake sends every request for slack.com to the fake.
type toFake struct{ fake *url.URL }

func (t toFake) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "slack.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.fake.Scheme, t.fake.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func slackSign(at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(slackSecret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/json")
	return h
}

// TestSlackConsoleWired: with a bot token and a signing secret, an
// escalation's card reaches the queue's Slack channel and Slack's Request
// URLs answer; a stale request is refused.
func TestSlackConsoleWired(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			fake := &slackAPI{}
			e := newSlackEnv(t, sc, fake, nil)

			const customer = "905320000009"
			e.post("whatsapp", waText("wamid.s1", customer, "Müşteri temsilcisine bağlanmak istiyorum", start))
			e.runJobs(func() bool { return len(fake.posts("chat.postMessage")) > 0 })
			conv := e.conversationOf(customer)
			posts := fake.posts("chat.postMessage")
			if len(posts) != 1 || posts[0].Get("channel") != "C0GENERAL" || !strings.Contains(posts[0].Get("blocks"), "claim_conversation") ||
				!strings.Contains(posts[0].Get("blocks"), baton.TriggerWantsHuman) {
				t.Fatalf("posts %v", posts)
			}
			th, err := e.st.GetSlackThread(context.Background(), "T0TEAM", conv.ID)
			if err != nil || th.ChannelID != "C0GENERAL" {
				t.Fatalf("thread %+v, %v", th, err)
			}

			// Emre, who speaks Turkish, comes online and is given it: the
			// assignment updates the card in place.
			e.online("emre")
			e.runJobs(func() bool { return len(fake.posts("chat.update")) > 0 })
			if up := fake.posts("chat.update"); up[0].Get("ts") != th.MessageTS || !strings.Contains(up[0].Get("blocks"), "with emre") {
				t.Fatalf("update %v", up[0])
			}
			if n := len(fake.posts("chat.postMessage")); n != 1 {
				t.Fatalf("%d posts, want the one card", n)
			}

			base := e.serve()
			post := func(h http.Header, body string) (int, string) {
				req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", strings.NewReader(body))
				req.Header = h
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			verify, _ := json.Marshal(map[string]string{"type": "url_verification", "challenge": "c-123", "token": "x"})
			if code, body := post(slackSign(time.Now(), verify), string(verify)); code != http.StatusOK || body != "c-123" {
				t.Fatalf("url_verification: %d %q", code, body)
			}
			if code, _ := post(slackSign(time.Now().Add(-10*time.Minute), verify), string(verify)); code != http.StatusUnauthorized {
				t.Fatalf("stale request: %d, want 401", code)
			}

			// Transfer on the card opens its modal at once, with the
			// press's trigger id (it expires in 3 s: no job in between).
			press, _ := json.Marshal(map[string]any{"type": "block_actions", "trigger_id": "trig-1", "team": map[string]string{"id": "T0TEAM"},
				"user": map[string]string{"id": "U0EMRE"}, "channel": map[string]string{"id": "C0GENERAL"},
				"actions": []map[string]string{{"action_id": "transfer_conversation", "block_id": "escalation_actions", "value": strconv.FormatInt(conv.ID, 10)}}})
			form := "payload=" + url.QueryEscape(string(press))
			h := slackSign(time.Now(), []byte(form))
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			req, _ := http.NewRequest(http.MethodPost, base+"/slack/interactions", strings.NewReader(form))
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(fake.posts("views.open")) != 1 {
				t.Fatalf("transfer press: %d, %d views opened", resp.StatusCode, len(fake.posts("views.open")))
			}
		})
	}
}
