package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/store/storecase"
)

// pacedSlack plays the Slack Web API as it limits posts: one
// chat.postMessage per window per channel, a 429 with Retry-After
// otherwise; and, while down, 503 for every call. It keeps every message
// it took, with its metadata, and answers conversations.history and
// conversations.replies from them.
type pacedSlack struct {
	window time.Duration

	mu       sync.Mutex
	down     bool
	refuse   string               // chat.postMessage answers "ok": false with this error
	last     map[string]time.Time // channel → when its last post was taken
	busyAt   map[string]bool      // channel → its next post finds its window taken
	limited  int                  // 429s answered
	failed   int                  // 503s answered
	seq      int
	messages []slackMessage // in the order taken
}

type slackMessage struct {
	Channel, TS, Thread, Text string
	Event                     string            // metadata event_type
	Payload                   map[string]string // metadata event_payload
}

func newPacedSlack(t *testing.T, window time.Duration) (*pacedSlack, *url.URL) {
	f := &pacedSlack{window: window, last: map[string]time.Time{}, busyAt: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return f, u
}

func (f *pacedSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.failed++
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	answer := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	channel := r.PostForm.Get("channel")
	switch method {
	case "auth.test":
		answer(map[string]any{"ok": true, "team_id": "T0TEAM", "user_id": "U0BOT"})
	case "chat.postMessage":
		if f.refuse != "" {
			answer(map[string]any{"ok": false, "error": f.refuse})
			return
		}
		now := time.Now()
		if f.busyAt[channel] {
			// Another post took the window just now.
			delete(f.busyAt, channel)
			f.last[channel] = now
		}
		if last, ok := f.last[channel]; ok && now.Sub(last) < f.window {
			f.limited++
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		f.last[channel] = now
		f.seq++
		m := slackMessage{Channel: channel, TS: fmt.Sprintf("1700000000.%06d", f.seq), Thread: r.PostForm.Get("thread_ts"), Text: r.PostForm.Get("text")}
		var meta struct {
			EventType    string            `json:"event_type"`
			EventPayload map[string]string `json:"event_payload"`
		}
		if s := r.PostForm.Get("metadata"); s != "" {
			if err := json.Unmarshal([]byte(s), &meta); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		m.Event, m.Payload = meta.EventType, meta.EventPayload
		f.messages = append(f.messages, m)
		answer(map[string]any{"ok": true, "channel": channel, "ts": m.TS})
	case "conversations.history", "conversations.replies":
		var out []map[string]any
		for i := len(f.messages) - 1; i >= 0; i-- {
			m := f.messages[i]
			if m.Channel != channel || (method == "conversations.history" && m.Thread != "") ||
				(method == "conversations.replies" && m.Thread != r.PostForm.Get("ts") && m.TS != r.PostForm.Get("ts")) {
				continue
			}
			v := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
			if m.Event != "" && r.PostForm.Get("include_all_metadata") == "1" {
				v["metadata"] = map[string]any{"event_type": m.Event, "event_payload": m.Payload}
			}
			out = append(out, v)
		}
		if method == "conversations.replies" {
			// Oldest first, as Slack answers a thread.
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
		}
		answer(map[string]any{"ok": true, "messages": out})
	case "chat.update":
		answer(map[string]any{"ok": true, "channel": channel, "ts": r.PostForm.Get("ts")})
	case "conversations.open":
		answer(map[string]any{"ok": true, "channel": map[string]any{"id": "D0" + r.PostForm.Get("users")}})
	default:
		answer(map[string]any{"ok": true})
	}
}

func (f *pacedSlack) setRefuse(e string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = e
}

func (f *pacedSlack) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// busy makes channel's window taken when its next post comes, as another
// app's post just before would.
func (f *pacedSlack) busy(channel string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busyAt[channel] = true
}

func (f *pacedSlack) taken() []slackMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackMessage(nil), f.messages...)
}

func (f *pacedSlack) counts() (limited, failed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limited, f.failed
}

// cards are the conversation ids of the cards taken, in order.
func (f *pacedSlack) cards() []int64 {
	var out []int64
	for _, m := range f.taken() {
		if m.Event == "baton_card" {
			id, _ := strconv.ParseInt(m.Payload["conversation_id"], 10, 64)
			out = append(out, id)
		}
	}
	return out
}

// slackEnv is the desk's app with the Slack console on (a bot token and
// the signing secret) against a fake Slack, the general queue in
// C0GENERAL, and the configuration then changed by configure (nil: as it
// is).
func slackEnv(t *testing.T, sc storecase.Case, fake *url.URL, clock baton.Clock, slackOpt app.SlackOptions, jobsOpt jobs.Options,
	configure func(*config.Config)) *env {
	t.Helper()
	e := &env{t: t, logs: &lockedBuffer{}}
	if c, ok := clock.(*baton.ManualClock); ok {
		e.clock = c
	}
	e.st = sc.Open(t, clock)
	e.graph = channeltest.NewProvider(t, graphOK)
	e.twilio = channeltest.NewProvider(t, twilioOK)
	cfg := deskConfig(t, e.graph.URL, e.twilio.URL)
	cfg.Slack.BotToken, cfg.Slack.SigningSecret = "xoxb-test", slackSecret
	cfg.Queues[0].SlackChannel = "C0GENERAL"
	if configure != nil {
		configure(cfg)
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatal(problems)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Store: e.st, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Clock: clock,
		Jobs: jobsOpt, Slack: slackOpt, HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: toFake{fake}}})
	if err != nil {
		t.Fatal(err)
	}
	e.app = a
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return e
}

