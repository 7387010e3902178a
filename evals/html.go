package evals

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The report page is one file that opens offline: the template inlines its
// stylesheet and script, and every chart is SVG drawn here. Nothing is
// fetched (the page's Content-Security-Policy forbids it), so it can be
// mailed, attached to a CI run or opened from a laptop on a train.
//
//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlFiles embed.FS

// WriteHTML writes the report as one self-contained HTML page: the
// headline metrics against baseline (nil: none), the per-language bars,
// the escalations per trigger, the intent confusion matrix, the datasets
// and every case with its failures and the bot's decisions. The page is a
// function of the reports alone: the same reports give the same bytes.
func WriteHTML(w io.Writer, r *Report, baseline *Report) error {
	if r == nil {
		return baton.Errorf(baton.EINVALID, "html report: no report")
	}
	tmpl, err := parseHTML()
	if err != nil {
		return err
	}
	v := newHTMLView(r, baseline)
	css, _ := htmlFiles.ReadFile("html/report.css")
	js, _ := htmlFiles.ReadFile("html/report.js")
	v.CSS, v.JS = template.CSS(css), template.JS(js)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return baton.Errorf(baton.EINTERNAL, "html report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func parseHTML() (*template.Template, error) {
	t, err := template.New("report.html.tmpl").Funcs(template.FuncMap{
		"pct":    percent,
		"num":    fixed3,
		"metric": fmtMetric,
		"join":   strings.Join,
		"dict2":  func(r metricRow, baseline string) metricRowView { return metricRowView{Row: r, Baseline: baseline} },
	}).ParseFS(htmlFiles, "html/report.html.tmpl")
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "html report template: %w", err)
	}
	return t, nil
}

// htmlView is what the template reads: the report put in the order a
// reader wants, with the charts already drawn.
type htmlView struct {
	R           *Report
	Baseline    string // the baseline's suite and start, or ""
	Started     string
	Took        string
	Passed      int
	Failed      int
	Headline    []metricRow
	HeadChart   template.HTML
	Langs       []string
	LangRows    []langRow
	LangChart   template.HTML
	Triggers    []triggerRow
	TrigChart   template.HTML
	Confusion   *confusionView
	Datasets    []datasetView
	FailedCases []caseView
	PassedCases []caseView
	CSS         template.CSS
	JS          template.JS
}

type metricRow struct {
	Name, Help      string
	Now             float64
	Base            float64
	HasBase         bool
	Delta           string // "+0.031" or ""
	Verdict         string // better, worse, same
	LowerIsBetter   bool
	Regressed       bool
	BaseOnly        bool // in the baseline, missing now
	Tolerance       float64
	HasGateVerdicts bool
}

// metricRowView is one table row with whether the table has baseline
// columns.
type metricRowView struct {
	Row      metricRow
	Baseline string
}

type langRow struct {
	Metric string
	Values []langValue
}

type langValue struct {
	Lang string
	V    float64
	Has  bool
}

type triggerRow struct {
	Name              string
	Counts            Counts
	Precision, Recall string
}

type confusionView struct {
	Labels []string
	Rows   []confusionRow
	Max    int
}

type confusionRow struct {
	Label string
	Cells []confusionCell
	Total int
}

type confusionCell struct {
	N       int
	Diag    bool
	Shade   int // 0..5: how dark the cell is drawn
	Predict string
}

type datasetView struct {
	DatasetResult
	Rows []metricRow
	Took string
}

type caseView struct {
	CaseResult
	Broken bool // passed in the baseline
}

