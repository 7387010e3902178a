package kb

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Any bytes give a document or an error, never a panic; a document always
// chunks, and every chunk is valid UTF-8 starting with the title.
func FuzzParseAndChunk(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\ntitle: T\nslug: s\nlanguage: en\nstatus: published\n---\n# T\n## A\n### B\ntext\n## C\n```\ncode\n```\n| a | b |\n|---|---|\n| 1 | 2 |\n"))
	f.Add([]byte("---\ntitle: T\nslug: s\nlanguage: en\nstatus: draft\n---\n" + strings.Repeat("word ", 20000)))
	f.Add([]byte("---\ntitle: [a\n---\nx"))
	f.Add([]byte("---\ntitle: T\nslug: s\nlanguage: en\nstatus: published\n---\n~~~~\n```\n~~~~\n\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument("f.md", data)
		if err != nil {
			return
		}
		a := d.Article("bot", "fuzz")
		chunks, err := Chunk(a, ChunkOptions{Target: 200, Overlap: 50})
		if err != nil {
			t.Fatalf("a parsed document does not chunk: %v", err)
		}
		for _, c := range chunks {
			if !utf8.ValidString(c.Text) || !strings.HasPrefix(c.Text, a.Title) {
				t.Fatalf("bad chunk %q", c.Text)
			}
		}
		out, err := Render(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseDocument("r.md", out)
		if err != nil || back.Hash() != d.Hash() {
			t.Fatalf("render round trip: %v\n%s", err, out)
		}
	})
}
