package kb

import (
	"math"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func hit(slug string, ord int, score float64) baton.ChunkHit {
	return baton.ChunkHit{Chunk: baton.Chunk{Slug: slug, ArticleID: int64(len(slug)), Ord: ord}, Title: strings.ToUpper(slug), Score: score}
}

func slugsOf(rs []Result) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Chunk.Slug)
	}
	return strings.Join(s, ",")
}

func TestFuseReciprocalRank(t *testing.T) {
	tests := []struct {
		name     string
		kw, vec  []baton.ChunkHit
		distinct bool
		want     string
	}{
		{
			name: "both lists agree on the top",
			kw:   []baton.ChunkHit{hit("a", 0, 9), hit("b", 0, 5)},
			vec:  []baton.ChunkHit{hit("a", 0, .9), hit("c", 0, .5)},
			want: "a,c,b", // b and c tie at 1/62: c, found by meaning, goes first
		},
		{
			name: "found by both beats first of one",
			kw:   []baton.ChunkHit{hit("x", 0, 9), hit("y", 0, 8), hit("z", 0, 7)},
			vec:  []baton.ChunkHit{hit("w", 0, .9), hit("z", 0, .8), hit("y", 0, .7)},
			want: "z,y,w,x", // ties broken by cosine similarity
		},
		{
			name: "keyword only",
			kw:   []baton.ChunkHit{hit("p", 0, 3), hit("q", 0, 2)},
			want: "p,q",
		},
		{
			name:     "distinct keeps one passage per article",
			kw:       []baton.ChunkHit{hit("a", 0, 9), hit("a", 1, 8), hit("b", 0, 7)},
			vec:      []baton.ChunkHit{hit("a", 1, .9), hit("b", 0, .8)},
			distinct: true,
			want:     "a,b",
		},
		{
			name: "chunks of one article are separate without distinct",
			kw:   []baton.ChunkHit{hit("a", 0, 9), hit("a", 1, 8)},
			want: "a,a",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fuse(tc.kw, tc.vec, 60, "en", tc.distinct)
			if s := slugsOf(got); s != tc.want {
				t.Errorf("order %s, want %s", s, tc.want)
			}
			for _, r := range got {
				want := 0.0
				if r.KeywordRank > 0 {
					want += 1 / (60 + float64(r.KeywordRank))
				}
				if r.VectorRank > 0 {
					want += 1 / (60 + float64(r.VectorRank))
				}
				if math.Abs(r.Fused-want) > 1e-12 {
					t.Errorf("%s fused %f, want %f", r.Chunk.Slug, r.Fused, want)
				}
				if r.Language != "en" || r.Title != strings.ToUpper(r.Chunk.Slug) {
					t.Errorf("result fields %+v", r)
				}
			}
		})
	}
}

func TestFuseCarriesScores(t *testing.T) {
	got := fuse([]baton.ChunkHit{hit("a", 0, 7.5)}, []baton.ChunkHit{hit("b", 0, .25), hit("a", 0, .5)}, 60, "", false)
	if len(got) != 2 || got[0].Chunk.Slug != "a" {
		t.Fatalf("got %+v", got)
	}
	a := got[0]
	if a.Keyword != 7.5 || a.KeywordRank != 1 || a.Vector != .5 || a.VectorRank != 2 {
		t.Errorf("a scores %+v", a)
	}
	b := got[1]
	if b.Keyword != 0 || b.KeywordRank != 0 || b.Vector != .25 || b.VectorRank != 1 {
		t.Errorf("b scores %+v", b)
	}
}

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mode
		ok   bool
	}{{"", ModeHybrid, true}, {"hybrid", ModeHybrid, true}, {"keyword", ModeKeyword, true}, {"vector", ModeVector, true}, {"bm25", "", false}} {
		t.Run(tc.in, func(t *testing.T) {
			m, err := ParseMode(tc.in)
			if (err == nil) != tc.ok || m != tc.want {
				t.Errorf("ParseMode(%q) = %q, %v", tc.in, m, err)
			}
			if !tc.ok && baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("error code %q", baton.ErrorCode(err))
			}
		})
	}
}