func newHTMLView(r *Report, base *Report) *htmlView {
	v := &htmlView{R: r, Langs: r.Langs}
	if !r.Timing.Started.IsZero() {
		v.Started = r.Timing.Started.UTC().Format(time.RFC3339)
	}
	if r.Timing.Took > 0 {
		v.Took = fmt.Sprintf("%.1f s", r.Timing.Took)
	}
	if base != nil {
		v.Baseline = base.Suite
		if !base.Timing.Started.IsZero() {
			v.Baseline += ", run " + base.Timing.Started.UTC().Format(time.RFC3339)
		}
	} else if r.Gate != nil && r.Gate.Baseline != "" {
		v.Baseline = r.Gate.Baseline
	}
	gate := map[string]MetricDelta{}
	if r.Gate != nil {
		for _, d := range r.Gate.Deltas {
			gate[d.Metric] = d
		}
	}
	var baseMetrics map[string]float64
	if base != nil {
		baseMetrics = base.Metrics
	}
	v.Headline = metricRows(r.Metrics, baseMetrics, gate, func(k string) bool { return !strings.Contains(k, "/") })
	v.HeadChart = barChart("Headline metrics", v.Headline)

	v.LangRows = langRows(r)
	v.LangChart = langChart(r.Langs, v.LangRows)

	for _, name := range sortedNames(r.Triggers) {
		c := r.Triggers[name]
		v.Triggers = append(v.Triggers, triggerRow{Name: name, Counts: c, Precision: shareText(c.TP, c.TP+c.FP), Recall: shareText(c.TP, c.TP+c.FN)})
	}
	v.TrigChart = triggerChart(v.Triggers)
	v.Confusion = confusionOf(r.Intents)

	for _, d := range r.Datasets {
		dv := datasetView{DatasetResult: d}
		prefix := d.Name + "/"
		own := map[string]float64{}
		for k, val := range d.Metrics {
			own[prefix+k] = val
		}
		dv.Rows = metricRows(own, baseMetrics, gate, func(k string) bool { return strings.HasPrefix(k, prefix) })
		for i := range dv.Rows {
			dv.Rows[i].Name = strings.TrimPrefix(dv.Rows[i].Name, prefix)
			dv.Rows[i].Help = metricHelp[dv.Rows[i].Name]
		}
		if s, ok := r.Timing.Datasets[d.Name]; ok {
			dv.Took = fmt.Sprintf("%.1f s", s)
		}
		v.Datasets = append(v.Datasets, dv)
	}

	broken := map[string]bool{}
	if r.Gate != nil {
		for _, id := range r.Gate.Broken {
			broken[id] = true
		}
	}
	if base != nil {
		was := map[string]bool{}
		for _, c := range base.Cases {
			was[c.ID] = c.Passed
		}
		for _, c := range r.Cases {
			if !c.Passed && was[c.ID] {
				broken[c.ID] = true
			}
		}
	}
	for _, c := range r.Cases {
		cv := caseView{CaseResult: c, Broken: broken[c.ID]}
		if c.Passed {
			v.Passed++
			v.PassedCases = append(v.PassedCases, cv)
		} else {
			v.Failed++
			v.FailedCases = append(v.FailedCases, cv)
		}
	}
	// Cases that broke against the baseline first: they are what a
	// change did.
	sort.SliceStable(v.FailedCases, func(i, j int) bool { return v.FailedCases[i].Broken && !v.FailedCases[j].Broken })
	return v
}

