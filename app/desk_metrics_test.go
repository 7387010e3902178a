package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
)

// TestMetricsThroughTheApp: a conversation that came in over WhatsApp,
// escalated, answered by an agent 4 minutes later, resolved 20 minutes
// after the escalation and rated 5 shows in the summary at
// /api/v1/metrics, and the queue and agent gauges in /metrics.
func TestMetricsThroughTheApp(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			ctx := context.Background()
			base := e.serve()
			if err := e.st.UpsertAgent(ctx, &baton.Agent{ID: "maya", Name: "Maya", Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}}); err != nil {
				t.Fatal(err)
			}
			e.post("whatsapp", waText("wamid.m1", "16505551234", "hi", start))
			e.runJobs(e.idle)
			convs := e.conversations()
			if len(convs) != 1 {
				t.Fatalf("%d conversations", len(convs))
			}
			id := convs[0].ID
			move := func(after time.Duration, tr baton.Transition) {
				t.Helper()
				setClock(e, start.Add(after))
				tr.Actor = "system"
				if _, _, err := e.st.TransitionConversation(ctx, id, tr); err != nil {
					t.Fatal(err)
				}
			}
			queue, maya, due := "general", "maya", start.Add(10*time.Minute)
			move(time.Minute, baton.Transition{To: baton.StateQueued, QueueID: &queue, FirstResponseDue: &due})
			move(2*time.Minute, baton.Transition{To: baton.StateAssigned, AgentID: &maya})
			setClock(e, start.Add(5*time.Minute))
			if _, err := e.st.InsertMessage(ctx, &baton.Message{ConversationID: id, BotID: botID, Channel: baton.ChannelWhatsApp,
				Direction: baton.DirectionOut, Author: baton.AuthorAgent, AuthorID: "maya", Type: baton.TypeText, Text: "On it."}); err != nil {
				t.Fatal(err)
			}
			move(21*time.Minute, baton.Transition{To: baton.StateResolved})
			if _, err := e.st.RequestCSAT(ctx, &baton.CSAT{ConversationID: id, Resolution: 1, BotID: botID, QueueID: queue, AgentID: maya,
				Channel: baton.ChannelWhatsApp}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.st.AnswerCSAT(ctx, baton.CSATAnswer{ConversationID: id, Rating: 5}); err != nil {
				t.Fatal(err)
			}
			// A second conversation waits in the queue.
			e.post("whatsapp", waText("wamid.m2", "16505550000", "hello", start))
			e.runJobs(e.idle)
			for _, c := range e.conversations() {
				if c.ID != id {
					setClock(e, start.Add(30*time.Minute))
					if _, _, err := e.st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, QueueID: &queue, Actor: "system"}); err != nil {
						t.Fatal(err)
					}
				}
			}

			get := func(path string, auth bool) (int, []byte) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				if auth {
					req.Header.Set("Authorization", "Bearer "+adminToken)
				}
				resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			if status, _ := get("/api/v1/metrics", false); status != http.StatusUnauthorized {
				t.Fatalf("without the admin token: %d", status)
			}
			if status, body := get("/api/v1/metrics?from=2026-03-02T09:00:00Z&to=2026-03-01", true); status != http.StatusBadRequest ||
				!strings.Contains(string(body), "from must be before to") {
				t.Fatalf("from after to: %d %s", status, body)
			}
			// The test clock is now 30 minutes after start: the default
			// period is the week up to it.
			status, body := get("/api/v1/metrics?bot="+botID, true)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			var sum struct {
				Conversations int `json:"conversations"`
				Escalated     int `json:"escalated"`
				FirstResponse struct {
					Count  int     `json:"count"`
					Median float64 `json:"median_seconds"`
				} `json:"first_response"`
				Resolution struct {
					Median float64 `json:"median_seconds"`
				} `json:"resolution"`
				TimeInQueue struct {
					Median float64 `json:"median_seconds"`
				} `json:"time_in_queue"`
				CSAT struct {
					Requested int     `json:"requested"`
					Answered  int     `json:"answered"`
					Average   float64 `json:"average"`
				} `json:"csat"`
			}
			if err := json.Unmarshal(body, &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Conversations != 2 || sum.Escalated != 2 || sum.FirstResponse.Count != 1 || sum.FirstResponse.Median != 240 ||
				sum.Resolution.Median != 1200 || sum.TimeInQueue.Median != 60 || sum.CSAT.Requested != 1 || sum.CSAT.Answered != 1 || sum.CSAT.Average != 5 {
				t.Fatalf("summary %s", body)
			}

			status, body = get("/metrics", false)
			if status != http.StatusOK {
				t.Fatalf("/metrics: %d", status)
			}
			for _, line := range []string{
				`baton_queue_depth{queue="general"} 1`,
				`baton_agent_open_conversations{agent="maya"} 0`,
				`baton_agent_capacity{agent="maya"} 2`,
				`baton_csat_answers_total{bot="acme",rating="5"} 0`,
				`baton_escalations_total{trigger="wants_human"} 0`,
			} {
				if !strings.Contains(string(body), line+"\n") {
					t.Errorf("/metrics has no line %q", line)
				}
			}
		})
	}
}

// setClock moves the env's clock forward to at.
func setClock(e *env, at time.Time) {
	e.t.Helper()
	d := at.Sub(e.clock.Now())
	if d < 0 {
		e.t.Fatalf("the clock is at %s already, after %s", e.clock.Now(), at)
	}
	e.clock.Advance(d)
}

// TestSurveyConfigurationProblems: a bot language without built-in survey
// texts and without them in the configuration is a configuration problem
// with its path, before anything starts.
func TestSurveyConfigurationProblems(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("bots:\n  - id: shop\n    languages: [en, de]\n    texts:\n      de:\n")
	for _, name := range config.TextNames() {
		b.WriteString("        " + name + ": \"Text\"\n")
	}
	b.WriteString("    csat:\n      texts:\n        de: {ask: \"Wie war es?\", rating_5: \"5 – Hervorragend\"}\n")
	path := filepath.Join(dir, "baton.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, config.MapEnv(nil))
	if err != nil {
		t.Fatalf("the file itself should load: %v", err)
	}
	_, err = app.New(context.Background(), cfg, app.Options{Store: stores()[0].Open(t, nil)})
	var ce *config.Error
	if !errors.As(err, &ce) || baton.ErrorCode(err) != baton.EINVALID || ce.File != path {
		t.Fatalf("error %v, want a configuration error of %s", err, path)
	}
	if len(ce.Problems) != 8 || ce.Problems[0].String() != "bots[0].csat.texts.de.sms_ask: missing: de has no built-in survey texts, so every one is needed" {
		t.Fatalf("problems:\n%s\nwant the 8 missing de texts, sms_ask first", ce.Problems.Error())
	}
	for _, p := range ce.Problems {
		if strings.Contains(p.Path, ".ask") || strings.Contains(p.Path, "rating_5") {
			t.Errorf("a given text reported missing: %s", p)
		}
	}
}
