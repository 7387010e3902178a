package evals

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/nlu/openai"
	"github.com/batonhq/baton/nlu/pii"
)

// MetricJudgePassRate is the share of judge: rubrics the LLM judge found
// the replies to meet (LLM runs only).
const MetricJudgePassRate = "judge.pass_rate"

// judgeSchema is the judge's verdict: whether the replies meet the rubric,
// and why, in a sentence.
var judgeSchema = []byte(`{"type":"object","additionalProperties":false,"required":["pass","reason"],` +
	`"properties":{"pass":{"type":"boolean"},"reason":{"type":"string"}}}`)

const judgeSystem = `You grade the replies of a customer-support bot against a rubric written by the bot's owner.
Judge only what the rubric asks; the replies meet it or they do not. Answer only with JSON that follows the schema:
pass is true when the replies meet the rubric, reason says why in one sentence.`

// judge grades free-text replies with the configuration's OpenAI-compatible
// model.
type judge struct{ llm baton.LLM }

// newJudge is the run's judge, or nil when the configuration has no key
// (judge: rubrics are then skipped, and counted as such).
func newJudge(cfg *config.Config) (*judge, error) {
	if cfg.OpenAI.APIKey == "" {
		return nil, nil
	}
	c, err := openai.New(openai.Config{APIKey: cfg.OpenAI.APIKey, BaseURL: cfg.OpenAI.BaseURL, ChatModel: cfg.OpenAI.ChatModel,
		Timeout: cfg.OpenAI.Timeout.Value()})
	if err != nil {
		return nil, err
	}
	return &judge{llm: c.LLM()}, nil
}

// grade asks whether replies to the customer's message meet rubric. Both
// texts are redacted of personal data before they leave.
func (j *judge) grade(ctx context.Context, rubric, customer string, replies []string) (pass bool, reason string, err error) {
	var b strings.Builder
	b.WriteString("Rubric:\n" + rubric + "\n\nThe customer wrote:\n" + pii.String(customer) + "\n\nThe bot replied:\n")
	for _, r := range replies {
		b.WriteString(pii.String(r) + "\n")
	}
	resp, err := j.llm.Complete(ctx, baton.CompletionRequest{System: judgeSystem, Messages: []baton.ChatMessage{{Role: "user", Content: b.String()}},
		JSONSchema: judgeSchema, SchemaName: "verdict", MaxTokens: 200})
	if err != nil {
		return false, "", err
	}
	var v struct {
		Pass   bool   `json:"pass"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(resp.Content), &v); err != nil {
		return false, "", baton.Errorf(baton.EUNAVAILABLE, "judge: the model's verdict is not the JSON asked for")
	}
	return v.Pass, v.Reason, nil
}
