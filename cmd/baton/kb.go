package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/evals"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/kb/hashembed"
)

// kbOpenTimeout bounds opening and migrating the store for a kb command.
const kbOpenTimeout = time.Minute

// kbFlags are shared by the kb subcommands that work on a configured bot.
type kbFlags struct {
	dataDir string
	bot     string
}

func newKBCmd(e *env, g *globalFlags) *cobra.Command {
	kf := &kbFlags{}
	cmd := &cobra.Command{
		Use:   "kb",
		Short: "Import, export, search and evaluate the knowledge base; list its gaps",
		Long: `Work on a bot's knowledge base: Markdown articles with YAML front matter.

import, export, search and gaps use the configured store, chosen as "baton serve"
chooses it: --config (or $BATON_CONFIG), BATON_DATA_DIR, BATON_DATABASE_URL. With
no configuration they work on the demo bot's store, like "baton demo" (embedded
SQLite, offline embeddings). Embeddings are offline unless an OpenAI key is
configured. --bot may be left out when the configuration has one bot.

eval needs no configuration: it builds a throwaway KB from a FAQ file.`,
	}
	cmd.PersistentFlags().StringVar(&kf.dataDir, "data-dir", "", "data directory for the embedded database (default $BATON_DATA_DIR or ./"+config.DefaultDataDir+")")
	cmd.AddCommand(
		newKBImportCmd(e, g, kf),
		newKBExportCmd(e, g, kf),
		newKBSearchCmd(e, g, kf),
		newKBEvalCmd(e),
		newKBGapsCmd(e, g, kf),
	)
	return cmd
}

func newKBImportCmd(e *env, g *globalFlags, kf *kbFlags) *cobra.Command {
	var prune bool
	cmd := &cobra.Command{
		Use:   "import [DIR]",
		Short: "Make the bot's KB match the article files under DIR",
		Long: `Import the Markdown article files under DIR (default: the bot's kb.dir).
Unchanged files do nothing; a changed file makes exactly one new version of its
article. A file unchanged since its last import leaves its article alone even
when the article was edited, restored, published or unpublished in the admin
API since (the report lists those as kept). A bad file is reported with its
file and line and nothing from it is imported; the others still are, and the
exit status is non-zero. --prune unpublishes the articles imported from files
that are now gone (never one written in the admin API; skipped when a file is
bad, so that a typo never unpublishes an article).`,
		Example: `  baton kb import
  baton kb import --prune examples/sportshop/kb`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openKB(cmd.Context(), e, g, kf)
			if err != nil {
				return err
			}
			defer s.close()
			dir := s.cfg.Resolve(s.bot.KB.Dir)
			if len(args) == 1 {
				dir = args[0]
			}
			if dir == "" {
				return baton.Errorf(baton.EINVALID, "kb import: give the directory of the articles, or set kb.dir of bot %s", s.bot.ID)
			}
			opt := kb.ImportOptions{Prune: prune, Author: "cli"}
			var out io.Writer
			var done func()
			opt.Progress, out, done = e.progress()
			defer done()
			return kb.RunImport(cmd.Context(), s.store, s.emb, s.bot.ID, dir, opt, out)
		},
	}
	cmd.Flags().StringVar(&kf.bot, "bot", "", "bot id (default: the only configured bot)")
	cmd.Flags().BoolVar(&prune, "prune", false, "unpublish imported articles whose file is gone")
	return cmd
}

func newKBExportCmd(e *env, g *globalFlags, kf *kbFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Write the bot's articles to DIR as Markdown files",
		Long: `Write the newest version of every article of the bot to DIR/<language>/<slug>.md,
in the format import reads: importing DIR again changes nothing.`,
		Example: `  baton kb export kb-export`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openKB(cmd.Context(), e, g, kf)
			if err != nil {
				return err
			}
			defer s.close()
			return kb.RunExport(cmd.Context(), s.store, s.bot.ID, args[0], e.stdout)
		},
	}
	cmd.Flags().StringVar(&kf.bot, "bot", "", "bot id (default: the only configured bot)")
	return cmd
}

