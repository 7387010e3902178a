package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/kb/hashembed"
	"github.com/batonhq/baton/nlu/openai"
)

// kbStartImportTimeout bounds the import of the configured KB directories
// when the app is built; a slow embedding provider must not hold the
// server back for ever (the next start picks up where this one stopped).
const kbStartImportTimeout = 5 * time.Minute

// Embedder is the knowledge base's embedder for cfg: the OpenAI-compatible
// one when a key is configured, else the offline one. The kb commands use
// it too, so that what they import the server can search.
func Embedder(cfg *config.Config) (baton.Embedder, error) {
	if cfg.OpenAI.APIKey == "" {
		return hashembed.New(hashembed.Options{})
	}
	c, err := openai.New(openai.Config{
		APIKey:         cfg.OpenAI.APIKey,
		BaseURL:        cfg.OpenAI.BaseURL,
		ChatModel:      cfg.OpenAI.ChatModel,
		EmbeddingModel: cfg.OpenAI.EmbeddingModel,
		Timeout:        cfg.OpenAI.Timeout.Value(),
	})
	if err != nil {
		return nil, err
	}
	return c.Embedder(), nil
}

// importKBs imports each bot's configured kb.dir on start. It is
// idempotent, so a restart changes nothing; a bad file or a failing bot is
// logged and the server starts anyway with what could be imported.
func importKBs(ctx context.Context, cfg *config.Config, st baton.ArticleStore, emb baton.Embedder, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, kbStartImportTimeout)
	defer cancel()
	for _, b := range cfg.Bots {
		if b.KB.Dir == "" {
			continue
		}
		dir := cfg.Resolve(b.KB.Dir)
		start := time.Now()
		rep, err := kb.Import(ctx, st, emb, b.ID, dir, kb.ImportOptions{Author: "config"})
		for _, fe := range rep.Errors {
			log.Warn("kb: bad article file skipped", "bot", b.ID, "problem", fe.Error())
		}
		if len(rep.Kept) > 0 {
			log.Info("kb: articles changed in the admin API since their files were imported keep those changes; change a file to replace its article",
				"bot", b.ID, "slugs", strings.Join(rep.Kept, ","))
		}
		attrs := []any{"bot", b.ID, "dir", dir, "files", rep.Files,
			"created", len(rep.Created), "updated", len(rep.Updated),
			"published", len(rep.Published), "unpublished", len(rep.Unpublished),
			"reembedded", len(rep.Reembedded), "unchanged", rep.Unchanged, "kept", len(rep.Kept),
			"chunks_embedded", rep.Embedded, "chunks_reused", rep.Reused,
			"bad", len(rep.Errors), "took", time.Since(start).Round(time.Millisecond).String()}
		// Bad files come back as FileErrors, already logged one by one;
		// anything else stopped the import part-way.
		var bad kb.FileErrors
		if err != nil && !errors.As(err, &bad) {
			log.Error("kb import failed", append(attrs, "err", err)...)
			continue
		}
		log.Info("kb imported", attrs...)
	}
}
