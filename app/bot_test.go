package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/store/storecase"
)

// demoBot is the example bot's configuration with a WhatsApp number whose
// Graph API is the fake at graphURL.
func demoBot(t *testing.T, graphURL string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "examples", "sportshop", "baton.yaml"), config.MapEnv(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bots[0].Channels.WhatsApp = &config.WhatsApp{PhoneNumberID: phoneNumberID, AccessToken: "wa-token", AppSecret: metaSecret,
		VerifyToken: verifyToken, APIBase: graphURL + "/v23.0"}
	cfg.Server.AdminToken = adminToken
	cfg.Server.Limits = offLimits()
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatalf("configuration: %v", problems)
	}
	return cfg
}

// botServer is the example bot on the real HTTP server over a real store,
// with a fake Graph API.
type botServer struct {
	t     *testing.T
	app   *app.App
	base  string
	graph *channeltest.Provider
	sent  int // Graph requests already looked at
}

func newBotServer(t *testing.T, sc storecase.Case) *botServer {
	t.Helper()
	s := &botServer{t: t, graph: channeltest.NewProvider(t, graphOK)}
	st := sc.Open(t, nil)
	a, err := app.New(context.Background(), demoBot(t, s.graph.URL), app.Options{Store: st, Jobs: fastJobs(),
		ModelDir: t.TempDir(), HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	s.app = a
	e := &env{t: t, app: a}
	s.base = e.serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return s
}

// say posts the customer's signed WhatsApp webhook to the server and runs
// the jobs it caused; it returns what the bot sent the customer.
func (s *botServer) say(body []byte) []map[string]any {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/webhooks/whatsapp/sportshop", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(channels.MetaSignatureHeader, "sha256="+channels.HMACSHA256Hex([]byte(metaSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		s.t.Fatalf("webhook: %d", resp.StatusCode)
	}
	if _, err := s.app.RunJobs(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	reqs := s.graph.Requests()
	var out []map[string]any
	for _, r := range reqs[s.sent:] {
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			s.t.Fatalf("Graph request %s", r.Body)
		}
		out = append(out, m)
	}
	s.sent = len(reqs)
	return out
}

// view is the admin API's conversation view.
type view struct {
	Conversation struct {
		ID       int64  `json:"id"`
		State    string `json:"state"`
		QueueID  string `json:"queue_id"`
		Priority int    `json:"priority"`
		Language string `json:"language"`
	} `json:"conversation"`
	Messages []struct {
		Direction string `json:"direction"`
		Author    string `json:"author"`
		Text      string `json:"text"`
	} `json:"messages"`
	Events []struct {
		Type string         `json:"type"`
		To   string         `json:"to"`
		Data map[string]any `json:"data"`
	} `json:"events"`
	Decisions []struct {
		MessageID int64  `json:"message_id"`
		Action    string `json:"action"`
		Analysis  *struct {
			Language  string  `json:"language"`
			Sentiment float64 `json:"sentiment"`
		} `json:"analysis"`
		Citations []struct {
			Slug  string  `json:"slug"`
			Score float64 `json:"score"`
		} `json:"citations"`
		Triggers []struct {
			Trigger   string  `json:"trigger"`
			Value     float64 `json:"value"`
			Threshold float64 `json:"threshold"`
			Fired     bool    `json:"fired"`
		} `json:"triggers"`
		TookMS float64 `json:"took_ms"`
	} `json:"decisions"`
	Packet *baton.HandoffPacket `json:"packet"`
}

func (s *botServer) conversation(customer string) view {
	s.t.Helper()
	get := func(path string) []byte {
		req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	var list struct {
		Conversations []struct {
			ID      int64  `json:"id"`
			Address string `json:"address"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal(get("/api/v1/conversations?bot=sportshop&limit=500"), &list); err != nil {
		s.t.Fatal(err)
	}
	for _, c := range list.Conversations {
		if c.Address == customer {
			var v view
			if err := json.Unmarshal(get(fmt.Sprintf("/api/v1/conversations/%d", c.ID)), &v); err != nil {
				s.t.Fatal(err)
			}
			return v
		}
	}
	s.t.Fatalf("no conversation with %s", customer)
	return view{}
}

func waButton(id, from, payload, title string, at time.Time) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":%q},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":%q,"title":%q}}}]}}]}]}`,
		phoneNumberID, from, from, id, at.Unix(), payload, title))
}

func text(m map[string]any) string {
	if t, ok := m["text"].(map[string]any); ok {
		return fmt.Sprint(t["body"])
	}
	if i, ok := m["interactive"].(map[string]any); ok {
		if b, ok := i["body"].(map[string]any); ok {
			return fmt.Sprint(b["text"])
		}
	}
	return ""
}

// TestBotEndToEnd is the triage bot through the real HTTP server on every
// store, with the example bot and a fake WhatsApp API: a KB question is
// answered with its citation and "did this help?" as reply buttons; "yes"
// resolves it as the bot's resolution; an angry Turkish message escalates
// with negative_sentiment, the conversation waits in a queue with the
// packet, and the transcript is intact; every turn has its decision.
func TestBotEndToEnd(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			s := newBotServer(t, sc)
			now := time.Now()

			// A KB question.
			const ana = "16505550101"
			sent := s.say(waText("wamid.q1", ana, "How many days do I have to return an item?", now))
			if len(sent) != 2 {
				t.Fatalf("%d messages sent, want the answer and the question: %v", len(sent), sent)
			}
			answer, help := sent[0], sent[1]
			if !strings.Contains(text(answer), "Source: ") || answer["to"] != ana {
				t.Fatalf("answer %v: no citation line", answer)
			}
			buttons := help["interactive"].(map[string]any)["action"].(map[string]any)["buttons"].([]any)
			if text(help) != "Did this help?" || len(buttons) != 2 {
				t.Fatalf("help question %v", help)
			}
			v := s.conversation(ana)
			if len(v.Decisions) != 1 || v.Decisions[0].Action != baton.ActionAnswer || len(v.Decisions[0].Citations) == 0 {
				t.Fatalf("decisions %+v", v.Decisions)
			}
			if !strings.Contains(text(answer), v.Decisions[0].Citations[0].Slug) && !strings.Contains(strings.ToLower(text(answer)), "return") {
				t.Errorf("the answer %q does not look like the cited article %s", text(answer), v.Decisions[0].Citations[0].Slug)
			}

			// "Yes" resolves it: the bot's resolution, which the example
			// surveys (csat.bot_resolved) with WhatsApp's list of five.
			sent = s.say(waButton("wamid.q2", ana, bots.PayloadHelpYes, "Yes", now.Add(time.Second)))
			if len(sent) != 2 || !strings.HasPrefix(text(sent[0]), "Glad I could help") || sent[1]["type"] != "interactive" ||
				sent[1]["interactive"].(map[string]any)["type"] != "list" {
				t.Fatalf("after yes: %v", sent)
			}
			v = s.conversation(ana)
			if v.Conversation.State != string(baton.StateResolved) || len(v.Events) != 1 || v.Events[0].Data["resolution"] != bots.ResolvedByBot {
				t.Fatalf("after yes: state %s, events %+v", v.Conversation.State, v.Events)
			}
			if len(v.Decisions) != 2 {
				t.Fatalf("%d decisions, want one per turn", len(v.Decisions))
			}

			// Back about the same thing: a new conversation, and the bot's
			// resolution of the first one counts as failed.
			sent = s.say(waText("wamid.q2b", ana, "I still don't understand how many days I have to return an item", now.Add(1500*time.Millisecond)))
			if len(sent) == 0 {
				t.Fatal("the returning customer got no answer")
			}
			v = s.conversation(ana)
			var failed bool
			for _, e := range v.Events {
				failed = failed || e.Type == bots.ResolutionFailed
			}
			if !failed {
				t.Fatalf("the first conversation's events %+v: want %s", v.Events, bots.ResolutionFailed)
			}

			// An angry Turkish message.
			const emre = "905321234567"
			angry := "Rezalet! Siparişim iki haftadır gelmedi, berbat bir hizmet, çok sinirliyim!"
			sent = s.say(waText("wamid.q3", emre, angry, now.Add(2*time.Second)))
			if len(sent) != 1 || !strings.Contains(text(sent[0]), "temsilci") {
				t.Fatalf("to the angry customer: %v", sent)
			}
			v = s.conversation(emre)
			if v.Conversation.State != string(baton.StateQueued) || v.Conversation.QueueID == "" || v.Conversation.Language != "tr" {
				t.Fatalf("conversation %+v", v.Conversation)
			}
			d := v.Decisions[len(v.Decisions)-1]
			var neg bool
			for _, tr := range d.Triggers {
				if tr.Trigger == baton.TriggerNegativeSentiment {
					neg = tr.Fired && tr.Value <= tr.Threshold
				}
			}
			if d.Action != baton.ActionEscalate || !neg || d.Analysis == nil || d.Analysis.Language != "tr" {
				t.Fatalf("decision %+v", d)
			}
			p := v.Packet
			if p == nil || p.Summary == "" || p.Language != "tr" || !containsString(p.Skills, "tr") || p.QueueID != v.Conversation.QueueID {
				t.Fatalf("packet %+v", p)
			}
			if len(p.Reasons) == 0 || p.Reasons[0].Trigger != baton.TriggerNegativeSentiment || p.Reasons[0].Value > p.Reasons[0].Threshold {
				t.Fatalf("packet reasons %+v", p.Reasons)
			}
			if len(p.ArticlesTried) == 0 && !strings.Contains(p.Summary, "Siparişim") {
				t.Errorf("the packet neither quotes the customer nor lists articles: %+v", p)
			}
			if len(v.Messages) != 2 || v.Messages[0].Text != angry || v.Messages[1].Author != string(baton.AuthorBot) {
				t.Fatalf("transcript %+v", v.Messages)
			}
		})
	}
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
