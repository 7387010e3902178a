package storetest

import (
	"context"
	_ "embed"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

//go:embed testdata/search_corpus.json
var searchCorpusJSON []byte

type corpus struct {
	Articles []struct {
		Bot      string `json:"bot"`
		Slug     string `json:"slug"`
		Language string `json:"language"`
		Status   string `json:"status"`
		Title    string `json:"title"`
		URL      string `json:"url"`
		Chunks   []struct {
			Heading   []string  `json:"heading"`
			Text      string    `json:"text"`
			Model     string    `json:"model"`
			Embedding []float32 `json:"embedding"`
		} `json:"chunks"`
	} `json:"articles"`
	Keyword []struct {
		Name     string   `json:"name"`
		Bot      string   `json:"bot"`
		Text     string   `json:"text"`
		Language string   `json:"language"`
		K        int      `json:"k"`
		Want     []string `json:"want"`
	} `json:"keyword"`
	Vector []struct {
		Name      string    `json:"name"`
		Bot       string    `json:"bot"`
		Embedding []float32 `json:"embedding"`
		Model     string    `json:"model"`
		Language  string    `json:"language"`
		K         int       `json:"k"`
		Want      []string  `json:"want"`
		Scores    []float64 `json:"scores"`
	} `json:"vector"`
}

func loadCorpus(t *testing.T) corpus {
	t.Helper()
	var c corpus
	if err := json.Unmarshal(searchCorpusJSON, &c); err != nil {
		t.Fatalf("search corpus: %v", err)
	}
	return c
}

// seedCorpus stores every article version of the corpus with its chunks.
func seedCorpus(t *testing.T, ctx context.Context, st baton.Store, c corpus) {
	t.Helper()
	for _, a := range c.Articles {
		art := &baton.Article{BotID: a.Bot, Slug: a.Slug, Language: a.Language, Status: baton.ArticleStatus(a.Status), Title: a.Title, URL: a.URL, Body: "body"}
		must(t, st.CreateArticleVersion(ctx, art), "CreateArticleVersion "+a.Slug)
		var chunks []baton.Chunk
		for i, ch := range a.Chunks {
			chunks = append(chunks, baton.Chunk{Ord: i, HeadingPath: ch.Heading, Text: ch.Text, Hash: a.Slug, Model: ch.Model, Embedding: ch.Embedding})
		}
		must(t, st.ReplaceChunks(ctx, art.ID, chunks), "ReplaceChunks "+a.Slug)
	}
}

func (s *suite) testArticles(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	mk := func(status baton.ArticleStatus, title string) *baton.Article {
		return &baton.Article{BotID: "shop", Slug: "returns", Title: title, Body: "# Returns\n\nSend it back.", Language: "en",
			Tags: []string{"returns", "policy"}, Audience: "customers", QueueID: "billing", Skills: []string{"returns"},
			URL: "https://help.example/returns", Status: status, Author: "kb@example.com", Hash: "h-" + title}
	}
	v1 := mk(baton.ArticleDraft, "one")
	must(t, st.CreateArticleVersion(ctx, v1), "v1")
	if v1.ID == 0 || v1.Version != 1 {
		t.Fatalf("v1 = id %d version %d", v1.ID, v1.Version)
	}
	wantTime(t, "CreatedAt", v1.CreatedAt, clock.Now())
	clock.Advance(time.Minute)
	v2 := mk(baton.ArticlePublished, "two")
	must(t, st.CreateArticleVersion(ctx, v2), "v2")
	clock.Advance(time.Minute)
	v3 := mk(baton.ArticlePublished, "three")
	must(t, st.CreateArticleVersion(ctx, v3), "v3")
	if v2.Version != 2 || v3.Version != 3 || v3.ID == v2.ID {
		t.Fatalf("versions = %d, %d", v2.Version, v3.Version)
	}

	statuses := func(t *testing.T) []baton.ArticleStatus {
		t.Helper()
		vs, err := st.ListArticleVersions(ctx, "shop", "returns")
		must(t, err, "ListArticleVersions")
		var out []baton.ArticleStatus
		for i, v := range vs {
			if v.Version != i+1 {
				t.Fatalf("version %d listed at %d", v.Version, i)
			}
			out = append(out, v.Status)
		}
		return out
	}
	published := func(t *testing.T) int {
		t.Helper()
		a, err := st.GetPublishedArticle(ctx, "shop", "returns")
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return 0
		}
		must(t, err, "GetPublishedArticle")
		return a.Version
	}
	D, P := baton.ArticleDraft, baton.ArticlePublished

	t.Run("publishing a new version unpublishes the old one", func(t *testing.T) {
		if got := statuses(t); !reflect.DeepEqual(got, []baton.ArticleStatus{D, D, P}) {
			t.Fatalf("statuses = %v", got)
		}
		if published(t) != 3 {
			t.Fatalf("published = %d, want 3", published(t))
		}
	})

	t.Run("get round trip", func(t *testing.T) {
		got, err := st.GetArticle(ctx, "shop", "returns", 0)
		must(t, err, "GetArticle newest")
		if got.ID != v3.ID || got.Version != 3 {
			t.Fatalf("newest = %d v%d, want %d v3", got.ID, got.Version, v3.ID)
		}
		if got.BotID != "shop" || got.Title != "three" || got.Body != v3.Body || got.Language != "en" || !reflect.DeepEqual(got.Tags, v3.Tags) ||
			got.Audience != "customers" || got.QueueID != "billing" || !reflect.DeepEqual(got.Skills, v3.Skills) || got.URL != v3.URL ||
			got.Author != v3.Author || got.Hash != "h-three" || got.Status != P {
			t.Fatalf("got %+v, want %+v", got, v3)
		}
		wantTime(t, "CreatedAt", got.CreatedAt, suiteStart().Add(2*time.Minute))
		old, err := st.GetArticle(ctx, "shop", "returns", 2)
		must(t, err, "GetArticle v2")
		if old.Title != "two" || old.Status != D {
			t.Fatalf("v2 = %q %q, want two draft", old.Title, old.Status)
		}
		_, err = st.GetArticle(ctx, "shop", "returns", 9)
		wantCode(t, err, baton.ENOTFOUND, "unknown version")
		_, err = st.GetArticle(ctx, "shop", "nope", 0)
		wantCode(t, err, baton.ENOTFOUND, "unknown slug")
		_, err = st.GetArticle(ctx, "acme", "returns", 0)
		wantCode(t, err, baton.ENOTFOUND, "other bot")
	})

	t.Run("publish and unpublish", func(t *testing.T) {
		steps := []struct {
			version int
			code    string
			want    []baton.ArticleStatus
		}{
			{1, "", []baton.ArticleStatus{P, D, D}},
			{1, "", []baton.ArticleStatus{P, D, D}},
			{9, baton.ENOTFOUND, []baton.ArticleStatus{P, D, D}},
			{3, "", []baton.ArticleStatus{D, D, P}},
			{0, "", []baton.ArticleStatus{D, D, D}},
			{2, "", []baton.ArticleStatus{D, P, D}},
		}
		for _, sp := range steps {
			err := st.PublishArticle(ctx, "shop", "returns", sp.version)
			if sp.code != "" {
				wantCode(t, err, sp.code, "PublishArticle")
			} else {
				must(t, err, "PublishArticle")
			}
			if got := statuses(t); !reflect.DeepEqual(got, sp.want) {
				t.Fatalf("after publishing %d: statuses = %v, want %v", sp.version, got, sp.want)
			}
		}
		if published(t) != 2 {
			t.Fatalf("published = %d, want 2", published(t))
		}
		wantCode(t, st.PublishArticle(ctx, "shop", "nope", 1), baton.ENOTFOUND, "publish unknown slug")
		wantCode(t, st.PublishArticle(ctx, "shop", "nope", 0), baton.ENOTFOUND, "unpublish unknown slug")
	})

	t.Run("invalid versions change nothing", func(t *testing.T) {
		for name, a := range map[string]*baton.Article{
			"no slug":    {BotID: "shop", Title: "x", Status: D},
			"no bot":     {Slug: "x", Title: "x", Status: D},
			"bad status": {BotID: "shop", Slug: "returns", Title: "x", Status: "archived"},
		} {
			t.Run(name, func(t *testing.T) {
				wantCode(t, st.CreateArticleVersion(ctx, a), baton.EINVALID, "CreateArticleVersion")
			})
		}
		if got := statuses(t); len(got) != 3 {
			t.Fatalf("%d versions after invalid creations, want 3", len(got))
		}
	})

	t.Run("list", func(t *testing.T) {
		for _, a := range []*baton.Article{
			{BotID: "shop", Slug: "billing", Title: "b1", Language: "en", Status: D},
			{BotID: "shop", Slug: "billing", Title: "b2", Language: "en", Status: D},
			{BotID: "shop", Slug: "abroad", Title: "a1", Language: "de", Status: P},
			{BotID: "acme", Slug: "acme", Title: "x1", Language: "en", Status: P},
		} {
			must(t, st.CreateArticleVersion(ctx, a), "create")
		}
		cases := []struct {
			name string
			f    baton.ArticleFilter
			want []string // slug:version
		}{
			{"newest of each slug", baton.ArticleFilter{BotID: "shop"}, []string{"abroad:1", "billing:2", "returns:3"}},
			{"published only", baton.ArticleFilter{BotID: "shop", Published: true}, []string{"abroad:1", "returns:2"}},
			{"language", baton.ArticleFilter{BotID: "shop", Language: "en"}, []string{"billing:2", "returns:3"}},
			{"limit", baton.ArticleFilter{BotID: "shop", Limit: 1}, []string{"abroad:1"}},
			{"other bot", baton.ArticleFilter{BotID: "acme"}, []string{"acme:1"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListArticles(ctx, tc.f)
				must(t, err, "ListArticles")
				var keys []string
				for _, a := range got {
					keys = append(keys, a.Slug+":"+string(rune('0'+a.Version)))
				}
				if !reflect.DeepEqual(keys, tc.want) {
					t.Fatalf("articles = %v, want %v", keys, tc.want)
				}
			})
		}
		none, err := st.ListArticleVersions(ctx, "shop", "nope")
		must(t, err, "ListArticleVersions unknown")
		if len(none) != 0 {
			t.Fatalf("%d versions of an unknown slug", len(none))
		}
	})
}

