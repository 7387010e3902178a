package kb

import (
	"context"
	"fmt"
	"io"
	"strings"
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
		b.WriteString("no passage found\n")
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
		fmt.Fprintf(&b, "%d. [%s] %s  (%s)\n   fused %.4f  keyword %s  vector %s\n", i+1, x.Chunk.Slug, path, x.Language, x.Fused, kw, vec)
		for _, l := range strings.Split(clip(strings.Join(strings.Fields(Passage(x.Chunk)), " "), 300), "\n") {
			fmt.Fprintf(&b, "   %s\n", l)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}
