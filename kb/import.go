package kb

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// ImportOptions tune Import.
type ImportOptions struct {
	Prune  bool   // unpublish imported articles whose file is gone
	Author string // recorded on every new version; "" = "import"
	Chunk  ChunkOptions
	// Progress, when set, is called with the stage "importing", the good
	// files done and their total: once before the first and after each.
	Progress func(stage string, done, total int)
}

// ImportReport says what an import did, slug by slug.
type ImportReport struct {
	Files        int      // article files read (bad ones included)
	Created      []string // new slugs (version 1)
	Updated      []string // slugs that got a new version
	Published    []string // existing versions published (status changed in the file)
	Unpublished  []string // published versions unpublished (status changed to draft)
	Reembedded   []string // unchanged published articles re-embedded for a new model
	Pruned       []string // unpublished because their file is gone (Prune)
	Kept         []string // changed outside the files since their last import; the unchanged file left them alone
	Unchanged    int
	PruneSkipped bool // Prune was asked but some files were bad
	Embedded     int  // chunks embedded
	Reused       int  // chunks whose vector was reused (same text, same model)
	Errors       FileErrors
}

// WriteTo prints the report for a person. Bad files are counted, not
// listed: their problems are in the error Import returned.
func (r ImportReport) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	list := func(name string, s []string) {
		if len(s) > 0 {
			fmt.Fprintf(&b, "%-12s %d: %s\n", name, len(s), strings.Join(s, ", "))
		}
	}
	fmt.Fprintf(&b, "files        %d\n", r.Files)
	list("created", r.Created)
	list("updated", r.Updated)
	list("published", r.Published)
	list("unpublished", r.Unpublished)
	list("re-embedded", r.Reembedded)
	list("pruned", r.Pruned)
	list("kept", r.Kept)
	if len(r.Kept) > 0 {
		b.WriteString("             (edited, restored, published or unpublished outside the files since their last import;\n" +
			"             their files did not change, so the KB's versions stay: change a file to replace its article)\n")
	}
	fmt.Fprintf(&b, "unchanged    %d\n", r.Unchanged)
	fmt.Fprintf(&b, "chunks       %d embedded, %d reused\n", r.Embedded, r.Reused)
	if r.PruneSkipped {
		b.WriteString("prune        skipped: fix the bad files first, so that no article is unpublished by mistake\n")
	}
	// The problems themselves are Import's error, printed once by whoever
	// reports it; the report only counts them.
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "bad          %d file(s), nothing imported from them\n", countFiles(r.Errors))
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Import makes the bot's KB match the article files under dir. It is
// idempotent: an unchanged file does nothing, a changed file makes exactly
// one new version (published or draft as its front matter says), a status
// change alone publishes or unpublishes the existing version. Bad files are
// reported with file and line and nothing from them is imported; the other
// files still are, and the returned error (EINVALID) says how many were bad.
//
// Chunks are stored for published versions only, with embeddings from emb;
// a chunk whose text did not change keeps its vector.
//
// When store is a baton.Store, each file's changes (version, chunks,
// publication) are one transaction.
func Import(ctx context.Context, store baton.ArticleStore, emb baton.Embedder, botID, dir string, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	if botID == "" {
		return rep, baton.Errorf(baton.EINVALID, "import: bot id is empty")
	}
	if opt.Author == "" {
		opt.Author = "import"
	}
	docs, errs, err := ParseDir(dir)
	if err != nil {
		return rep, err
	}
	rep.Files = len(docs) + countFiles(errs)
	rep.Errors = errs

	docs = checkTranslations(ctx, store, botID, docs, &rep)
	sources, err := store.ListArticleSources(ctx, botID)
	if err != nil {
		return rep, fmt.Errorf("import: reading what earlier imports read: %w", err)
	}
	lastRead := map[string]*baton.ArticleSource{}
	for _, src := range sources {
		lastRead[src.Slug] = src
	}
	m := &Manager{Store: store, Embedder: emb, Chunk: opt.Chunk}
	progress := func(done int) {
		if opt.Progress != nil {
			opt.Progress("importing", done, len(docs))
		}
	}
	for i, d := range docs {
		progress(i)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		st, err := m.load(ctx, botID, d.Slug)
		if err != nil {
			return rep, fmt.Errorf("import %s (%s): %w", d.File, d.Slug, err)
		}
		src := lastRead[d.Slug]
		sourceHash := d.SourceHash()
		if src != nil && src.Hash == sourceHash && st.differs(d) {
			// The file is as the last import read it: whatever changed
			// the article since (an edit or a restore in the admin API, a
			// publication change) is newer than the file, and stays.
			rep.Kept = append(rep.Kept, d.Slug)
			continue
		}
		res, err := m.save(ctx, botID, d, opt.Author, st)
		rep.Embedded += res.Embedded
		rep.Reused += res.Reused
		if err != nil {
			return rep, fmt.Errorf("import %s (%s): %w", d.File, d.Slug, err)
		}
		switch res.Change {
		case Created:
			rep.Created = append(rep.Created, d.Slug)
		case Updated:
			rep.Updated = append(rep.Updated, d.Slug)
		case Published:
			rep.Published = append(rep.Published, d.Slug)
		case Unpublished:
			rep.Unpublished = append(rep.Unpublished, d.Slug)
		case Reembedded:
			rep.Reembedded = append(rep.Reembedded, d.Slug)
		default:
			rep.Unchanged++
		}
		// Recorded after the save, not with it: the save may embed over
		// the network, which no transaction should wait for. A crash in
		// between leaves the old record, and the next import finds the
		// KB already matching the file and records it then.
		if src == nil || src.Hash != sourceHash || src.File != d.File {
			if err := store.SetArticleSource(ctx, &baton.ArticleSource{BotID: botID, Slug: d.Slug, File: d.File, Hash: sourceHash}); err != nil {
				return rep, fmt.Errorf("import %s (%s): %w", d.File, d.Slug, err)
			}
		}
	}
	progress(len(docs))
	if opt.Prune {
		if len(rep.Errors) > 0 {
			rep.PruneSkipped = true
		} else if err := prune(ctx, store, botID, docs, lastRead, &rep); err != nil {
			return rep, err
		}
	}
	if len(rep.Errors) > 0 {
		return rep, baton.Errorf(baton.EINVALID, "import: %d problem(s) in %d file(s), nothing imported from them:\n%w",
			len(rep.Errors), countFiles(rep.Errors), rep.Errors)
	}
	return rep, nil
}