// TestSlackPacedBurst: 100 escalations into one queue at once, the job
// pool running with several workers, against a Slack that takes one post
// per window in a channel: every card is posted exactly once, in the
// order the escalations were recorded (the order of their card jobs),
// with at most one 429 — none when the channel is free to start with,
// exactly one when another post had just taken its window.
func TestSlackPacedBurst(t *testing.T) {
	const (
		n      = 100
		window = 25 * time.Millisecond
	)
	for _, sc := range stores() {
		for _, tc := range []struct {
			name        string
			busy        bool
			wantLimited int
		}{
			{"channel free", false, 0},
			{"channel busy at first", true, 1},
		} {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				fake, fakeURL := newPacedSlack(t, window)
				jobsOpt := fastJobs()
				jobsOpt.Workers = 4
				e := slackEnv(t, sc, fakeURL, baton.SystemClock{}, app.SlackOptions{PostInterval: window + 5*time.Millisecond}, jobsOpt, nil)
				if tc.busy {
					fake.busy("C0GENERAL")
				}
				if err := e.app.Start(); err != nil {
					t.Fatal(err)
				}
				errs := make(chan error, n)
				concurrently(n, func(i int) {
					r := e.webhook("whatsapp", waText(fmt.Sprintf("wamid.burst%03d", i), fmt.Sprintf("9053200%05d", i), "Müşteri temsilcisine bağlanmak istiyorum", time.Now()), true)
					resp, err := e.handler("whatsapp").ServeWebhook(context.Background(), r)
					if err == nil && resp.Status != http.StatusOK {
						err = fmt.Errorf("status %d", resp.Status)
					}
					if err != nil {
						errs <- err
					}
				})
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				deadline := time.Now().Add(90 * time.Second)
				for len(fake.cards()) < n && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				// Let anything still on its way arrive: a card posted twice.
				time.Sleep(3 * window)
				cards := fake.cards()
				seen := map[int64]int{}
				for _, id := range cards {
					seen[id]++
				}
				for id, k := range seen {
					if k != 1 {
						t.Errorf("conversation %d: %d cards", id, k)
					}
				}
				if len(seen) != n {
					t.Fatalf("%d conversations got a card (%d cards), want %d", len(seen), len(cards), n)
				}
				jobs, err := e.st.ListJobs(context.Background(), baton.JobFilter{Kind: baton.JobSlack})
				if err != nil {
					t.Fatal(err)
				}
				// A conversation's first card job posts its card; a later
				// one (a change before the card was known) updates it.
				var recorded []int64
				first := map[int64]bool{}
				for _, j := range jobs {
					if j.Lane != "slack:C0GENERAL" {
						t.Errorf("card job %d in lane %q", j.ID, j.Lane)
					}
					if !first[j.ConversationID] && strings.Contains(string(j.Payload), `"escalated"`) {
						first[j.ConversationID] = true
						recorded = append(recorded, j.ConversationID)
					}
				}
				if fmt.Sprint(cards) != fmt.Sprint(recorded) {
					t.Fatalf("cards posted in the order\n%v\nwant the order the escalations were recorded\n%v", cards, recorded)
				}
				if !sort.SliceIsSorted(jobs, func(a, b int) bool { return jobs[a].ID < jobs[b].ID }) {
					t.Fatal("jobs not listed by id")
				}
				if limited, _ := fake.counts(); limited != tc.wantLimited {
					t.Fatalf("%d answers 429, want %d", limited, tc.wantLimited)
				}
			})
		}
	}
}

