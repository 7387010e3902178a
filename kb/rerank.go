package kb

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// LLMReranker reorders retrieved passages by asking a chat model which of
// them answer the question. It implements Reranker. The model sees the
// passages and the redacted question only.
type LLMReranker struct {
	LLM     baton.LLM
	Redact  func(string) string // required: the question reaches an external model
	Timeout time.Duration       // 0 = 10s
	Max     int                 // passages shown to the model (0 = 10); the rest keep their order after them
}

var rerankIDRE = regexp.MustCompile(`\d+`)

// Rerank puts the passages the model lists first, in its order; passages it
// leaves out follow in their fused order. Fused becomes 1/(position+1).
func (rr *LLMReranker) Rerank(ctx context.Context, question string, res []Result) ([]Result, error) {
	if rr.LLM == nil || rr.Redact == nil {
		return nil, baton.Errorf(baton.EINVALID, "rerank: an LLM and a redaction function are required")
	}
	n := rr.Max
	if n <= 0 {
		n = 10
	}
	n = min(n, len(res))
	if n < 2 {
		return res, nil
	}
	var b strings.Builder
	for i, r := range res[:n] {
		fmt.Fprintf(&b, "[%d] %s\n%s\n\n", i+1, r.Title, clip(Passage(r.Chunk), 1200))
	}
	fmt.Fprintf(&b, "Question: %s", rr.Redact(question))
	timeout := rr.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := rr.LLM.Complete(cctx, baton.CompletionRequest{
		System: "You rank support passages for a customer question. Reply with the numbers of the passages that " +
			"help answer it, most helpful first, separated by commas, and nothing else. Reply 0 if none helps.",
		Messages:    []baton.ChatMessage{{Role: "user", Content: b.String()}},
		Temperature: 0,
		MaxTokens:   60,
	})
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	out := make([]Result, 0, len(res))
	used := make([]bool, len(res))
	for _, m := range rerankIDRE.FindAllString(resp.Content, -1) {
		i, err := strconv.Atoi(m)
		if err != nil || i < 1 || i > n || used[i-1] {
			continue
		}
		used[i-1] = true
		out = append(out, res[i-1])
	}
	for i, r := range res {
		if !used[i] {
			out = append(out, r)
		}
	}
	for i := range out {
		out[i].Fused = 1 / float64(i+1)
	}
	return out, nil
}