func countFiles(errs FileErrors) int {
	seen := map[string]bool{}
	for _, e := range errs {
		seen[e.File] = true
	}
	return len(seen)
}

// checkTranslations drops (and reports) documents whose translation_of names
// no article, in the directory or already stored.
func checkTranslations(ctx context.Context, store baton.ArticleStore, botID string, docs []*Document, rep *ImportReport) []*Document {
	lang := map[string]string{}
	for _, d := range docs {
		lang[d.Slug] = d.Language
	}
	kept := docs[:0]
	for _, d := range docs {
		if d.TranslationOf == "" {
			kept = append(kept, d)
			continue
		}
		orig, ok := lang[d.TranslationOf]
		if !ok {
			if a, err := store.GetArticle(ctx, botID, d.TranslationOf, 0); err == nil {
				orig, ok = a.Language, true
			}
		}
		switch {
		case !ok:
			rep.Errors = append(rep.Errors, FileError{File: d.File, Line: d.TranslationOfLine,
				Msg: fmt.Sprintf("translation_of %q: no article with that slug", d.TranslationOf)})
		case orig == d.Language:
			rep.Errors = append(rep.Errors, FileError{File: d.File, Line: d.TranslationOfLine,
				Msg: fmt.Sprintf("translation_of %q: that article is also in %q; a translation is in another language", d.TranslationOf, orig)})
		default:
			kept = append(kept, d)
		}
	}
	sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].File < rep.Errors[j].File })
	return kept
}

// prune unpublishes the articles an import brought in whose files are gone,
// and forgets their sources: a file that comes back is imported afresh.
// Articles that never came from a file (written in the admin API, drafts
// from agent replies) are not the directory's to remove.
func prune(ctx context.Context, store baton.ArticleStore, botID string, docs []*Document, sources map[string]*baton.ArticleSource, rep *ImportReport) error {
	keep := map[string]bool{}
	for _, d := range docs {
		keep[d.Slug] = true
	}
	slugs := make([]string, 0, len(sources))
	for slug := range sources {
		if !keep[slug] {
			slugs = append(slugs, slug)
		}
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		pub, err := getOptional(store.GetPublishedArticle(ctx, botID, slug))
		if err != nil {
			return fmt.Errorf("prune %s: %w", slug, err)
		}
		if pub != nil {
			if err := store.PublishArticle(ctx, botID, slug, 0); err != nil {
				return fmt.Errorf("prune: unpublishing %s: %w", slug, err)
			}
			rep.Pruned = append(rep.Pruned, slug)
		}
		if err := store.DeleteArticleSource(ctx, botID, slug); err != nil {
			return fmt.Errorf("prune %s: %w", slug, err)
		}
	}
	return nil
}

// RunImport imports dir and prints the report to w; the error is Import's
// and lists the problems of bad files.
func RunImport(ctx context.Context, store baton.ArticleStore, emb baton.Embedder, botID, dir string, opt ImportOptions, w io.Writer) error {
	rep, err := Import(ctx, store, emb, botID, dir, opt)
	if _, werr := rep.WriteTo(w); werr != nil && err == nil {
		err = werr
	}
	return err
}
