package kb

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/pii"
)

func TestExtractiveAnswer(t *testing.T) {
	ctx := context.Background()
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			a := &Answerer{Retriever: importFixture(t, ts)}
			tests := []struct {
				name     string
				req      AnswerRequest
				answered bool
				slug     string
				contains string
			}{
				{"covered", AnswerRequest{Question: "How long does express delivery take?", Language: "en"}, true, "delivery-times", "next working day"},
				// The article's own question: every chunk has the title in
				// its breadcrumb; the answer is the article's opening.
				{"the title's question", AnswerRequest{Question: "How long does delivery take?", Language: "en"}, true, "delivery-times", "Most orders arrive within 2 to 4 working days"},
				{"covered, other words", AnswerRequest{Question: "when do I get the refund on my card", Language: "en"}, true, "return-policy", "5 to 7 working days"},
				{"turkish", AnswerRequest{Question: "Teslimat ne kadar sürer?", Language: "tr"}, true, "delivery-times-tr", "iş günü"},
				{"customer language has no grounded passage: default language", AnswerRequest{Question: "refund to my card, how many working days", Language: "tr", Fallback: "en"}, true, "return-policy", "5 to 7 working days"},
				{"same without a default language", AnswerRequest{Question: "refund to my card, how many working days", Language: "tr"}, false, "", ""},
				{"not covered", AnswerRequest{Question: "what is the capital of France", Language: "en"}, false, "", ""},
				{"not covered either", AnswerRequest{Question: "play some jazz music", Language: "en"}, false, "", ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.req.BotID = ts.bot
					ans, err := a.Extractive(ctx, tc.req)
					if err != nil {
						t.Fatal(err)
					}
					if ans.Answered != tc.answered {
						t.Fatalf("answered %v (grounded %.2f, reason %q), want %v", ans.Answered, ans.Grounded, ans.Reason, tc.answered)
					}
					if ans.Grounded < 0 || ans.Grounded > 1 {
						t.Errorf("grounded %f outside [0, 1]", ans.Grounded)
					}
					if !tc.answered {
						if ans.Reason == "" {
							t.Error("no reason given for not answering")
						}
						return
					}
					if len(ans.Citations) != 1 || ans.Citations[0].Slug != tc.slug || ans.Citations[0].URL == "" || ans.Citations[0].Title == "" {
						t.Errorf("citations %+v, want %s with title and URL", ans.Citations, tc.slug)
					}
					if !strings.Contains(ans.Text, tc.contains) {
						t.Errorf("text %q lacks %q", ans.Text, tc.contains)
					}
					if ans.Source != "extractive" {
						t.Errorf("source %q", ans.Source)
					}
					tried := ans.ArticlesTried()
					if len(tried) == 0 || tried[0].Slug != tc.slug || tried[0].Score <= 0 {
						t.Errorf("articles tried %+v, want %s first", tried, tc.slug)
					}
					for i := 1; i < len(tried); i++ {
						if tried[i].Slug == tried[0].Slug || tried[i].Score > tried[i-1].Score {
							t.Errorf("articles tried not distinct and ordered: %+v", tried)
						}
					}
				})
			}
		})
	}
}

// recordingLLM stands in for a chat model: it records every request and
// replies with a fixed text (or error).
type recordingLLM struct {
	mu    sync.Mutex
	reply string
	err   error
	got   []baton.CompletionRequest
}

func (l *recordingLLM) Complete(_ context.Context, req baton.CompletionRequest) (baton.CompletionResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, req)
	return baton.CompletionResponse{Content: l.reply, Model: "test-model"}, l.err
}

func (l *recordingLLM) Model() string { return "test-model" }

func (l *recordingLLM) calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// TestAnswerFromChosenArticle: a customer's pick among a clarification's
// articles is answered from that article, with the passage that matches
// the question, even when retrieval would rank another first; a draft or
// unknown slug is not answered and says why.
func TestAnswerFromChosenArticle(t *testing.T) {
	ctx := context.Background()
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			// With an LLM set, a chosen article is still quoted, never sent
			// to the model.
			llm := &recordingLLM{reply: "from the model"}
			a := &Answerer{Retriever: importFixture(t, ts), LLM: llm, Redact: pii.String}
			for _, tc := range []struct {
				name, question, article string
				answered                bool
				contains, reason        string
			}{
				{"the passage that matches", "when do I get my money back on my card", "return-policy", true, "5 to 7 working days", ""},
				{"a question another article wins", "How long does express delivery take?", "return-policy", true, "30 days", ""},
				{"a draft is no answer", "gift cards", "draft-gift-cards", false, "", "not published"},
				{"an unknown slug", "anything", "no-such-article", false, "", "not published"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ans, err := a.Answer(ctx, AnswerRequest{BotID: ts.bot, Question: tc.question, Language: "en", Article: tc.article})
					if err != nil {
						t.Fatal(err)
					}
					if ans.Answered != tc.answered {
						t.Fatalf("answered %v (reason %q), want %v", ans.Answered, ans.Reason, tc.answered)
					}
					if !tc.answered {
						if !strings.Contains(ans.Reason, tc.reason) {
							t.Errorf("reason %q lacks %q", ans.Reason, tc.reason)
						}
						return
					}
					if len(ans.Citations) != 1 || ans.Citations[0].Slug != tc.article || ans.Citations[0].URL == "" || !strings.Contains(ans.Text, tc.contains) {
						t.Errorf("answer %q citing %+v, want %s and %q", ans.Text, ans.Citations, tc.article, tc.contains)
					}
				})
			}
			if llm.calls() != 0 {
				t.Errorf("the model was asked %d times about a chosen article", llm.calls())
			}
		})
	}
}

