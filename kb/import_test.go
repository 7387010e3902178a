package kb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// versions returns the number of versions of every slug of the bot.
func versions(t *testing.T, s baton.ArticleStore, bot string) map[string]int {
	t.Helper()
	ctx := context.Background()
	arts, err := s.ListArticles(ctx, baton.ArticleFilter{BotID: bot})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range arts {
		vs, err := s.ListArticleVersions(ctx, bot, a.Slug)
		if err != nil {
			t.Fatal(err)
		}
		out[a.Slug] = len(vs)
	}
	return out
}

func published(t *testing.T, s baton.ArticleStore, bot, slug string) int {
	t.Helper()
	a, err := s.GetPublishedArticle(context.Background(), bot, slug)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return a.Version
}

func TestImportLifecycle(t *testing.T) {
	ctx := context.Background()
	emb := embedder(t)
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			s, bot := ts.store, ts.bot
			dir := copyDir(t, "testdata/kb")
			imp := func(opt ImportOptions) (ImportReport, error) {
				return Import(ctx, s, emb, bot, dir, opt)
			}

			t.Run("first import creates every article", func(t *testing.T) {
				rep, err := imp(ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"delivery-times", "return-policy", "delivery-times-tr", "gift-cards"}
				slices.Sort(want)
				got := slices.Sorted(slices.Values(rep.Created))
				if !slices.Equal(got, want) {
					t.Errorf("created %v, want %v", got, want)
				}
				if published(t, s, bot, "gift-cards") != 0 {
					t.Error("draft gift-cards is published")
				}
				if published(t, s, bot, "delivery-times") != 1 {
					t.Error("delivery-times v1 is not published")
				}
				a, _ := s.GetPublishedArticle(ctx, bot, "delivery-times")
				chunks, err := s.ListChunks(ctx, a.ID)
				if err != nil || len(chunks) != 4 {
					t.Fatalf("chunks %d, %v; want 4", len(chunks), err)
				}
				for _, c := range chunks {
					if c.Model != emb.Model() || len(c.Embedding) != emb.Dim() {
						t.Errorf("chunk %d: model %q dim %d", c.Ord, c.Model, len(c.Embedding))
					}
				}
				if rep.Embedded == 0 || rep.Reused != 0 {
					t.Errorf("embedded %d reused %d", rep.Embedded, rep.Reused)
				}
			})

			t.Run("unchanged files do nothing", func(t *testing.T) {
				before := versions(t, s, bot)
				rep, err := imp(ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Unchanged != 4 || len(rep.Created)+len(rep.Updated)+len(rep.Published)+len(rep.Unpublished) != 0 || rep.Embedded != 0 {
					t.Errorf("report %+v", rep)
				}
				if after := versions(t, s, bot); !mapsEqual(before, after) {
					t.Errorf("versions %v → %v", before, after)
				}
			})

			t.Run("one edited file makes exactly one new version", func(t *testing.T) {
				editFile(t, filepath.Join(dir, "en", "return-policy.md"), "5 to 7 working days", "3 to 5 working days")
				before := versions(t, s, bot)
				rep, err := imp(ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rep.Updated, []string{"return-policy"}) || rep.Unchanged != 3 || len(rep.Created) != 0 {
					t.Errorf("report %+v", rep)
				}
				after := versions(t, s, bot)
				for slug, n := range before {
					want := n
					if slug == "return-policy" {
						want = n + 1
					}
					if after[slug] != want {
						t.Errorf("%s: %d versions, want %d", slug, after[slug], want)
					}
				}
				if published(t, s, bot, "return-policy") != 2 {
					t.Error("return-policy v2 is not the published one")
				}
				// Only the edited section is embedded again.
				if rep.Embedded != 1 || rep.Reused < 2 {
					t.Errorf("embedded %d, reused %d; want 1 and the rest", rep.Embedded, rep.Reused)
				}
			})

			t.Run("bad files are reported and import nothing", func(t *testing.T) {
				bad := []struct{ name, data string }{
					{"en/bad-language.md", "---\ntitle: Bad\nslug: bad-language\nlanguage: xx\nstatus: published\n---\nText.\n"},
					{"en/dup.md", "---\ntitle: Dup\nslug: delivery-times\nlanguage: en\nstatus: published\n---\nOther text.\n"},
					{"tr/orphan-tr.md", "---\ntitle: Yetim\nslug: orphan-tr\nlanguage: tr\nstatus: published\ntranslation_of: no-such-article\n---\nMetin.\n"},
				}
				for _, b := range bad {
					os.WriteFile(filepath.Join(dir, b.name), []byte(b.data), 0o644)
				}
				before := versions(t, s, bot)
				rep, err := imp(ImportOptions{Prune: true})
				if baton.ErrorCode(err) != baton.EINVALID {
					t.Fatalf("error %v, want EINVALID", err)
				}
				wantErrs := []string{
					`en/bad-language.md:4: unknown language "xx"`,
					`en/delivery-times.md:3: duplicate slug "delivery-times": also used by en/dup.md`,
					`en/dup.md:3: duplicate slug "delivery-times": also used by en/delivery-times.md`,
					`tr/orphan-tr.md:6: translation_of "no-such-article": no article with that slug`,
				}
				if len(rep.Errors) != len(wantErrs) {
					t.Fatalf("errors:\n%v", rep.Errors)
				}
				for i, w := range wantErrs {
					if !strings.HasPrefix(rep.Errors[i].Error(), w) {
						t.Errorf("error %q, want %q", rep.Errors[i], w)
					}
				}
				if !rep.PruneSkipped || len(rep.Pruned) != 0 {
					t.Errorf("prune ran despite bad files: %+v", rep)
				}
				if after := versions(t, s, bot); !mapsEqual(before, after) {
					t.Errorf("versions %v → %v", before, after)
				}
				for _, b := range bad {
					os.Remove(filepath.Join(dir, b.name))
				}
			})

			t.Run("status change alone publishes the same version", func(t *testing.T) {
				editFile(t, filepath.Join(dir, "en", "draft-gift-cards.md"), "status: draft", "status: published")
				rep, err := imp(ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rep.Published, []string{"gift-cards"}) || len(rep.Updated) != 0 {
					t.Errorf("report %+v", rep)
				}
				if v := published(t, s, bot, "gift-cards"); v != 1 {
					t.Errorf("published version %d, want 1", v)
				}
			})

			t.Run("prune unpublishes articles whose file is gone", func(t *testing.T) {
				os.Remove(filepath.Join(dir, "en", "draft-gift-cards.md"))
				rep, err := imp(ImportOptions{Prune: true})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rep.Pruned, []string{"gift-cards"}) {
					t.Errorf("pruned %v", rep.Pruned)
				}
				if published(t, s, bot, "gift-cards") != 0 {
					t.Error("gift-cards still published")
				}
				if published(t, s, bot, "delivery-times") == 0 {
					t.Error("delivery-times was pruned")
				}
			})

			t.Run("export then import is a no-op", func(t *testing.T) {
				out := t.TempDir()
				if _, err := Export(ctx, s, bot, out); err != nil {
					t.Fatal(err)
				}
				before := versions(t, s, bot)
				rep, err := Import(ctx, s, emb, bot, out, ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Unchanged != len(before) || rep.Embedded != 0 {
					t.Errorf("report %+v, want %d unchanged", rep, len(before))
				}
				if after := versions(t, s, bot); !mapsEqual(before, after) {
					t.Errorf("versions %v → %v", before, after)
				}
				data, err := os.ReadFile(filepath.Join(out, "tr", "delivery-times-tr.md"))
				if err != nil || !bytes.Contains(data, []byte("translation_of: delivery-times\n")) {
					t.Errorf("exported translation lacks translation_of: %v\n%s", err, data)
				}
			})
		})
	}
}

