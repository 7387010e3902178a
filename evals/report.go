// Package evals runs regression suites through the real pipeline: the
// bot, the escalations and the routing, played through the channels and
// the agent API of the same assembly `baton serve` runs, plus the labelled
// dataset evaluations of the language services and the knowledge base.
// A run produces a Report; reports are written as a terminal summary,
// JSON (the machine format), one self-contained HTML file and JUnit XML,
// and compared with a baseline to gate a change.
package evals

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"time"

	"github.com/batonhq/baton"
)

// ReportVersion is the version of the report's JSON shape: a baseline of
// another version is refused rather than misread.
const ReportVersion = 1

// Report is one eval run. Everything outside Timing is a function of the
// suite, the configuration and the code: two offline runs of the same
// inputs give the same Report apart from Timing.
type Report struct {
	Version int    `json:"version"`
	Suite   string `json:"suite"` // the suite's name
	// Mode is "offline" or "llm" (an OpenAI-compatible key was set).
	Mode string `json:"mode"`
	// Metrics are the overall figures by name (MetricNames lists them),
	// then per language under "<lang>/<name>" and per dataset under
	// "<dataset>/<name>". A metric with nothing to measure is absent, not
	// zero.
	Metrics map[string]float64 `json:"metrics"`
	// Triggers breaks escalation precision and recall down by trigger.
	Triggers map[string]Counts `json:"triggers,omitempty"`
	// Intents is the confusion matrix of expected against predicted
	// intents over the conversation cases' expectations.
	Intents  *Confusion      `json:"intents,omitempty"`
	Cases    []CaseResult    `json:"cases"`
	Datasets []DatasetResult `json:"datasets,omitempty"`
	Gate     *GateResult     `json:"gate,omitempty"` // set when run against a baseline
	Timing   Timing          `json:"timing"`
	Counts   map[string]int  `json:"counts"` // cases, passed, failed, turns, expectations
	Langs    []string        `json:"languages"`
}

// Counts are the four cells of a binary decision.
type Counts struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
}

// Confusion is a confusion matrix: Cells[i][j] counts expected Labels[i]
// predicted as Labels[j].
type Confusion struct {
	Labels []string `json:"labels"`
	Cells  [][]int  `json:"cells"`
}

// CaseResult is one conversation case's outcome.
type CaseResult struct {
	ID       string    `json:"id"`
	File     string    `json:"file"`
	Line     int       `json:"line"`
	Language string    `json:"language"`
	Channel  string    `json:"channel"`
	Tags     []string  `json:"tags,omitempty"`
	Passed   bool      `json:"passed"`
	Outcome  string    `json:"outcome"` // what happened: bot_resolved, escalated, archived, clarified, agent_resolved, open
	Failures []Failure `json:"failures,omitempty"`
	// Turns are what the bot decided on each customer turn, with what it
	// said: the record a failure is read against.
	Turns []TurnResult `json:"turns"`
}

// Failure is one expectation that did not hold.
type Failure struct {
	Step   int    `json:"step"` // 1-based index of the case's step; 0 = the conversation's expectations
	Line   int    `json:"line"` // of the expectation in the suite file
	Field  string `json:"field"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	Detail string `json:"detail,omitempty"`
}

// TurnResult is one customer step as the bot took it.
type TurnResult struct {
	Step     int             `json:"step"`
	Customer string          `json:"customer"`
	Replies  []string        `json:"replies"`
	Decision *DecisionRecord `json:"decision,omitempty"`
}

// DecisionRecord is the part of a baton.Decision a report keeps.
type DecisionRecord struct {
	Action     string            `json:"action"`
	Detail     string            `json:"detail,omitempty"`
	Language   string            `json:"language,omitempty"`
	Intent     string            `json:"intent,omitempty"`
	Confidence float64           `json:"confidence,omitempty"`
	OutOfScope bool              `json:"out_of_scope,omitempty"`
	Sentiment  float64           `json:"sentiment,omitempty"`
	Citations  []string          `json:"citations,omitempty"`
	Triggers   []string          `json:"triggers,omitempty"` // the ones that fired
	Queue      string            `json:"queue,omitempty"`
	Priority   string            `json:"priority,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"`
}

// DatasetResult is one labelled dataset's evaluation.
type DatasetResult struct {
	Name    string             `json:"name"`
	Kind    string             `json:"kind"` // intent, clinc, retrieval, sentiment, language
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
	// Confused are the most frequent confusions (expected → predicted).
	Confused []Confusions `json:"confused,omitempty"`
}

// Confusions counts one expected → predicted confusion.
type Confusions struct {
	Want  string `json:"want"`
	Got   string `json:"got"`
	Count int    `json:"count"`
}

// GateResult compares a run with its baseline.
type GateResult struct {
	Baseline string        `json:"baseline"`
	Passed   bool          `json:"passed"`
	Deltas   []MetricDelta `json:"deltas"`
	// Broken are the cases that passed in the baseline and fail now.
	Broken []string `json:"broken,omitempty"`
}

// MetricDelta is one metric against the baseline.
type MetricDelta struct {
	Metric    string  `json:"metric"`
	Baseline  float64 `json:"baseline"`
	Now       float64 `json:"now"`
	Tolerance float64 `json:"tolerance"`
	// Regressed is true when the metric moved the wrong way by more than
	// the tolerance (down for most, up for those where lower is better).
	Regressed bool `json:"regressed"`
}

// Timing is the wall-clock part of a report, the only part two runs of
// the same inputs may disagree on.
type Timing struct {
	Started time.Time `json:"started"`
	Took    float64   `json:"took_seconds"`
	TurnP50 float64   `json:"turn_p50_ms"`
	TurnP99 float64   `json:"turn_p99_ms"`
	// Languages are the same two figures over each language's cases.
	Languages map[string]Latency `json:"languages,omitempty"`
	Datasets  map[string]float64 `json:"datasets_seconds,omitempty"`
}

// Latency is the median and p99 time of a bot turn, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

// WriteJSON writes r as indented JSON, the machine format a baseline is
// kept in.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// ReadReport reads a report written as JSON and refuses one of
// another Version: its fields may mean something else, and a comparison
// that silently misreads them is worse than none.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, baton.Errorf(baton.EINVALID, "report %s: no such file", path)
	}
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "report %s: %w", path, err)
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "report %s is not a JSON eval report: %w", path, err)
	}
	switch {
	case probe.Version == nil:
		return nil, baton.Errorf(baton.EINVALID, "report %s has no version: not an eval report (baton eval run --json writes one)", path)
	case *probe.Version != ReportVersion:
		return nil, baton.Errorf(baton.EINVALID, "report %s is of report version %d; this baton reads version %d: run the suite again with this baton to compare", path, *probe.Version, ReportVersion)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "report %s: %w", path, err)
	}
	if r.Metrics == nil {
		return nil, baton.Errorf(baton.EINVALID, "report %s: no metrics", path)
	}
	return &r, nil
}
