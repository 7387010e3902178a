package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/pii"
)

// OutOfScope is the intent the model answers when none fits.
const OutOfScope = "out_of_scope"

// FallbackPrefix starts Analysis.Source when the provider failed and the
// offline analysis was used instead.
const FallbackPrefix = nlu.SourceOffline + " (fallback from "

// Triage analyses a message with one chat completion and keeps the offline
// analysis as the floor: PII and entities always come from it, a request
// for a person it found is never dropped, and when the provider fails or
// answers nonsense the offline analysis is returned with Source saying so.
type Triage struct {
	llm     baton.LLM
	offline *nlu.Analyzer
	schema  []byte
	system  string
}

// NewTriage builds the schema and instructions from the bot's intents and
// languages.
func NewTriage(llm baton.LLM, offline *nlu.Analyzer) (*Triage, error) {
	if llm == nil || offline == nil {
		return nil, baton.Errorf(baton.EINVALID, "openai triage: needs a model and the offline analyzer")
	}
	var names []string
	var b strings.Builder
	b.WriteString("You triage messages customers send to a support bot. Answer only with JSON that follows the schema.\n")
	b.WriteString("intent: the best matching intent below, or \"" + OutOfScope + "\" when none fits.\n")
	for _, in := range offline.Intents() {
		if in.Name == "oos" {
			continue
		}
		names = append(names, in.Name)
		fmt.Fprintf(&b, "- %s", in.Name)
		if in.Description != "" {
			fmt.Fprintf(&b, ": %s", in.Description)
		}
		b.WriteString("\n")
	}
	names = append(names, OutOfScope)
	langs := offline.Languages()
	fmt.Fprintf(&b, "language: the ISO 639-1 code of the message, one of %s.\n", strings.Join(langs, ", "))
	b.WriteString("sentiment: from -1 (angry) to 1 (delighted); sentiment_label: negative, neutral or positive.\n")
	b.WriteString("wants_human: true only if the customer asks for a person (agent, human, representative, operator); false when they say they do not need one. wants_human_evidence: the words that ask, or \"\".\n")
	b.WriteString("summary: one short line an agent can read. Placeholders like [EMAIL] or [CARD] stand for removed personal data.\n")
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"intent":               map[string]any{"type": "string", "enum": names},
			"intent_confidence":    map[string]any{"type": "number"},
			"language":             map[string]any{"type": "string", "enum": langs},
			"sentiment":            map[string]any{"type": "number"},
			"sentiment_label":      map[string]any{"type": "string", "enum": []string{baton.SentimentNegative, baton.SentimentNeutral, baton.SentimentPositive}},
			"wants_human":          map[string]any{"type": "boolean"},
			"wants_human_evidence": map[string]any{"type": "string"},
			"summary":              map[string]any{"type": "string"},
		},
		"required":             []string{"intent", "intent_confidence", "language", "sentiment", "sentiment_label", "wants_human", "wants_human_evidence", "summary"},
		"additionalProperties": false,
	}
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "openai triage: schema: %w", err)
	}
	return &Triage{llm: llm, offline: offline, schema: raw, system: b.String()}, nil
}

// Schema is the JSON schema sent with every triage request.
func (t *Triage) Schema() []byte { return t.schema }

type triageAnswer struct {
	Intent             string  `json:"intent"`
	IntentConfidence   float64 `json:"intent_confidence"`
	Language           string  `json:"language"`
	Sentiment          float64 `json:"sentiment"`
	SentimentLabel     string  `json:"sentiment_label"`
	WantsHuman         bool    `json:"wants_human"`
	WantsHumanEvidence string  `json:"wants_human_evidence"`
	Summary            string  `json:"summary"`
}

// Analyze runs the offline analysis, then asks the model; see Triage.
func (t *Triage) Analyze(ctx context.Context, text string, hist nlu.History) (baton.Analysis, error) {
	off, err := t.offline.Analyze(ctx, text, hist)
	if err != nil {
		return off, err
	}
	redacted, _ := pii.Redact(text)
	user := redacted
	if hist.Language != "" {
		user = fmt.Sprintf("(conversation language so far: %s)\n%s", hist.Language, redacted)
	}
	resp, err := t.llm.Complete(ctx, baton.CompletionRequest{
		System:     t.system,
		Messages:   []baton.ChatMessage{{Role: "user", Content: user}},
		JSONSchema: t.schema,
		SchemaName: "triage",
		MaxTokens:  300,
	})
	if err != nil {
		return t.fallback(off, baton.ErrorCode(err)), nil
	}
	var ans triageAnswer
	if err := json.Unmarshal([]byte(resp.Content), &ans); err != nil {
		return t.fallback(off, "unreadable answer"), nil
	}
	if reason := t.check(ans); reason != "" {
		return t.fallback(off, reason), nil
	}
	an := off
	an.Source = resp.Model
	if ans.Intent == OutOfScope {
		an.Intent, an.OutOfScope = "", true
	} else {
		an.Intent, an.OutOfScope = ans.Intent, false
	}
	an.IntentConfidence = clamp(ans.IntentConfidence, 0, 1)
	// A short message keeps the conversation's language, as offline.
	if !(hist.Language != "" && letters(text) < 16) {
		if ans.Language != an.Language {
			an.LanguageConfidence = 0.9
		}
		an.Language = ans.Language
	}
	an.Sentiment, an.SentimentLabel = clamp(ans.Sentiment, -1, 1), ans.SentimentLabel
	// The escape hatch: an explicit request the offline detector found
	// stands whatever the model thinks.
	if !off.WantsHuman && ans.WantsHuman {
		an.WantsHuman, an.WantsHumanEvidence = true, ans.WantsHumanEvidence
	}
	an.Summary = pii.String(strings.TrimSpace(ans.Summary))
	return an, nil
}

func (t *Triage) check(a triageAnswer) string {
	if a.Intent != OutOfScope && !slices.ContainsFunc(t.offline.Intents(), func(in intent.Intent) bool { return in.Name == a.Intent && in.Name != "oos" }) {
		return "unknown intent " + a.Intent
	}
	if !slices.Contains(t.offline.Languages(), a.Language) {
		return "unknown language " + a.Language
	}
	switch a.SentimentLabel {
	case baton.SentimentNegative, baton.SentimentNeutral, baton.SentimentPositive:
	default:
		return "unknown sentiment label " + a.SentimentLabel
	}
	return ""
}

func (t *Triage) fallback(off baton.Analysis, reason string) baton.Analysis {
	off.Source = FallbackPrefix + t.llm.Model() + ": " + reason + ")"
	return off
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

var _ nlu.MessageAnalyzer = (*Triage)(nil)

// Setup returns the message analyser and, when a key is configured, the
// client whose LLM and Embedder other packages use. Without OPENAI_API_KEY
// it returns the offline analyser and a nil client: nothing calls out.
func Setup(lookup func(string) (string, bool), offline *nlu.Analyzer) (nlu.MessageAnalyzer, *Client, error) {
	cfg, ok := ConfigFromEnv(lookup)
	if !ok {
		return offline, nil, nil
	}
	c, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	t, err := NewTriage(c.LLM(), offline)
	if err != nil {
		return nil, nil, err
	}
	return t, c, nil
}
