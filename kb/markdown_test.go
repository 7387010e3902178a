package kb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func TestParseDocumentRejectsBadFiles(t *testing.T) {
	tests := []struct {
		file string
		line int
		want string
	}{
		{"unclosed-front-matter.md", 1, "front matter is not closed"},
		{"no-front-matter.md", 1, "front matter missing"},
		{"invalid-yaml.md", 3, "invalid front matter"},
		{"unknown-key.md", 6, `unknown front matter key "colour"`},
		{"empty-body.md", 6, "empty body"},
		{"unknown-language.md", 4, `unknown language "xx"`},
		{"bad-slug.md", 3, `bad slug "Bad_Slug"`},
		{"bad-status.md", 5, `unknown status "live"`},
		{"missing-slug.md", 1, "slug is required"},
		{"bad-url.md", 6, `bad url "help/page"`},
		{"tags-scalar.md", 6, "tags must be a list"},
		{"open-fence.md", 9, "code block opened with ``` is never closed"},
		{"self-translation.md", 6, "translation_of names the article itself"},
		{"duplicate-key.md", 4, `key "slug" given twice (first on line 3)`},
		{"bad-utf8.md", 2, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "bad", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			d, err := ParseDocument(tc.file, data)
			if err == nil {
				t.Fatalf("parsed %+v, want an error", d)
			}
			var fe FileErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error %v is not FileErrors", err)
			}
			found := false
			for _, e := range fe {
				if e.File != tc.file {
					t.Errorf("error names file %q, want %q", e.File, tc.file)
				}
				if e.Line == tc.line && strings.Contains(e.Msg, tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %q: none at line %d containing %q", fe.Error(), tc.line, tc.want)
			}
		})
	}
}

func TestParseDocumentGood(t *testing.T) {
	data, err := os.ReadFile("testdata/kb/tr/delivery-times-tr.md")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDocument("tr/delivery-times-tr.md", data)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"title", d.Title, "Teslimat ne kadar sürer?"},
		{"slug", d.Slug, "delivery-times-tr"},
		{"language", d.Language, "tr"},
		{"status", string(d.Status), "published"},
		{"queue", d.Queue, "shipping"},
		{"url", d.URL, "https://help.stridesports.example/delivery-times?lang=tr"},
		{"translation_of", d.TranslationOf, "delivery-times"},
		{"tags", strings.Join(d.Tags, ","), "shipping,delivery"},
		{"body start", strings.SplitN(d.Body, "\n", 2)[0], "Siparişlerin çoğu 2 ile 4 iş günü içinde teslim edilir."},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	if d.BodyLine != 11 {
		t.Errorf("body line %d, want 11", d.BodyLine)
	}
}

func TestHashIgnoresStatusAndLineEnds(t *testing.T) {
	base := "---\ntitle: T\nslug: s\nlanguage: en\nstatus: published\n---\nBody line.\n"
	tests := []struct {
		name  string
		other string
		same  bool
	}{
		{"status only", strings.Replace(base, "published", "draft", 1), true},
		{"CRLF line ends", strings.ReplaceAll(base, "\n", "\r\n"), true},
		{"trailing blank lines", base + "\n\n", true},
		{"body changed", strings.Replace(base, "Body line.", "Body line!", 1), false},
		{"title changed", strings.Replace(base, "title: T", "title: U", 1), false},
		{"tag added", strings.Replace(base, "status:", "tags: [a]\nstatus:", 1), false},
	}
	a, err := ParseDocument("a.md", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseDocument("b.md", []byte(tc.other))
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Hash() == b.Hash(); got != tc.same {
				t.Errorf("same hash = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestParseDirReportsDuplicatesAndBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, slug string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		body := "---\ntitle: X\nslug: " + slug + "\nlanguage: en\nstatus: published\n---\nText.\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.md", "same")
	write("sub/b.md", "same")
	write("c.md", "unique")
	write(".hidden/d.md", "hidden")
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not an article"), 0o644)
	os.WriteFile(filepath.Join(dir, "e.md"), []byte("no front matter"), 0o644)

	docs, errs, err := ParseDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Slug != "unique" {
		t.Fatalf("docs %v, want only the unique one", docs)
	}
	want := []string{
		`a.md:3: duplicate slug "same": also used by sub/b.md`,
		`e.md:1: front matter missing`,
		`sub/b.md:3: duplicate slug "same": also used by a.md`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors:\n%v\nwant %d", errs, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i].Error(), w)
		}
	}
}

func TestRenderRoundTrip(t *testing.T) {
	docs, errs, err := ParseDir("testdata/kb")
	if err != nil || len(errs) > 0 {
		t.Fatalf("fixtures: %v %v", err, errs)
	}
	if len(docs) != 4 {
		t.Fatalf("%d fixture docs, want 4", len(docs))
	}
	for _, d := range docs {
		t.Run(d.Slug, func(t *testing.T) {
			// Through the stored article and back, as export does.
			a := d.Article("bot", "test")
			out, err := Render(DocumentFromArticle(a))
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseDocument("x.md", out)
			if err != nil {
				t.Fatalf("re-parse: %v\n%s", err, out)
			}
			if back.Hash() != d.Hash() || back.Status != d.Status {
				t.Errorf("round trip changed the article:\n%s", out)
			}
			if back.TranslationOf != d.TranslationOf {
				t.Errorf("translation_of %q, want %q", back.TranslationOf, d.TranslationOf)
			}
		})
	}
}

func TestValidLanguage(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{{"en", true}, {"tr", true}, {"ru", true}, {"EN", false}, {"eng", false}, {"xx", false}, {"", false}} {
		t.Run(tc.code, func(t *testing.T) {
			if err := ValidLanguage(tc.code); (err == nil) != tc.ok {
				t.Errorf("ValidLanguage(%q) = %v, want ok=%v", tc.code, err, tc.ok)
			}
		})
	}
}

func TestDocumentValidate(t *testing.T) {
	good := func() *Document {
		return &Document{Title: " Delivery ", Slug: "delivery", Language: "en", Status: baton.ArticlePublished, Body: "\r\n\r\nText.\r\nMore.  \r\n\r\n"}
	}
	tests := []struct {
		name   string
		change func(d *Document)
		want   string // "" = valid
	}{
		{"valid", func(d *Document) {}, ""},
		{"bad slug", func(d *Document) { d.Slug = "Delivery Times" }, `bad slug "Delivery Times"`},
		{"unknown language", func(d *Document) { d.Language = "english" }, `unknown language "english"`},
		{"empty body", func(d *Document) { d.Body = " \n\n" }, "empty body"},
		{"open code block", func(d *Document) { d.Body = "Intro\n\n```\ncode\n" }, "never closed"},
		{"no status", func(d *Document) { d.Status = "" }, "status is empty"},
		{"bad url", func(d *Document) { d.URL = "ftp://x" }, "bad url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good()
			tc.change(d)
			err := d.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.Body != "Text.\nMore.\n" || d.Title != "Delivery" {
					t.Errorf("not canonical: title %q body %q", d.Title, d.Body)
				}
				return
			}
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want EINVALID with %q", err, tc.want)
			}
		})
	}
}
