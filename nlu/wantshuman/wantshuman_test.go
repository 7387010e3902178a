package wantshuman

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

type phrasing struct {
	lang, text string
	want       bool
}

func loadPhrasings(t testing.TB) []phrasing {
	t.Helper()
	f, err := os.Open("testdata/phrasings.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []phrasing
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("bad fixture line %q", line)
		}
		out = append(out, phrasing{lang: parts[0], want: parts[1] == "true", text: parts[2]})
	}
	return out
}

func TestPhrasings(t *testing.T) {
	d := New()
	cases := loadPhrasings(t)
	if len(cases) < 60 {
		t.Fatalf("only %d phrasings; the table must hold at least 60", len(cases))
	}
	langs := map[string]int{}
	for _, c := range cases {
		langs[c.lang]++
		t.Run(c.lang+"/"+c.text, func(t *testing.T) {
			got := d.Detect(c.text)
			if got.Wants != c.want {
				t.Errorf("Detect(%q) = %+v, want %v", c.text, got, c.want)
			}
			if got.Wants && (got.Evidence == "" || !strings.Contains(c.text, got.Evidence)) {
				t.Errorf("evidence %q is not a piece of the text", got.Evidence)
			}
		})
	}
	for _, l := range []string{"en", "tr", "ru"} {
		if langs[l] < 15 {
			t.Errorf("%s has only %d phrasings", l, langs[l])
		}
	}
}

func TestBadInput(t *testing.T) {
	d := New()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", false},
		{"invalid utf8", "\xff\xfeagent\xc3", true},
		{"only emoji", "👍🙏", false},
		{"100KB without request", strings.Repeat("my parcel is late again. ", 4200), false},
		{"100KB with request at the end", strings.Repeat("my parcel is late again. ", 4200) + "get me a human", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.Detect(tc.in); got.Wants != tc.want {
				t.Errorf("Detect = %+v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkDetect(b *testing.B) {
	d := New()
	for b.Loop() {
		d.Detect("I have been waiting for two weeks, please connect me with a representative")
	}
}

// BenchmarkPhrasings prints the phrasing table's size and how many are
// read correctly (the target is all of them).
func BenchmarkPhrasings(b *testing.B) {
	d := New()
	cases := loadPhrasings(b)
	correct := 0
	for b.Loop() {
		correct = 0
		for _, c := range cases {
			if d.Detect(c.text).Wants == c.want {
				correct++
			}
		}
	}
	b.ReportMetric(float64(len(cases)), "phrasings")
	b.ReportMetric(float64(correct), "correct")
}

func FuzzDetect(f *testing.F) {
	d := New()
	for _, s := range []string{"", "agent", "не нужен оператор", "temsilci istemiyorum", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := d.Detect(in)
		if r.Wants && !strings.Contains(in, r.Evidence) {
			t.Fatalf("evidence %q not in %q", r.Evidence, in)
		}
	})
}