func (s *suite) testChunks(t *testing.T) {
	st, _, ctx := s.fresh(t)
	a := &baton.Article{BotID: "shop", Slug: "sizes", Title: "Sizes", Language: "en", Status: baton.ArticlePublished, URL: "https://help.example/sizes"}
	must(t, st.CreateArticleVersion(ctx, a), "create")
	chunks := []baton.Chunk{
		{Ord: 0, HeadingPath: []string{"Sizes"}, Text: "zebra sizing chart", Hash: "h0", Model: "m", Embedding: []float32{0.1, -0.25, 3.5e-7}},
		{Ord: 1, HeadingPath: []string{"Sizes", "Shoes"}, Text: "shoes run small", Hash: "h1", Model: "m", Embedding: []float32{1, 2, 3}},
		{Ord: 2, Text: "no heading, no vector", Hash: "h2"},
	}
	must(t, st.ReplaceChunks(ctx, a.ID, chunks), "ReplaceChunks")
	got, err := st.ListChunks(ctx, a.ID)
	must(t, err, "ListChunks")
	if len(got) != 3 {
		t.Fatalf("%d chunks, want 3", len(got))
	}
	for i, c := range got {
		w := chunks[i]
		if c.ID == 0 || c.ArticleID != a.ID || c.BotID != "shop" || c.Slug != "sizes" || c.Language != "en" || c.Ord != w.Ord ||
			c.Text != w.Text || c.Hash != w.Hash || c.Model != w.Model || len(c.HeadingPath) != len(w.HeadingPath) ||
			(len(w.HeadingPath) > 0 && !reflect.DeepEqual(c.HeadingPath, w.HeadingPath)) {
			t.Errorf("chunk %d = %+v, want %+v", i, c, w)
		}
		if len(c.Embedding) != len(w.Embedding) || (len(w.Embedding) > 0 && !reflect.DeepEqual(c.Embedding, w.Embedding)) {
			t.Errorf("chunk %d embedding = %v, want exactly %v", i, c.Embedding, w.Embedding)
		}
	}

	hits := func(text string) int {
		h, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Text: text, K: 10})
		must(t, err, "SearchKeyword")
		return len(h)
	}
	if hits("zebra") != 1 {
		t.Fatal("stored chunk not found by keyword")
	}
	must(t, st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Ord: 0, Text: "giraffe sizing", Hash: "n0"}}), "ReplaceChunks again")
	got, err = st.ListChunks(ctx, a.ID)
	must(t, err, "ListChunks")
	if len(got) != 1 || got[0].Text != "giraffe sizing" {
		t.Fatalf("after replace = %+v, want the one new chunk", got)
	}
	if hits("zebra") != 0 || hits("giraffe") != 1 {
		t.Fatal("replaced chunks still searchable or new ones not")
	}

	wantCode(t, st.ReplaceChunks(ctx, 999999, chunks), baton.ENOTFOUND, "ReplaceChunks unknown article")
	wantCode(t, st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: "x", Embedding: []float32{1}}}), baton.EINVALID, "embedding without model")
	got, err = st.ListChunks(ctx, a.ID)
	must(t, err, "ListChunks")
	if len(got) != 1 || got[0].Text != "giraffe sizing" {
		t.Fatalf("an invalid replace changed the chunks: %+v", got)
	}
	none, err := st.ListChunks(ctx, 999999)
	must(t, err, "ListChunks unknown")
	if len(none) != 0 {
		t.Fatalf("%d chunks of an unknown article", len(none))
	}
}