// metricRows are the metrics keep selects, in the contract's order (the
// rest by name), each against its baseline.
func metricRows(now, base map[string]float64, gate map[string]MetricDelta, keep func(string) bool) []metricRow {
	names := map[string]bool{}
	for k := range now {
		if keep(k) {
			names[k] = true
		}
	}
	for k := range base {
		if keep(k) {
			names[k] = true
		}
	}
	var rows []metricRow
	for _, k := range sortedMetrics(names) {
		row := metricRow{Name: k, Help: metricHelp[k], LowerIsBetter: LowerIsBetter(k)}
		val, has := now[k]
		row.Now = val
		b, hasBase := base[k]
		if d, ok := gate[k]; ok && !hasBase {
			b, hasBase = d.Baseline, true
		}
		if d, ok := gate[k]; ok {
			row.Regressed, row.Tolerance, row.HasGateVerdicts = d.Regressed, d.Tolerance, true
		}
		row.HasBase, row.Base = hasBase, b
		switch {
		case !has:
			row.BaseOnly = true
		case hasBase:
			delta := val - b
			row.Delta = fmt.Sprintf("%+.3f", delta)
			switch {
			case math.Abs(delta) < 5e-4:
				row.Verdict, row.Delta = "same", "±0"
			case (delta > 0) != row.LowerIsBetter:
				row.Verdict = "better"
			default:
				row.Verdict = "worse"
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// metricHelp says in a sentence what each metric counts, for a reader who
// did not write the suite.
var metricHelp = map[string]string{
	"case.pass_rate":           "Share of conversation cases whose every expectation held.",
	"intent.accuracy":          "Share of messages whose intent the bot recognised correctly.",
	"intent.macro_f1":          "Intent F1 averaged over intents, so rare intents count as much as common ones.",
	"intent.top1":              "Share of in-scope messages whose best-ranked intent is right, whatever the out-of-scope threshold decided.",
	"intent.in_scope_accuracy": "Share of in-scope messages recognised correctly (a rejected one counts as wrong).",
	"oos.recall":               "Share of out-of-scope messages the bot recognised as out of scope.",
	"oos.precision":            "Share of messages the bot called out of scope that were.",
	"escalation.precision":     "Of the conversations the bot handed to a person, the share that should have been.",
	"escalation.recall":        "Of the conversations that should reach a person, the share the bot handed over.",
	"escalation.f1":            "Escalation precision and recall combined.",
	"routing.queue":            "Share of escalations that reached the expected queue.",
	"routing.priority":         "Share of escalations given the expected priority.",
	"routing.skills":           "Share of escalations assigned to an agent with the expected skills.",
	"retrieval.recall@1":       "Share of questions whose right article is the first one found.",
	"retrieval.recall@5":       "Share of questions whose right article is among the first five found.",
	"retrieval.mrr":            "Mean reciprocal rank of the right article (1 = always first).",
	"citation.accuracy":        "Share of KB answers citing an expected article.",
	"outcome.accuracy":         "Share of conversations that ended as expected (answered, escalated, archived...).",
	"containment.honest":       "Share of bot resolutions not followed by an escalation or the customer writing again.",
	"turns_to_resolution":      "Mean customer turns until a conversation is resolved (lower is better).",
	"sentiment.accuracy":       "Share of messages whose sentiment (negative or not) was read correctly.",
	"sentiment.macro_f1":       "Sentiment F1 averaged over negative and not-negative.",
	"sentiment.coverage":       "Share of texts in which the sentiment analyser found any evidence.",
	"language.accuracy":        "Share of messages whose language was identified correctly.",
	"language.macro_f1":        "Language identification F1 averaged over languages.",
	"kb.answered":              "Share of in-KB questions the bot answered from the KB.",
	"kb.out_of_kb_declined":    "Share of questions the KB does not cover that the bot declined to answer.",
}

func langRows(r *Report) []langRow {
	if len(r.Langs) == 0 {
		return nil
	}
	langs := map[string]bool{}
	for _, l := range r.Langs {
		langs[l] = true
	}
	per := map[string]map[string]float64{} // metric → lang → value
	for k, val := range r.Metrics {
		l, m, ok := strings.Cut(k, "/")
		if !ok || !langs[l] {
			continue
		}
		if per[m] == nil {
			per[m] = map[string]float64{}
		}
		per[m][l] = val
	}
	names := map[string]bool{}
	for m := range per {
		names[m] = true
	}
	var rows []langRow
	for _, m := range sortedMetrics(names) {
		row := langRow{Metric: m}
		for _, l := range r.Langs {
			val, has := per[m][l]
			row.Values = append(row.Values, langValue{Lang: l, V: val, Has: has})
		}
		rows = append(rows, row)
	}
	return rows
}

func confusionOf(c *Confusion) *confusionView {
	if c == nil || len(c.Labels) == 0 {
		return nil
	}
	v := &confusionView{Labels: c.Labels}
	for i := range c.Cells {
		for j := range c.Cells[i] {
			if i != j && c.Cells[i][j] > v.Max {
				v.Max = c.Cells[i][j]
			}
		}
	}
	for i, l := range c.Labels {
		row := confusionRow{Label: l}
		for j := range c.Labels {
			n := 0
			if i < len(c.Cells) && j < len(c.Cells[i]) {
				n = c.Cells[i][j]
			}
			row.Total += n
			cell := confusionCell{N: n, Diag: i == j, Predict: c.Labels[j]}
			if n > 0 && i != j && v.Max > 0 {
				cell.Shade = 1 + (4*n)/v.Max
				cell.Shade = min(cell.Shade, 5)
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func shareText(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", 100*float64(a)/float64(b))
}

func percent(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) }

func fixed3(f float64) string { return fmt.Sprintf("%.3f", f) }

// fmtMetric shows a share as a percentage and anything else (turns,
// milliseconds) as a number.
func fmtMetric(name string, f float64) string {
	if LowerIsBetter(name) {
		return fmt.Sprintf("%.2f", f)
	}
	return percent(f)
}
