package openai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu"
	"github.com/batonhq/baton/nlu/intent"
)

// fakeProvider speaks the OpenAI wire format on loopback: it records every
// request and answers from a script of (status, testdata file) replies; the
// last reply repeats.
type fakeProvider struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []recorded
	replies []reply
	srv     *httptest.Server
}

type recorded struct {
	path, auth string
	body       map[string]any
}

type reply struct {
	status int
	file   string
	delay  time.Duration
}

func newFake(t *testing.T, replies ...reply) *fakeProvider {
	f := &fakeProvider{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("request body is not JSON: %v", err)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body})
	rep := f.replies[min(len(f.reqs)-1, len(f.replies)-1)]
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("request %s with content type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	data, err := os.ReadFile("testdata/" + rep.file)
	if err != nil {
		f.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	w.Write(data)
}

func (f *fakeProvider) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeProvider) client(t *testing.T, tweak func(*Config)) *Client {
	cfg := Config{APIKey: "test-key", BaseURL: f.srv.URL + "/v1", Timeout: 2 * time.Second, Backoff: 10 * time.Millisecond, EmbeddingDim: 4}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	offOnce sync.Once
	off     *nlu.Analyzer
	offErr  error
)

func offline(t *testing.T) *nlu.Analyzer {
	offOnce.Do(func() {
		f, err := os.Open("testdata/intents.yaml")
		if err != nil {
			offErr = err
			return
		}
		defer f.Close()
		in, err := intent.ReadYAML(f)
		if err != nil {
			offErr = err
			return
		}
		off, offErr = nlu.New(context.Background(), nlu.Config{Languages: []string{"en", "tr", "ru"}, Intents: in})
	})
	if offErr != nil {
		t.Fatal(offErr)
	}
	return off
}

