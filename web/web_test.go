package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
	"github.com/batonhq/baton/web"
)

const adminToken = "test-admin-token-0123456789"

func openStore(t *testing.T) baton.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// syncBuffer collects log output written from server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serve starts the app on a loopback port and returns its base URL.
func serve(t *testing.T, cfg web.Config) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	if cfg.Bots == nil {
		cfg.Bots = []baton.Bot{{ID: "shop", Name: "Shop", Languages: []string{"en"}}}
	}
	app, err := web.New(cfg)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(2 * time.Second) })
	return "http://" + ln.Addr().String(), logs
}

func do(t *testing.T, method, url string, body []byte, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("body %q is not a JSON error with code and message", body)
	}
	return e.Error.Code
}

func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{baton.Errorf(baton.ENOTFOUND, "x"), 404},
		{baton.Errorf(baton.EINVALID, "x"), 400},
		{baton.Errorf(baton.EUNAUTHORIZED, "x"), 401},
		{baton.Errorf(baton.EFORBIDDEN, "x"), 403},
		{baton.Errorf(baton.ECONFLICT, "x"), 409},
		{baton.Errorf(baton.ETOOLARGE, "x"), 413},
		{baton.Errorf(baton.EUNAVAILABLE, "x"), 503},
		{baton.Errorf(baton.ERATELIMITED, "x"), 429},
		{baton.Errorf(baton.EINTERNAL, "x"), 500},
		{errors.New("driver exploded"), 500},
		{fmt.Errorf("wrapped: %w", baton.Errorf(baton.ENOTFOUND, "x")), 404},
		{fiber.ErrRequestEntityTooLarge, 413},
		{fiber.ErrMethodNotAllowed, 405},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			if got := web.Status(tc.err); got != tc.want {
				t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// recorder is an adapter that records what it receives and answers as told.
type recorder struct {
	mu    sync.Mutex
	calls []*baton.WebhookRequest
	resp  *baton.WebhookResponse
	err   error
}

func (r *recorder) ServeWebhook(ctx context.Context, req *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("adapter called without a deadline")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, req)
	return r.resp, r.err
}

