package kb

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/batonhq/baton"
)

// RunSearch prints the ranked passages for a question with their keyword,
// vector and fused scores: how an author checks that a new article is found.
func RunSearch(ctx context.Context, r *Retriever, q Query, w io.Writer) error {
	res, err := r.Search(ctx, q)
	if err != nil {
		return err
	}
	var b strings.Builder
	if len(res) == 0 {
		b.WriteString("no passage found")
		// An empty KB is the usual reason on a fresh installation.
		if arts, err := r.Store.ListArticles(ctx, baton.ArticleFilter{BotID: q.BotID, Published: true, Limit: 1}); err == nil && len(arts) == 0 {
			fmt.Fprintf(&b, ": bot %s has no published article yet (import some first)", q.BotID)
		}
		b.WriteString("\n")
	}
	if len(res) > 0 && q.Language != "" && res[0].Language != q.Language {
		fmt.Fprintf(&b, "nothing found in %q; passages in the fallback language %q:\n", q.Language, res[0].Language)
	}
	for i, x := range res {
		kw, vec := "-", "-"
		if x.KeywordRank > 0 {
			kw = fmt.Sprintf("%.3f (#%d)", x.Keyword, x.KeywordRank)
		}
		if x.VectorRank > 0 {
			vec = fmt.Sprintf("%.3f (#%d)", x.Vector, x.VectorRank)
		}
		path := x.Title
		if len(x.Chunk.HeadingPath) > 0 {
			path += breadcrumbSep + strings.Join(x.Chunk.HeadingPath, breadcrumbSep)
		}
		// The passage's own language: x.Language is the language searched,
		// empty when the search was not limited to one.
		fmt.Fprintf(&b, "%d. [%s] %s  (%s)\n   fused %.4f  keyword %s  vector %s\n", i+1, x.Chunk.Slug, path, x.Chunk.Language, x.Fused, kw, vec)
		for _, l := range strings.Split(clip(strings.Join(strings.Fields(Passage(x.Chunk)), " "), 300), "\n") {
			fmt.Fprintf(&b, "   %s\n", l)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}