func (s *suite) testSearchKeyword(t *testing.T) {
	st, _, ctx := s.fresh(t)
	c := loadCorpus(t)
	seedCorpus(t, ctx, st, c)
	for _, q := range c.Keyword {
		t.Run(q.Name, func(t *testing.T) {
			bot := q.Bot
			if bot == "" {
				bot = "shop"
			}
			k := q.K
			if k == 0 {
				k = 10
			}
			hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: bot, Language: q.Language, Text: q.Text, K: k})
			must(t, err, "SearchKeyword")
			checkHits(t, hits, q.Want, nil)
		})
	}
	t.Run("hit carries article title and url", func(t *testing.T) {
		hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Language: "en", Text: "refund", K: 1})
		must(t, err, "SearchKeyword")
		if len(hits) != 1 || hits[0].Title != "Refunds explained" || hits[0].URL != "https://help.example/refund-triple" ||
			!reflect.DeepEqual(hits[0].HeadingPath, []string{"Refunds"}) || hits[0].Language != "en" || hits[0].BotID != "shop" {
			t.Fatalf("hit = %+v", hits)
		}
	})
	t.Run("no bot", func(t *testing.T) {
		_, err := st.SearchKeyword(ctx, baton.ChunkQuery{Text: "refund", K: 3})
		wantCode(t, err, baton.EINVALID, "SearchKeyword without bot")
	})
}