func (r *recorder) last(t *testing.T) *baton.WebhookRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) != 1 {
		t.Fatalf("adapter called %d times, want 1", len(r.calls))
	}
	return r.calls[0]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func TestWebhooks(t *testing.T) {
	payload, err := os.ReadFile("testdata/whatsapp_message.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		publicURL  string
		method     string
		path       string
		body       []byte
		header     map[string]string
		resp       *baton.WebhookResponse
		err        error
		wantStatus int
		wantCode   string // JSON error code, for failures
		wantBody   string // exact body, for successes
		wantCalled bool
		check      func(t *testing.T, base string, r *baton.WebhookRequest)
	}{
		{
			name: "POST reaches the adapter raw, with the public URL", publicURL: "https://support.example.com/",
			method: "POST", path: "/webhooks/whatsapp/shop?trace=1&trace=2", body: payload,
			header:     map[string]string{"X-Hub-Signature-256": "sha256=abc", "Content-Type": "application/json"},
			resp:       &baton.WebhookResponse{Status: 200, ContentType: "text/plain", Body: []byte("EVENT_RECEIVED")},
			wantStatus: 200, wantBody: "EVENT_RECEIVED", wantCalled: true,
			check: func(t *testing.T, base string, r *baton.WebhookRequest) {
				if !bytes.Equal(r.Body, payload) {
					t.Errorf("body changed on the way: %q", r.Body)
				}
				if r.BotID != "shop" || r.Method != "POST" {
					t.Errorf("bot %q method %q", r.BotID, r.Method)
				}
				if got := r.Header.Get("X-Hub-Signature-256"); got != "sha256=abc" {
					t.Errorf("signature header %q", got)
				}
				if got := r.Query["trace"]; len(got) != 2 || got[1] != "2" {
					t.Errorf("query %v", r.Query)
				}
				if want := "https://support.example.com/webhooks/whatsapp/shop?trace=1&trace=2"; r.PublicURL != want {
					t.Errorf("public URL %q, want %q", r.PublicURL, want)
				}
			},
		},
		{
			name: "GET verification; public URL from the request, not from forwarded headers", method: "GET",
			path:       "/webhooks/messenger/shop?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=v",
			header:     map[string]string{"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"},
			resp:       &baton.WebhookResponse{Status: 200, ContentType: "text/plain", Body: []byte("1158201444")},
			wantStatus: 200, wantBody: "1158201444", wantCalled: true,
			check: func(t *testing.T, base string, r *baton.WebhookRequest) {
				if want := base + "/webhooks/messenger/shop?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=v"; r.PublicURL != want {
					t.Errorf("public URL %q, want %q", r.PublicURL, want)
				}
				if r.Query.Get("hub.challenge") != "1158201444" {
					t.Errorf("query %v", r.Query)
				}
			},
		},
		{
			name: "a nil response is 200", method: "POST", path: "/webhooks/twilio/shop", body: []byte("Body=hi"),
			wantStatus: 200, wantBody: "", wantCalled: true,
		},
		{
			name: "adapter's domain error becomes its status", method: "POST", path: "/webhooks/whatsapp/shop", body: payload,
			err:        baton.Errorf(baton.EUNAUTHORIZED, "signature mismatch"),
			wantStatus: 401, wantCode: baton.EUNAUTHORIZED, wantCalled: true,
		},
		{
			name: "adapter's plain error is 500 without details", method: "POST", path: "/webhooks/whatsapp/shop", body: payload,
			err:        errors.New("pq: relation does not exist"),
			wantStatus: 500, wantCode: baton.EINTERNAL, wantCalled: true,
		},
		{
			name: "unknown provider", method: "POST", path: "/webhooks/telegram/shop", body: payload,
			wantStatus: 404, wantCode: baton.ENOTFOUND,
		},
		{
			name: "unknown bot", method: "POST", path: "/webhooks/whatsapp/nobody", body: payload,
			wantStatus: 404, wantCode: baton.ENOTFOUND,
		},
		{
			name: "body over 1 MiB is refused before the adapter", method: "POST", path: "/webhooks/whatsapp/shop",
			body:       bytes.Repeat([]byte("a"), baton.MaxWebhookBody+1),
			wantStatus: 413, wantCode: baton.ETOOLARGE,
		},
		{
			name: "body of exactly 1 MiB is accepted", method: "POST", path: "/webhooks/whatsapp/shop",
			body:       bytes.Repeat([]byte("a"), baton.MaxWebhookBody),
			wantStatus: 200, wantBody: "", wantCalled: true,
			check: func(t *testing.T, base string, r *baton.WebhookRequest) {
				if len(r.Body) != baton.MaxWebhookBody {
					t.Errorf("body of %d bytes", len(r.Body))
				}
			},
		},
		{
			name: "wrong method", method: "PUT", path: "/webhooks/whatsapp/shop", body: payload,
			wantStatus: 405, wantCode: "method_not_allowed",
		},
	}
	st := openStore(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{resp: tc.resp, err: tc.err}
			hooks := map[string]baton.WebhookHandler{"whatsapp": rec, "messenger": rec, "twilio": rec}
			base, logs := serve(t, web.Config{Store: st, Webhooks: hooks, PublicURL: tc.publicURL})
			status, _, body := do(t, tc.method, base+tc.path, tc.body, tc.header)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %.200q)", status, tc.wantStatus, body)
			}
			if tc.wantCode != "" {
				if code := errorCode(t, body); code != tc.wantCode {
					t.Errorf("error code %q, want %q", code, tc.wantCode)
				}
				if tc.wantStatus == 500 && strings.Contains(string(body), "relation") {
					t.Errorf("internal details leaked to the client: %s", body)
				}
				lines := strings.Count(logs.String(), `"msg":"request failed"`)
				if lines != 1 {
					t.Errorf("%d failure log lines, want 1:\n%s", lines, logs.String())
				}
				if strings.Contains(logs.String(), "Where is my order") {
					t.Error("the request body reached the log")
				}
			} else if string(body) != tc.wantBody {
				t.Errorf("body %.200q, want %q", body, tc.wantBody)
			}
			if called := rec.count() > 0; called != tc.wantCalled {
				t.Fatalf("adapter called = %v, want %v", called, tc.wantCalled)
			}
			if tc.check != nil {
				tc.check(t, base, rec.last(t))
			}
		})
	}
}

