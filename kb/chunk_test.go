package kb

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

func mustDoc(t *testing.T, path string) *Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDocument(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestChunkKeepsHeadingPaths(t *testing.T) {
	a := mustDoc(t, "testdata/kb/en/delivery-times.md").Article("bot", "t")
	chunks, err := Chunk(a, ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "Standard delivery", "Express delivery", "International delivery"}
	if len(chunks) != len(want) {
		t.Fatalf("%d chunks, want %d", len(chunks), len(want))
	}
	for i, c := range chunks {
		t.Run(want[i], func(t *testing.T) {
			if got := strings.Join(c.HeadingPath, "/"); got != want[i] {
				t.Errorf("heading path %q, want %q", got, want[i])
			}
			if c.Ord != i || c.Slug != "delivery-times" || c.Language != "en" || c.BotID != "bot" {
				t.Errorf("chunk fields %+v", c)
			}
			crumb := strings.Join(append([]string{a.Title}, c.HeadingPath...), breadcrumbSep)
			if !strings.HasPrefix(c.Text, crumb+"\n\n") {
				t.Errorf("text %q does not start with breadcrumb %q", c.Text, crumb)
			}
			if c.Hash != ChunkHash(c.Text) {
				t.Error("hash is not of the text")
			}
		})
	}
	if !strings.Contains(chunks[2].Text, "| Express  | next working day | 9.95    |") {
		t.Errorf("express chunk lost its table: %q", chunks[2].Text)
	}
}

// A long section with a code block and a table in the middle, chunked small:
// every chunk is within target unless it is a lone atomic block, and the code
// block and table each appear whole in exactly one chunk.
func TestChunkNeverSplitsCodeOrTables(t *testing.T) {
	var b strings.Builder
	b.WriteString("## Setup\n\n")
	for i := 0; i < 12; i++ {
		b.WriteString("This is sentence number one of a paragraph. It explains the next step in some detail. Then it ends.\n\n")
		if i == 4 {
			b.WriteString("```yaml\nkey: value\n\nother: value\n# not a heading\n| not | a table |\n```\n\n")
		}
		if i == 8 {
			b.WriteString("| Size | EU | UK |\n|---|---|---|\n| S | 38 | 5 |\n| M | 40 | 7 |\n| L | 42 | 8 |\n\n")
		}
	}
	a := &baton.Article{BotID: "b", Slug: "s", Language: "en", Title: "T", Body: b.String()}
	code := "```yaml\nkey: value\n\nother: value\n# not a heading\n| not | a table |\n```"
	table := "| Size | EU | UK |\n|---|---|---|\n| S | 38 | 5 |\n| M | 40 | 7 |\n| L | 42 | 8 |"
	for _, opt := range []ChunkOptions{{Target: 120, Overlap: 40}, {Target: 300, Overlap: 60}, {Target: 2000, Overlap: -1}} {
		chunks, err := Chunk(a, opt)
		if err != nil {
			t.Fatal(err)
		}
		codeIn, tableIn := 0, 0
		for _, c := range chunks {
			p := Passage(c)
			if strings.Contains(p, code) {
				codeIn++
			}
			if strings.Contains(p, table) {
				tableIn++
			}
			if strings.Contains(p, "```") && !strings.Contains(p, code) {
				t.Errorf("target %d: chunk has a piece of the code block: %q", opt.Target, p)
			}
			if strings.Contains(p, "| M | 40") && !strings.Contains(p, table) {
				t.Errorf("target %d: chunk has a piece of the table: %q", opt.Target, p)
			}
			if n := utf8.RuneCountInString(p); n > opt.Target && p != code && p != table {
				t.Errorf("target %d: chunk of %d chars: %q", opt.Target, n, p)
			}
			if strings.Join(c.HeadingPath, "/") != "Setup" {
				t.Errorf("heading path %v", c.HeadingPath)
			}
		}
		if codeIn != 1 || tableIn != 1 {
			t.Errorf("target %d: code block in %d chunks, table in %d; want 1 each", opt.Target, codeIn, tableIn)
		}
	}
}

func TestChunkOverlapCarriesTail(t *testing.T) {
	body := "## A\n\nFirst sentence is here. Second sentence is here.\n\nThird paragraph sentence. Fourth sentence closes it.\n"
	a := &baton.Article{Slug: "s", Title: "T", Body: body}
	tests := []struct {
		name    string
		opt     ChunkOptions
		wantTwo string // start of the second chunk's passage
	}{
		{"overlap", ChunkOptions{Target: 80, Overlap: 30}, "Second sentence is here.\n\nThird paragraph"},
		{"no overlap", ChunkOptions{Target: 80, Overlap: -1}, "Third paragraph"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chunks, err := Chunk(a, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(chunks) != 2 {
				t.Fatalf("%d chunks: %+v", len(chunks), chunks)
			}
			if p := Passage(chunks[1]); !strings.HasPrefix(p, tc.wantTwo) {
				t.Errorf("second chunk %q, want prefix %q", p, tc.wantTwo)
			}
		})
	}
}

func TestChunkHashChangesOnlyWithText(t *testing.T) {
	a := mustDoc(t, "testdata/kb/en/return-policy.md").Article("bot", "t")
	before, err := Chunk(a, ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Body = strings.Replace(a.Body, "5 to 7 working days", "3 to 5 working days", 1)
	after, err := Chunk(a, ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(after) {
		t.Fatalf("chunk count %d → %d", len(before), len(after))
	}
	changed := 0
	for i := range before {
		if before[i].Hash != after[i].Hash {
			changed++
			if strings.Join(after[i].HeadingPath, "/") != "Refund timing" {
				t.Errorf("chunk %v changed", after[i].HeadingPath)
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d chunks changed, want 1", changed)
	}
}

// TestChunkLeavesOutLinkLists: a "Related articles" list is navigation, not
// an answer; a paragraph that mentions a link is content.
func TestChunkLeavesOutLinkLists(t *testing.T) {
	body := "Orders leave the same day.\n\n## Related articles\n\n- Express options: https://help.example/express-delivery\n- Customs and duties: https://help.example/international-delivery\n- [Tracking](https://help.example/track-order)\n\n## Returns\n\nSend it back within 30 days; the form is at https://help.example/returns and takes a minute to fill in.\n"
	a := &baton.Article{BotID: "bot", Slug: "delivery", Language: "en", Title: "Delivery", Body: body}
	chunks, err := Chunk(a, ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range chunks {
		paths = append(paths, strings.Join(c.HeadingPath, "/"))
		if strings.Contains(c.Text, "express-delivery") {
			t.Errorf("a chunk keeps the link list: %q", c.Text)
		}
	}
	if strings.Join(paths, "|") != "|Returns" {
		t.Fatalf("chunks under %q, want the opening and Returns", paths)
	}
	tests := []struct {
		text string
		want bool
	}{
		{"- Express options: https://help.example/express", true},
		{"- [Tracking](https://help.example/track)\n- [Sizes](/sizes)", true},
		{"See https://help.example/returns for the form; it takes a minute and needs your order number and email address.", false},
		{"Plain text with no link.", false},
	}
	for _, tc := range tests {
		if got := isLinkList(tc.text); got != tc.want {
			t.Errorf("isLinkList(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
