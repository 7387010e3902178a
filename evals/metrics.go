package evals

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// Metric names (BRIEF: the keys of Report.Metrics, before any language or
// dataset prefix).
const (
	MetricIntentAccuracy    = "intent.accuracy"
	MetricIntentMacroF1     = "intent.macro_f1"
	MetricOOSRecall         = "oos.recall"
	MetricEscPrecision      = "escalation.precision"
	MetricEscRecall         = "escalation.recall"
	MetricEscF1             = "escalation.f1"
	MetricRoutingQueue      = "routing.queue"
	MetricRoutingPriority   = "routing.priority"
	MetricRoutingSkills     = "routing.skills"
	MetricRecall1           = "retrieval.recall@1"
	MetricRecall5           = "retrieval.recall@5"
	MetricMRR               = "retrieval.mrr"
	MetricCitationAccuracy  = "citation.accuracy"
	MetricOutcomeAccuracy   = "outcome.accuracy"
	MetricContainmentHonest = "containment.honest"
	MetricTurnsToResolution = "turns_to_resolution"
	MetricSentimentAccuracy = "sentiment.accuracy"
	MetricLanguageAccuracy  = "language.accuracy"
	MetricCasePassRate      = "case.pass_rate"
)

// MetricNames lists the conversation metrics in the order reports show
// them.
func MetricNames() []string {
	return []string{
		MetricCasePassRate, MetricIntentAccuracy, MetricIntentMacroF1, MetricOOSRecall,
		MetricEscPrecision, MetricEscRecall, MetricEscF1,
		MetricRoutingQueue, MetricRoutingPriority, MetricRoutingSkills,
		MetricRecall1, MetricRecall5, MetricMRR, MetricCitationAccuracy,
		MetricOutcomeAccuracy, MetricContainmentHonest, MetricTurnsToResolution,
		MetricSentimentAccuracy, MetricLanguageAccuracy, MetricJudgePassRate,
	}
}

// LowerIsBetter reports whether a smaller value of metric is the better
// one: turns to resolution and durations (…_ms, …_seconds), with or
// without a language or dataset prefix.
func LowerIsBetter(metric string) bool {
	if i := strings.LastIndex(metric, "/"); i >= 0 {
		metric = metric[i+1:]
	}
	return metric == MetricTurnsToResolution || strings.HasSuffix(metric, "_ms") || strings.HasSuffix(metric, "_seconds")
}

// pair is an expected and a predicted label.
type pair struct{ want, got string }

// citeObs is one cites expectation: the slugs that would do, and the ones
// the answer cited, best first.
type citeObs struct {
	want []string
	got  []string
}

// caseObs is what one case contributes to the metrics.
type caseObs struct {
	expectations int
	intent       []pair
	sentiment    []pair
	language     []pair
	cites        []citeObs
	// routes are each routing expectation checked on an escalated case, by
	// kind (queue, priority, skills): whether all of the case's held.
	routes map[string]bool
	// The conversation as a whole.
	escWant     *bool
	escGot      bool
	triggerWant string
	triggersGot []string
	outcomeWant string
	outcomeGot  string
	honest      bool // contained honestly: see observeCase
	turns       int  // customer turns
	passed      bool
	// judged are the LLM judge's verdicts; judgeSkipped counts the
	// rubrics an offline run could not grade.
	judged       []bool
	judgeSkipped int
}

func (o *caseObs) route(kind string, ok bool) {
	if o.routes == nil {
		o.routes = map[string]bool{}
	}
	prev, seen := o.routes[kind]
	o.routes[kind] = ok && (!seen || prev)
}

// observeCase fills the conversation-level observations from the end of
// the case.
func (cr *caseRun) observeCase(end *stepView) {
	o := &cr.obs
	c := cr.c
	o.escGot, o.triggersGot, o.outcomeGot = end.escalated, end.triggers, end.outcome
	// Whether the case should have been escalated: the conversation's
	// expectation, else what its expected outcome implies, else the
	// steps' last word.
	if e := c.Expect; e != nil {
		o.outcomeWant, o.triggerWant = e.Outcome, e.Trigger
		switch {
		case e.Escalated != nil:
			o.escWant = e.Escalated
		case e.Outcome == OutcomeEscalated || e.Outcome == OutcomeAgentResolved:
			o.escWant = ptr(true)
		case e.Outcome == OutcomeBotResolved || e.Outcome == OutcomeClarified || e.Outcome == OutcomeArchived:
			o.escWant = ptr(false)
		}
	}
	for _, st := range c.Steps {
		if e := st.Expect; e != nil {
			if e.Escalated != nil && o.escWant == nil {
				o.escWant = e.Escalated
			}
			if e.Trigger != "" && o.triggerWant == "" {
				o.triggerWant = e.Trigger
			}
		}
		if k := st.Kind(); k == "customer" || k == "press" {
			o.turns++
		}
	}
	if o.triggerWant != "" && o.escWant == nil {
		o.escWant = ptr(true)
	}
	// A bot resolution is honest when nothing undid it within the case:
	// no escalation, and the customer did not come back after it.
	o.honest = end.outcome == OutcomeBotResolved && !end.escalated && !end.recontact
	o.passed = len(cr.result.Failures) == 0
}

