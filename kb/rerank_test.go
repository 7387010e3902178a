package kb

import (
	"context"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/pii"
)

func TestLLMReranker(t *testing.T) {
	in := []Result{result("a", "A", "alpha"), result("b", "B", "beta"), result("c", "C", "gamma"), result("d", "D", "delta")}
	tests := []struct {
		name, reply, want string
		err               error
	}{
		{"model order first, the rest after", "3, 1", "c,a,b,d", nil},
		{"unknown and repeated numbers ignored", "9, 2, 2, 0", "b,a,c,d", nil},
		{"none helps keeps the order", "0", "a,b,c,d", nil},
		{"model error", "", "", baton.Errorf(baton.EUNAVAILABLE, "down")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			llm := &recordingLLM{reply: tc.reply, err: tc.err}
			rr := &LLMReranker{LLM: llm, Redact: pii.String}
			got, err := rr.Rerank(context.Background(), "mail me at anna@example.com: which one?", in)
			if tc.err != nil {
				if baton.ErrorCode(err) != baton.EUNAVAILABLE {
					t.Errorf("error %v, want EUNAVAILABLE", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := slugsOf(got); s != tc.want {
				t.Errorf("order %s, want %s", s, tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Fused >= got[i-1].Fused {
					t.Errorf("fused scores not decreasing: %v", got)
				}
			}
			user := llm.got[0].Messages[0].Content
			if strings.Contains(user, "anna@example.com") || !strings.Contains(user, "Question: mail me at [EMAIL]: which one?") {
				t.Errorf("prompt:\n%s", user)
			}
			if !strings.Contains(user, "[3] C\ngamma") {
				t.Errorf("prompt lacks numbered passages:\n%s", user)
			}
		})
	}
	if _, err := (&LLMReranker{LLM: &recordingLLM{}}).Rerank(context.Background(), "q", in); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("no redaction: %v, want EINVALID", err)
	}
}
