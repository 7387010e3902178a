package kb

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func TestClusterGaps(t *testing.T) {
	qs := []struct{ q, reason string }{
		{"do you ship to Canada?", baton.GapUnanswered},
		{"can I pay with bitcoin", baton.GapEscalated},
		{"do you ship to canada", baton.GapUnanswered},
		{"shipping to Canada possible?", baton.GapEscalated},
		{"is bitcoin payment accepted", baton.GapUnanswered},
		{"Do you deliver to Canada", baton.GapUnanswered},
		{"where is your store in Paris", baton.GapUnanswered},
	}
	var gaps []*baton.Gap
	for _, q := range qs {
		gaps = append(gaps, &baton.Gap{Question: q.q, Reason: q.reason, Language: "en"})
	}
	cs, err := ClusterGaps(context.Background(), embedder(t), gaps, GapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		for _, c := range cs {
			t.Logf("%+v", c)
		}
		t.Fatalf("%d clusters, want 3", len(cs))
	}
	tests := []struct {
		size, escalated int
		term            string
	}{{4, 1, "canada"}, {2, 1, "bitcoin"}, {1, 0, "paris"}}
	for i, tc := range tests {
		t.Run(tc.term, func(t *testing.T) {
			c := cs[i]
			if c.Size != tc.size || c.Escalated != tc.escalated || !slices.Contains(c.Terms, tc.term) {
				t.Errorf("cluster %d = %+v, want size %d, %d escalated, term %q", i, c, tc.size, tc.escalated, tc.term)
			}
			if len(c.Examples) == 0 || len(c.Examples) > 3 {
				t.Errorf("%d examples", len(c.Examples))
			}
		})
	}
	// Case-only duplicates are shown once.
	for _, e := range cs[0].Examples[1:] {
		if strings.EqualFold(e, cs[0].Examples[0]) {
			t.Errorf("duplicate example %q", e)
		}
	}
	var buf bytes.Buffer
	WriteGaps(&buf, len(gaps), cs, 2)
	if !strings.Contains(buf.String(), "7 unanswered questions in 3 clusters") || strings.Contains(buf.String(), "3. ") {
		t.Errorf("output:\n%s", buf.String())
	}
}

func TestDraftFromReply(t *testing.T) {
	ctx := context.Background()
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			tests := []struct {
				name, q, reply, lang, slug string
				code                       string
			}{
				{"first", "Do you ship to Canada?", "Yes, in 7 to 12 working days.", "en", "draft-do-you-ship-to-canada", ""},
				{"same question again gets a new slug", "Do you ship to Canada?!", "Yes.", "en", "draft-do-you-ship-to-canada-2", ""},
				{"non-latin question", "Доставка в Канаду?", "Да.", "ru", "draft", ""},
				{"empty reply", "Q?", " ", "en", "", baton.EINVALID},
				{"bad language", "Q?", "A.", "xx", "", baton.EINVALID},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					a, err := DraftFromReply(ctx, ts.store, ts.bot, tc.q, tc.reply, tc.lang, "agent:7")
					if tc.code != "" {
						if baton.ErrorCode(err) != tc.code {
							t.Errorf("error %v, want %s", err, tc.code)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					got, err := ts.store.GetArticle(ctx, ts.bot, tc.slug, 0)
					if err != nil {
						t.Fatalf("slug %s: %v (made %s)", tc.slug, err, a.Slug)
					}
					if got.Status != baton.ArticleDraft || got.Author != "agent:7" || !strings.Contains(got.Body, strings.TrimSpace(tc.reply)) {
						t.Errorf("article %+v", got)
					}
					if published(t, ts.store, ts.bot, tc.slug) != 0 {
						t.Error("draft is published")
					}
				})
			}
		})
	}
}