// editFile replaces the first old in the file at p with new.
func editFile(t *testing.T, p, old, new string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte(old), []byte(new), 1)
	if bytes.Equal(edited, data) {
		t.Fatalf("%s has no %q to replace", p, old)
	}
	if err := os.WriteFile(p, edited, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestImportRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	emb := embedder(t)
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			tests := []struct {
				name, bot, dir string
			}{
				{"no bot", "", "testdata/kb"},
				{"missing directory", ts.bot, filepath.Join(t.TempDir(), "nope")},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					_, err := Import(ctx, ts.store, emb, tc.bot, tc.dir, ImportOptions{})
					if baton.ErrorCode(err) != baton.EINVALID {
						t.Errorf("error %v, want EINVALID", err)
					}
				})
			}
			arts, err := ts.store.ListArticles(ctx, baton.ArticleFilter{BotID: ts.bot})
			if err != nil || len(arts) != 0 {
				t.Errorf("store has %d articles, %v", len(arts), err)
			}
		})
	}
}

func TestRunImportAndExportPrintReports(t *testing.T) {
	ctx := context.Background()
	ts := stores(t)[0]
	dir := copyDir(t, "testdata/kb")
	os.WriteFile(filepath.Join(dir, "en", "bad.md"), []byte("---\ntitle: X\nslug: x\nlanguage: en\nstatus: published\n---\n"), 0o644)
	var out bytes.Buffer
	err := RunImport(ctx, ts.store, embedder(t), ts.bot, dir, ImportOptions{Prune: true}, &out)
	if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "en/bad.md:6: empty body") {
		t.Errorf("error %v, want EINVALID naming the bad file and line", err)
	}
	for _, want := range []string{"files        5", "created      4:", "bad          1 file(s), nothing imported from them", "prune        skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import report lacks %q:\n%s", want, out.String())
		}
	}
	// The problem is told once: in the error, not in the report too.
	if strings.Contains(out.String(), "empty body") {
		t.Errorf("the report repeats the error:\n%s", out.String())
	}
	out.Reset()
	exp := t.TempDir()
	if err := RunExport(ctx, ts.store, ts.bot, exp, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "exported 4 articles") {
		t.Errorf("export output %q", out.String())
	}
}

