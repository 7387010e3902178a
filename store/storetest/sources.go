package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testArticleSources(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	list := func(t *testing.T, bot string) []baton.ArticleSource {
		t.Helper()
		srcs, err := st.ListArticleSources(ctx, bot)
		must(t, err, "ListArticleSources")
		out := []baton.ArticleSource{}
		for _, src := range srcs {
			out = append(out, *src)
		}
		return out
	}
	t0 := clock.Now()
	for _, src := range []*baton.ArticleSource{
		{BotID: "shop", Slug: "returns", File: "returns.md", Hash: "h1"},
		{BotID: "shop", Slug: "delivery", File: "shipping/delivery.md", Hash: "h2"},
		{BotID: "acme", Slug: "returns", File: "returns.md", Hash: "h3"},
	} {
		must(t, st.SetArticleSource(ctx, src), "SetArticleSource")
		if !src.ImportedAt.Equal(t0) {
			t.Fatalf("%s ImportedAt = %v, want the store's now %v", src.Slug, src.ImportedAt, t0)
		}
	}
	t.Run("ordered by slug, one bot", func(t *testing.T) {
		want := []baton.ArticleSource{
			{BotID: "shop", Slug: "delivery", File: "shipping/delivery.md", Hash: "h2", ImportedAt: t0},
			{BotID: "shop", Slug: "returns", File: "returns.md", Hash: "h1", ImportedAt: t0},
		}
		if got := list(t, "shop"); !reflect.DeepEqual(got, want) {
			t.Fatalf("sources = %+v, want %+v", got, want)
		}
	})
	t.Run("set replaces", func(t *testing.T) {
		clock.Advance(time.Hour)
		must(t, st.SetArticleSource(ctx, &baton.ArticleSource{BotID: "shop", Slug: "returns", File: "policies/returns.md", Hash: "h9"}), "SetArticleSource")
		got := list(t, "shop")
		want := baton.ArticleSource{BotID: "shop", Slug: "returns", File: "policies/returns.md", Hash: "h9", ImportedAt: t0.Add(time.Hour)}
		if len(got) != 2 || !reflect.DeepEqual(got[1], want) {
			t.Fatalf("sources = %+v, want the second to be %+v", got, want)
		}
	})
	t.Run("delete", func(t *testing.T) {
		must(t, st.DeleteArticleSource(ctx, "shop", "delivery"), "DeleteArticleSource")
		must(t, st.DeleteArticleSource(ctx, "shop", "never-imported"), "DeleteArticleSource of an unknown slug")
		if got := list(t, "shop"); len(got) != 1 || got[0].Slug != "returns" {
			t.Fatalf("sources after delete = %+v, want returns only", got)
		}
		if got := list(t, "acme"); len(got) != 1 || got[0].Hash != "h3" {
			t.Fatalf("other bot's sources = %+v, want untouched", got)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for name, src := range map[string]*baton.ArticleSource{
			"no bot":  {Slug: "x", Hash: "h"},
			"no slug": {BotID: "shop", Hash: "h"},
			"no hash": {BotID: "shop", Slug: "x"},
		} {
			t.Run(name, func(t *testing.T) {
				wantCode(t, st.SetArticleSource(ctx, src), baton.EINVALID, "SetArticleSource")
			})
		}
		if got := list(t, "shop"); len(got) != 1 {
			t.Fatalf("an invalid source changed the list: %+v", got)
		}
	})
	t.Run("inside a transaction", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			must(t, tx.SetArticleSource(ctx, &baton.ArticleSource{BotID: "shop", Slug: "rolled-back", Hash: "h"}), "SetArticleSource")
			return baton.Errorf(baton.ECONFLICT, "roll back")
		})
		wantCode(t, err, baton.ECONFLICT, "Tx")
		if got := list(t, "shop"); len(got) != 1 {
			t.Fatalf("a rolled-back source stayed: %+v", got)
		}
	})
}
