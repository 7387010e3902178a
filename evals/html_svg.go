package evals

import (
	"fmt"
	"html/template"
	"strings"
)

// The charts are inline SVG drawn here rather than by a charting script:
// the page stays one file with nothing to fetch, and a chart is readable
// with scripts off. Every chart has a title and a text alternative, every
// bar its value written beside it, so nothing is said by colour alone.

const (
	chartWidth = 880
	labelWidth = 230
	barSpan    = 420 // the width of 100 %
	colorNow   = "#1f4e79"
	colorBase  = "#8a96a3"
)

// langColors are dark enough for white text and for 3:1 against white.
var langColors = []string{"#1f4e79", "#a04a00", "#2e6b30", "#6a1b9a", "#00695c", "#ad1457", "#4e342e", "#37474f"}

type svg struct {
	b      strings.Builder
	height int
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func (s *svg) open(id, title, desc string, height int) {
	s.height = height
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d">`,
		chartWidth, height, chartWidth, height, id, id)
	fmt.Fprintf(&s.b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(desc))
}

func (s *svg) text(x, y int, anchor, class, t string) {
	fmt.Fprintf(&s.b, `<text x="%d" y="%d" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(t))
}

func (s *svg) bar(y, h int, v float64, color string) {
	w := int(v*barSpan + 0.5)
	w = max(0, min(w, barSpan))
	fmt.Fprintf(&s.b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, labelWidth, y, w, h, color)
}

func (s *svg) axis(top, bottom int) {
	for _, q := range []float64{0, 0.5, 1} {
		x := labelWidth + int(q*barSpan)
		fmt.Fprintf(&s.b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="grid"/>`, x, top, x, bottom)
		s.text(x, bottom+14, "middle", "tick", fmt.Sprintf("%.0f %%", q*100))
	}
}

func (s *svg) html() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String())
}

// shares keeps the rows a bar from 0 to 1 can show: lower-is-better
// figures (turns, milliseconds) are in the tables only.
func shares(rows []metricRow) []metricRow {
	var out []metricRow
	for _, r := range rows {
		if !r.LowerIsBetter && !r.BaseOnly {
			out = append(out, r)
		}
	}
	return out
}

// barChart draws each metric as a bar, with the baseline's as a thinner
// grey bar under it.
func barChart(title string, rows []metricRow) template.HTML {
	rows = shares(rows)
	if len(rows) == 0 {
		return ""
	}
	withBase := false
	for _, r := range rows {
		withBase = withBase || r.HasBase
	}
	step := 22
	if withBase {
		step = 30
	}
	top := 28
	h := top + step*len(rows) + 24
	var s svg
	desc := "Each metric as a bar from 0 to 100 %"
	if withBase {
		desc += "; the thinner grey bar under it is the baseline"
	}
	s.open("headline", title, desc+".", h)
	if withBase {
		fmt.Fprintf(&s.b, `<rect x="%d" y="6" width="12" height="12" fill="%s"/>`, labelWidth, colorNow)
		s.text(labelWidth+18, 16, "start", "legend", "this run")
		fmt.Fprintf(&s.b, `<rect x="%d" y="10" width="12" height="6" fill="%s"/>`, labelWidth+110, colorBase)
		s.text(labelWidth+128, 16, "start", "legend", "baseline")
	}
	s.axis(top-4, top+step*len(rows))
	for i, r := range rows {
		y := top + i*step
		s.text(labelWidth-8, y+12, "end", "label", r.Name)
		s.bar(y+2, 13, r.Now, colorNow)
		val := percent(r.Now)
		if r.Delta != "" && r.Verdict != "same" {
			val += " (" + r.Verdict + ", " + r.Delta + ")"
		}
		s.text(labelWidth+barSpan+8, y+13, "start", "value "+r.Verdict, val)
		if r.HasBase {
			s.bar(y+17, 6, r.Base, colorBase)
		}
	}
	return s.html()
}

// langChart draws, per metric, one bar per language, each labelled with
// its language code.
func langChart(langs []string, rows []langRow) template.HTML {
	var keep []langRow
	for _, r := range rows {
		if !LowerIsBetter(r.Metric) {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 || len(langs) == 0 {
		return ""
	}
	bar, gap, top := 14, 12, 12
	group := bar*len(langs) + gap
	h := top + group*len(keep) + 24
	var s svg
	s.open("languages", "Metrics per language",
		"For each metric, one bar per language ("+strings.Join(langs, ", ")+"), from 0 to 100 %; each bar is labelled with its language and value.", h)
	s.axis(top-4, top+group*len(keep))
	for i, r := range keep {
		y := top + i*group
		s.text(labelWidth-40, y+bar*len(langs)/2+5, "end", "label", r.Metric)
		for j, v := range r.Values {
			by := y + j*bar
			s.text(labelWidth-6, by+bar-3, "end", "lang", v.Lang)
			if !v.Has {
				s.text(labelWidth+4, by+bar-3, "start", "value", "no cases")
				continue
			}
			s.bar(by+1, bar-3, v.V, langColors[j%len(langColors)])
			s.text(labelWidth+barSpan+8, by+bar-3, "start", "value", percent(v.V))
		}
	}
	return s.html()
}

// triggerChart draws each trigger's escalation precision and recall.
func triggerChart(rows []triggerRow) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	bar, gap, top := 14, 12, 28
	group := 2*bar + gap
	h := top + group*len(rows) + 24
	var s svg
	s.open("triggers", "Escalation per trigger", "For each trigger, the precision bar (dark) and the recall bar (orange), from 0 to 100 %.", h)
	fmt.Fprintf(&s.b, `<rect x="%d" y="6" width="12" height="12" fill="%s"/>`, labelWidth, colorNow)
	s.text(labelWidth+18, 16, "start", "legend", "precision")
	fmt.Fprintf(&s.b, `<rect x="%d" y="6" width="12" height="12" fill="%s"/>`, labelWidth+110, langColors[1])
	s.text(labelWidth+128, 16, "start", "legend", "recall")
	s.axis(top-4, top+group*len(rows))
	for i, r := range rows {
		y := top + i*group
		s.text(labelWidth-8, y+bar+4, "end", "label", r.Name)
		c := r.Counts
		for j, part := range []struct {
			name string
			n, d int
		}{{"precision", c.TP, c.TP + c.FP}, {"recall", c.TP, c.TP + c.FN}} {
			by := y + j*bar
			if part.d == 0 {
				s.text(labelWidth+4, by+bar-3, "start", "value", part.name+": nothing to count")
				continue
			}
			v := float64(part.n) / float64(part.d)
			s.bar(by+1, bar-3, v, []string{colorNow, langColors[1]}[j])
			s.text(labelWidth+barSpan+8, by+bar-3, "start", "value", fmt.Sprintf("%s %s (%d/%d)", part.name, percent(v), part.n, part.d))
		}
	}
	return s.html()
}