// TestImportKeepsChangesMadeOutsideTheFiles: a file that did not change
// since its last import must not undo what happened to its article since
// (an edit, a restore, a publication change in the admin API), and prune
// removes only what came from files.
func TestImportKeepsChangesMadeOutsideTheFiles(t *testing.T) {
	ctx := context.Background()
	emb := embedder(t)
	for _, ts := range stores(t) {
		t.Run(ts.name, func(t *testing.T) {
			s, bot := ts.store, ts.bot
			dir := copyDir(t, "testdata/kb")
			m := &Manager{Store: s, Embedder: emb}
			imp := func(t *testing.T, opt ImportOptions) ImportReport {
				t.Helper()
				rep, err := Import(ctx, s, emb, bot, dir, opt)
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			imp(t, ImportOptions{})
			apiEdit := func(t *testing.T, slug, body string) {
				t.Helper()
				a, err := s.GetArticle(ctx, bot, slug, 0)
				if err != nil {
					t.Fatal(err)
				}
				d := DocumentFromArticle(a)
				d.Body, d.Status = body, baton.ArticlePublished
				if _, err := m.Save(ctx, bot, d, "alice"); err != nil {
					t.Fatal(err)
				}
			}

			t.Run("an edit in the API stays", func(t *testing.T) {
				apiEdit(t, "return-policy", "Refunds reach your card in 2 working days.\n")
				before := versions(t, s, bot)
				rep := imp(t, ImportOptions{})
				if !slices.Equal(rep.Kept, []string{"return-policy"}) || len(rep.Updated) != 0 || rep.Unchanged != 3 {
					t.Errorf("report %+v, want return-policy kept and the rest unchanged", rep)
				}
				if after := versions(t, s, bot); !mapsEqual(before, after) {
					t.Errorf("versions %v → %v", before, after)
				}
				pub, err := s.GetPublishedArticle(ctx, bot, "return-policy")
				if err != nil || pub.Author != "alice" || !strings.Contains(pub.Body, "2 working days") {
					t.Fatalf("published return-policy = %+v, %v; want alice's edit", pub, err)
				}
			})

			t.Run("an unpublication in the API stays", func(t *testing.T) {
				if _, err := m.Publish(ctx, bot, "delivery-times", 0); err != nil {
					t.Fatal(err)
				}
				rep := imp(t, ImportOptions{})
				if !slices.Equal(rep.Kept, []string{"delivery-times", "return-policy"}) || len(rep.Published) != 0 {
					t.Errorf("report %+v, want delivery-times and return-policy kept", rep)
				}
				if published(t, s, bot, "delivery-times") != 0 {
					t.Error("the import published delivery-times again")
				}
			})

			t.Run("a changed file replaces the API's version", func(t *testing.T) {
				editFile(t, filepath.Join(dir, "en", "return-policy.md"), "5 to 7 working days", "4 working days")
				rep := imp(t, ImportOptions{})
				if !slices.Equal(rep.Updated, []string{"return-policy"}) || !slices.Equal(rep.Kept, []string{"delivery-times"}) {
					t.Errorf("report %+v, want return-policy updated, delivery-times still kept", rep)
				}
				pub, err := s.GetPublishedArticle(ctx, bot, "return-policy")
				if err != nil || pub.Author != "import" || !strings.Contains(pub.Body, "4 working days") || pub.Version != 3 {
					t.Fatalf("published return-policy = v%d by %q, %v; want v3 from the file", pub.Version, pub.Author, err)
				}
				if rep := imp(t, ImportOptions{}); len(rep.Updated)+len(rep.Created) != 0 {
					t.Errorf("the same files again: %+v", rep)
				}
			})

			t.Run("a restore in the API stays", func(t *testing.T) {
				if _, err := m.Restore(ctx, bot, "return-policy", 2, "bob", true); err != nil {
					t.Fatal(err)
				}
				rep := imp(t, ImportOptions{})
				if !slices.Contains(rep.Kept, "return-policy") || len(rep.Updated) != 0 {
					t.Errorf("report %+v, want return-policy kept", rep)
				}
				if pub, _ := s.GetPublishedArticle(ctx, bot, "return-policy"); pub == nil || pub.Author != "bob" {
					t.Errorf("published return-policy = %+v, want bob's restore", pub)
				}
			})

			t.Run("prune removes only articles from files", func(t *testing.T) {
				a, err := s.GetArticle(ctx, bot, "gift-cards", 0)
				if err != nil {
					t.Fatal(err)
				}
				d := DocumentFromArticle(a)
				d.Slug, d.Status = "store-credit", baton.ArticlePublished
				if _, err := m.Save(ctx, bot, d, "alice"); err != nil {
					t.Fatal(err)
				}
				removed := filepath.Join(dir, "tr", "delivery-times-tr.md")
				data, _ := os.ReadFile(removed)
				os.Remove(removed)
				rep := imp(t, ImportOptions{Prune: true})
				if !slices.Equal(rep.Pruned, []string{"delivery-times-tr"}) {
					t.Errorf("pruned %v, want delivery-times-tr only", rep.Pruned)
				}
				if published(t, s, bot, "store-credit") == 0 {
					t.Error("prune unpublished store-credit, which was written in the API")
				}
				os.WriteFile(removed, data, 0o644)
				rep = imp(t, ImportOptions{Prune: true})
				if !slices.Equal(rep.Published, []string{"delivery-times-tr"}) || len(rep.Pruned) != 0 {
					t.Errorf("report %+v, want the returned file published again", rep)
				}
			})
		})
	}
}
