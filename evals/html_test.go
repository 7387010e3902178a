package evals

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func readFixture(t *testing.T, name string) *Report {
	t.Helper()
	r, err := ReadReport("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func renderHTML(t *testing.T, r, base *Report) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, base); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	return buf.String(), doc
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func all(doc *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == a {
			out = append(out, n)
		}
	})
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteString(" ")
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if v, ok := attr(n, "id"); ok && v == id && found == nil {
			found = n
		}
	})
	return found
}

// TestHTMLSelfContained: the page names nothing outside itself, so it
// opens offline and leaks nothing when opened.
func TestHTMLSelfContained(t *testing.T) {
	page, doc := renderHTML(t, readFixture(t, "report_b.json"), readFixture(t, "report_a.json"))
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Link, atom.Iframe, atom.Img, atom.Object, atom.Embed, atom.Base:
			t.Errorf("element <%s> in the page", n.Data)
		}
		for _, a := range n.Attr {
			switch a.Key {
			case "src", "srcset", "action", "formaction", "background", "poster":
				t.Errorf("<%s %s=%q>: the page must fetch nothing", n.Data, a.Key, a.Val)
			case "href":
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s href=%q>: only links within the page", n.Data, a.Val)
				}
			}
		}
	})
	for _, n := range append(all(doc, atom.Style), all(doc, atom.Script)...) {
		body := strings.ToLower(text(n))
		for _, bad := range []string{"url(", "@import", "fetch(", "xmlhttprequest", "http:", "https:", "websocket", "import("} {
			if strings.Contains(body, bad) {
				t.Errorf("<%s> contains %q", n.Data, bad)
			}
		}
	}
	var csp string
	for _, m := range all(doc, atom.Meta) {
		if v, _ := attr(m, "http-equiv"); v == "Content-Security-Policy" {
			csp, _ = attr(m, "content")
		}
	}
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q does not forbid fetching", csp)
	}
	if strings.Count(page, "<svg") < 3 {
		t.Errorf("want the headline, language and trigger charts as inline SVG, got %d", strings.Count(page, "<svg"))
	}
}

// TestHTMLAccessible: the structure a screen reader and a keyboard need.
func TestHTMLAccessible(t *testing.T) {
	_, doc := renderHTML(t, readFixture(t, "report_b.json"), readFixture(t, "report_a.json"))
	if h := all(doc, atom.Html); len(h) != 1 {
		t.Fatal("no html element")
	} else if l, _ := attr(h[0], "lang"); l == "" {
		t.Error("<html> has no lang")
	}
	if len(all(doc, atom.H1)) != 1 {
		t.Errorf("want one h1, got %d", len(all(doc, atom.H1)))
	}
	if tt := all(all(doc, atom.Head)[0], atom.Title); len(tt) != 1 || text(tt[0]) != "Eval report: sportshop" {
		t.Errorf("title %v", tt)
	}
	// Headings never skip a level.
	level := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode || len(n.Data) != 2 || n.Data[0] != 'h' || n.Data[1] < '1' || n.Data[1] > '6' {
			return
		}
		l := int(n.Data[1] - '0')
		if l > level+1 {
			t.Errorf("heading %q (h%d) after h%d", text(n), l, level)
		}
		level = l
	})
	for _, tb := range all(doc, atom.Table) {
		if len(all(tb, atom.Caption)) != 1 {
			t.Errorf("table without a caption: %.60s", text(tb))
		}
		for _, th := range all(tb, atom.Th) {
			if s, _ := attr(th, "scope"); s != "col" && s != "row" {
				t.Errorf("<th> %q without scope", text(th))
			}
		}
	}
	for _, s := range all(doc, atom.Svg) {
		if r, _ := attr(s, "role"); r != "img" {
			t.Error("svg without role=img")
		}
		ids, _ := attr(s, "aria-labelledby")
		for _, id := range strings.Fields(ids) {
			if n := byID(doc, id); n == nil || text(n) == "" {
				t.Errorf("svg labelled by %q, which is missing or empty", id)
			}
		}
	}
	for _, in := range all(doc, atom.Input) {
		id, _ := attr(in, "id")
		labelled := false
		for _, l := range all(doc, atom.Label) {
			if f, _ := attr(l, "for"); f == id && text(l) != "" {
				labelled = true
			}
		}
		if !labelled {
			t.Errorf("input %q has no label", id)
		}
	}
}