func TestGeneratedAnswer(t *testing.T) {
	ctx := context.Background()
	ts := stores(t)[0]
	r := importFixture(t, ts)
	question := "I am anna@example.com, how long does express delivery take?"
	tests := []struct {
		name     string
		reply    string
		err      error
		answered bool
		reason   string
		source   string
	}{
		{"valid citation", "Express delivery arrives the next working day if you order before 14:00 [delivery-times].", nil, true, "", "llm:test-model"},
		{"cites an article not retrieved", "Express delivery is next day [gift-cards].", nil, false, "[gift-cards], which was not retrieved", "llm:test-model"},
		{"no citation", "Express delivery arrives the next working day.", nil, false, "cites no article", "llm:test-model"},
		{"refusal", "NOT_COVERED", nil, false, "do not cover", "llm:test-model"},
		{"model unavailable falls back to extractive", "", baton.Errorf(baton.EUNAVAILABLE, "provider down"), true, "", "extractive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			llm := &recordingLLM{reply: tc.reply, err: tc.err}
			a := &Answerer{Retriever: r, LLM: llm, Redact: pii.String}
			ans, err := a.Answer(ctx, AnswerRequest{BotID: ts.bot, Question: question, Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Answered != tc.answered || !strings.Contains(ans.Reason, tc.reason) || ans.Source != tc.source {
				t.Errorf("answered %v reason %q source %q; want %v, %q, %q", ans.Answered, ans.Reason, ans.Source, tc.answered, tc.reason, tc.source)
			}
			if ans.Answered && (len(ans.Citations) == 0 || ans.Citations[0].Slug != "delivery-times") {
				t.Errorf("citations %+v", ans.Citations)
			}
			if !ans.Answered && tc.source == "llm:test-model" && (ans.Text != "" || len(ans.Citations) != 0) {
				t.Errorf("a discarded answer kept its text %q", ans.Text)
			}
			if len(llm.got) != 1 {
				t.Fatalf("%d model calls, want 1", len(llm.got))
			}
			// The prompt is exactly the retrieved passages and the redacted
			// question.
			prompt := llm.got[0]
			user := prompt.Messages[0].Content
			if strings.Contains(user, "anna@example.com") || strings.Contains(prompt.System, "anna@example.com") {
				t.Error("the e-mail address reached the model")
			}
			if !strings.HasSuffix(user, "Question: I am [EMAIL], how long does express delivery take?") {
				t.Errorf("prompt does not end with the redacted question:\n%s", user)
			}
			res, err := r.Search(ctx, Query{BotID: ts.bot, Text: question, Language: "en", Mode: ModeHybrid, Limit: 4, Distinct: true})
			if err != nil {
				t.Fatal(err)
			}
			want := BuildPrompt(res, pii.String(question), "en")
			if user != want.Messages[0].Content || prompt.System != want.System {
				t.Errorf("prompt is not the retrieved passages + question:\n%s\nwant:\n%s", user, want.Messages[0].Content)
			}
			if strings.Contains(user, "Gift cards are valid") {
				t.Error("a draft article reached the prompt")
			}
		})
	}
}

func TestGeneratedAnswerNeedsRedaction(t *testing.T) {
	ts := stores(t)[0]
	a := &Answerer{Retriever: importFixture(t, ts), LLM: &recordingLLM{reply: "x"}}
	_, err := a.Generate(context.Background(), AnswerRequest{BotID: ts.bot, Question: "express delivery", Language: "en"})
	if baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("error %v, want EINVALID", err)
	}
}

func TestGeneratedAnswerSkipsModelWhenUngrounded(t *testing.T) {
	ts := stores(t)[0]
	llm := &recordingLLM{reply: "The capital of France is Paris [delivery-times]."}
	a := &Answerer{Retriever: importFixture(t, ts), LLM: llm, Redact: pii.String}
	ans, err := a.Generate(context.Background(), AnswerRequest{BotID: ts.bot, Question: "what is the capital of France", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Answered || len(llm.got) != 0 {
		t.Errorf("answered %v after %d model calls; want no answer and no call", ans.Answered, len(llm.got))
	}
}
