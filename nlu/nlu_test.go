package nlu

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/intent"
)

var tenLanguages = []string{"en", "tr", "ru", "de", "es", "fr", "pt", "it", "ar", "nl"}

// sportshop returns the demo bot's intents, so that the file shipped in
// examples/ is what these tests exercise.
func sportshop(t testing.TB) []intent.Intent {
	t.Helper()
	f, err := os.Open("../examples/sportshop/intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := intent.ReadYAML(f)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

var (
	once     sync.Once
	shared   *Analyzer
	sharedEr error
)

func analyzer(t testing.TB) *Analyzer {
	t.Helper()
	once.Do(func() {
		shared, sharedEr = New(context.Background(), Config{Languages: tenLanguages, Intents: sportshop(t)})
	})
	if sharedEr != nil {
		t.Fatal(sharedEr)
	}
	return shared
}

func TestAnalyze(t *testing.T) {
	a := analyzer(t)
	tests := []struct {
		name       string
		text       string
		hist       History
		lang       string
		intent     string // "" = out of scope
		wantsHuman bool
		sentiment  string
		pii        []string
		entities   []string
	}{
		{name: "en order status", text: "Where is my order #123456? It still hasn't arrived", lang: "en", intent: "order_status", sentiment: baton.SentimentNegative, entities: []string{"order_number"}},
		{name: "tr refund", text: "Ürünü iade etmek istiyorum, paramı ne zaman alırım?", lang: "tr", intent: "returns_refunds"},
		{name: "ru damaged", text: "Кроссовки пришли повреждённые, подошва отклеилась", lang: "ru", intent: "damaged_item", sentiment: baton.SentimentNegative},
		{name: "en human with card", text: "I was charged twice on 4111 1111 1111 1111, get me a human now", lang: "en", intent: "payment_billing", wantsHuman: true, pii: []string{"card"}},
		{name: "tr agent", text: "müşteri temsilcisine bağlanmak istiyorum", lang: "tr", wantsHuman: true},
		{name: "ru operator refused", text: "оператор не нужен, просто скажите где заказ", lang: "ru", intent: "order_status"},
		{name: "short ok keeps turkish", text: "ok", hist: History{Language: "tr"}, lang: "tr"},
		{name: "thanks keeps russian", text: "thanks", hist: History{Language: "ru"}, lang: "ru", intent: "thanks"},
		{name: "out of scope", text: "what is the capital of France", lang: "en", intent: ""},
		{name: "email entity", text: "my email is jane@example.com, change it please", lang: "en", pii: []string{"email"}, entities: []string{"email"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			an, err := a.Analyze(context.Background(), tc.text, tc.hist)
			if err != nil {
				t.Fatal(err)
			}
			if an.Source != SourceOffline {
				t.Errorf("source %q", an.Source)
			}
			if an.Language != tc.lang {
				t.Errorf("language %q, want %q", an.Language, tc.lang)
			}
			if tc.intent != "" || tc.name == "out of scope" {
				if an.Intent != tc.intent || an.OutOfScope != (tc.intent == "") {
					t.Errorf("intent %q (oos=%v, conf %.2f), want %q", an.Intent, an.OutOfScope, an.IntentConfidence, tc.intent)
				}
			}
			if tc.intent != "" && (len(an.TopIntents) == 0 || an.TopIntents[0].Intent != tc.intent ||
				an.TopIntents[0].Confidence != an.IntentConfidence) {
				t.Errorf("top intents %+v, want %q first with the intent's confidence", an.TopIntents, tc.intent)
			}
			if an.WantsHuman != tc.wantsHuman {
				t.Errorf("wants human %v (%q), want %v", an.WantsHuman, an.WantsHumanEvidence, tc.wantsHuman)
			}
			if tc.sentiment != "" && an.SentimentLabel != tc.sentiment {
				t.Errorf("sentiment %s (%.2f), want %s", an.SentimentLabel, an.Sentiment, tc.sentiment)
			}
			var pii []string
			for _, s := range an.PII {
				pii = append(pii, s.Type)
			}
			if strings.Join(pii, ",") != strings.Join(tc.pii, ",") {
				t.Errorf("pii %v, want %v", pii, tc.pii)
			}
			for _, want := range tc.entities {
				found := false
				for _, e := range an.Entities {
					found = found || e.Type == want
				}
				if !found {
					t.Errorf("no %s entity in %+v", want, an.Entities)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	a := analyzer(t)
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"invalid utf8", "\xff\xfe где мой заказ \xc3"},
		{"100KB", strings.Repeat("where is my order ", 6000) + " card 4111 1111 1111 1111"},
		{"only emoji", "👍👍"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			an, err := a.Analyze(context.Background(), tc.text, History{Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if an.Language == "" || an.SentimentLabel == "" || an.Sentiment < -1 || an.Sentiment > 1 {
				t.Errorf("incomplete analysis %+v", an)
			}
		})
	}
	// PII is searched in the whole text, however long.
	an, _ := a.Analyze(context.Background(), tests[2].text, History{})
	if len(an.PII) != 1 || an.PII[0].Type != "card" {
		t.Errorf("card at the end of 100 KB not found: %+v", an.PII)
	}
}

func TestCancelled(t *testing.T) {
	a := analyzer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Analyze(ctx, "hello", History{}); err == nil {
		t.Fatal("cancelled context should fail")
	}
}

func TestTrend(t *testing.T) {
	a := analyzer(t)
	calm := a.Trend(History{Sentiments: []float64{0.2, 0.1}}, -0.8)
	angry := a.Trend(History{Sentiments: []float64{-0.6, -0.7}}, -0.8)
	if !(angry < calm && calm < 0) {
		t.Errorf("trend calm %.2f, angry %.2f", calm, angry)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no languages", Config{}},
		{"unknown language", Config{Languages: []string{"en", "klingon"}}},
		{"one intent only", Config{Languages: []string{"en"}, Intents: []intent.Intent{{Name: "a", Examples: []string{"x"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), tc.cfg); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("New = %v, want EINVALID", err)
			}
		})
	}
}

func TestModelDirReused(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Languages: []string{"en", "tr", "ru"}, Intents: sportshop(t), ModelDir: dir}
	a1, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir + "/" + intent.ModelFile)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(dir + "/" + intent.ModelFile)
	if !st.ModTime().Equal(st2.ModTime()) || a1.IntentModel().DataHash() != a2.IntentModel().DataHash() {
		t.Error("the second start retrained instead of loading the stored model")
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "ok", "где мой заказ", "siparişim nerede", "get me a human", "\xff\xfe", "4111111111111111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		an, err := analyzer(t).Analyze(context.Background(), in, History{Language: "tr"})
		if err != nil {
			t.Fatal(err)
		}
		if an.Sentiment < -1 || an.Sentiment > 1 || an.IntentConfidence < 0 || an.IntentConfidence > 1 || an.Language == "" {
			t.Fatalf("analysis out of range: %+v", an)
		}
		for _, s := range an.PII {
			if s.Start < 0 || s.End > len(in) || s.Start >= s.End {
				t.Fatalf("bad span %+v", s)
			}
		}
	})
}
