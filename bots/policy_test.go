package bots

import (
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func fired(v Verdict) []string {
	var out []string
	for _, t := range v.Fired() {
		out = append(out, t.Trigger)
	}
	return out
}

func result(v Verdict, trigger string) (baton.TriggerResult, bool) {
	for _, t := range v.Triggers {
		if t.Trigger == trigger {
			return t, true
		}
	}
	return baton.TriggerResult{}, false
}

func TestPolicyTriggers(t *testing.T) {
	vip := &Route{Queue: "vip", Priority: baton.PriorityHigh}
	fraud := &Route{Queue: "fraud", Priority: baton.PriorityUrgent}
	base := func() Policy {
		p := DefaultPolicy("general")
		p.Topics = []TopicRule{{Intent: "report_fraud", Route: fraud}, {Intent: "close_account", MinConfidence: 0.6}}
		p.Attributes = []AttributeRule{{Key: "vip", Values: []string{"true", "yes"}, Route: vip}}
		p.Spam = SpamRule{Senders: []string{"+1900*"}, Patterns: []*regexp.Regexp{regexp.MustCompile(`(?i)free crypto`)}}
		return p
	}
	calm := baton.Analysis{Language: "en", Intent: "order_status", IntentConfidence: 0.9, Sentiment: 0.1}
	tests := []struct {
		name    string
		policy  func(*Policy)
		facts   Facts
		outcome bool // evaluate the outcome triggers too
		want    []string
		route   Route
		archive bool
	}{
		{name: "nothing fires on a calm question", facts: Facts{Analysis: calm, Text: "where is my order 123"}},
		{name: "wants human", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.WantsHuman = true })},
			want: []string{baton.TriggerWantsHuman}, route: Route{"general", baton.PriorityNormal}},
		{name: "wants human cannot be turned off", policy: func(p *Policy) { p.WantsHuman.Off = true },
			facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.WantsHuman = true })},
			want:  []string{baton.TriggerWantsHuman}, route: Route{"general", baton.PriorityNormal}},
		{name: "negative sentiment at the threshold", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Sentiment = -0.6 })},
			want: []string{baton.TriggerNegativeSentiment}, route: Route{"general", baton.PriorityNormal}},
		{name: "negative sentiment just above the threshold", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Sentiment = -0.59 })}},
		{name: "negative sentiment off", policy: func(p *Policy) { p.NegativeSentiment.Off = true },
			facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Sentiment = -1 })}},
		{name: "trend below the threshold over enough messages", facts: Facts{Analysis: calm, Trend: -0.5, CustomerMessages: 3},
			want: []string{baton.TriggerSentimentTrend}, route: Route{"general", baton.PriorityNormal}},
		{name: "trend waits for enough messages", facts: Facts{Analysis: calm, Trend: -0.9, CustomerMessages: 2}},
		{name: "topic routes to its queue", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Intent = "report_fraud" })},
			want: []string{baton.TriggerTopic}, route: *fraud},
		{name: "topic below its confidence", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Intent, a.IntentConfidence = "close_account", 0.5 })}},
		{name: "topic at its confidence takes the default route", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Intent, a.IntentConfidence = "close_account", 0.6 })},
			want: []string{baton.TriggerTopic}, route: Route{"general", baton.PriorityNormal}},
		{name: "out of scope never matches a topic", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.Intent, a.OutOfScope = "report_fraud", true })}},
		{name: "trusted VIP", facts: Facts{Analysis: calm, Attributes: map[string]string{"vip": "TRUE"}},
			want: []string{baton.TriggerAttribute}, route: *vip},
		{name: "VIP with another value", facts: Facts{Analysis: calm, Attributes: map[string]string{"vip": "no"}}},
		{name: "no trusted attributes", facts: Facts{Analysis: calm}},
		{name: "not helped", facts: Facts{Analysis: calm, NotHelped: true},
			want: []string{baton.TriggerNotHelped}, route: Route{"general", baton.PriorityNormal}},
		{name: "loop: the same question again", facts: Facts{Analysis: calm, Text: "Where is my order 12345?", Previous: []string{"hello", "where is my order 12345"}},
			want: []string{baton.TriggerLoop}, route: Route{"general", baton.PriorityNormal}},
		{name: "loop only looks two messages back", facts: Facts{Analysis: calm, Text: "where is my order 12345", Previous: []string{"where is my order 12345", "can I pay by card", "do you ship to Ankara"}}},
		{name: "short answers are not a loop", facts: Facts{Analysis: calm, Text: "no", Previous: []string{"no", "no"}}},
		{name: "max turns reached", facts: Facts{Analysis: calm, BotTurns: 8},
			want: []string{baton.TriggerMaxTurns}, route: Route{"general", baton.PriorityNormal}},
		{name: "max turns not reached", facts: Facts{Analysis: calm, BotTurns: 7}},
		{name: "repeated failure on the second failed turn", facts: Facts{Analysis: calm, Failures: 1, Failed: true}, outcome: true,
			want: []string{baton.TriggerRepeatedFailure}, route: Route{"general", baton.PriorityNormal}},
		{name: "a first failure is not repeated", facts: Facts{Analysis: calm, Failed: true}, outcome: true},
		{name: "an answered turn breaks the run of failures", facts: Facts{Analysis: calm, Failures: 5}, outcome: true},
		{name: "action failed", facts: Facts{Analysis: calm, ActionFailed: true}, outcome: true,
			want: []string{baton.TriggerActionFailed}, route: Route{"general", baton.PriorityNormal}},
		{name: "spam by sender archives and evaluates nothing else",
			facts:   Facts{Analysis: with(calm, func(a *baton.Analysis) { a.WantsHuman = true }), Sender: "+19005550100"},
			want:    []string{baton.TriggerSpam},
			archive: true},
		{name: "spam by content", facts: Facts{Analysis: calm, Text: "FREE CRYPTO for you"}, want: []string{baton.TriggerSpam}, archive: true},
		{name: "the most urgent route wins", facts: Facts{Analysis: with(calm, func(a *baton.Analysis) { a.WantsHuman, a.Intent = true, "report_fraud" }), Attributes: map[string]string{"vip": "yes"}},
			want: []string{baton.TriggerWantsHuman, baton.TriggerTopic, baton.TriggerAttribute}, route: *fraud},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			if tc.policy != nil {
				tc.policy(&p)
			}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			v := p.Evaluate(tc.facts)
			if tc.outcome {
				v = p.EvaluateOutcome(v, tc.facts)
			}
			if got := strings.Join(fired(v), ","); got != strings.Join(tc.want, ",") {
				t.Fatalf("fired %q, want %q (evaluated %+v)", got, strings.Join(tc.want, ","), v.Triggers)
			}
			if v.Archive != tc.archive {
				t.Errorf("archive = %v, want %v", v.Archive, tc.archive)
			}
			if v.Escalate != (len(tc.want) > 0 && !tc.archive) {
				t.Errorf("escalate = %v with fired %v", v.Escalate, fired(v))
			}
			if v.Escalate && v.Route != tc.route {
				t.Errorf("route = %+v, want %+v", v.Route, tc.route)
			}
		})
	}
}

