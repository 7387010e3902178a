package kb

import (
	"context"
	"os"
	"testing"
)

// The example bot's KB must import cleanly and answer typical questions in
// English, Turkish and Russian with the right article.
func TestExampleKB(t *testing.T) {
	const dir = "../examples/sportshop/kb"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no example KB: %v", err)
	}
	ctx := context.Background()
	ts := stores(t)[0]
	emb := embedder(t)
	rep, err := Import(ctx, ts.store, emb, ts.bot, dir, ImportOptions{})
	if err != nil {
		t.Fatalf("example KB does not import: %v", err)
	}
	if len(rep.Created) < 50 {
		t.Errorf("%d articles, want at least 50", len(rep.Created))
	}
	a := &Answerer{Retriever: &Retriever{Store: ts.store, Embedder: emb}}
	tests := []struct {
		q, lang, slug string
		also          string // another article that answers it as well
	}{
		{q: "How long does delivery take?", lang: "en", slug: "delivery-times"},
		{q: "I forgot my password", lang: "en", slug: "reset-password"},
		{q: "my parcel arrived damaged, how do I send a photo", lang: "en", slug: "damage-photos", also: "damaged-items"},
		{q: "when will I get my refund", lang: "en", slug: "refund-timing"},
		{q: "can I cancel my order", lang: "en", slug: "cancel-order"},
		{q: "Şifremi unuttum, nasıl sıfırlarım?", lang: "tr", slug: "reset-password-tr"},
		{q: "Siparişimi iptal etmek istiyorum", lang: "tr", slug: "cancel-order-tr"},
		{q: "Как отменить заказ?", lang: "ru", slug: "cancel-order-ru"},
		{q: "Сколько идёт доставка?", lang: "ru", slug: "delivery-times-ru"},
	}
	answered := 0
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			res, err := a.Retriever.Search(ctx, Query{BotID: ts.bot, Text: tc.q, Language: tc.lang, Fallback: "en", Limit: 3, Distinct: true})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range res {
				found = found || r.Chunk.Slug == tc.slug
			}
			if !found {
				var got []string
				for _, r := range res {
					got = append(got, r.Chunk.Slug)
				}
				t.Errorf("top 3 %v lack %s", got, tc.slug)
			}
			ans, err := a.Extractive(ctx, AnswerRequest{BotID: ts.bot, Question: tc.q, Language: tc.lang, Fallback: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Answered {
				answered++
				if c := ans.Citations[0].Slug; c != tc.slug && c != tc.also {
					t.Errorf("answered citing %s (grounded %.2f), want %s", ans.Citations[0].Slug, ans.Grounded, tc.slug)
				}
			}
		})
	}
	// Short, direct questions about the shop's own topics: most must get
	// an answer at the default threshold.
	if answered < len(tests)*2/3 {
		t.Errorf("%d of %d answered at the default threshold", answered, len(tests))
	}
}