// TestHTMLContent: what a reader comes for is on the page, from the
// report and not from anywhere else.
func TestHTMLContent(t *testing.T) {
	a, b := readFixture(t, "report_a.json"), readFixture(t, "report_b.json")
	_, doc := renderHTML(t, b, a)

	t.Run("headline against the baseline", func(t *testing.T) {
		rows := map[string][]string{}
		sec := byID(doc, "metrics")
		for _, tr := range all(sec, atom.Tr) {
			var cells []string
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells = append(cells, text(c))
				}
			}
			if len(cells) > 0 {
				rows[cells[0]] = cells
			}
		}
		want := map[string][]string{
			"case.pass_rate":      {"50.0 %", "75.0 %", "▼ worse -0.250"},
			"intent.accuracy":     {"92.0 %", "90.0 %", "▲ better +0.020"},
			"turns_to_resolution": {"2.00", "1.50", "▼ worse +0.500"}, // lower is better
			"oos.recall":          {"absent", "100.0 %", "no longer measured"},
			"retrieval.mrr":       {"80.0 %", "–", "new"},
			"intent.macro_f1":     {"88.0 %", "88.0 %", "±0"},
		}
		for m, w := range want {
			got := rows[m]
			if len(got) < 4 || got[1] != w[0] || got[2] != w[1] || got[3] != w[2] {
				t.Errorf("row %s = %q, want %q", m, got, w)
			}
		}
		for m := range rows {
			if strings.Contains(m, "/") {
				t.Errorf("per-language or dataset metric %s among the headline", m)
			}
		}
	})

	t.Run("per language", func(t *testing.T) {
		sec := byID(doc, "languages")
		if sec == nil {
			t.Fatal("no languages section")
		}
		got := text(sec)
		for _, w := range []string{"tr/", "case.pass_rate 100.0 % 100.0 % 0.0 %", "routing.queue – – 50.0 %"} {
			if w == "tr/" {
				if strings.Contains(got, w) {
					t.Errorf("language prefix left in %q", got)
				}
				continue
			}
			if !strings.Contains(got, w) {
				t.Errorf("languages section lacks %q:\n%s", w, got)
			}
		}
	})

	t.Run("triggers", func(t *testing.T) {
		got := text(byID(doc, "triggers"))
		if !strings.Contains(got, "wants_human 0 0 1 3 – 0 %") {
			t.Errorf("triggers: %s", got)
		}
	})

	t.Run("confusion matrix", func(t *testing.T) {
		sec := byID(doc, "intents")
		tbl := all(sec, atom.Table)[0]
		body := all(tbl, atom.Tbody)[0]
		var got [][]string
		for _, tr := range all(body, atom.Tr) {
			var row []string
			for _, td := range all(tr, atom.Td) {
				row = append(row, text(td))
			}
			got = append(got, row)
		}
		want := fmt.Sprint([][]string{{"3", "", "", "3"}, {"", "1", "", "1"}, {"1", "", "2", "3"}})
		if fmt.Sprint(got) != want {
			t.Errorf("cells %v, want %v", got, want)
		}
		// The off-diagonal mix-up is shaded, the diagonal marked.
		cls, _ := attr(all(all(body, atom.Tr)[2], atom.Td)[0], "class")
		if cls != "s5" {
			t.Errorf("returns→order_status class %q, want the darkest shade", cls)
		}
	})

	t.Run("datasets", func(t *testing.T) {
		got := text(byID(doc, "datasets"))
		for _, w := range []string{"banking77 (intent, 2002 examples, 4.3 s)", "intent.accuracy 90.9 % 90.9 %", "card_arrival card_delivery_estimate 7"} {
			if !strings.Contains(got, w) {
				t.Errorf("datasets section lacks %q:\n%s", w, got)
			}
		}
	})

	t.Run("cases", func(t *testing.T) {
		details := all(byID(doc, "cases"), atom.Details)
		if len(details) != len(b.Cases) {
			t.Fatalf("%d case sections, want %d", len(details), len(b.Cases))
		}
		first, _ := attr(details[0], "id")
		if first != "case-human-please-tr" {
			t.Errorf("first case %q, want the one that broke", first)
		}
		broken := text(details[0])
		for _, w := range []string{
			"broke since the baseline", "human-please-tr", "tr · whatsapp · ended bot_resolved · 2 failed expectations · cases/escalation.yaml:14",
			"1 escalated true false line 18", "end queue turkish (nothing) line 22",
			"Bir insanla konuşmak istiyorum", "Size nasıl yardımcı olabilirim?",
			"Action clarify", "Intent human (35.0 %)",
		} {
			if !strings.Contains(broken, w) {
				t.Errorf("broken case lacks %q:\n%s", w, broken)
			}
		}
		passed := text(byID(doc, "case-returns-window-en"))
		for _, w := range []string{"passed", "Cited returns-policy", "You have 30 days"} {
			if !strings.Contains(passed, w) {
				t.Errorf("passed case lacks %q:\n%s", w, passed)
			}
		}
	})
}

