package evals

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/config"
)

// fakeOpenAI speaks the OpenAI wire format on loopback: embeddings from
// the words of each input (hashed into the 1,536 dimensions of text-embedding-3-small), the triage as the
// JSON its schema asks for, and a cited answer. It counts what it served.
type fakeOpenAI struct {
	mu                       sync.Mutex
	embeddings, triage, chat int
	judged                   int
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/v1/embeddings":
		f.embeddings++
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		_ = json.Unmarshal(body, &req)
		var data []map[string]any
		for i, text := range req.Input {
			v := make([]float32, 1536)
			for _, word := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(strings.Trim(word, ".,?!")))
				v[h.Sum32()%1536]++
			}
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": v})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}})
	case "/v1/chat/completions":
		content := "You can return unworn items within 30 days of delivery [returns-policy]."
		if strings.Contains(string(body), `Rubric:`) {
			f.judged++
			// The replies meet any rubric but one asking for French.
			content = `{"pass":true,"reason":"It gives the 30-day window."}`
			if strings.Contains(string(body), "in French") {
				content = `{"pass":false,"reason":"The reply is in English."}`
			}
		} else if strings.Contains(string(body), `"response_format"`) {
			f.triage++
			content = `{"intent":"returns","intent_confidence":0.97,"language":"en","sentiment":0,"sentiment_label":"neutral","wants_human":false,"wants_human_evidence":"","summary":"Asks how long returns take."}`
		} else {
			f.chat++
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]string{"role": "assistant", "content": content}}},
			"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
	default:
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
	}
}

// TestRunLLM: with an OpenAI-compatible key in the configuration the run
// is in "llm" mode and the bot takes its LLM path: the KB embedded, the
// triage and the answer asked of the provider.
func TestRunLLM(t *testing.T) {
	fake := &fakeOpenAI{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	rep := runSuite(t, "testdata/llm", Options{LookupEnv: config.MapEnv(map[string]string{
		"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": srv.URL + "/v1"}), Logger: testLogger(t)})
	if rep.Mode != "llm" {
		t.Errorf("mode %q", rep.Mode)
	}
	c := caseByID(t, rep, "returns-llm-en")
	for _, f := range c.Failures {
		t.Errorf("%s", FailureText(c, f))
	}
	// The judge graded both rubrics; the one the replies miss is a
	// failure with the judge's reason.
	c = caseByID(t, rep, "judged-french-en")
	if len(c.Failures) != 1 || c.Failures[0].Field != "judge" || c.Failures[0].Detail != "The reply is in English." || c.Failures[0].Line != 17 {
		t.Errorf("judged-french-en failures %+v", c.Failures)
	}
	if rep.Metrics[MetricJudgePassRate] != 0.5 {
		t.Errorf("%s = %v, want 0.5", MetricJudgePassRate, rep.Metrics[MetricJudgePassRate])
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.embeddings == 0 || fake.triage == 0 || fake.chat == 0 || fake.judged != 2 {
		t.Errorf("the provider served %d embeddings, %d triages, %d answers, %d verdicts", fake.embeddings, fake.triage, fake.chat, fake.judged)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Logf("%s", p); return len(p), nil }