// TestSlackOutageCatchUp: Slack answers 503 for five minutes while the
// escalation is routed and 20 customer messages arrive through the
// WhatsApp webhook; nothing is lost or given up meanwhile, and once Slack
// is back the card and then the 20 messages reach the thread, in order,
// each once, within the retry cap.
func TestSlackOutageCatchUp(t *testing.T) {
	const retryMax = 30 * time.Second
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			fake, fakeURL := newPacedSlack(t, 0)
			clock := baton.NewManualClock(start)
			// The pool's own backoff as in production (1 s doubling to
			// 10 min): the console's retry cap must win over it.
			jobsOpt := fastJobs()
			jobsOpt.BaseBackoff, jobsOpt.MaxBackoff = time.Second, 10*time.Minute
			e := slackEnv(t, sc, fakeURL, clock, app.SlackOptions{PostInterval: 5 * time.Millisecond, OutageRetryMax: retryMax}, jobsOpt, nil)
			ctx := context.Background()
			fake.setDown(true)

			// Escalated and routed to Emre while Slack is down.
			const customer = "905320000077"
			e.online("emre")
			e.post("whatsapp", waText("wamid.down0", customer, "Müşteri temsilcisine bağlanmak istiyorum", start))
			e.runJobs(func() bool {
				cs := e.conversations()
				return len(cs) == 1 && cs[0].State == baton.StateAssigned && cs[0].AgentID == "emre"
			})
			conv := e.conversationOf(customer)

			// Five minutes of outage, a customer message every 15 s.
			outageEnd := clock.Now().Add(5 * time.Minute)
			var sent []string
			for i := 1; i <= 20; i++ {
				clock.Advance(15 * time.Second)
				text := fmt.Sprintf("message %02d", i)
				sent = append(sent, text)
				e.post("whatsapp", waText(fmt.Sprintf("wamid.down%02d", i), customer, text, clock.Now()))
				if _, err := e.app.RunJobs(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if clock.Now().Before(outageEnd) {
				t.Fatalf("outage lasted until %v, want 5 min", clock.Now())
			}
			if got := fake.taken(); len(got) != 0 {
				t.Fatalf("Slack took %d messages while down", len(got))
			}
			if _, failed := fake.counts(); failed == 0 {
				t.Fatal("the console never tried Slack during the outage")
			}
			if js, err := e.st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobSlack, Status: baton.JobDead}); err != nil || len(js) != 0 {
				t.Fatalf("Slack jobs given up during the outage: %+v (%v)", js, err)
			}

			// Slack is back: within the retry cap the console catches up.
			fake.setDown(false)
			back := clock.Now()
			inThread := func() []slackMessage {
				var out []slackMessage
				for _, m := range fake.taken() {
					if m.Thread != "" {
						out = append(out, m)
					}
				}
				return out
			}
			e.runJobs(func() bool { return len(inThread()) >= len(sent) && e.idleSlack() })
			if took := clock.Now().Sub(back); took > retryMax+time.Second {
				t.Fatalf("caught up %v after Slack came back, want within the cap %v", took, retryMax)
			}
			if cards := fake.cards(); len(cards) != 1 || cards[0] != conv.ID {
				t.Fatalf("cards %v, want one for conversation %d", cards, conv.ID)
			}
			th, err := e.st.GetSlackThread(ctx, "T0TEAM", conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			seen := map[string]int{}
			for _, m := range inThread() {
				if m.Thread != th.Root() || m.Event != "baton_message" {
					t.Fatalf("thread message %+v", m)
				}
				seen[m.Payload["message_id"]]++
				texts = append(texts, m.Text[strings.Index(m.Text, ": ")+2:])
			}
			if fmt.Sprint(texts) != fmt.Sprint(sent) {
				t.Fatalf("thread got\n%q\nwant\n%q", texts, sent)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("message %s posted %d times", id, n)
				}
			}
		})
	}
}

// idleSlack reports whether no Slack job is pending or running.
func (e *env) idleSlack() bool {
	for _, j := range e.jobs(baton.JobSlack) {
		if j.Status == baton.JobPending || j.Status == baton.JobRunning {
			return false
		}
	}
	return true
}

// TestSlackCatchUpService: an escalation whose card job gave up (Slack
// refused the post until someone invited the app to the channel) gets its
// card from the catch-up service the app runs, once Slack takes posts.
func TestSlackCatchUpService(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			fake, fakeURL := newPacedSlack(t, 0)
			clock := baton.NewManualClock(start)
			e := slackEnv(t, sc, fakeURL, clock, app.SlackOptions{PostInterval: time.Millisecond, CatchUpEvery: 20 * time.Millisecond}, fastJobs(), nil)
			fake.setRefuse("not_in_channel")
			const customer = "905320000088"
			e.post("whatsapp", waText("wamid.lost0", customer, "Müşteri temsilcisine bağlanmak istiyorum", start))
			e.runJobs(func() bool {
				for _, j := range e.jobs(baton.JobSlack) {
					if j.Status == baton.JobDead {
						return true
					}
				}
				return false
			})
			conv := e.conversationOf(customer)
			if len(fake.cards()) != 0 {
				t.Fatal("a card was posted")
			}
			fake.setRefuse("")
			clock.Advance(2 * time.Minute)
			if err := e.app.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for len(fake.cards()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // rounds enough to post it twice, were it to
			if cards := fake.cards(); len(cards) != 1 || cards[0] != conv.ID {
				t.Fatalf("cards %v, want the missing one of conversation %d once", cards, conv.ID)
			}
		})
	}
}