func TestHTMLWithoutBaseline(t *testing.T) {
	r := readFixture(t, "report_a.json")
	page, doc := renderHTML(t, r, nil)
	if strings.Contains(page, "<th scope=\"col\">Baseline</th>") {
		t.Error("a baseline column without a baseline")
	}
	if !strings.Contains(text(byID(doc, "verdict")), "No baseline") {
		t.Error("the summary does not say there is no baseline")
	}
	if text(byID(doc, "failed-h")) != "Failed (1)" {
		t.Errorf("failed heading %q", text(byID(doc, "failed-h")))
	}
}

// TestHTMLEscapes: what customers wrote is shown, never run.
func TestHTMLEscapes(t *testing.T) {
	r := readFixture(t, "report_a.json")
	r.Cases[0].Turns[0].Customer = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	r.Cases[0].ID = `x"><b>id`
	r.Suite = `<i>suite</i>`
	_, doc := renderHTML(t, r, nil)
	if n := len(all(doc, atom.Script)); n != 1 {
		t.Errorf("%d scripts, want only the page's own", n)
	}
	if len(all(doc, atom.Img)) != 0 || len(all(doc, atom.I)) != 0 || len(all(doc, atom.B)) != 0 {
		t.Error("customer text became markup")
	}
	if !strings.Contains(text(doc), "<script>alert(1)</script>") {
		t.Error("the customer's text is not shown as text")
	}
}

// TestHTMLDeterministic: the same reports give the same bytes, so that a
// stored page diffs cleanly.
func TestHTMLDeterministic(t *testing.T) {
	a, b := readFixture(t, "report_a.json"), readFixture(t, "report_b.json")
	first, _ := renderHTML(t, b, a)
	for range 5 {
		if again, _ := renderHTML(t, b, a); again != first {
			t.Fatal("two renders of the same reports differ")
		}
	}
}

func TestHTMLNoReport(t *testing.T) {
	if err := WriteHTML(&bytes.Buffer{}, nil, nil); err == nil {
		t.Error("no error for a nil report")
	}
}

// TestHTMLGateOnly: a report run against a baseline carries the gate's
// deltas; without the baseline report at hand the page shows those.
func TestHTMLGateOnly(t *testing.T) {
	r := readFixture(t, "report_b.json")
	r.Gate = &GateResult{Baseline: "baseline.json", Passed: false, Broken: []string{"human-please-tr"}, Deltas: []MetricDelta{
		{Metric: "escalation.recall", Baseline: 0.5, Now: 0, Tolerance: 0.02, Regressed: true},
		{Metric: "intent.accuracy", Baseline: 0.9, Now: 0.92, Tolerance: 0.02},
	}}
	_, doc := renderHTML(t, r, nil)
	got := text(byID(doc, "metrics"))
	for _, w := range []string{
		"escalation.recall 0.0 % 50.0 % regressed ▼ worse -0.500 (tolerance 0.020)",
		"intent.accuracy 92.0 % 90.0 % ▲ better +0.020 (tolerance 0.020)",
		"Cases that passed in the baseline and fail now human-please-tr",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("metrics section lacks %q:\n%s", w, got)
		}
	}
	if v := text(byID(doc, "verdict")); !strings.Contains(v, "Gate failed") || !strings.Contains(v, "baseline.json") {
		t.Errorf("summary %q", v)
	}
}
