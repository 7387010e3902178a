package kb

import (
	"strings"
	"testing"
)

func TestSlugify(t *testing.T) {
	for _, tc := range []struct{ name, title, want string }{
		{"words", "How do I reset my password?", "how-do-i-reset-my-password"},
		{"accents", "Müşteri temsilcisine bağlanmak istiyorum", "musteri-temsilcisine-baglanmak-istiyorum"},
		{"letters without a decomposition", "Straße, Øre, kılıç", "strasse-ore-kilic"},
		{"punctuation runs", "  Order #123 -- late?!  ", "order-123-late"},
		{"cut at a word", strings.Repeat("refund ", 20), "refund-refund-refund-refund-refund-refund-refund-refund"},
		{"one long word", strings.Repeat("a", 90), strings.Repeat("a", 60)},
		{"another script", "Где мой заказ?", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Slugify(tc.title)
			if got != tc.want {
				t.Fatalf("Slugify(%q) = %q, want %q", tc.title, got, tc.want)
			}
			if got != "" && !slugRE.MatchString(got) {
				t.Fatalf("Slugify(%q) = %q breaks the slug rules", tc.title, got)
			}
		})
	}
}