func TestPolicyRecordsEveryTrigger(t *testing.T) {
	p := DefaultPolicy("general")
	f := Facts{Analysis: baton.Analysis{Sentiment: -0.3}, Trend: -0.2, CustomerMessages: 4, BotTurns: 2}
	v := p.EvaluateOutcome(p.Evaluate(f), f)
	for _, name := range []string{baton.TriggerWantsHuman, baton.TriggerNegativeSentiment, baton.TriggerSentimentTrend,
		baton.TriggerNotHelped, baton.TriggerLoop, baton.TriggerMaxTurns, baton.TriggerRepeatedFailure, baton.TriggerActionFailed} {
		if _, ok := result(v, name); !ok {
			t.Errorf("%s was not recorded", name)
		}
	}
	neg, _ := result(v, baton.TriggerNegativeSentiment)
	if neg.Value != -0.3 || neg.Threshold != -0.6 || neg.Fired {
		t.Errorf("negative_sentiment recorded as %+v", neg)
	}
	turns, _ := result(v, baton.TriggerMaxTurns)
	if turns.Value != 2 || turns.Threshold != 8 {
		t.Errorf("max_turns recorded as %+v", turns)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Policy)
		want string
	}{
		{"sentiment threshold", func(p *Policy) { p.NegativeSentiment.Threshold = -2 }, "negative_sentiment: threshold"},
		{"trend messages", func(p *Policy) { p.SentimentTrend.Messages = 1 }, "sentiment_trend: messages"},
		{"failure count", func(p *Policy) { p.RepeatedFailure.Count = 0 }, "repeated_failure: count"},
		{"loop similarity", func(p *Policy) { p.Loop.Similarity = 1.5 }, "loop: similarity"},
		{"topic intent", func(p *Policy) { p.Topics = []TopicRule{{}} }, "topic[0]: intent"},
		{"attribute key", func(p *Policy) { p.Attributes = []AttributeRule{{}} }, "attribute[0]: key"},
		{"spam sender", func(p *Policy) { p.Spam.Senders = []string{"[+1"} }, "spam.senders[0]"},
		{"a trigger that is off is not checked", func(p *Policy) { p.Loop = LoopRule{Off: true, Similarity: 7} }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy("general")
			tc.edit(&p)
			err := p.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			case tc.want != "" && baton.ErrorCode(err) != baton.EINVALID:
				t.Fatalf("code %s, want invalid", baton.ErrorCode(err))
			}
		})
	}
}

func TestLoopSimilarity(t *testing.T) {
	tests := []struct {
		text string
		prev []string
		min  float64
		max  float64
	}{
		{"where is my order", []string{"Where is my ORDER?"}, 1, 1},
		{"Siparişim nerede kaldı acaba", []string{"siparisim nerede kaldi acaba"}, 1, 1},
		{"where is my order", []string{"can I return shoes I wore once"}, 0, 0.2},
		{"ok", []string{"ok"}, 0, 0},
		{"where is my order", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := LoopSimilarity(tc.text, tc.prev); got < tc.min || got > tc.max {
				t.Fatalf("similarity %.2f, want [%.2f, %.2f]", got, tc.min, tc.max)
			}
		})
	}
}

func with(a baton.Analysis, edit func(*baton.Analysis)) baton.Analysis {
	edit(&a)
	return a
}
