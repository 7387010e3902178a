package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		typs []string
	}{
		{"email", "write to jane.doe+shop@example.co.uk please", "write to [EMAIL] please", []string{Email}},
		{"e164", "call me on +14155552671", "call me on [PHONE]", []string{Phone}},
		{"e164 grouped tr", "numaram +90 532 123 45 67 ara beni", "numaram [PHONE] ara beni", []string{Phone}},
		{"ru local trunk 8", "мой номер 8 (916) 123-45-67, звоните", "мой номер [PHONE], звоните", []string{Phone}},
		{"ru e164 dashes", "+7 916 123-45-67", "[PHONE]", []string{Phone}},
		{"tr local 0", "0532 123 45 67 numaralı telefon", "[PHONE] numaralı telefon", []string{Phone}},
		{"tr local compact", "tel 05321234567", "tel [PHONE]", []string{Phone}},
		{"us parens", "reach me at (415) 555-2671 today", "reach me at [PHONE] today", []string{Phone}},
		{"us dashes", "415-555-2671", "[PHONE]", []string{Phone}},
		{"card spaced visa", "card 4111 1111 1111 1111 exp 12/29", "card [CARD] exp 12/29", []string{Card}},
		{"card dashed mc", "5555-5555-5555-4444", "[CARD]", []string{Card}},
		{"card compact", "my card is 4242424242424242.", "my card is [CARD].", []string{Card}},
		{"card failing luhn kept", "4111 1111 1111 1112", "4111 1111 1111 1112", nil},
		{"iban de spaced", "IBAN: DE89 3704 0044 0532 0130 00 thanks", "IBAN: [IBAN] thanks", []string{IBAN}},
		{"iban gb", "GB82WEST12345698765432", "[IBAN]", []string{IBAN}},
		{"iban tr", "hesabım TR33 0006 1005 1978 6457 8413 26 lütfen", "hesabım [IBAN] lütfen", []string{IBAN}},
		{"iban bad checksum kept", "DE88 3704 0044 0532 0130 00", "DE88 3704 0044 0532 0130 00", nil},
		{"order number kept", "order #123456789 has not arrived", "order #123456789 has not arrived", nil},
		{"bare order digits kept", "order 1234567890 late", "order 1234567890 late", nil},
		{"amount kept", "I paid 1299.99 TL and 2.500,00 ₽", "I paid 1299.99 TL and 2.500,00 ₽", nil},
		{"date kept", "ordered on 2024-03-15", "ordered on 2024-03-15", nil},
		{"several", "a@b.io / +442071838750 / 4111111111111111", "[EMAIL] / [PHONE] / [CARD]", []string{Email, Phone, Card}},
		{"empty", "", "", nil},
		{"no pii", "Siparişim nerede?", "Siparişim nerede?", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, spans := Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len(spans) != len(tc.typs) {
				t.Fatalf("spans = %+v, want types %v", spans, tc.typs)
			}
			for i, s := range spans {
				if s.Type != tc.typs[i] {
					t.Errorf("span %d type %q, want %q", i, s.Type, tc.typs[i])
				}
				if s.Start < 0 || s.End > len(tc.in) || s.Start >= s.End {
					t.Errorf("span %d out of range: %+v", i, s)
				}
			}
		})
	}
}

func TestSpansPointAtOriginal(t *testing.T) {
	in := "Ödeme: 4111 1111 1111 1111, e-posta ayşe@example.com değil ayse@example.com"
	for _, s := range Find(in) {
		frag := in[s.Start:s.End]
		switch s.Type {
		case Card:
			if digitsOf(frag) != "4111111111111111" {
				t.Errorf("card span %q", frag)
			}
		case Email:
			if !strings.Contains(frag, "@example.com") {
				t.Errorf("email span %q", frag)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	big := strings.Repeat("hello 4111 1111 1111 1111 a@b.co +14155552671 ", 2200) // > 100 KB
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"invalid utf8", "\xff\xfe card 4111111111111111 \xc3"},
		{"only digits", strings.Repeat("9", 5000)},
		{"100KB", big},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, spans := Redact(tc.in)
			if tc.in != "" && out == "" {
				t.Fatal("redaction lost the text")
			}
			for _, s := range spans {
				if s.Start < 0 || s.End > len(tc.in) || s.Start >= s.End {
					t.Fatalf("span out of range: %+v", s)
				}
			}
			if strings.Contains(out, "4111111111111111") || strings.Contains(out, "4111 1111 1111 1111") {
				t.Fatal("card survived redaction")
			}
			if utf8.ValidString(tc.in) && !utf8.ValidString(out) {
				t.Fatal("redaction broke UTF-8")
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	msg := "Hi, my order 123456 never came. Card 4111 1111 1111 1111, call +90 532 123 45 67 or mail a.b@example.com"
	for b.Loop() {
		Redact(msg)
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"", "4111 1111 1111 1111", "+90 532 123 45 67", "DE89 3704 0044 0532 0130 00", "a@b.co", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, spans := Redact(in)
		last := 0
		for _, s := range spans {
			if s.Start < last || s.End > len(in) || s.Start >= s.End {
				t.Fatalf("bad span %+v in %q", s, in)
			}
			last = s.End
		}
		if len(spans) == 0 && out != in {
			t.Fatalf("text changed without spans")
		}
	})
}

func TestMaskCards(t *testing.T) {
	tests := []struct{ in, want string }{
		{"my card 4111 1111 1111 1111 was charged twice", "my card •••• 1111 was charged twice"},
		{"4111-1111-1111-1111 and 5500005555555559", "•••• 1111 and •••• 5559"},
		{"order 12345678 and +44 20 7946 0958, mail a@b.example", "order 12345678 and +44 20 7946 0958, mail a@b.example"},
		{"not a card: 4111 1111 1111 1112", "not a card: 4111 1111 1111 1112"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := MaskCards(tc.in); got != tc.want {
			t.Errorf("MaskCards(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
