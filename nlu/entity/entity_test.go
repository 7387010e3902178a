package entity

import (
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // type=value
	}{
		{"order hash", "where is order #123456?", []string{"order_number=123456"}},
		{"order number words", "my order number is 98765432", []string{"order_number=98765432"}},
		{"turkish order", "sipariş no: 4455667 gelmedi", []string{"order_number=4455667"}},
		{"russian order", "заказ № 778899 не пришёл", []string{"order_number=778899"}},
		{"code", "ref SP-2024-0012 please", []string{"order_number=SP-2024-0012"}},
		{"amount dollars", "I was charged $49.99 twice", []string{"amount=$49.99"}},
		{"amount lira", "1.299,90 TL ödedim", []string{"amount=1.299,90 TL"}},
		{"amount rubles", "списали 1500 руб.", []string{"amount=1500 руб"}},
		{"email and phone", "mail me at a.b@example.com or +90 532 123 45 67", []string{"email=a.b@example.com", "phone=+90 532 123 45 67"}},
		{"nothing", "hello there", nil},
		{"invalid utf8", "\xff order #123456 \xfe", []string{"order_number=123456"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range Extract(tc.in) {
				got = append(got, e.Type+"="+e.Value)
				if tc.in[e.Start:e.End] != e.Value {
					t.Errorf("offsets of %+v do not point at its value", e)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Extract(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLongText(t *testing.T) {
	in := strings.Repeat("order #123456 cost $10 ", 5000)
	if n := len(Extract(in)); n != 10000 {
		t.Errorf("got %d entities, want 10000", n)
	}
}
