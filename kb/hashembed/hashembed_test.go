package hashembed

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func cos(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

func TestEmbedderContract(t *testing.T) {
	var _ baton.Embedder = (*Embedder)(nil)
	tests := []struct {
		dim   int
		model string
	}{{0, "hash-ngram-v1-512"}, {1024, "hash-ngram-v1-1024"}, {64, "hash-ngram-v1-64"}}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			e, err := New(Options{Dim: tc.dim})
			if err != nil {
				t.Fatal(err)
			}
			if e.Model() != tc.model {
				t.Errorf("model %q, want %q", e.Model(), tc.model)
			}
			vs, err := e.Embed(context.Background(), []string{"Where is my parcel?", "", "!!!"})
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 3 {
				t.Fatalf("%d vectors", len(vs))
			}
			for i, v := range vs {
				if len(v) != e.Dim() {
					t.Fatalf("vector %d has length %d, want %d", i, len(v), e.Dim())
				}
			}
			if n := cos(vs[0], vs[0]); math.Abs(n-1) > 1e-5 {
				t.Errorf("norm² %f, want 1", n)
			}
			if n := cos(vs[1], vs[1]); n != 0 {
				t.Errorf("empty text norm² %f, want 0", n)
			}
		})
	}
	for _, d := range []int{-1, 8, 1 << 17} {
		if _, err := New(Options{Dim: d}); baton.ErrorCode(err) != baton.EINVALID {
			t.Errorf("New(dim %d) error %v, want EINVALID", d, err)
		}
	}
}

func TestEmbedderDeterministic(t *testing.T) {
	a, _ := New(Options{})
	b, _ := New(Options{})
	text := "Teslimat ne kadar sürer? Доставка занимает 2-4 дня."
	va, vb := a.Vector(text), b.Vector(text)
	for i := range va {
		if va[i] != vb[i] {
			t.Fatalf("component %d differs: %v vs %v", i, va[i], vb[i])
		}
	}
}

// Paraphrases must be closer than unrelated questions, in each language.
func TestEmbedderSimilarity(t *testing.T) {
	e, _ := New(Options{})
	tests := []struct {
		name, q, near, far string
	}{
		{"en", "How long does delivery take?", "When will my delivery arrive, how many days does it take?", "How do I reset my password?"},
		{"en inflection", "refunds for returned shoes", "I returned a shoe, when is it refunded", "card payment declined"},
		{"tr", "İade ne zaman yapılır?", "iadem ne zaman yapılacak", "şifremi unuttum"},
		{"ru", "Как вернуть товар?", "хочу вернуть товары", "где мой заказ"},
		{"case and accents", "DELIVERY TIMES", "delivery times", "password reset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := e.Vector(tc.q)
			near, far := cos(q, e.Vector(tc.near)), cos(q, e.Vector(tc.far))
			if near <= far {
				t.Errorf("cos(near) %.3f ≤ cos(far) %.3f", near, far)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Where's my PARCEL?", "wheres my parcel"},
		{"İade ISTANBUL'a", "iade istanbula"},
		{"e-mail: a@b.com", "e mail a b com"},
		{"Заказ №123", "заказ 123"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := strings.Join(Tokens(tc.in), " "); got != tc.want {
				t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func BenchmarkVector(b *testing.B) {
	e, _ := New(Options{})
	text := strings.Repeat("Standard delivery takes 2 to 4 working days and is free on orders over 50 EUR. ", 10)
	b.ReportAllocs()
	for b.Loop() {
		e.Vector(text)
	}
	b.ReportMetric(float64(len(text))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}
