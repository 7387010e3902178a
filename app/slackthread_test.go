package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
)

// threadSlackAPI is slackAPI with what the card's thread needs too:
// reactions and conversations.open.
type threadSlackAPI struct{ *slackAPI }

func (s threadSlackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	switch method {
	case "reactions.add", "reactions.remove", "conversations.open":
	default:
		s.slackAPI.ServeHTTP(w, r)
		return
	}
	_ = r.ParseForm()
	v := url.Values{}
	for k, vs := range r.PostForm {
		v[k] = vs
	}
	v.Set("method", method)
	s.mu.Lock()
	s.calls = append(s.calls, v)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if method == "conversations.open" {
		fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D0%s"}}`, r.PostForm.Get("users"))
		return
	}
	fmt.Fprint(w, `{"ok":true}`)
}

// TestSlackThreadEndToEnd: through the app, with a fake WhatsApp and a
// fake Slack, the owner's reply in the card's thread reaches the WhatsApp
// customer and shows as delivered, another person's reply stays internal
// with a Claim offer, and the customer's next message appears in the
// thread.
func TestSlackThreadEndToEnd(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			fake := threadSlackAPI{&slackAPI{}}
			e := newSlackEnv(t, sc, fake, func(cfg *config.Config) {
				for i := range cfg.Agents {
					cfg.Agents[i].SlackUserID = "U0" + strings.ToUpper(cfg.Agents[i].ID)
				}
			})

			const customer = "905320000009"
			e.post("whatsapp", waText("wamid.t1", customer, "Müşteri temsilcisine bağlanmak istiyorum", start))
			e.runJobs(func() bool { return len(fake.posts("chat.postMessage")) > 0 })
			conv := e.conversationOf(customer)
			th, err := e.st.GetSlackThread(context.Background(), "T0TEAM", conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			e.online("emre")
			// The assignment DMs Emre.
			e.runJobs(func() bool { return len(fake.posts("conversations.open")) > 0 })
			if open := fake.posts("conversations.open"); open[0].Get("users") != "U0EMRE" {
				t.Fatalf("DM opened with %v", open[0])
			}

			base := e.serve()
			events := 0
			say := func(user, text string) string {
				t.Helper()
				events++
				ts := fmt.Sprintf("1700000100.%06d", events)
				body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T0TEAM", "event_id": fmt.Sprintf("Ev0T%d", events),
					"event": map[string]any{"type": "message", "channel": th.ChannelID, "user": user, "text": text, "ts": ts, "thread_ts": th.Root()}})
				req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", strings.NewReader(string(body)))
				req.Header = slackSign(time.Now(), body)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("event: %d", resp.StatusCode)
				}
				return ts
			}
			textsTo := func() []string {
				var out []string
				for _, r := range e.graph.Requests() {
					var b struct {
						To   string `json:"to"`
						Text struct {
							Body string `json:"body"`
						} `json:"text"`
					}
					if json.Unmarshal(r.Body, &b) == nil && b.To == customer && b.Text.Body != "" {
						out = append(out, b.Text.Body)
					}
				}
				return out
			}
			reactions := func(name string) int {
				n := 0
				for _, c := range fake.posts("reactions.add") {
					if c.Get("name") == name {
						n++
					}
				}
				return n
			}

			// Emre owns it: his reply reaches the customer on WhatsApp and
			// its Slack message shows sent, then delivered.
			before := len(textsTo()) // the bot's handover message
			ts := say("U0EMRE", "Merhaba, hemen bakıyorum.")
			e.runJobs(func() bool { return reactions("outbox_tray") > 0 })
			if got := textsTo(); len(got) != before+1 || got[before] != "Merhaba, hemen bakıyorum." {
				t.Fatalf("WhatsApp got %q", got)
			}
			if r := fake.posts("reactions.add")[0]; r.Get("timestamp") != ts || r.Get("channel") != th.ChannelID {
				t.Fatalf("reaction on %v", r)
			}
			var wamid string
			ms, err := e.st.ListMessages(context.Background(), conv.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Direction == baton.DirectionOut && m.Author == baton.AuthorAgent {
					wamid = m.ProviderID
				}
			}
			e.post("whatsapp", waStatus(wamid, "delivered", start.Add(time.Minute)))
			e.runJobs(func() bool { return reactions("white_check_mark") > 0 })

			// Bob does not own it: his reply stays internal and he is
			// offered Claim.
			say("U0BOB", "I had this customer yesterday")
			e.runJobs(func() bool { return len(fake.posts("chat.postEphemeral")) > 0 })
			if eph := fake.posts("chat.postEphemeral")[0]; eph.Get("user") != "U0BOB" || !strings.Contains(eph.Get("blocks"), "claim_conversation") {
				t.Fatalf("ephemeral %v", eph)
			}
			if got := textsTo(); len(got) != before+1 {
				t.Fatalf("a non-owner's reply reached the customer: %q", got)
			}

			// The customer's next message appears in the thread.
			e.post("whatsapp", waText("wamid.t2", customer, "Teşekkürler", start.Add(2*time.Minute)))
			inThread := func() []url.Values {
				var out []url.Values
				for _, p := range fake.posts("chat.postMessage") {
					if p.Get("thread_ts") == th.Root() {
						out = append(out, p)
					}
				}
				return out
			}
			e.runJobs(func() bool { return len(inThread()) > 0 })
			if p := inThread(); len(p) != 1 || !strings.Contains(p[0].Get("text"), "Teşekkürler") {
				t.Fatalf("thread posts %v", p)
			}
		})
	}
}