func ptr[T any](v T) *T { return &v }

// buildReport aggregates the cases' observations into the report.
func buildReport(s *Suite, mode string, runs []*caseRun) *Report {
	rep := &Report{Version: ReportVersion, Suite: s.Name, Mode: mode, Metrics: map[string]float64{}, Cases: make([]CaseResult, 0, len(runs)),
		Counts: map[string]int{}}
	obs := make([]*caseObs, len(runs))
	langs := map[string][]*caseObs{}
	for i, cr := range runs {
		cr.obs.passed = len(cr.result.Failures) == 0 && cr.result.Passed
		obs[i] = &cr.obs
		rep.Cases = append(rep.Cases, cr.result)
		langs[cr.c.Language] = append(langs[cr.c.Language], &cr.obs)
		rep.Counts["cases"]++
		if cr.result.Passed {
			rep.Counts["passed"]++
		} else {
			rep.Counts["failed"]++
		}
		rep.Counts["turns"] += len(cr.result.Turns)
		rep.Counts["expectations"] += cr.obs.expectations
		rep.Counts["failures"] += len(cr.result.Failures)
		if cr.obs.judgeSkipped > 0 {
			rep.Counts["judge_skipped"] += cr.obs.judgeSkipped
		}
	}
	for k, v := range metricsOf(obs) {
		rep.Metrics[k] = v
	}
	for _, l := range sortedKeys(langs) {
		rep.Langs = append(rep.Langs, l)
		for k, v := range metricsOf(langs[l]) {
			rep.Metrics[l+"/"+k] = v
		}
	}
	if rep.Langs == nil {
		rep.Langs = []string{}
	}
	rep.Triggers = triggerCounts(obs)
	rep.Intents = confusion(obs)
	return rep
}

// metricsOf computes the conversation metrics over some cases; a metric
// with nothing to measure is left out.
func metricsOf(obs []*caseObs) map[string]float64 {
	m := map[string]float64{}
	set := func(name string, num, den float64) {
		if den > 0 {
			m[name] = num / den
		}
	}
	var intents, sentiments, languages []pair
	var cites []citeObs
	for _, o := range obs {
		intents = append(intents, o.intent...)
		sentiments = append(sentiments, o.sentiment...)
		languages = append(languages, o.language...)
		cites = append(cites, o.cites...)
	}
	set(MetricCasePassRate, float64(count(obs, func(o *caseObs) bool { return o.passed })), float64(len(obs)))
	acc := func(name string, ps []pair) {
		set(name, float64(countPairs(ps, func(p pair) bool { return p.want == p.got })), float64(len(ps)))
	}
	acc(MetricIntentAccuracy, intents)
	acc(MetricSentimentAccuracy, sentiments)
	acc(MetricLanguageAccuracy, languages)
	if len(intents) > 0 {
		m[MetricIntentMacroF1] = macroF1(intents)
	}
	var oos []pair
	for _, p := range intents {
		if p.want == OutOfScope {
			oos = append(oos, p)
		}
	}
	acc(MetricOOSRecall, oos)

	var tp, fp, fn float64
	for _, o := range obs {
		if o.escWant == nil {
			continue
		}
		switch {
		case *o.escWant && o.escGot:
			tp++
		case *o.escWant:
			fn++
		case o.escGot:
			fp++
		}
	}
	set(MetricEscPrecision, tp, tp+fp)
	set(MetricEscRecall, tp, tp+fn)
	if tp+fp > 0 && tp+fn > 0 {
		m[MetricEscF1] = f1(tp, fp, fn)
	}

	for _, kind := range []string{"queue", "priority", "skills"} {
		var ok, n float64
		for _, o := range obs {
			if held, checked := o.routes[kind]; checked {
				n++
				if held {
					ok++
				}
			}
		}
		set("routing."+kind, ok, n)
	}

	var r1, r5, rr, hit float64
	for _, c := range cites {
		rank := 0
		for i, g := range c.got {
			if slices.Contains(c.want, g) {
				rank = i + 1
				break
			}
		}
		if rank == 1 {
			r1++
		}
		if rank >= 1 && rank <= 5 {
			r5++
		}
		if rank > 0 {
			rr += 1 / float64(rank)
			hit++
		}
	}
	n := float64(len(cites))
	set(MetricRecall1, r1, n)
	set(MetricRecall5, r5, n)
	set(MetricMRR, rr, n)
	set(MetricCitationAccuracy, hit, n)

	var outOK, outN, contained, wantBot, turns, resolved float64
	for _, o := range obs {
		if o.outcomeWant != "" {
			outN++
			if o.outcomeWant == o.outcomeGot {
				outOK++
			}
		}
		if o.outcomeWant == OutcomeBotResolved {
			wantBot++
			if o.honest {
				contained++
			}
		}
		if o.outcomeGot == OutcomeBotResolved || o.outcomeGot == OutcomeAgentResolved {
			resolved++
			turns += float64(o.turns)
		}
	}
	set(MetricOutcomeAccuracy, outOK, outN)
	set(MetricContainmentHonest, contained, wantBot)
	set(MetricTurnsToResolution, turns, resolved)
	var judged, judgedOK float64
	for _, o := range obs {
		for _, ok := range o.judged {
			judged++
			if ok {
				judgedOK++
			}
		}
	}
	set(MetricJudgePassRate, judgedOK, judged)
	for k, v := range m {
		m[k] = roundMetric(v)
	}
	return m
}