func newKBSearchCmd(e *env, g *globalFlags, kf *kbFlags) *cobra.Command {
	var (
		lang string
		k    int
		mode string
	)
	cmd := &cobra.Command{
		Use:   `search "question"`,
		Short: "Print the passages a question finds, with keyword, vector and fused scores",
		Long: `Search the bot's published articles as the bot does and print the ranked
passages with their keyword, vector and fused scores: how an author checks that
a new article is found. --lang searches one language (falling back to the bot's
default language when nothing is found in it, as the bot does). With no
configuration it searches the demo bot's KB: "baton kb import" loads it.`,
		Example: `  baton kb import
  baton kb search "how long does delivery take"
  baton kb search --lang tr --mode vector "iade ne zaman yapılır"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := kb.ParseMode(mode)
			if err != nil {
				return fmt.Errorf("--mode: %w", err)
			}
			if k < 1 || k > 100 {
				return baton.Errorf(baton.EINVALID, "--k: want a number from 1 to 100, got %d", k)
			}
			if lang != "" {
				if err := kb.ValidLanguage(lang); err != nil {
					return baton.Errorf(baton.EINVALID, "--lang: %v", err)
				}
			}
			q := strings.TrimSpace(strings.Join(args, " "))
			if q == "" {
				return baton.Errorf(baton.EINVALID, "kb search: the question is empty")
			}
			s, err := openKB(cmd.Context(), e, g, kf)
			if err != nil {
				return err
			}
			defer s.close()
			var fallback string
			if lang != "" && len(s.bot.Languages) > 0 {
				fallback = s.bot.Languages[0]
			}
			r := &kb.Retriever{Store: s.store, Embedder: s.emb}
			return kb.RunSearch(cmd.Context(), r, kb.Query{
				BotID: s.bot.ID, Text: q, Language: lang, Fallback: fallback, Mode: m, Limit: k,
			}, e.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kf.bot, "bot", "", "bot id (default: the only configured bot)")
	f.StringVar(&lang, "lang", "", "search articles in this language only (ISO 639-1; default: any)")
	f.IntVar(&k, "k", 5, "passages to print")
	f.StringVar(&mode, "mode", "hybrid", "keyword, vector or hybrid")
	return cmd
}

func newKBEvalCmd(e *env) *cobra.Command {
	var (
		opt    kb.EvalOptions
		mode   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "eval --faq FILE --queries FILE",
		Short: "Measure retrieval on a FAQ: recall@1, recall@5, MRR and latency",
		Long: `Build a throwaway KB (embedded SQLite in a temporary directory, offline
embeddings) from a FAQ TSV of "id<TAB>title<TAB>body", ask it every question of a
TSV of "id<TAB>question", and print recall@1, recall@5, MRR and query latency per
retrieval mode, and how often the bot would answer from the KB (and cite the
right entry). No configuration is read and nothing outside the temporary
directory is written.`,
		Example: `  baton kb eval --faq kb/testdata/faq/faqs.tsv --queries kb/testdata/faq/queries.tsv
  baton kb eval --faq kb/testdata/faq/faqs.tsv --queries kb/testdata/faq/queries.tsv --out-of-kb kb/testdata/faq/oos.txt --mode hybrid --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opt.FAQ == "" || opt.Queries == "" {
				return baton.Errorf(baton.EINVALID, "kb eval: --faq and --queries are both required")
			}
			if mode != "" {
				m, err := kb.ParseMode(mode)
				if err != nil {
					return fmt.Errorf("--mode: %w", err)
				}
				opt.Modes = []kb.Mode{m}
			}
			if opt.Threshold < 0 || opt.Threshold > 1 {
				return baton.Errorf(baton.EINVALID, "--threshold: must be between 0 and 1, got %g", opt.Threshold)
			}
			if opt.Language != "" {
				if err := kb.ValidLanguage(opt.Language); err != nil {
					return baton.Errorf(baton.EINVALID, "--lang: %v", err)
				}
			}
			var out io.Writer
			var done func()
			opt.Progress, out, done = e.progress()
			defer done()
			opt.Open = evals.ThrowawayKBStore
			return kb.RunEval(cmd.Context(), opt, asJSON, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.FAQ, "faq", "", "FAQ TSV: id, title, body")
	f.StringVar(&opt.Queries, "queries", "", "questions TSV: id of the right FAQ entry, question")
	f.StringVar(&mode, "mode", "", "keyword, vector or hybrid (default: all three)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.StringVar(&opt.OutOfKB, "out-of-kb", "", "questions the KB does not cover (CLINC150 JSON or one per line): the share answered should be near 0")
	f.Float64Var(&opt.Threshold, "threshold", 0, "answer threshold (default: the bot's default)")
	f.StringVar(&opt.Language, "lang", "en", "language of the FAQ")
	return cmd
}

func newKBGapsCmd(e *env, g *globalFlags, kf *kbFlags) *cobra.Command {
	var (
		since string
		top   int
	)
	cmd := &cobra.Command{
		Use:   "gaps",
		Short: "List the questions the KB could not answer, clustered and ranked by volume",
		Long: `Cluster the questions the bot could not answer from the KB (or that ended in an
escalation) and print the clusters by volume with example questions: the KB
authors' to-do list. --since is a duration back from now (72h, 30d) or a date
(2026-01-31).`,
		Example: `  baton kb gaps
  baton kb gaps --since 72h --top 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, time.Now().UTC())
			if err != nil {
				return err
			}
			if top < 0 {
				return baton.Errorf(baton.EINVALID, "--top: must not be negative (0 prints every cluster), got %d", top)
			}
			s, err := openKB(cmd.Context(), e, g, kf)
			if err != nil {
				return err
			}
			defer s.close()
			gs, ok := s.store.(baton.GapStore)
			if !ok {
				return baton.Errorf(baton.EINTERNAL, "kb gaps: the store does not record gaps")
			}
			// Gaps are clustered with the offline embedder whatever the
			// KB uses: it is free, and clusters need no provider.
			emb, err := hashembed.New(hashembed.Options{})
			if err != nil {
				return err
			}
			return kb.RunGaps(cmd.Context(), gs, emb, s.bot.ID, from, top, e.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kf.bot, "bot", "", "bot id (default: the only configured bot)")
	f.StringVar(&since, "since", "30d", "how far back: a duration (72h, 30d) or a date (2026-01-31)")
	f.IntVar(&top, "top", 10, "clusters to print (0 = all)")
	return cmd
}

// parseSince reads --since: a Go duration, a number of days ("30d") or a
// date / RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	bad := func() (time.Time, error) {
		return time.Time{}, baton.Errorf(baton.EINVALID, "--since: %q is neither a duration (72h, 30d) nor a date (2026-01-31)", s)
	}
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return bad()
		}
		return now.AddDate(0, 0, -n), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return bad()
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return bad()
}

// kbSession is what a kb command works on.
type kbSession struct {
	cfg   *config.Config
	bot   config.Bot
	store baton.Store
	emb   baton.Embedder
	close func()
}

// openKB loads the configuration (the demo's when none is given), picks
// the bot and the embedder and only then opens the store, so that a bad
// flag creates no data directory.
func openKB(ctx context.Context, e *env, g *globalFlags, kf *kbFlags) (*kbSession, error) {
	log, err := g.logger(e)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfigOrDemo(e, g)
	if err != nil {
		return nil, err
	}
	if kf.dataDir != "" {
		cfg.Server.DataDir = kf.dataDir
	}
	bot, err := pickBot(cfg, kf.bot)
	if err != nil {
		return nil, err
	}
	emb, err := app.Embedder(cfg)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, kbOpenTimeout)
	defer cancel()
	st, _, err := openStore(octx, cfg, log)
	if err != nil {
		return nil, err
	}
	return &kbSession{cfg: cfg, bot: bot, store: st, emb: emb, close: func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}}, nil
}

// loadConfigOrDemo loads --config (or $BATON_CONFIG), else the demo bot's
// configuration as "baton demo" runs it: on its embedded store with the
// offline language services, whatever the environment says.
func loadConfigOrDemo(e *env, g *globalFlags) (*config.Config, error) {
	path := g.configPath(e)
	demo := path == ""
	if demo {
		var err error
		if path, err = findDemoConfig(); err != nil {
			return nil, err
		}
	}
	cfg, err := config.Load(path, e.lookupEnv)
	if err != nil {
		return nil, err
	}
	if demo {
		cfg.Server.DatabaseURL = ""
		cfg.OpenAI.APIKey = ""
	}
	return cfg, nil
}

// pickBot returns the bot named by --bot, or the only configured one.
func pickBot(cfg *config.Config, id string) (config.Bot, error) {
	ids := make([]string, 0, len(cfg.Bots))
	for _, b := range cfg.Bots {
		if id != "" && b.ID == id {
			return b, nil
		}
		ids = append(ids, b.ID)
	}
	sort.Strings(ids)
	switch {
	case len(ids) == 0:
		return config.Bot{}, baton.Errorf(baton.EINVALID, "the configuration has no bot: add one under bots")
	case id != "":
		return config.Bot{}, baton.Errorf(baton.EINVALID, "--bot: no bot %q in the configuration (bots: %s)", id, strings.Join(ids, ", "))
	case len(ids) > 1:
		return config.Bot{}, baton.Errorf(baton.EINVALID, "--bot: the configuration has %d bots (%s); say which", len(ids), strings.Join(ids, ", "))
	}
	return cfg.Bots[0], nil
}
