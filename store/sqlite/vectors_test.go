package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/batonhq/baton"
)

// TestVectorCacheFollowsChanges checks that in-memory vectors never serve
// stale results: after chunk replacement, (un)publishing, a write by another
// process on the same file, and a rolled-back transaction.
func TestVectorCacheFollowsChanges(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "baton.db")
	a, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	q := baton.ChunkQuery{BotID: "shop", Model: "m", Embedding: []float32{1, 0}, K: 10}
	slugs := func(t *testing.T, st *Store) []string {
		t.Helper()
		hits, err := st.SearchVector(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.Slug+":"+h.Text)
		}
		return out
	}
	art := func(st *Store, slug string, v []float32, text string) *baton.Article {
		t.Helper()
		ar := &baton.Article{BotID: "shop", Slug: slug, Language: "en", Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, ar); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceChunks(ctx, ar.ID, []baton.Chunk{{Text: text, Model: "m", Embedding: v}}); err != nil {
			t.Fatal(err)
		}
		return ar
	}
	want := func(t *testing.T, st *Store, w ...string) {
		t.Helper()
		if got := slugs(t, st); !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
			t.Fatalf("hits = %v, want %v", got, w)
		}
	}

	x := art(a, "x", []float32{1, 0}, "x1")
	want(t, a, "x:x1")

	if err := a.ReplaceChunks(ctx, x.ID, []baton.Chunk{{Text: "x2", Model: "m", Embedding: []float32{0, 1}}}); err != nil {
		t.Fatal(err)
	}
	want(t, a, "x:x2")

	art(b, "y", []float32{1, 0.1}, "y1") // another process writes
	want(t, a, "y:y1", "x:x2")

	if err := b.PublishArticle(ctx, "shop", "y", 0); err != nil {
		t.Fatal(err)
	}
	want(t, a, "x:x2")

	boom := errors.New("boom")
	err = a.Tx(ctx, func(tx baton.Store) error {
		z := &baton.Article{BotID: "shop", Slug: "z", Status: baton.ArticlePublished}
		if err := tx.CreateArticleVersion(ctx, z); err != nil {
			return err
		}
		if err := tx.ReplaceChunks(ctx, z.ID, []baton.Chunk{{Text: "z1", Model: "m", Embedding: []float32{1, 0}}}); err != nil {
			return err
		}
		hits, err := tx.SearchVector(ctx, q)
		if err != nil {
			return err
		}
		if len(hits) != 2 || hits[0].Slug != "z" {
			t.Errorf("inside the transaction: hits = %+v, want z first", hits)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	want(t, a, "x:x2")
	want(t, b, "x:x2")
}