// roundMetric keeps a metric to 6 decimals: two runs of the same inputs
// print the same digits.
func roundMetric(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func f1(tp, fp, fn float64) float64 {
	if tp == 0 {
		return 0
	}
	p, r := tp/(tp+fp), tp/(tp+fn)
	return 2 * p * r / (p + r)
}

// macroF1 averages the F1 of every expected label.
func macroF1(ps []pair) float64 {
	labels := map[string]bool{}
	for _, p := range ps {
		labels[p.want] = true
	}
	var sum float64
	for _, l := range sortedKeys(labels) {
		var tp, fp, fn float64
		for _, p := range ps {
			switch {
			case p.want == l && p.got == l:
				tp++
			case p.want == l:
				fn++
			case p.got == l:
				fp++
			}
		}
		sum += f1(tp, fp, fn)
	}
	return sum / float64(len(labels))
}

// triggerCounts breaks escalation down by the trigger expected: a case
// expecting trigger T that escalated with T is a TP of T; one that did
// not, a FN; a case that escalated with T fired while expecting another
// trigger or no escalation, a FP of T; a case expecting no escalation that
// got none, a TN of every trigger.
func triggerCounts(obs []*caseObs) map[string]Counts {
	out := map[string]Counts{}
	for _, o := range obs {
		if o.escWant == nil {
			continue
		}
		if o.triggerWant != "" {
			c := out[o.triggerWant]
			if o.escGot && slices.Contains(o.triggersGot, o.triggerWant) {
				c.TP++
			} else {
				c.FN++
			}
			out[o.triggerWant] = c
		}
		for _, t := range o.triggersGot {
			if t == o.triggerWant {
				continue
			}
			if !*o.escWant || o.triggerWant != "" {
				c := out[t]
				c.FP++
				out[t] = c
			}
		}
	}
	for _, o := range obs {
		if o.escWant != nil && !*o.escWant && !o.escGot {
			for t, c := range out {
				c.TN++
				out[t] = c
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// confusion is the intent confusion matrix of the expectations.
func confusion(obs []*caseObs) *Confusion {
	labels := map[string]bool{}
	var ps []pair
	for _, o := range obs {
		for _, p := range o.intent {
			labels[p.want], labels[or(p.got, "(none)")] = true, true
			ps = append(ps, pair{p.want, or(p.got, "(none)")})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	ls := sortedKeys(labels)
	idx := map[string]int{}
	for i, l := range ls {
		idx[l] = i
	}
	cells := make([][]int, len(ls))
	for i := range cells {
		cells[i] = make([]int, len(ls))
	}
	for _, p := range ps {
		cells[idx[p.want]][idx[p.got]]++
	}
	return &Confusion{Labels: ls, Cells: cells}
}

func count(obs []*caseObs, f func(*caseObs) bool) int {
	n := 0
	for _, o := range obs {
		if f(o) {
			n++
		}
	}
	return n
}

func countPairs(ps []pair, f func(pair) bool) int {
	n := 0
	for _, p := range ps {
		if f(p) {
			n++
		}
	}
	return n
}

// sortedMetrics lists metric names in the order every report shows
// them: the overall figures first, then each prefix (a language, a
// dataset) in name order; within each, the conversation metrics in
// MetricNames order, then the others by name.
func sortedMetrics[V any](m map[string]V) []string {
	rank := map[string]int{}
	for i, n := range MetricNames() {
		rank[n] = i
	}
	key := func(name string) (prefix string, r int) {
		prefix, bare, ok := strings.Cut(name, "/")
		if !ok {
			prefix, bare = "", name
		}
		r, known := rank[bare]
		if !known {
			r = len(rank)
		}
		return prefix, r
	}
	names := slices.Collect(maps.Keys(m))
	sort.Slice(names, func(i, j int) bool {
		pi, ri := key(names[i])
		pj, rj := key(names[j])
		switch {
		case pi != pj:
			return pi < pj
		case ri != rj:
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}
