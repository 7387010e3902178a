package kb

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb/hashembed"
)

// GapCluster is a group of similar unanswered questions.
type GapCluster struct {
	Size      int      `json:"size"`
	Terms     []string `json:"terms"`    // the most frequent content words
	Examples  []string `json:"examples"` // the questions closest to the centre
	Languages []string `json:"languages"`
	Escalated int      `json:"escalated"` // how many ended with a human
}

// GapOptions tune ClusterGaps.
type GapOptions struct {
	// Similarity is the cosine a question needs with a cluster's centre to
	// join it (0 = 0.35): unrelated questions score near 0, paraphrases 0.4 and up.
	Similarity float64
	Examples   int // per cluster (0 = 3)
}

// ClusterGaps groups questions by meaning (single pass: each question
// joins the most similar cluster centre above the threshold, else starts a
// new cluster) and ranks the clusters by volume. The order of gaps decides
// ties, so the same input always gives the same clusters.
func ClusterGaps(ctx context.Context, emb baton.Embedder, gaps []*baton.Gap, opt GapOptions) ([]GapCluster, error) {
	if opt.Similarity <= 0 {
		opt.Similarity = 0.35
	}
	if opt.Examples <= 0 {
		opt.Examples = 3
	}
	if len(gaps) == 0 {
		return nil, nil
	}
	texts := make([]string, len(gaps))
	for i, g := range gaps {
		texts[i] = g.Question
	}
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("gaps: embedding questions: %w", err)
	}
	type cluster struct {
		sum     []float64
		members []int
	}
	var cs []*cluster
	centre := func(c *cluster) []float64 {
		var n float64
		for _, x := range c.sum {
			n += x * x
		}
		n = math.Sqrt(n)
		out := make([]float64, len(c.sum))
		if n == 0 {
			return out
		}
		for i, x := range c.sum {
			out[i] = x / n
		}
		return out
	}
	dot := func(a []float64, b []float32) float64 {
		var d float64
		for i := range a {
			d += a[i] * float64(b[i])
		}
		return d
	}
	for i, v := range vecs {
		best, bestSim := -1, opt.Similarity
		for j, c := range cs {
			if s := dot(centre(c), v); s >= bestSim {
				best, bestSim = j, s
			}
		}
		if best < 0 {
			cs = append(cs, &cluster{sum: make([]float64, len(v))})
			best = len(cs) - 1
		}
		c := cs[best]
		for k, x := range v {
			c.sum[k] += float64(x)
		}
		c.members = append(c.members, i)
	}
	tm := newTerms()
	out := make([]GapCluster, 0, len(cs))
	for _, c := range cs {
		ctr := centre(c)
		gc := GapCluster{Size: len(c.members)}
		members := append([]int(nil), c.members...)
		sort.SliceStable(members, func(a, b int) bool { return dot(ctr, vecs[members[a]]) > dot(ctr, vecs[members[b]]) })
		seenQ := map[string]bool{}
		for _, m := range members {
			q := strings.TrimSpace(gaps[m].Question)
			key := strings.Join(hashembed.Tokens(q), " ")
			if len(gc.Examples) < opt.Examples && !seenQ[key] {
				seenQ[key] = true
				gc.Examples = append(gc.Examples, q)
			}
		}
		freq := map[string]int{}
		langs := map[string]bool{}
		for _, m := range c.members {
			for _, w := range tm.of(gaps[m].Question) {
				freq[w]++
			}
			if l := gaps[m].Language; l != "" && !langs[l] {
				langs[l] = true
				gc.Languages = append(gc.Languages, l)
			}
			if gaps[m].Reason == baton.GapEscalated {
				gc.Escalated++
			}
		}
		words := make([]string, 0, len(freq))
		for w := range freq {
			words = append(words, w)
		}
		sort.Slice(words, func(a, b int) bool {
			if freq[words[a]] != freq[words[b]] {
				return freq[words[a]] > freq[words[b]]
			}
			return words[a] < words[b]
		})
		gc.Terms = words[:min(5, len(words))]
		sort.Strings(gc.Languages)
		out = append(out, gc)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Size > out[b].Size })
	return out, nil
}

// RunGaps lists the bot's gaps since a time, clusters them and prints the
// clusters by volume.
func RunGaps(ctx context.Context, gs baton.GapStore, emb baton.Embedder, botID string, since time.Time, top int, w io.Writer) error {
	gaps, err := gs.ListGaps(ctx, botID, since, 0)
	if err != nil {
		return fmt.Errorf("gaps: listing: %w", err)
	}
	cs, err := ClusterGaps(ctx, emb, gaps, GapOptions{})
	if err != nil {
		return err
	}
	return WriteGaps(w, len(gaps), cs, top)
}

// WriteGaps prints clusters (at most top; 0 = all).
func WriteGaps(w io.Writer, total int, cs []GapCluster, top int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d unanswered questions in %d clusters\n", total, len(cs))
	for i, c := range cs {
		if top > 0 && i >= top {
			break
		}
		fmt.Fprintf(&b, "\n%d. %d questions (%d escalated) [%s] — %s\n", i+1, c.Size, c.Escalated, strings.Join(c.Languages, ","), strings.Join(c.Terms, ", "))
		for _, e := range c.Examples {
			fmt.Fprintf(&b, "   - %s\n", clip(e, 120))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DraftFromReply saves an agent's reply that resolved a gap as a draft
// article, for an author to review and publish.
func DraftFromReply(ctx context.Context, store baton.ArticleStore, botID, question, reply, language, author string) (*baton.Article, error) {
	question, reply = strings.TrimSpace(question), strings.TrimSpace(reply)
	if question == "" || reply == "" {
		return nil, baton.Errorf(baton.EINVALID, "draft article: the question and the reply must not be empty")
	}
	if err := ValidLanguage(language); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "draft article: %w", err)
	}
	slug := draftSlug(question)
	for n := 2; ; n++ {
		_, err := store.GetArticle(ctx, botID, slug, 0)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			break
		}
		if err != nil {
			return nil, err
		}
		slug = fmt.Sprintf("%s-%d", draftSlug(question), n)
	}
	d := &Document{Title: clip(strings.Join(strings.Fields(question), " "), 199), Slug: slug, Language: language,
		Status: baton.ArticleDraft, Body: reply}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("draft article: %w", err)
	}
	a := d.Article(botID, author)
	if err := store.CreateArticleVersion(ctx, a); err != nil {
		return nil, fmt.Errorf("draft article: %w", err)
	}
	return a, nil
}

// draftSlug makes a slug from the first words of a question (ASCII letters
// and digits; other scripts fall back to "draft").
func draftSlug(q string) string {
	var parts []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		w = strings.Trim(nonSlug.ReplaceAllString(w, "-"), "-")
		if w != "" {
			parts = append(parts, w)
		}
		if len(parts) == 6 {
			break
		}
	}
	s := strings.Join(parts, "-")
	if len(s) > 60 {
		s = strings.Trim(s[:60], "-")
	}
	if s == "" {
		return "draft"
	}
	return "draft-" + s
}
