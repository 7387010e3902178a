package kb

import (
	"context"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb/hashembed"
)

func TestManagerVersions(t *testing.T) {
	ctx := context.Background()
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			m := &Manager{Store: ts.store, Embedder: embedder(t)}
			d := mustDoc(t, "testdata/kb/en/return-policy.md")
			steps := []struct {
				name      string
				do        func() (SaveResult, error)
				change    Change
				published int // version published after the step (0 = none)
				versions  int
				find      string // text a search must find in the published version ("" = nothing published)
			}{
				{"create", func() (SaveResult, error) { return m.Save(ctx, ts.bot, d, "ann") }, Created, 1, 1, "5 to 7 working days"},
				{"edit", func() (SaveResult, error) {
					e := *d
					e.Body = strings.Replace(d.Body, "5 to 7 working days", "10 working days", 1)
					return m.Save(ctx, ts.bot, &e, "bob")
				}, Updated, 2, 2, "10 working days"},
				{"publish the old version", func() (SaveResult, error) { return m.Publish(ctx, ts.bot, d.Slug, 1) }, Published, 1, 2, "5 to 7 working days"},
				{"publish it again", func() (SaveResult, error) { return m.Publish(ctx, ts.bot, d.Slug, 1) }, Unchanged, 1, 2, "5 to 7 working days"},
				{"unpublish", func() (SaveResult, error) { return m.Publish(ctx, ts.bot, d.Slug, 0) }, Unpublished, 0, 2, ""},
				{"restore version 1 as a new published version", func() (SaveResult, error) { return m.Restore(ctx, ts.bot, d.Slug, 1, "cem", true) }, Updated, 3, 3, "5 to 7 working days"},
				{"restoring the newest version only publishes it", func() (SaveResult, error) { return m.Restore(ctx, ts.bot, d.Slug, 3, "dan", true) }, Unchanged, 3, 3, "5 to 7 working days"},
			}
			r := &Retriever{Store: ts.store, Embedder: m.Embedder}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					res, err := st.do()
					if err != nil {
						t.Fatal(err)
					}
					if res.Change != st.change {
						t.Errorf("change %q, want %q", res.Change, st.change)
					}
					if v := published(t, ts.store, ts.bot, d.Slug); v != st.published {
						t.Errorf("published version %d, want %d", v, st.published)
					}
					vs, _ := ts.store.ListArticleVersions(ctx, ts.bot, d.Slug)
					if len(vs) != st.versions {
						t.Errorf("%d versions, want %d", len(vs), st.versions)
					}
					hits, err := r.Search(ctx, Query{BotID: ts.bot, Text: "refund card working days", Language: "en", Limit: 10})
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for _, h := range hits {
						found = found || strings.Contains(h.Chunk.Text, st.find) && st.find != ""
						if h.Chunk.ArticleID != 0 && st.published == 0 {
							t.Errorf("unpublished article found: %+v", h.Chunk.Slug)
						}
					}
					if st.find != "" && !found {
						t.Errorf("search does not find %q", st.find)
					}
				})
			}
			vs, _ := ts.store.ListArticleVersions(ctx, ts.bot, d.Slug)
			if len(vs) == 3 && (vs[0].Author != "ann" || vs[1].Author != "bob" || vs[2].Author != "cem") {
				t.Errorf("authors %s %s %s", vs[0].Author, vs[1].Author, vs[2].Author)
			}
			if _, err := m.Restore(ctx, ts.bot, d.Slug, 0, "x", true); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("restore version 0: %v", err)
			}
			if _, err := m.Publish(ctx, ts.bot, d.Slug, 9); baton.ErrorCode(err) != baton.ENOTFOUND {
				t.Errorf("publish unknown version: %v", err)
			}
		})
	}
}

func TestManagerReembed(t *testing.T) {
	ctx := context.Background()
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			old := importFixture(t, ts)
			next, err := hashembed.New(hashembed.Options{Dim: 256})
			if err != nil {
				t.Fatal(err)
			}
			q := Query{BotID: ts.bot, Text: "express delivery", Language: "en", Mode: ModeVector}
			before, err := (&Retriever{Store: ts.store, Embedder: next}).Search(ctx, q)
			if err != nil || len(before) != 0 {
				t.Fatalf("new model found %d chunks before re-embedding (%v): models must not mix", len(before), err)
			}
			var calls [][2]int
			m := &Manager{Store: ts.store, Embedder: next}
			rep, err := m.Reembed(ctx, ts.bot, func(done, total int) { calls = append(calls, [2]int{done, total}) })
			if err != nil {
				t.Fatal(err)
			}
			if rep.Articles != 3 || rep.Changed != 3 || rep.Embedded == 0 {
				t.Errorf("report %+v", rep)
			}
			if len(calls) != 3 || calls[2] != [2]int{3, 3} {
				t.Errorf("progress %v", calls)
			}
			after, err := (&Retriever{Store: ts.store, Embedder: next}).Search(ctx, q)
			if err != nil || len(after) == 0 || after[0].Chunk.Slug != "delivery-times" {
				t.Errorf("new model search: %v, %d hits", err, len(after))
			}
			gone, err := old.Search(ctx, q)
			if err != nil || len(gone) != 0 {
				t.Errorf("old model still finds %d chunks", len(gone))
			}
			again, err := m.Reembed(ctx, ts.bot, nil)
			if err != nil || again.Changed != 0 {
				t.Errorf("second re-embed changed %d (%v)", again.Changed, err)
			}
		})
	}
}
