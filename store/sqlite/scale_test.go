package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// BenchmarkSearchScale measures retrieval over a KB of 50,000 chunks
// (256-dimensional vectors, 60 words each): the exact cosine search and
// FTS5 bm25 for a six-word question.
func BenchmarkSearchScale(b *testing.B) {
	const (
		articles  = 5000
		perArt    = 10
		dim       = 256
		modelName = "bench-256"
	)
	ctx := context.Background()
	st := openTemp(b, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"refund", "parcel", "courier", "invoice", "voucher", "tracking", "account", "password", "warranty", "repair",
		"delivery", "return", "exchange", "size", "colour", "payment", "card", "store", "pickup", "gift"}
	zipf := rand.NewZipf(rng, 1.1, 20, 4999)
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for a := 0; a < articles; a++ {
		art := &baton.Article{BotID: "shop", Slug: fmt.Sprintf("a%d", a), Title: "t", Language: "en", Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, art); err != nil {
			b.Fatal(err)
		}
		chunks := make([]baton.Chunk, perArt)
		for i := range chunks {
			// Word frequencies follow Zipf's law over a 5,000-word
			// vocabulary, as in real text; the named words are among the
			// frequent ones.
			text := ""
			for w := 0; w < 60; w++ {
				r := int(zipf.Uint64())
				if r < len(words) {
					text += words[r] + " "
				} else {
					text += fmt.Sprintf("w%d ", r)
				}
			}
			chunks[i] = baton.Chunk{Ord: i, Text: text, Model: modelName, Embedding: vec()}
		}
		if err := st.ReplaceChunks(ctx, art.ID, chunks); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("vector/k=10", func(b *testing.B) {
		q := vec()
		// Warm: the first search after a KB change loads the vectors
		// (measured by vector-after-change below).
		if _, err := st.SearchVector(ctx, baton.ChunkQuery{BotID: "shop", Model: modelName, Embedding: q, K: 10}); err != nil {
			b.Fatal(err)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			hits, err := st.SearchVector(ctx, baton.ChunkQuery{BotID: "shop", Model: modelName, Embedding: q, K: 10})
			if err != nil || len(hits) != 10 {
				b.Fatalf("%d hits, %v", len(hits), err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
	b.Run("vector-after-change/k=10", func(b *testing.B) {
		q := vec()
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			// Unpublishing and republishing one article invalidates the
			// in-memory vectors: the search reloads all of them.
			b.StopTimer()
			if err := st.PublishArticle(ctx, "shop", "a0", i%2); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			t0 := time.Now()
			if _, err := st.SearchVector(ctx, baton.ChunkQuery{BotID: "shop", Model: modelName, Embedding: q, K: 10}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
	b.Run("keyword/k=10", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Text: "when does my warranty repair refund arrive?", K: 10})
			if err != nil || len(hits) != 10 {
				b.Fatalf("%d hits, %v", len(hits), err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
}

func reportP99(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
