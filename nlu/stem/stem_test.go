package stem

import (
	"slices"
	"testing"
)

func TestFor(t *testing.T) {
	cases := []struct {
		lang  string
		ok    bool
		words map[string]string // word -> stem
	}{
		{"en", true, map[string]string{"refunds": "refund", "delivered": "deliv", "running": "run"}},
		{"tr", true, map[string]string{"kartıma": "kart", "kartınıza": "kart", "KARTIMA": "kart", "kargonuz": "kargo", "teslimatı": "teslimat", "değişimi": "değiş"}},
		{"ru", true, map[string]string{"возврата": "возврат", "карты": "карт", "Доставка": "доставк", "доставки": "доставк", "заказа": "заказ"}},
		{"de", true, map[string]string{"Rechnungen": "rechnung"}},
		{"pt-BR", true, map[string]string{"devoluções": "devolu", "devolução": "devolu"}},
		{"TR", true, map[string]string{"siparişlerim": "sipariş"}},
		{"xx", false, nil},
		{"", false, nil},
		{"ja", false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.lang, func(t *testing.T) {
			st, ok := For(tc.lang)
			if ok != tc.ok {
				t.Fatalf("For(%q) ok = %v, want %v", tc.lang, ok, tc.ok)
			}
			for w, want := range tc.words {
				if got := st.Word(w); got != want {
					t.Errorf("%s stem of %q = %q, want %q", tc.lang, w, got, want)
				}
			}
		})
	}
}

func TestWords(t *testing.T) {
	st, _ := For("ru")
	got := st.Words("Возврат денег — на карту, за 5 дней!")
	want := []string{"возврат", "денег", "на", "карт", "за", "5", "дне"}
	if !slices.Equal(got, want) {
		t.Fatalf("Words = %q, want %q", got, want)
	}
	if got := st.Words(" \t—!? "); len(got) != 0 {
		t.Fatalf("Words of punctuation = %q, want none", got)
	}
	if got := st.Words("\xff\xfeabc"); len(got) != 1 {
		t.Fatalf("Words of invalid UTF-8 = %q, want the one run of letters", got)
	}
}