func TestSlackEndpoints(t *testing.T) {
	st := openStore(t)
	rec := &recorder{resp: &baton.WebhookResponse{Status: 200, ContentType: "application/json", Body: []byte(`{"ok":true}`)}}
	base, _ := serve(t, web.Config{Store: st, Slack: map[string]baton.WebhookHandler{"events": rec}})
	tests := []struct {
		path string
		want int
	}{
		{"/slack/events", 200},
		{"/slack/interactions", 404},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			status, _, _ := do(t, "POST", base+tc.path, []byte(`{"type":"url_verification"}`), nil)
			if status != tc.want {
				t.Errorf("status %d, want %d", status, tc.want)
			}
		})
	}
	if r := rec.last(t); r.BotID != "" || string(r.Body) != `{"type":"url_verification"}` {
		t.Errorf("slack request %+v", r)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	st := openStore(t)
	base, _ := serve(t, web.Config{Store: st})
	tests := []struct {
		name  string
		path  string
		close bool
		want  int
	}{
		{"alive", "/healthz", false, 200},
		{"ready", "/readyz", false, 200},
		{"home page", "/", false, 200},
		{"not ready once the database is gone", "/readyz", true, 503},
		{"still alive without a database", "/healthz", false, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.close {
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
			}
			status, _, body := do(t, "GET", base+tc.path, nil, nil)
			if status != tc.want {
				t.Errorf("status %d, want %d: %s", status, tc.want, body)
			}
			if tc.want == 503 && errorCode(t, body) != baton.EUNAVAILABLE {
				t.Errorf("body %s", body)
			}
		})
	}
}

// seed stores one conversation with a message and an escalation.
func seed(t *testing.T, st baton.Store) int64 {
	t.Helper()
	ctx := context.Background()
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: "16505551234"}, "Sheena")
	if err != nil {
		t.Fatal(err)
	}
	conv := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: "16505551234", State: baton.StateBot}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	msg := &baton.Message{ConversationID: conv.ID, BotID: "shop", Channel: baton.ChannelWhatsApp, ProviderID: "wamid.1",
		Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "Where is my order?", Status: baton.StatusReceived}
	if _, err := st.InsertMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	q := "general"
	if _, _, err := st.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "wants_human", QueueID: &q}); err != nil {
		t.Fatal(err)
	}
	return conv.ID
}

