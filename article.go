package baton

import (
	"context"
	"strings"
	"time"
)

// ArticleStatus says whether an article version may be used to answer.
type ArticleStatus string

const (
	ArticleDraft     ArticleStatus = "draft"
	ArticlePublished ArticleStatus = "published"
)

// Article is one version of a KB article. Every change is a new version; at
// most one version of a slug is published, and only that one answers.
type Article struct {
	ID        int64 // id of this version's row
	BotID     string
	Slug      string
	Version   int // 1, 2, ... per (bot, slug)
	Title     string
	Body      string // Markdown
	Language  string
	Tags      []string
	Audience  string
	QueueID   string
	Skills    []string
	URL       string // customer-visible URL for citations
	Status    ArticleStatus
	Author    string
	Hash      string // of the content fields, so unchanged imports do nothing
	CreatedAt time.Time
}

// Chunk is a retrievable piece of a published article version.
type Chunk struct {
	ID          int64
	ArticleID   int64 // the version row it belongs to
	BotID       string
	Slug        string
	Language    string
	Ord         int
	HeadingPath []string
	Text        string
	Hash        string    // of Text: a chunk is re-embedded only when it changes
	Model       string    // embedding model; vectors of two models never mix
	Embedding   []float32 // len = model dimension
}

// ChunkQuery is a retrieval request.
type ChunkQuery struct {
	BotID     string
	Language  string // "" = any
	Text      string // keyword search
	Embedding []float32
	Model     string // vector search only compares chunks of this model
	K         int
}

// ChunkHit is one retrieved chunk with its scores. Score is the method's own
// (bm25 / ts_rank_cd for keyword, cosine similarity for vector); Rank starts
// at 1.
type ChunkHit struct {
	Chunk
	Title string
	URL   string
	Score float64
	Rank  int
}

// ArticleFilter selects article versions for listing.
type ArticleFilter struct {
	BotID     string
	Language  string
	Published bool // only currently published versions
	Limit     int
}

// ArticleSource records what the last import of a slug read from its file.
// It lets an import tell "the file changed" (a new version from the file)
// from "the article changed elsewhere since the file was imported" (an edit,
// a restore or a publication change in the admin API), which an unchanged
// file must not undo. It also tells prune which articles came from files.
type ArticleSource struct {
	BotID      string
	Slug       string
	File       string    // path relative to the imported directory
	Hash       string    // of the file's content and status
	ImportedAt time.Time // set by the store
}

// Validate reports a missing bot, slug or hash.
func (s *ArticleSource) Validate() error {
	switch {
	case strings.TrimSpace(s.BotID) == "":
		return Errorf(EINVALID, "article source: bot id is required")
	case strings.TrimSpace(s.Slug) == "":
		return Errorf(EINVALID, "article source: slug is required")
	case strings.TrimSpace(s.Hash) == "":
		return Errorf(EINVALID, "article source %s: hash is required", s.Slug)
	}
	return nil
}

// ArticleStore keeps KB articles, their versions and their chunks.
type ArticleStore interface {
	// CreateArticleVersion stores a as the next version of (BotID, Slug) and
	// sets a.ID, a.Version and a.CreatedAt. When a.Status is published, the
	// previously published version of the slug becomes a draft, atomically.
	CreateArticleVersion(ctx context.Context, a *Article) error
	// GetArticle returns the newest version of a slug (version 0) or the
	// given version.
	GetArticle(ctx context.Context, botID, slug string, version int) (*Article, error)
	// GetPublishedArticle returns the published version of a slug, or
	// ENOTFOUND.
	GetPublishedArticle(ctx context.Context, botID, slug string) (*Article, error)
	// ListArticleVersions returns every version of a slug, oldest first
	// (empty for an unknown slug).
	ListArticleVersions(ctx context.Context, botID, slug string) ([]*Article, error)
	// ListArticles returns the newest version of each slug (or the
	// published one with Published set), ordered by slug.
	ListArticles(ctx context.Context, f ArticleFilter) ([]*Article, error)
	// PublishArticle makes the given version the published one (unpublishing
	// any other); version 0 unpublishes the slug entirely. An unknown slug or
	// version is ENOTFOUND and changes nothing.
	PublishArticle(ctx context.Context, botID, slug string, version int) error
	// ReplaceChunks sets the chunks of an article version, in one
	// transaction, and sets their IDs. BotID, Slug and Language come from the
	// article. An embedding needs a model (EINVALID); an unknown article is
	// ENOTFOUND.
	ReplaceChunks(ctx context.Context, articleID int64, chunks []Chunk) error
	// ListChunks returns the chunks of an article version in order (empty
	// for an unknown article).
	ListChunks(ctx context.Context, articleID int64) ([]Chunk, error)
	// SetArticleSource records the source of a slug, replacing the one
	// before, and sets s.ImportedAt; an invalid source is EINVALID.
	SetArticleSource(ctx context.Context, s *ArticleSource) error
	// ListArticleSources returns a bot's sources ordered by slug.
	ListArticleSources(ctx context.Context, botID string) ([]*ArticleSource, error)
	// DeleteArticleSource forgets a slug's source; forgetting one that is
	// not there is not an error.
	DeleteArticleSource(ctx context.Context, botID, slug string) error
	// SearchKeyword and SearchVector return the top q.K chunks (10 when
	// q.K <= 0) of published articles of q.BotID (and q.Language when set),
	// best first, ties broken by chunk id; BotID is required (EINVALID).
	// Hits leave Chunk.Embedding nil: ListChunks has the vectors.
	//
	// SearchKeyword matches chunks containing ANY of the words of q.Text
	// (a natural-language question rarely has all its words in one chunk;
	// relevance ranking puts chunks with more and rarer matches first). q.Text
	// is user input: punctuation and query operators in it are plain text,
	// never syntax, and a text with no words returns no hits, not an error.
	// Score is higher-is-better.
	//
	// SearchVector compares q.Embedding (EINVALID when empty or all zero)
	// only with chunks of model q.Model (required) and the same dimension;
	// Score is the exact cosine similarity in [-1, 1].
	SearchKeyword(ctx context.Context, q ChunkQuery) ([]ChunkHit, error)
	SearchVector(ctx context.Context, q ChunkQuery) ([]ChunkHit, error)
}
