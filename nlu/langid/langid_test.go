package langid

import (
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.langs, Options{})
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("New(%v) error = %v, want EINVALID", tc.langs, err)
			}
		})
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
	d, err := New([]string{"tr"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Detect("hello there my friend", ""); got.Language != "tr" {
		t.Errorf("one-language bot answered %q", got.Language)
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