func TestAdminAPI(t *testing.T) {
	st := openStore(t)
	id := seed(t, st)
	base, _ := serve(t, web.Config{Store: st, AdminToken: adminToken})
	disabled, _ := serve(t, web.Config{Store: st})
	bearer := map[string]string{"Authorization": "Bearer " + adminToken}
	tests := []struct {
		name     string
		base     string
		path     string
		header   map[string]string
		want     int
		wantCode string
		check    func(t *testing.T, body []byte)
	}{
		{name: "no token", base: base, path: "/api/v1/conversations", want: 401, wantCode: baton.EUNAUTHORIZED},
		{name: "wrong token", base: base, path: "/api/v1/conversations", header: map[string]string{"Authorization": "Bearer " + adminToken + "x"}, want: 401, wantCode: baton.EUNAUTHORIZED},
		{name: "not a bearer", base: base, path: "/api/v1/conversations", header: map[string]string{"Authorization": "Basic " + adminToken}, want: 401, wantCode: baton.EUNAUTHORIZED},
		{name: "disabled without a token", base: disabled, path: "/api/v1/conversations", header: bearer, want: 403, wantCode: baton.EFORBIDDEN},
		{name: "list", base: base, path: "/api/v1/conversations?bot=shop&state=queued,bot", header: bearer, want: 200, check: func(t *testing.T, body []byte) {
			var out struct {
				Conversations []struct {
					ID      int64  `json:"id"`
					State   string `json:"state"`
					QueueID string `json:"queue_id"`
				}
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Conversations) != 1 || out.Conversations[0].ID != id || out.Conversations[0].State != "queued" || out.Conversations[0].QueueID != "general" {
				t.Errorf("conversations %+v", out.Conversations)
			}
		}},
		{name: "list filtered to nothing", base: base, path: "/api/v1/conversations?state=resolved", header: bearer, want: 200, check: func(t *testing.T, body []byte) {
			if !strings.Contains(string(body), `"conversations":[]`) {
				t.Errorf("body %s", body)
			}
		}},
		{name: "unknown state", base: base, path: "/api/v1/conversations?state=ana@example.com", header: bearer, want: 400, wantCode: baton.EINVALID, check: func(t *testing.T, body []byte) {
			// The message lists the valid states, not what was sent.
			if !strings.Contains(string(body), "bot, queued, assigned, snoozed, resolved or archived") || strings.Contains(string(body), "ana@") {
				t.Errorf("body %s", body)
			}
		}},
		{name: "bad limit", base: base, path: "/api/v1/conversations?limit=0", header: bearer, want: 400, wantCode: baton.EINVALID},
		{name: "one with transcript and events", base: base, path: fmt.Sprintf("/api/v1/conversations/%d", id), header: bearer, want: 200, check: func(t *testing.T, body []byte) {
			var out struct {
				Conversation struct{ ID int64 }
				Messages     []struct {
					Text      string `json:"text"`
					Direction string `json:"direction"`
				}
				Events []struct {
					From, To, Actor, Reason string
				}
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			if out.Conversation.ID != id || len(out.Messages) != 1 || out.Messages[0].Text != "Where is my order?" || out.Messages[0].Direction != "in" {
				t.Errorf("conversation %+v messages %+v", out.Conversation, out.Messages)
			}
			if len(out.Events) != 1 || out.Events[0].From != "bot" || out.Events[0].To != "queued" || out.Events[0].Reason != "wants_human" {
				t.Errorf("events %+v", out.Events)
			}
		}},
		{name: "unknown id", base: base, path: "/api/v1/conversations/999999", header: bearer, want: 404, wantCode: baton.ENOTFOUND},
		{name: "malformed id", base: base, path: "/api/v1/conversations/abc", header: bearer, want: 400, wantCode: baton.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, "GET", tc.base+tc.path, nil, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			if tc.wantCode != "" {
				if code := errorCode(t, body); code != tc.wantCode {
					t.Errorf("code %q, want %q", code, tc.wantCode)
				}
			}
			if status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge")
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	st := openStore(t)
	reg := prometheus.NewRegistry()
	base, _ := serve(t, web.Config{Store: st, Registry: reg})
	for i := 0; i < 3; i++ {
		do(t, "GET", base+"/healthz", nil, nil)
	}
	do(t, "GET", base+"/no/such/page", nil, nil)
	do(t, "GET", base+"/webhooks/whatsapp/a", nil, nil)
	do(t, "GET", base+"/webhooks/whatsapp/b", nil, nil)
	status, _, body := do(t, "GET", base+"/metrics", nil, nil)
	if status != 200 {
		t.Fatalf("metrics status %d", status)
	}
	tests := []string{
		`baton_http_requests_total{method="GET",route="/healthz",status="200"} 3`,
		`baton_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		// One series per route pattern, not per bot id in the path.
		`baton_http_requests_total{method="GET",route="/webhooks/:provider/:bot",status="404"} 2`,
		`baton_http_request_duration_seconds_count{method="GET",route="/healthz"} 3`,
	}
	for _, want := range tests {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		})
	}
	if _, err := web.New(web.Config{Store: st, Registry: reg}); err == nil {
		t.Error("registering the HTTP metrics twice on one registry must fail")
	}
}

// chatRoutes answers with the name of the route it was reached by.
type chatRoutes struct{}

func (chatRoutes) Page(c *fiber.Ctx) error   { return c.SendString("page " + c.Params("bot")) }
func (chatRoutes) Post(c *fiber.Ctx) error   { return c.SendString("post " + c.Params("bot")) }
func (chatRoutes) Stream(c *fiber.Ctx) error { return c.SendString("stream " + c.Params("bot")) }

func TestWebChatRoutes(t *testing.T) {
	st := openStore(t)
	with, _ := serve(t, web.Config{Store: st, WebChat: chatRoutes{}})
	without, _ := serve(t, web.Config{Store: st})
	tests := []struct {
		base, method, path string
		status             int
		body               string
	}{
		{with, "GET", "/chat/shop", 200, "page shop"},
		{with, "POST", "/chat/shop/messages", 200, "post shop"},
		{with, "GET", "/chat/shop/stream", 200, "stream shop"},
		{with, "GET", "/", 200, `<a href="/chat/shop">`},
		{without, "GET", "/chat/shop", 404, `"not_found"`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, _, body := do(t, tc.method, tc.base+tc.path, nil, nil)
			if status != tc.status || !strings.Contains(string(body), tc.body) {
				t.Errorf("status %d body %.200q, want %d containing %q", status, body, tc.status, tc.body)
			}
		})
	}
}

// TestAdminConversationDecisions checks the decisions and the packet of
// GET /api/v1/conversations/{id} against the wire format in testdata: every
// name snake_case, lists never null, the packet null until escalation.
func TestAdminConversationDecisions(t *testing.T) {
	ctx := context.Background()
	clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	escalated := seed(t, st)
	msgs, err := st.ListMessages(ctx, escalated, 0, 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("seeded message: %v %v", msgs, err)
	}
	msgID := msgs[0].ID
	for _, d := range []*baton.Decision{
		{ConversationID: escalated, MessageID: msgID, Action: baton.ActionAnswer,
			Analysis: &baton.DecisionAnalysis{Language: "en", Intent: "order_status", IntentConfidence: 0.87,
				Sentiment: -0.25, SentimentTrend: -0.5},
			Citations: []baton.Citation{{Slug: "shipping-times", Title: "Shipping times", Score: 0.91}},
			Triggers:  []baton.TriggerResult{{Trigger: baton.TriggerNegativeSentiment, Value: -0.25, Threshold: -0.6}},
			Took:      1234567 * time.Microsecond, Detail: "grounded", State: json.RawMessage(`{"asked":"order_number"}`),
			CreatedAt: time.Date(2026, 3, 2, 8, 58, 0, 0, time.UTC)},
		{ConversationID: escalated, MessageID: msgID, Action: baton.ActionEscalate,
			Analysis: &baton.DecisionAnalysis{Language: "en", OutOfScope: true, Sentiment: -0.7, SentimentTrend: -0.45, WantsHuman: true},
			Triggers: []baton.TriggerResult{{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true, Detail: "talk to a person"}},
			Took:     850 * time.Microsecond, Detail: "general",
			CreatedAt: time.Date(2026, 3, 2, 8, 59, 0, 0, time.UTC)},
		{ConversationID: escalated, MessageID: msgID, Action: baton.ActionWait,
			CreatedAt: time.Date(2026, 3, 2, 8, 59, 30, 0, time.UTC)},
	} {
		if err := st.InsertDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	conv, err := st.GetConversation(ctx, escalated)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SavePacket(ctx, &baton.HandoffPacket{
		ConversationID: escalated, Summary: "Asks where order A-1 is; wants a person.",
		Reasons:  []baton.TriggerResult{{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true, Detail: "talk to a person"}},
		Customer: baton.CustomerProfile{ID: conv.CustomerID, Name: "Sheena", Address: "16505551234"},
		Channel:  baton.ChannelWhatsApp, Attributes: map[string]string{"order": "A-1"}, Language: "en",
		Intent: "order_status", IntentScore: 0.87, Sentiment: -0.7, SentimentTrend: -0.45,
		ArticlesTried: []baton.ArticleRef{{Slug: "shipping-times", Title: "Shipping times", Score: 0.91}},
		FailedAnswers: []string{"Parcels arrive in 2 to 4 days."},
		QueueID:       "general", Skills: []string{"orders"}, Priority: baton.PriorityHigh,
		CreatedAt: time.Date(2026, 3, 2, 8, 59, 0, 0, time.UTC),
	}); err != nil {
		t.Fatal(err)
	}
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelSMS, Address: "+15550001"}, "")
	if err != nil {
		t.Fatal(err)
	}
	quiet := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelSMS, Address: "+15550001"}
	if err := st.CreateConversation(ctx, quiet); err != nil {
		t.Fatal(err)
	}

	golden, err := os.ReadFile(filepath.Join("testdata", "conversation_decisions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]any
	golden = bytes.ReplaceAll(golden, []byte(`"$CUSTOMER"`), []byte(fmt.Sprint(conv.CustomerID)))
	golden = bytes.ReplaceAll(golden, []byte(`"$CONVERSATION"`), []byte(fmt.Sprint(escalated)))
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatalf("testdata: %v", err)
	}
	base, _ := serve(t, web.Config{Store: st, AdminToken: adminToken})
	tests := []struct {
		name string
		id   int64
	}{
		{"escalated", escalated},
		{"never escalated", quiet.ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", base, tc.id), nil,
				map[string]string{"Authorization": "Bearer " + adminToken})
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			w := want[tc.name]
			for _, field := range []string{"decisions", "packet"} {
				gotField, ok := got[field]
				if !ok {
					t.Errorf("%s missing from %s", field, body)
					continue
				}
				wantField := w[field]
				if field == "decisions" {
					// The message id is the seeded one's.
					for _, d := range wantField.([]any) {
						d.(map[string]any)["message_id"] = float64(msgID)
					}
				}
				if !reflect.DeepEqual(gotField, wantField) {
					g, _ := json.MarshalIndent(gotField, "", "  ")
					e, _ := json.MarshalIndent(wantField, "", "  ")
					t.Errorf("%s =\n%s\nwant\n%s", field, g, e)
				}
			}
		})
	}
}
