package kb

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// importFixture imports testdata/kb for the store's bot.
func importFixture(t *testing.T, ts testStore) *Retriever {
	t.Helper()
	emb := embedder(t)
	if _, err := Import(context.Background(), ts.store, emb, ts.bot, "testdata/kb", ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return &Retriever{Store: ts.store, Embedder: emb}
}

func TestRetrieverSearch(t *testing.T) {
	ctx := context.Background()
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			r := importFixture(t, ts)
			tests := []struct {
				name      string
				q         Query
				wantSlug  string // of the first result; "" = no result
				wantLang  string
				wantHeads string
			}{
				{"english question", Query{Text: "how long does express delivery take", Language: "en"}, "delivery-times", "en", "Express delivery"},
				{"refund timing", Query{Text: "when will I get my refund on my card", Language: "en"}, "return-policy", "en", "Refund timing"},
				{"turkish question", Query{Text: "hızlı teslimat ne zaman gelir", Language: "tr", Fallback: "en"}, "delivery-times-tr", "tr", "Hızlı teslimat"},
				{"fallback to the default language", Query{Text: "how do I return shoes", Language: "ru", Fallback: "en"}, "return-policy", "en", ""},
				{"no fallback, no result", Query{Text: "how do I return shoes", Language: "ru"}, "", "", ""},
				{"keyword only", Query{Text: "customs duties outside the EU", Language: "en", Mode: ModeKeyword}, "delivery-times", "en", "International delivery"},
				{"vector only", Query{Text: "international orders customs", Language: "en", Mode: ModeVector}, "delivery-times", "en", "International delivery"},
				{"drafts are never found", Query{Text: "gift cards valid two years", Language: "en", Distinct: true}, "return-policy", "en", ""},
				{"punctuation only", Query{Text: "?!", Language: "en"}, "", "", ""},
				{"a pasted e-mail of 100 KB", Query{Text: "express delivery " + strings.Repeat("lorem ipsum dolor sit amet ", 4000), Language: "en"}, "delivery-times", "en", "Express delivery"},
				{"invalid UTF-8", Query{Text: "express \xff\xfe delivery", Language: "en"}, "delivery-times", "en", "Express delivery"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.q.BotID = ts.bot
					res, err := r.Search(ctx, tc.q)
					if err != nil {
						t.Fatal(err)
					}
					if tc.wantSlug == "" {
						if len(res) != 0 {
							t.Errorf("got %d results, want none (first %s)", len(res), res[0].Chunk.Slug)
						}
						return
					}
					if len(res) == 0 {
						t.Fatal("no results")
					}
					top := res[0]
					if top.Chunk.Slug != tc.wantSlug || top.Language != tc.wantLang {
						t.Errorf("top %s (%s), want %s (%s)", top.Chunk.Slug, top.Language, tc.wantSlug, tc.wantLang)
					}
					if tc.wantHeads != "" && strings.Join(top.Chunk.HeadingPath, "/") != tc.wantHeads {
						t.Errorf("top heading path %v, want %s", top.Chunk.HeadingPath, tc.wantHeads)
					}
					for _, x := range res {
						if x.Chunk.Slug == "gift-cards" {
							t.Error("a draft article was retrieved")
						}
						if x.Chunk.Language != tc.wantLang {
							t.Errorf("result in %s, want only %s", x.Chunk.Language, tc.wantLang)
						}
						switch tc.q.Mode {
						case ModeKeyword:
							if x.KeywordRank == 0 || x.VectorRank != 0 {
								t.Errorf("keyword mode ranks kw #%d vec #%d", x.KeywordRank, x.VectorRank)
							}
						case ModeVector:
							if x.VectorRank == 0 || x.KeywordRank != 0 {
								t.Errorf("vector mode ranks kw #%d vec #%d", x.KeywordRank, x.VectorRank)
							}
						}
						if x.Fused <= 0 || x.Title == "" {
							t.Errorf("result lacks fused score or title: %+v", x)
						}
					}
					if tc.q.Mode == "" && (top.KeywordRank == 0 || top.VectorRank == 0) {
						t.Errorf("hybrid top result not found by both methods: kw #%d vec #%d", top.KeywordRank, top.VectorRank)
					}
				})
			}
		})
	}
}

func TestRetrieverRejectsBadQueries(t *testing.T) {
	ctx := context.Background()
	ts := stores(t)[0]
	r := &Retriever{Store: ts.store, Embedder: embedder(t)}
	tests := []struct {
		name string
		q    Query
	}{
		{"no bot", Query{Text: "hello"}},
		{"empty text", Query{BotID: ts.bot, Text: "  "}},
		{"bad mode", Query{BotID: ts.bot, Text: "hello", Mode: "bm25"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Search(ctx, tc.q); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("error %v, want EINVALID", err)
			}
		})
	}
}

// reverseReranker turns the order around, so the test sees that the hook
// decides the final order.
type reverseReranker struct{ calls int }

func (rr *reverseReranker) Rerank(_ context.Context, _ string, res []Result) ([]Result, error) {
	rr.calls++
	out := make([]Result, len(res))
	for i, r := range res {
		r.Fused = float64(i)
		out[len(res)-1-i] = r
	}
	return out, nil
}

func TestRetrieverRerankerHook(t *testing.T) {
	ctx := context.Background()
	ts := stores(t)[0]
	r := importFixture(t, ts)
	q := Query{BotID: ts.bot, Text: "delivery", Language: "en", Limit: 50}
	plain, err := r.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	rr := &reverseReranker{}
	r.Reranker = rr
	got, err := r.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if rr.calls != 1 || len(got) != len(plain) || len(got) < 2 {
		t.Fatalf("calls %d, %d results vs %d", rr.calls, len(got), len(plain))
	}
	if got[0].Chunk.ID != plain[len(plain)-1].Chunk.ID {
		t.Error("reranker order not used")
	}
}

func TestRunSearchPrintsScores(t *testing.T) {
	ts := stores(t)[0]
	r := importFixture(t, ts)
	tests := []struct {
		name   string
		q      Query
		want   []string
		absent []string
	}{
		{"one language", Query{Text: "express delivery price", Language: "en"},
			[]string{"1. [delivery-times] How long does delivery take? > Express delivery  (en)", "fused ", "keyword ", "vector ", "9.95"}, nil},
		// With no language every passage still says its own.
		{"any language", Query{Text: "teslimat ne kadar sürer"},
			[]string{"1. [delivery-times-tr] Teslimat ne kadar sürer?", "  (tr)\n"}, []string{"()", "fallback"}},
		{"fallback", Query{Text: "express delivery price", Language: "ru", Fallback: "en"},
			[]string{`nothing found in "ru"; passages in the fallback language "en"`, "  (en)\n"}, []string{"()"}},
		{"empty KB", Query{Text: "express delivery", Language: "en", BotID: "nobody"},
			[]string{"no passage found: bot nobody has no published article yet"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			if q.BotID == "" {
				q.BotID = ts.bot
			}
			q.Limit = 3
			var buf bytes.Buffer
			if err := RunSearch(context.Background(), r, q, &buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, no := range tc.absent {
				if strings.Contains(out, no) {
					t.Errorf("output has %q:\n%s", no, out)
				}
			}
		})
	}
}
