package kb

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/nlu/openai"
	"github.com/batonhq/baton/nlu/pii"
)

// fakeOpenAI speaks the chat completions wire format on loopback and
// records every request body it receives.
type fakeOpenAI struct {
	mu      sync.Mutex
	reply   string
	status  int
	bodies  [][]byte
	decoded []chatRequest
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	var req chatRequest
	json.Unmarshal(body, &req)
	f.decoded = append(f.decoded, req)
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer test-key" {
		http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	if f.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": f.reply}}},
		"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
	})
}

func TestGeneratedAnswerThroughOpenAIServer(t *testing.T) {
	ctx := context.Background()
	ts := stores(t)[0]
	r := importFixture(t, ts)
	question := "My card is 4111 1111 1111 1111 and mail anna@example.com: how long does express delivery take?"
	tests := []struct {
		name     string
		reply    string
		status   int
		answered bool
		source   string
		reason   string
	}{
		{"cited answer", "Express delivery arrives the next working day when you order before 14:00 [delivery-times].", 0, true, "llm:gpt-4o-mini", ""},
		{"citation of an article not retrieved", "It arrives tomorrow [express-shipping-faq].", 0, false, "llm:gpt-4o-mini", "not retrieved"},
		{"no citation", "It arrives tomorrow.", 0, false, "llm:gpt-4o-mini", "cites no article"},
		{"refusal", "NOT_COVERED", 0, false, "llm:gpt-4o-mini", "do not cover"},
		{"provider down: extractive fallback", "", http.StatusServiceUnavailable, true, "extractive", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeOpenAI{reply: tc.reply, status: tc.status}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			client, err := openai.New(openai.Config{APIKey: "test-key", BaseURL: srv.URL + "/v1", MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			a := &Answerer{Retriever: r, LLM: client.LLM(), Redact: pii.String}
			ans, err := a.Answer(ctx, AnswerRequest{BotID: ts.bot, Question: question, Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Answered != tc.answered || ans.Source != tc.source || !strings.Contains(ans.Reason, tc.reason) {
				t.Errorf("answered %v source %q reason %q; want %v %q %q", ans.Answered, ans.Source, ans.Reason, tc.answered, tc.source, tc.reason)
			}
			if ans.Answered && (len(ans.Citations) == 0 || ans.Citations[0].Slug != "delivery-times") {
				t.Errorf("citations %+v", ans.Citations)
			}
			if len(fake.decoded) != 1 {
				t.Fatalf("%d requests reached the provider, want 1", len(fake.decoded))
			}
			for _, body := range fake.bodies {
				for _, secret := range []string{"anna@example.com", "4111 1111 1111 1111"} {
					if strings.Contains(string(body), secret) {
						t.Errorf("%q reached the provider", secret)
					}
				}
			}
			// Exactly the system instructions and one user message: the
			// retrieved passages and the redacted question.
			msgs := fake.decoded[0].Messages
			res, err := r.Search(ctx, Query{BotID: ts.bot, Text: question, Language: "en", Mode: ModeHybrid, Limit: 4, Distinct: true})
			if err != nil {
				t.Fatal(err)
			}
			want := BuildPrompt(res, pii.String(question), "en")
			if len(msgs) != 2 || msgs[0].Role != "system" || msgs[1].Role != "user" ||
				msgs[0].Content != want.System || msgs[1].Content != want.Messages[0].Content {
				t.Errorf("provider got %+v\nwant system + user:\n%s", msgs, want.Messages[0].Content)
			}
		})
	}
}