func triage(t *testing.T, c *Client) *Triage {
	tr, err := NewTriage(c.LLM(), offline(t))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTriageRequestShapeAndAnswer(t *testing.T) {
	f := newFake(t, reply{status: 200, file: "chat_triage_order_status.json"})
	tr := triage(t, f.client(t, nil))
	text := "My order from two weeks ago never came! I paid with 4111 1111 1111 1111, mail me at jane@example.com"
	an, err := tr.Analyze(context.Background(), text, nlu.History{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.path != "/v1/chat/completions" || r.auth != "Bearer test-key" {
		t.Errorf("path %q auth %q", r.path, r.auth)
	}
	if r.body["model"] != "gpt-4o-mini" {
		t.Errorf("model %v", r.body["model"])
	}
	msgs, _ := r.body["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages %v", r.body["messages"])
	}
	sys, user := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if sys["role"] != "system" || user["role"] != "user" {
		t.Errorf("roles %v / %v", sys["role"], user["role"])
	}
	content, _ := user["content"].(string)
	if strings.Contains(content, "4111") || strings.Contains(content, "jane@") || !strings.Contains(content, "[CARD]") || !strings.Contains(content, "[EMAIL]") {
		t.Errorf("personal data reached the provider: %q", content)
	}
	rf, _ := r.body["response_format"].(map[string]any)
	js, _ := rf["json_schema"].(map[string]any)
	if rf["type"] != "json_schema" || js["strict"] != true || js["name"] != "triage" {
		t.Fatalf("response_format %v", rf)
	}
	props := js["schema"].(map[string]any)["properties"].(map[string]any)
	var enum []string
	for _, v := range props["intent"].(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	if !slices.Contains(enum, "order_status") || !slices.Contains(enum, OutOfScope) || slices.Contains(enum, "oos") {
		t.Errorf("intent enum %v", enum)
	}

	if an.Source != "gpt-4o-mini-2024-07-18" || an.Intent != "order_status" || an.IntentConfidence != 0.93 {
		t.Errorf("analysis %+v", an)
	}
	if an.SentimentLabel != baton.SentimentNegative || an.Summary == "" || an.Language != "en" {
		t.Errorf("analysis %+v", an)
	}
	if len(an.PII) != 2 {
		t.Errorf("PII spans from the offline pass lost: %+v", an.PII)
	}
}

func TestTriageFallsBack(t *testing.T) {
	tests := []struct {
		name     string
		replies  []reply
		tweak    func(*Config)
		attempts int
		reason   string
		maxTime  time.Duration
	}{
		{"server error every time", []reply{{status: 500, file: "error_500.json"}}, nil, 3, "unavailable", 2 * time.Second},
		{"unauthorized is not retried", []reply{{status: 401, file: "error_401.json"}}, nil, 1, "unauthorized", time.Second},
		{"answer outside the schema", []reply{{status: 200, file: "chat_triage_unknown_intent.json"}}, nil, 1, "unknown intent", time.Second},
		{"slow provider hits the timeout", []reply{{status: 200, file: "chat_triage_order_status.json", delay: 3 * time.Second}},
			func(c *Config) { c.Timeout = 200 * time.Millisecond; c.TotalTimeout = 500 * time.Millisecond }, 0, "unavailable", 1500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.replies...)
			tr := triage(t, f.client(t, tc.tweak))
			start := time.Now()
			an, err := tr.Analyze(context.Background(), "where is my order", nlu.History{})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(an.Source, FallbackPrefix) || !strings.Contains(an.Source, tc.reason) {
				t.Errorf("source %q, want an offline fallback for %q", an.Source, tc.reason)
			}
			if an.Intent != "order_status" {
				t.Errorf("offline intent %q", an.Intent)
			}
			if tc.attempts > 0 && len(f.requests()) != tc.attempts {
				t.Errorf("%d attempts, want %d", len(f.requests()), tc.attempts)
			}
			if took > tc.maxTime {
				t.Errorf("fallback took %v, want under %v", took, tc.maxTime)
			}
		})
	}
}

func TestRetryAfterRateLimit(t *testing.T) {
	f := newFake(t, reply{status: 429, file: "error_429.json"}, reply{status: 200, file: "chat_triage_order_status.json"})
	an, err := triage(t, f.client(t, nil)).Analyze(context.Background(), "where is my order", nlu.History{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.requests()) != 2 || an.Source != "gpt-4o-mini-2024-07-18" {
		t.Errorf("%d requests, source %q", len(f.requests()), an.Source)
	}
}

func TestOfflineRequestForAPersonStands(t *testing.T) {
	f := newFake(t, reply{status: 200, file: "chat_triage_no_human.json"})
	an, err := triage(t, f.client(t, nil)).Analyze(context.Background(), "iade istiyorum, temsilciye bağlayın", nlu.History{})
	if err != nil {
		t.Fatal(err)
	}
	if !an.WantsHuman || an.WantsHumanEvidence == "" || an.Intent != "refund" {
		t.Errorf("analysis %+v: the explicit request must stand", an)
	}
}

func TestEmbeddings(t *testing.T) {
	f := newFake(t, reply{status: 200, file: "embeddings.json"})
	e := f.client(t, nil).Embedder()
	vecs, err := e.Embed(context.Background(), []string{"return policy", "call me on +14155552671"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 2 || vecs[0][0] != 0.1 || vecs[1][0] != 0.5 {
		t.Errorf("vectors out of order: %v", vecs)
	}
	r := f.requests()[0]
	if r.path != "/v1/embeddings" || r.body["model"] != "text-embedding-3-small" || r.body["dimensions"] != float64(4) {
		t.Errorf("request %+v", r)
	}
	in, _ := r.body["input"].([]any)
	if len(in) != 2 || strings.Contains(in[1].(string), "4155552671") {
		t.Errorf("input %v", in)
	}
	if e.Dim() != 4 || e.Model() != "text-embedding-3-small" {
		t.Errorf("dim %d model %s", e.Dim(), e.Model())
	}
	// A server error is reported with a retryable code.
	f5 := newFake(t, reply{status: 500, file: "error_500.json"})
	if _, err := f5.client(t, nil).Embedder().Embed(context.Background(), []string{"x"}); baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Errorf("500: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{}); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("no key: %v", err)
	}
	env := map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}
	cfg, ok := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if !ok || cfg.APIKey != "k" || cfg.BaseURL != "http://127.0.0.1:1/v1" {
		t.Errorf("ConfigFromEnv = %+v %v", cfg, ok)
	}
	if _, ok := ConfigFromEnv(func(string) (string, bool) { return "", false }); ok {
		t.Error("no key must mean no provider")
	}
}

func TestSetup(t *testing.T) {
	a, c, err := Setup(func(string) (string, bool) { return "", false }, offline(t))
	if err != nil || c != nil {
		t.Fatalf("no key: client %v err %v", c, err)
	}
	if _, ok := a.(*nlu.Analyzer); !ok {
		t.Errorf("no key should mean the offline analyser, got %T", a)
	}
	f := newFake(t, reply{status: 200, file: "chat_triage_order_status.json"})
	env := map[string]string{"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": f.srv.URL + "/v1"}
	a, c, err = Setup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, offline(t))
	if err != nil || c == nil {
		t.Fatalf("with key: %v", err)
	}
	an, err := a.Analyze(context.Background(), "where is my order", nlu.History{})
	if err != nil || an.Source != "gpt-4o-mini-2024-07-18" || len(f.requests()) != 1 {
		t.Errorf("with a key the triage goes through the provider: %+v, %v", an, err)
	}
}
