// Package nlu is Baton's language understanding: for every customer
// message it says which language it is in, what the customer wants (intent
// or out of scope), how they feel (and how that is trending), whether they
// asked for a person, and where the personal data and routable values are.
// Everything here runs offline; nlu/openai adds an LLM when one is
// configured and falls back to this when it fails.
//
// The analysers live in their own packages so each can be tested and
// measured alone: langid, intent, sentiment, wantshuman, pii, entity.
package nlu

import (
	"context"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/entity"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/langid"
	"github.com/batonhq/baton/nlu/pii"
	"github.com/batonhq/baton/nlu/sentiment"
	"github.com/batonhq/baton/nlu/wantshuman"
)

// SourceOffline is Analysis.Source for offline analyses.
const SourceOffline = "offline"

// maxAnalysed bounds the text the statistical analysers read; PII is
// always searched in the whole text, since it is what gets redacted.
const maxAnalysed = 16 << 10

// Config is what a bot brings to language understanding.
type Config struct {
	// Languages are the bot's ISO 639-1 codes, default first.
	Languages []string
	// Intents train the offline classifier. Empty means the bot does not
	// classify intents (every message is out of scope).
	Intents []intent.Intent
	// ModelDir keeps the trained intent model between starts; "" trains in
	// memory at every start.
	ModelDir         string
	IntentOptions    intent.Options
	LanguageOptions  langid.Options
	SentimentOptions sentiment.Options
	// TrendAlpha is the weight of the newest score in the sentiment trend
	// (default 0.5).
	TrendAlpha float64
}

// History is what the conversation already established.
type History struct {
	// Language is the conversation's settled language ("" when new).
	Language string
	// Sentiments are the previous customer messages' scores, oldest first.
	Sentiments []float64
}

// MessageAnalyzer is what the triage bot calls for every customer
// message: the offline Analyzer and openai.Triage both are one.
type MessageAnalyzer interface {
	Analyze(ctx context.Context, text string, hist History) (baton.Analysis, error)
}

var _ MessageAnalyzer = (*Analyzer)(nil)

// Analyzer runs the offline analysers; it is safe for concurrent use.
type Analyzer struct {
	lang    *langid.Detector
	intents *intent.Model
	sent    *sentiment.Analyzer
	human   *wantshuman.Detector
	alpha   float64
	cfg     Config
}

// New builds the analysers and trains (or loads) the intent model.
func New(ctx context.Context, cfg Config) (*Analyzer, error) {
	det, err := langid.New(cfg.Languages, cfg.LanguageOptions)
	if err != nil {
		return nil, err
	}
	sent, err := sentiment.New(cfg.SentimentOptions)
	if err != nil {
		return nil, err
	}
	a := &Analyzer{lang: det, sent: sent, human: wantshuman.New(), alpha: cfg.TrendAlpha, cfg: cfg}
	if a.alpha <= 0 || a.alpha > 1 {
		a.alpha = 0.5
	}
	if len(cfg.Intents) > 0 {
		m, err := TrainOrLoad(ctx, cfg.ModelDir, intent.ExamplesOf(cfg.Intents), cfg.IntentOptions)
		if err != nil {
			return nil, err
		}
		a.intents = m
	}
	return a, nil
}

// TrainOrLoad returns the intent model for data, reusing the one stored
// in dir when it was trained from the same data (by SHA-256) and training
// a new one otherwise. dir "" trains in memory.
func TrainOrLoad(ctx context.Context, dir string, data []intent.Example, opt intent.Options) (*intent.Model, error) {
	if dir == "" {
		return intent.Train(ctx, data, opt)
	}
	m, _, err := intent.TrainOrLoad(ctx, dir, data, opt)
	return m, err
}

// IntentModel is the trained intent classifier, or nil.
func (a *Analyzer) IntentModel() *intent.Model { return a.intents }

// Intents are the configured intents (names, descriptions, examples).
func (a *Analyzer) Intents() []intent.Intent { return a.cfg.Intents }

// Languages are the bot's languages, default first.
func (a *Analyzer) Languages() []string { return a.lang.Languages() }

// Analyze reads one customer message. It never fails on the text itself:
// empty text, invalid UTF-8 and very long text all get a result; only a
// cancelled context is an error.
func (a *Analyzer) Analyze(ctx context.Context, text string, hist History) (baton.Analysis, error) {
	if err := ctx.Err(); err != nil {
		return baton.Analysis{}, baton.WrapError(baton.EUNAVAILABLE, err, "analysis cancelled")
	}
	an := baton.Analysis{Source: SourceOffline}
	an.PII = pii.Find(text)
	an.Entities = entity.Extract(text)
	clean := strings.ToValidUTF8(cut(text, maxAnalysed), " ")

	l := a.lang.Detect(clean, hist.Language)
	an.Language, an.LanguageConfidence = l.Language, l.Confidence

	if a.intents != nil {
		p := a.intents.Classify(clean)
		an.Intent, an.IntentConfidence, an.OutOfScope = p.Intent, p.Confidence, p.OutOfScope
		for _, s := range p.Top {
			an.TopIntents = append(an.TopIntents, baton.IntentScore{Intent: s.Intent, Confidence: s.Confidence})
		}
	} else {
		an.OutOfScope = true
	}

	s := a.sent.Analyze(clean, an.Language)
	an.Sentiment, an.SentimentLabel = s.Score, s.Label

	h := a.human.Detect(clean)
	an.WantsHuman, an.WantsHumanEvidence = h.Wants, h.Evidence
	return an, nil
}

// Trend is the conversation's sentiment trend including latest.
func (a *Analyzer) Trend(hist History, latest float64) float64 {
	scores := append(append([]float64(nil), hist.Sentiments...), latest)
	return sentiment.Trend(scores, a.alpha)
}

// Redact replaces personal data in text with placeholders and returns
// where it was: call it before text leaves for an LLM or a log line.
func Redact(text string) (string, []baton.PIISpan) { return pii.Redact(text) }

// cut returns at most n bytes of s, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