func (s *suite) testSearchVector(t *testing.T) {
	st, _, ctx := s.fresh(t)
	c := loadCorpus(t)
	seedCorpus(t, ctx, st, c)
	for _, q := range c.Vector {
		t.Run(q.Name, func(t *testing.T) {
			bot := q.Bot
			if bot == "" {
				bot = "shop"
			}
			k := q.K
			if k == 0 {
				k = 10
			}
			hits, err := st.SearchVector(ctx, baton.ChunkQuery{BotID: bot, Language: q.Language, Embedding: q.Embedding, Model: q.Model, K: k})
			must(t, err, "SearchVector")
			checkHits(t, hits, q.Want, q.Scores)
		})
	}
	t.Run("invalid", func(t *testing.T) {
		for name, q := range map[string]baton.ChunkQuery{
			"no embedding": {BotID: "shop", Model: "hash-4", K: 3},
			"no model":     {BotID: "shop", Embedding: []float32{1, 0, 0, 0}, K: 3},
			"zero vector":  {BotID: "shop", Model: "hash-4", Embedding: []float32{0, 0, 0, 0}, K: 3},
			"no bot":       {Model: "hash-4", Embedding: []float32{1, 0, 0, 0}, K: 3},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := st.SearchVector(ctx, q)
				wantCode(t, err, baton.EINVALID, "SearchVector")
			})
		}
	})
}

func checkHits(t *testing.T, hits []baton.ChunkHit, want []string, scores []float64) {
	t.Helper()
	var got []string
	for _, h := range hits {
		got = append(got, h.Slug)
	}
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Fatalf("slugs = %v, want %v", got, want)
	}
	for i, h := range hits {
		if h.Rank != i+1 {
			t.Errorf("hit %d rank = %d, want %d", i, h.Rank, i+1)
		}
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("hit %d score %v above hit %d score %v", i, h.Score, i-1, hits[i-1].Score)
		}
		if h.ID == 0 || h.ArticleID == 0 || h.Text == "" {
			t.Errorf("hit %d incomplete: %+v", i, h)
		}
		if h.Embedding != nil {
			t.Errorf("hit %d (%s) carries its embedding (%d values); hits leave it out", i, h.Slug, len(h.Embedding))
		}
		if scores != nil && math.Abs(h.Score-scores[i]) > 1e-5 {
			t.Errorf("hit %d (%s) score = %v, want cosine %v", i, h.Slug, h.Score, scores[i])
		}
	}
}
