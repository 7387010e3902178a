package langid

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

var tenLanguages = []string{"en", "tr", "ru", "de", "es", "fr", "pt", "it", "ar", "nl"}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		langs []string
	}{
		{"none", nil},
		{"unknown code", []string{"en", "xx"}},
		{"name instead of code", []string{"english"}},
		{"path in the code", []string{"../models/en"}},
		{"empty code", []string{"en", ""}},
		// an ISO 639-1 code whose model this build does not embed
		{"language without a model", []string{"en", "ja"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.langs, Options{})
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("New(%v) error = %v, want EINVALID", tc.langs, err)
			}
			if len(tc.langs) > 0 && !strings.Contains(baton.ErrorMessage(err), "supported: ") {
				t.Errorf("error %q does not list the supported languages", baton.ErrorMessage(err))
			}
		})
	}
}

func TestNewNormalisesCodes(t *testing.T) {
	d, err := New([]string{" TR", "en", "tr", "RU "}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Languages(); !slices.Equal(got, []string{"tr", "en", "ru"}) {
		t.Errorf("Languages() = %v, want [tr en ru]", got)
	}
}

// TestSupported holds the embedded models, Supported and the README's
// list of languages to one another.
func TestSupported(t *testing.T) {
	files, err := filepath.Glob("models/*.lm")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(filepath.Base(f), ".lm"))
	}
	got := Supported()
	if !slices.Equal(got, want) {
		t.Fatalf("Supported() = %v, want the models %v", got, want)
	}
	for _, code := range []string{"en", "tr", "ru", "de", "es", "fr", "pt", "it", "ar", "nl", "uk", "pl", "az", "kk", "fa", "he", "el", "sv", "da", "ro"} {
		if !slices.Contains(got, code) {
			t.Errorf("the default set lost %s", code)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range got {
		d, err := New([]string{code}, Options{})
		if err != nil {
			t.Errorf("New(%s): %v", code, err)
			continue
		}
		if !strings.Contains(string(readme), "| `"+code+"` |") {
			t.Errorf("nlu/README.md does not list %s (%v)", code, d.Languages())
		}
	}
}

func TestDetect(t *testing.T) {
	d, err := New(tenLanguages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		settled string
		want    string
		kept    bool
	}{
		{"english", "My order has not arrived yet and the tracking page shows nothing", "", "en", false},
		{"turkish", "Siparişim hâlâ gelmedi, kargo takip numarası da çalışmıyor", "", "tr", false},
		{"turkish without diacritics", "siparisim hala gelmedi kargo takip numarasi da calismiyor", "", "tr", false},
		{"russian", "Мой заказ до сих пор не пришёл, что случилось?", "", "ru", false},
		{"german", "Meine Bestellung ist noch nicht angekommen, können Sie helfen?", "", "de", false},
		{"spanish", "Mi pedido todavía no ha llegado, ¿pueden ayudarme por favor?", "", "es", false},
		{"french", "Ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?", "", "fr", false},
		{"portuguese", "Minha encomenda ainda não chegou, vocês podem me ajudar?", "", "pt", false},
		{"italian", "Il mio ordine non è ancora arrivato, potete aiutarmi per favore?", "", "it", false},
		{"arabic", "لم يصل طلبي بعد، هل يمكنكم مساعدتي؟", "", "ar", false},
		{"dutch", "Mijn bestelling is nog steeds niet aangekomen, kunnen jullie helpen?", "", "nl", false},
		{"short ok keeps turkish", "ok", "tr", "tr", true},
		{"short thanks keeps russian", "thanks", "ru", "ru", true},
		{"emoji keeps settled", "👍", "tr", "tr", true},
		{"empty falls back to default", "", "", "en", true},
		{"digits only keep settled", "123456", "ru", "ru", true},
		{"link only keeps settled", "https://example.com/orders/1", "de", "de", true},
		{"cyrillic script is clear even short", "спасибо", "en", "ru", false},
		{"arabic script is clear even short", "شكرا", "en", "ar", false},
		{"settled outside the bot falls back to default", "ok", "ja", "en", true},
		{"long turkish overrides english history", "Merhaba, iade talebimi iptal etmek istiyorum lütfen", "en", "tr", false},
		{"invalid utf8", "\xff\xfe Мой заказ до сих пор не пришёл \xc3", "", "ru", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := d.Detect(tc.text, tc.settled)
			if got.Language != tc.want || got.Kept != tc.kept {
				t.Errorf("Detect(%q, %q) = %+v, want %s kept=%v", tc.text, tc.settled, got, tc.want, tc.kept)
			}
			if got.Confidence < 0 || got.Confidence > 1 {
				t.Errorf("confidence %v out of [0,1]", got.Confidence)
			}
		})
	}
}

