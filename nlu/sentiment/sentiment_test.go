package sentiment

import (
	"math"
	"strings"
	"testing"
)

func newAnalyzer(t testing.TB) *Analyzer {
	t.Helper()
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLabels(t *testing.T) {
	a := newAnalyzer(t)
	tests := []struct {
		lang, text, want string
	}{
		{"en", "Thank you so much, great service!", Positive},
		{"en", "This is the worst experience ever", Negative},
		{"en", "not bad at all", Positive},
		{"en", "I don't like it", Negative},
		{"en", "my parcel didn't arrive", Negative},
		{"en", "where is my order", Neutral},
		{"en", "the shoes are nice but the delivery was terrible", Negative},
		{"en", "the delivery was slow but the staff were amazing", Positive},
		{"en", "😡😡", Negative},
		{"en", "👍", Positive},
		{"en", "ok :)", Positive},
		{"en", "WHERE IS MY ORDER", Negative},
		{"en", "still waiting???", Negative},
		{"tr", "çok güzel bir hizmet, teşekkürler", Positive},
		{"tr", "berbat bir deneyim", Negative},
		{"tr", "ürünü beğenmedim", Negative},
		{"tr", "ürünü çok beğendim", Positive},
		{"tr", "hiç güzel değil", Negative},
		{"tr", "sorun yok, teşekkürler", Positive},
		{"tr", "siparisim hala gelmedi", Negative},
		{"tr", "kargo nerede", Neutral},
		{"ru", "спасибо, всё отлично", Positive},
		{"ru", "ужасный сервис, не работает приложение", Negative},
		{"ru", "не плохо", Positive},
		{"ru", "опять списали комиссию, бесит", Negative},
		{"ru", "где мой заказ", Neutral},
		{"de", "danke 👍", Positive},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.text, func(t *testing.T) {
			r := a.Analyze(tc.text, tc.lang)
			if r.Label != tc.want {
				t.Errorf("Analyze(%q) = %+v, want %s", tc.text, r, tc.want)
			}
			if r.Score < -1 || r.Score > 1 {
				t.Errorf("score %v out of [-1, 1]", r.Score)
			}
		})
	}
}

func TestRulesMoveTheScore(t *testing.T) {
	a := newAnalyzer(t)
	tests := []struct {
		name, lang, weaker, stronger string
	}{
		{"intensifier", "en", "this is bad", "this is very bad"},
		{"caps word", "en", "this is bad", "this is BAD"},
		{"exclamation", "en", "this is bad", "this is bad!!!"},
		{"turkish intensifier", "tr", "kötü", "çok kötü"},
		{"russian intensifier", "ru", "плохо", "очень плохо"},
		{"emoji adds", "en", "this is bad", "this is bad 😡"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, s := a.Analyze(tc.weaker, tc.lang), a.Analyze(tc.stronger, tc.lang)
			if !(math.Abs(s.Score) > math.Abs(w.Score)) || math.Signbit(s.Score) != math.Signbit(w.Score) {
				t.Errorf("%q = %.3f should be stronger than %q = %.3f", tc.stronger, s.Score, tc.weaker, w.Score)
			}
		})
	}
	if d := a.Analyze("slightly bad", "en").Score; d <= a.Analyze("bad", "en").Score {
		t.Errorf("a diminisher should soften: %v", d)
	}
}

func TestHitsMeanEvidence(t *testing.T) {
	a := newAnalyzer(t)
	if r := a.Analyze("the order number is 12345", "en"); r.Hits != 0 || r.Label != Neutral {
		t.Errorf("plain text: %+v", r)
	}
	if r := a.Analyze("terrible", "en"); r.Hits == 0 {
		t.Errorf("lexicon word without a hit: %+v", r)
	}
}

func TestBadInput(t *testing.T) {
	a := newAnalyzer(t)
	tests := []struct {
		name, text, lang string
	}{
		{"empty", "", "en"},
		{"invalid utf8", "\xff\xfe bad \xc3", "en"},
		{"unknown language", "schlecht", "xx"},
		{"100KB", strings.Repeat("terrible service 😡 ", 5000), "en"},
		{"url emoticon lookalike", "see https://example.com/a:/b", "en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Analyze(tc.text, tc.lang)
			if r.Score < -1 || r.Score > 1 || r.Label == "" {
				t.Errorf("Analyze = %+v", r)
			}
		})
	}
	if r := a.Analyze("see https://example.com/a:/b", "en"); r.Hits != 0 {
		t.Errorf("a link read as an emoticon: %+v", r)
	}
}

func TestTrend(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		want   float64
	}{
		{"none", nil, 0},
		{"one", []float64{-0.6}, -0.6},
		{"recent weighs more", []float64{0.8, -0.8}, 0},
		{"run of anger", []float64{0.2, -0.6, -0.8, -0.9}, -0.7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Trend(tc.scores, 0.5); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Trend(%v) = %v, want %v", tc.scores, got, tc.want)
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	a := newAnalyzer(b)
	for b.Loop() {
		a.Analyze("I have been waiting for two weeks and my order still hasn't arrived, this is ridiculous!!", "en")
	}
}
