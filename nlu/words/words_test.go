package words

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"english apostrophe", "I don't need it!!", []string{"i", "dont", "need", "it"}},
		{"turkish dotted capital", "İPTAL ETMEK İSTİYORUM", []string{"iptal", "etmek", "istiyorum"}},
		{"turkish dotless", "ıade ıstıyorum", []string{"iade", "istiyorum"}},
		{"russian yo", "Ещё ЖДУ", []string{"еще", "жду"}},
		{"emoji and url bits", "ok 👍 thanks", []string{"ok", "thanks"}},
		{"invalid utf8", "a\xffb", []string{"a", "b"}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks := Split(tc.in)
			var got []string
			for _, tk := range toks {
				got = append(got, tk.Text)
				if tk.Start < 0 || tk.End > len(tc.in) || tk.Start >= tk.End {
					t.Fatalf("bad offsets %+v", tk)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCapsAndPunct(t *testing.T) {
	toks := Split("This is TERRIBLE!!! ok, fine")
	if !toks[2].Caps || toks[2].Punct != "!!!" {
		t.Errorf("token %+v: want caps and !!!", toks[2])
	}
	if toks[0].Caps {
		t.Errorf("%q is not caps", toks[0].Text)
	}
	if n := len(Clauses(toks)); n != 3 {
		t.Errorf("clauses = %d, want 3", n)
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"operator", "opertor", 1},
		{"temsilci", "temsilsi", 1},
		{"оператор", "опреатор", 1},
		{"human", "woman", 2},
		{"agent", "agent", 0},
		{"representative", "xyz", 2},
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			if got := Distance([]rune(tc.a), []rune(tc.b), 1); got != tc.want {
				t.Errorf("Distance = %d, want %d", got, tc.want)
			}
		})
	}
}