func TestOneLanguageBot(t *testing.T) {
	for _, code := range []string{"tr", "el"} {
		d, err := New([]string{code}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{"hello there my friend", "Мой заказ не пришёл", "", "ok"} {
			got := d.Detect(text, "")
			if got.Language != code || got.Confidence != 1 || got.Kept {
				t.Errorf("one-language bot %s: Detect(%q) = %+v", code, text, got)
			}
		}
	}
}

// TestScripts: the script settles the language when only one configured
// language is written in it, however short the message, and a message in
// a script none of them uses keeps the settled language.
func TestScripts(t *testing.T) {
	d, err := New([]string{"en", "tr", "ru", "uk", "ar", "fa", "el", "he"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, settled, want string
		kept                      bool
	}{
		{"greek alone in its script", "ναι", "en", "el", false},
		{"hebrew alone in its script", "תודה", "tr", "he", false},
		{"cyrillic chooses between its languages", "Де моє замовлення? Я чекаю вже два тижні", "en", "uk", false},
		{"russian among cyrillic", "Где мой заказ? Я жду уже две недели", "uk", "ru", false},
		{"persian among arabic script", "سفارش من هنوز نرسیده است، لطفا کمک کنید", "ar", "fa", false},
		{"arabic among arabic script", "لم يصل طلبي بعد، هل يمكنكم مساعدتي؟", "fa", "ar", false},
		{"script no language uses", "我的订单还没到", "tr", "tr", true},
		{"latin brand names in cyrillic text", "Мой Samsung Galaxy сломался", "en", "ru", false},
		{"a cyrillic word in english text", "I bought it on Ozon, it says заказ", "ru", "en", false},
		// the function-word vote only chooses among the script's languages
		{"english function words in cyrillic text", "Заказ не пришёл, please help me with the order", "en", "ru", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := d.Detect(tc.text, tc.settled)
			if got.Language != tc.want || got.Kept != tc.kept {
				t.Errorf("Detect(%q, %q) = %+v, want %s kept=%v", tc.text, tc.settled, got, tc.want, tc.kept)
			}
		})
	}
	// two languages of one script and nothing else: the script alone
	// does not settle it
	d2, err := New([]string{"ru", "uk"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d2.Detect("да", "uk"); got.Language != "uk" || !got.Kept {
		t.Errorf("short cyrillic between ru and uk = %+v, want uk kept", got)
	}
}

// TestFunctionWordTie: two languages with as many function words go to
// the same one every time, the one the bot lists first.
func TestFunctionWordTie(t *testing.T) {
	d, err := New([]string{"en", "pt", "es"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// "que" and "para" are Portuguese and Spanish alike
	const text = "que para weekend shopping mall downtown"
	for range 50 {
		if got := d.Detect(text, ""); got.Language != "pt" {
			t.Fatalf("Detect(%q) = %+v, want pt every time", text, got)
		}
	}
}

// TestShortTextRule: under MinLetters letters a message changes the
// settled language only when the detector is at least MinConfidence sure.
func TestShortTextRule(t *testing.T) {
	tests := []struct {
		name    string
		opt     Options
		text    string
		settled string
		want    string
		kept    bool
	}{
		{"short unclear word in a turkish conversation", Options{}, "ok", "tr", "tr", true},
		{"short unclear word in a new conversation", Options{}, "ok", "", "tr", true},
		{"short english with a low length bar", Options{MinLetters: 4}, "thanks a lot", "tr", "en", false},
		{"short english with a low confidence bar", Options{MinConfidence: 0.01}, "thanks a lot", "tr", "en", false},
		{"long english in a turkish conversation", Options{}, "thanks, that solved my problem with the refund", "tr", "en", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New([]string{"tr", "en", "ru"}, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			got := d.Detect(tc.text, tc.settled)
			if got.Language != tc.want || got.Kept != tc.kept {
				t.Errorf("Detect(%q, %q) = %+v, want %s kept=%v", tc.text, tc.settled, got, tc.want, tc.kept)
			}
		})
	}
}

func TestLongText(t *testing.T) {
	d, err := New(tenLanguages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("Мой заказ до сих пор не пришёл. ", 3500) // > 100 KB
	if got := d.Detect(big, "en"); got.Language != "ru" {
		t.Errorf("100 KB of Russian = %+v", got)
	}
}

func BenchmarkDetect(b *testing.B) {
	d, err := New(tenLanguages, Options{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := []string{
		"Where is my order? It has been two weeks",
		"Siparişim nerede? İki hafta oldu",
		"Где мой заказ? Прошло две недели",
	}
	d.Detect(msgs[0], "") // load the models outside the timing
	i := 0
	for b.Loop() {
		d.Detect(msgs[i%len(msgs)], "")
		i++
	}
}
