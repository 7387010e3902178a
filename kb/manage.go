package kb

import (
	"context"
	"fmt"

	"github.com/batonhq/baton"
)

// Change says what saving or publishing did to an article.
type Change string

const (
	Created     Change = "created"     // version 1 of a new slug
	Updated     Change = "updated"     // a new version
	Published   Change = "published"   // an existing version became the published one
	Unpublished Change = "unpublished" // the slug has no published version any more
	Reembedded  Change = "reembedded"  // same content, vectors of a new model
	Unchanged   Change = "unchanged"
)

// Manager keeps articles and their chunks consistent: whichever version is
// published has its chunks, embedded with the manager's model. Import and
// the admin API both go through it.
type Manager struct {
	Store    baton.ArticleStore
	Embedder baton.Embedder
	Chunk    ChunkOptions
}

// SaveResult is the outcome of one Save, Publish or Restore.
type SaveResult struct {
	Change   Change
	Article  *baton.Article // the version concerned (nil when unpublished)
	Embedded int            // chunks embedded
	Reused   int            // chunks whose vector was reused
}

func getOptional(a *baton.Article, err error) (*baton.Article, error) {
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// inTx runs fn in one transaction when the store can, else directly.
func (m *Manager) inTx(ctx context.Context, fn func(s baton.ArticleStore) error) error {
	if s, ok := m.Store.(baton.Store); ok {
		return s.Tx(ctx, func(tx baton.Store) error { return fn(tx) })
	}
	return fn(m.Store)
}

// Save stores a validated document: a new version when its content differs
// from the newest version, else a publication change when only its status
// differs, else nothing (or a re-embedding when the stored vectors are of
// another model).
func (m *Manager) Save(ctx context.Context, botID string, d *Document, author string) (SaveResult, error) {
	if botID == "" {
		return SaveResult{}, baton.Errorf(baton.EINVALID, "save article: bot id is empty")
	}
	st, err := m.load(ctx, botID, d.Slug)
	if err != nil {
		return SaveResult{}, err
	}
	return m.save(ctx, botID, d, author, st)
}

// slugState is what the KB holds of one slug: its newest version and its
// published one (either nil).
type slugState struct {
	newest, pub *baton.Article
}

func (m *Manager) load(ctx context.Context, botID, slug string) (slugState, error) {
	newest, err := getOptional(m.Store.GetArticle(ctx, botID, slug, 0))
	if err != nil {
		return slugState{}, err
	}
	pub, err := getOptional(m.Store.GetPublishedArticle(ctx, botID, slug))
	return slugState{newest: newest, pub: pub}, err
}

// differs says whether the KB holds d's slug otherwise than d has it: its
// newest version has other content, or is published when d is a draft or
// the other way round. A slug the KB does not have does not differ: there
// is nothing to keep.
func (st slugState) differs(d *Document) bool {
	if st.newest == nil {
		return false
	}
	live := st.pub != nil && st.pub.Version == st.newest.Version
	return st.newest.Hash != d.Hash() || live != (d.Status == baton.ArticlePublished)
}

// save is Save on the slug's state as load read it.
func (m *Manager) save(ctx context.Context, botID string, d *Document, author string, st slugState) (SaveResult, error) {
	var res SaveResult
	newest, pub := st.newest, st.pub
	want := d.Article(botID, author)

	if newest == nil || newest.Hash != want.Hash {
		var chunks []baton.Chunk
		if want.Status == baton.ArticlePublished {
			var err error
			if chunks, err = m.chunks(ctx, want, &res, pub, newest); err != nil {
				return res, err
			}
		}
		err := m.inTx(ctx, func(s baton.ArticleStore) error {
			if err := s.CreateArticleVersion(ctx, want); err != nil {
				return err
			}
			if chunks == nil {
				return nil
			}
			for i := range chunks {
				chunks[i].ArticleID = want.ID
			}
			return s.ReplaceChunks(ctx, want.ID, chunks)
		})
		if err != nil {
			return res, err
		}
		res.Article = want
		res.Change = Updated
		if newest == nil {
			res.Change = Created
		}
		return res, nil
	}

	res.Article = newest
	newestLive := pub != nil && pub.Version == newest.Version
	switch {
	case want.Status == baton.ArticlePublished && !newestLive:
		return m.publish(ctx, newest, pub, res)
	case want.Status == baton.ArticleDraft && newestLive:
		if err := m.Store.PublishArticle(ctx, botID, d.Slug, 0); err != nil {
			return res, err
		}
		res.Change = Unpublished
	case newestLive:
		have, err := m.Store.ListChunks(ctx, newest.ID)
		if err != nil {
			return res, err
		}
		if len(have) > 0 && have[0].Model == m.Embedder.Model() {
			res.Change = Unchanged
			return res, nil
		}
		chunks, err := m.chunks(ctx, newest, &res)
		if err != nil {
			return res, err
		}
		if err := m.Store.ReplaceChunks(ctx, newest.ID, chunks); err != nil {
			return res, err
		}
		res.Change = Reembedded
	default:
		res.Change = Unchanged
	}
	return res, nil
}

// publish makes a the published version, chunking and embedding it first
// (reusing the vectors of the version published before).
func (m *Manager) publish(ctx context.Context, a, prev *baton.Article, res SaveResult) (SaveResult, error) {
	chunks, err := m.chunks(ctx, a, &res, prev, a)
	if err != nil {
		return res, err
	}
	err = m.inTx(ctx, func(s baton.ArticleStore) error {
		if err := s.ReplaceChunks(ctx, a.ID, chunks); err != nil {
			return err
		}
		return s.PublishArticle(ctx, a.BotID, a.Slug, a.Version)
	})
	if err != nil {
		return res, err
	}
	res.Article = a
	res.Change = Published
	return res, nil
}

// Publish makes the given version of a slug the published one (version 0
// unpublishes the slug). Unlike the store's PublishArticle it makes sure the
// version has embedded chunks, so that it can answer at once.
func (m *Manager) Publish(ctx context.Context, botID, slug string, version int) (SaveResult, error) {
	var res SaveResult
	if version == 0 {
		if err := m.Store.PublishArticle(ctx, botID, slug, 0); err != nil {
			return res, err
		}
		res.Change = Unpublished
		return res, nil
	}
	if version < 0 {
		return res, baton.Errorf(baton.EINVALID, "publish %s: bad version %d", slug, version)
	}
	a, err := m.Store.GetArticle(ctx, botID, slug, version)
	if err != nil {
		return res, err
	}
	pub, err := getOptional(m.Store.GetPublishedArticle(ctx, botID, slug))
	if err != nil {
		return res, err
	}
	if pub != nil && pub.Version == version {
		res.Article, res.Change = pub, Unchanged
		return res, nil
	}
	return m.publish(ctx, a, pub, res)
}

// Restore makes an old version's content the newest version again (history
// is never rewritten), published or as a draft.
func (m *Manager) Restore(ctx context.Context, botID, slug string, version int, author string, publish bool) (SaveResult, error) {
	if version <= 0 {
		return SaveResult{}, baton.Errorf(baton.EINVALID, "restore %s: give the version to restore", slug)
	}
	old, err := m.Store.GetArticle(ctx, botID, slug, version)
	if err != nil {
		return SaveResult{}, err
	}
	d := DocumentFromArticle(old)
	d.Status = baton.ArticleDraft
	if publish {
		d.Status = baton.ArticlePublished
	}
	return m.Save(ctx, botID, d, author)
}

// ReembedReport says what Reembed did.
type ReembedReport struct {
	Articles int // published articles looked at
	Changed  int // articles whose chunks were re-embedded
	Embedded int
}

// Reembed gives every published article of the bot chunks embedded with
// the manager's model, reporting progress after each article. It is meant
// to run in the background after the embedding model changed; vector search
// with the new model finds an article as soon as its turn has come.
func (m *Manager) Reembed(ctx context.Context, botID string, progress func(done, total int)) (ReembedReport, error) {
	var rep ReembedReport
	arts, err := m.Store.ListArticles(ctx, baton.ArticleFilter{BotID: botID, Published: true})
	if err != nil {
		return rep, fmt.Errorf("re-embed: listing articles: %w", err)
	}
	rep.Articles = len(arts)
	for i, a := range arts {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		have, err := m.Store.ListChunks(ctx, a.ID)
		if err != nil {
			return rep, err
		}
		stale := len(have) == 0
		for _, c := range have {
			if c.Model != m.Embedder.Model() || len(c.Embedding) != m.Embedder.Dim() {
				stale = true
				break
			}
		}
		if stale {
			var res SaveResult
			chunks, err := m.chunks(ctx, a, &res, a)
			if err != nil {
				return rep, fmt.Errorf("re-embed %s: %w", a.Slug, err)
			}
			if err := m.Store.ReplaceChunks(ctx, a.ID, chunks); err != nil {
				return rep, fmt.Errorf("re-embed %s: %w", a.Slug, err)
			}
			rep.Changed++
			rep.Embedded += res.Embedded
		}
		if progress != nil {
			progress(i+1, len(arts))
		}
	}
	return rep, nil
}

// chunks cuts a and embeds its chunks, reusing the vectors of the chunks of
// the other versions given (nil ones skipped) when hash and model match.
func (m *Manager) chunks(ctx context.Context, a *baton.Article, res *SaveResult, from ...*baton.Article) ([]baton.Chunk, error) {
	chunks, err := Chunk(a, m.Chunk)
	if err != nil {
		return nil, err
	}
	reuse := map[string][]float32{}
	seen := map[int64]bool{}
	for _, o := range from {
		if o == nil || o.ID == 0 || seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		old, err := m.Store.ListChunks(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range old {
			if c.Model == m.Embedder.Model() && len(c.Embedding) == m.Embedder.Dim() {
				reuse[c.Hash] = c.Embedding
			}
		}
	}
	e, r, err := EmbedChunks(ctx, m.Embedder, chunks, reuse)
	res.Embedded += e
	res.Reused += r
	if err != nil {
		return nil, err
	}
	for i := range chunks {
		chunks[i].ArticleID = a.ID
	}
	return chunks, nil
}
