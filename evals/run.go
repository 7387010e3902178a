package evals

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/evals/orderapi"
	"github.com/batonhq/baton/nlu"
	"github.com/batonhq/baton/nlu/sentiment"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/sqlite"
)

// Options tune a run; the suite says what runs.
type Options struct {
	// DatabaseURL runs every case on PostgreSQL, each in a schema of its
	// own that is dropped after it; "" runs on SQLite files in a temporary
	// directory (copies of one prepared database), removed after the run.
	DatabaseURL string
	// Parallel is how many cases run at once [GOMAXPROCS].
	Parallel int
	Logger   *slog.Logger // the app's log lines [discarded]
	// LookupEnv reads the process environment for the configuration's
	// ${VAR} references, after the suite's env [os.LookupEnv].
	LookupEnv config.Env
	// TempDir holds the run's databases and trained models [/dev/shm when
	// it is there, so that the throwaway databases live in memory; else
	// os.TempDir].
	TempDir string
	// Progress is told how many cases are done, as they finish.
	Progress func(done, total int)
	// RunDataset evaluates one of the suite's datasets; nil skips them
	// (the command wires the dataset evaluations in).
	RunDataset func(ctx context.Context, d Dataset) (*DatasetResult, error)
	// CaseTimeout bounds one case [2m].
	CaseTimeout time.Duration
}

// CaseStart is the run clock's time when every case starts: a Monday
// morning, so that working hours and SLA targets read the same in every
// run.
func CaseStart() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// evalPublicURL is the public base URL the runner's webhooks are signed
// for when the configuration names none.
const evalPublicURL = "https://eval.baton.invalid"

// Run runs the suite's cases through the assembled pipeline and its
// datasets, and returns the report. The suite is validated against its
// configuration first: an invalid suite runs nothing (EINVALID, every
// problem listed). A case that fails is a failed case in the report; an
// error is returned only when the run itself could not go on.
func Run(ctx context.Context, s *Suite, opt Options) (*Report, error) {
	started := time.Now()
	r, err := newRunner(ctx, s, opt)
	if err != nil {
		return nil, err
	}
	defer r.close()
	results := make([]*caseRun, len(s.Cases))
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		firstErr   error
		errOnce    sync.Once
	)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(par, len(s.Cases)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(s.Cases) || cctx.Err() != nil {
					return
				}
				cr, err := r.runCase(cctx, i)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				results[i] = cr
				if opt.Progress != nil {
					opt.Progress(int(done.Add(1)), len(s.Cases))
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := buildReport(s, r.mode, results)
	if opt.RunDataset != nil && len(s.Datasets) > 0 {
		rep.Timing.Datasets = map[string]float64{}
		for _, d := range s.Datasets {
			t0 := time.Now()
			dr, err := opt.RunDataset(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("dataset %s: %w", d.Name, err)
			}
			rep.Timing.Datasets[d.Name] = time.Since(t0).Seconds()
			rep.Datasets = append(rep.Datasets, *dr)
			for k, v := range dr.Metrics {
				rep.Metrics[d.Name+"/"+k] = v
			}
		}
	}
	var lat []float64
	byLang := map[string][]float64{}
	for _, cr := range results {
		lat = append(lat, cr.latencies...)
		byLang[cr.c.Language] = append(byLang[cr.c.Language], cr.latencies...)
	}
	sort.Float64s(lat)
	rep.Timing.Started = started.UTC()
	rep.Timing.Took = time.Since(started).Seconds()
	rep.Timing.TurnP50, rep.Timing.TurnP99 = quantile(lat, 0.5), quantile(lat, 0.99)
	for l, ls := range byLang {
		if len(ls) == 0 {
			continue
		}
		sort.Float64s(ls)
		if rep.Timing.Languages == nil {
			rep.Timing.Languages = map[string]Latency{}
		}
		rep.Timing.Languages[l] = Latency{P50: quantile(ls, 0.5), P99: quantile(ls, 0.99)}
	}
	return rep, nil
}

// Prepare loads the suite's configuration the way `baton serve` does
// (${VAR} expansion, the suite's env first) and validates the suite
// against it, so that a command can report an invalid suite before it
// starts anything. It returns the configuration as loaded.
func Prepare(s *Suite, lookup config.Env) (*config.Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := func(name string) (string, bool) {
		if v, ok := s.Env[name]; ok {
			return v, true
		}
		return lookup(name)
	}
	if s.ServeOrders != "" {
		// The orders API is started by the run; validation needs only a
		// value.
		inner := env
		env = func(name string) (string, bool) {
			if v, ok := inner(name); ok || name != orderapi.EnvVar {
				return v, ok
			}
			return "http://127.0.0.1:1", true
		}
	}
	cfg, err := config.Load(s.Config, env)
	if err != nil {
		return nil, baton.WrapError(baton.EINVALID, err, "suite "+s.File+": configuration")
	}
	if err := Validate(s, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// runner is what every case of a run shares: the adjusted configuration,
// the prepared database, the trained models, the fake provider APIs and
// the order API.
type runner struct {
	suite    *Suite
	opt      Options
	log      *slog.Logger
	cfg      *config.Config // every case's configuration
	caseCfg  *config.Config // the same with the KB directories left out: the copies have them imported
	mode     string
	tmp      string
	template string // the prepared SQLite database ("" on PostgreSQL)
	modelDir string
	orders   *orderapi.Server
	provider *httptest.Server
	client   *http.Client
	labels   *sentiment.Analyzer
	judge    *judge // nil offline
	// channels are each bot's channel credentials made up for the run.
	channels map[string]channelSecrets
	statuses map[string]baton.AgentStatus
	// analyzers are the bots' offline analysers, built once and shared
	// by every case's app.
	mu        sync.Mutex
	analyzers map[string]*nlu.Analyzer
}

// analyzer is bot's analyser, built on first use (the prepare step, before
// any case runs) and shared after.
func (r *runner) analyzer(ctx context.Context, bot string, cfg nlu.Config) (*nlu.Analyzer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.analyzers[bot]; ok {
		return a, nil
	}
	a, err := nlu.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r.analyzers[bot] = a
	return a, nil
}

type channelSecrets struct {
	metaSecret, phoneNumberID, pageID  string
	twilioSID, twilioToken, twilioFrom string
	identitySecret                     string
}

func newRunner(ctx context.Context, s *Suite, opt Options) (_ *runner, err error) {
	r := &runner{suite: s, opt: opt, log: opt.Logger, channels: map[string]channelSecrets{}, statuses: map[string]baton.AgentStatus{},
		analyzers: map[string]*nlu.Analyzer{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if opt.LookupEnv == nil {
		r.opt.LookupEnv = os.LookupEnv
	}
	if r.opt.CaseTimeout <= 0 {
		r.opt.CaseTimeout = 2 * time.Minute
	}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	lookup := r.opt.LookupEnv
	orders := s.ServeOrders
	if orders == "" {
		// As the demo does: an orders file next to the configuration is
		// served unless the order API's URL is given.
		if _, set := r.opt.LookupEnv(orderapi.EnvVar); !set {
			if p := filepath.Join(filepath.Dir(s.Config), orderapi.File); fileExists(p) {
				orders = p
			}
		}
	}
	if orders != "" {
		if _, set := s.Env[orderapi.EnvVar]; !set {
			// Dates in the orders count from the cases' start, not from
			// today: the replies read the same in every run.
			if r.orders, err = orderapi.Start(orders, CaseStart); err != nil {
				return nil, err
			}
			url := r.orders.URL
			lookup = func(name string) (string, bool) {
				if name == orderapi.EnvVar {
					return url, true
				}
				return r.opt.LookupEnv(name)
			}
		}
	}
	cfg, err := Prepare(s, lookup)
	if err != nil {
		return nil, err
	}
	if r.opt.Logger != nil {
		for _, w := range cfg.Warnings() {
			r.opt.Logger.Warn("configuration: " + w)
		}
	}
	r.mode = "offline"
	if cfg.OpenAI.APIKey != "" {
		r.mode = "llm"
	}
	if r.labels, err = sentiment.New(sentiment.Options{}); err != nil {
		return nil, err
	}
	if r.judge, err = newJudge(cfg); err != nil {
		return nil, err
	}
	r.provider = httptest.NewServer(http.HandlerFunc(fakeProvider))
	r.client = &http.Client{Timeout: 30 * time.Second}
	if err := r.adjust(cfg); err != nil {
		return nil, err
	}
	base := opt.TempDir
	if base == "" {
		base = memoryDir()
	}
	if r.tmp, err = os.MkdirTemp(base, "baton-eval-"); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "eval: temporary directory: %w", err)
	}
	r.modelDir = filepath.Join(r.tmp, "models")
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// adjust turns the loaded configuration into the run's: the channels the
// cases use are on, with secrets made up for the run and their APIs at the
// fake provider; the web chat has an identity secret for trusted
// attributes; the suite's agents replace the configured ones; the limits
// meant for the internet and the Slack console are off.
func (r *runner) adjust(cfg *config.Config) error {
	s := r.suite
	cfg.Slack = config.Slack{}
	off := config.Rate("off")
	l := &cfg.Server.Limits
	l.WebChatPostsPerVisitor, l.WebChatPostsPerAddress, l.FailedAuthPerAddress, l.BotTurnsPerConversation = off, off, off, off
	l.WebChatStreamsPerVisitor, l.WebChatStreamsTotal = "off", "off"
	if cfg.Server.PublicURL == "" {
		cfg.Server.PublicURL = evalPublicURL
	}
	cfg.Server.AdminToken = randomHex(16)
	if len(s.Agents) > 0 {
		cfg.Agents = nil
		for _, a := range s.Agents {
			cfg.Agents = append(cfg.Agents, config.Agent{ID: a.ID, Name: or(a.Name, a.ID), Skills: a.Skills, Capacity: a.Capacity})
			if a.Status != "" {
				r.statuses[a.ID] = baton.AgentStatus(a.Status)
			}
		}
	}
	used := map[string]map[string]bool{}
	for _, c := range s.Cases {
		b := r.botOf(c, cfg)
		if used[b] == nil {
			used[b] = map[string]bool{}
		}
		used[b][c.Channel] = true
	}
	api := r.provider.URL
	for i := range cfg.Bots {
		b := &cfg.Bots[i]
		ch := &b.Channels
		sec := channelSecrets{
			metaSecret:    randomHex(16),
			phoneNumberID: fmt.Sprintf("1065403522%05d", i),
			pageID:        fmt.Sprintf("1070000000%05d", i),
			twilioSID:     "AC" + randomHex(16),
			twilioToken:   randomHex(16),
			twilioFrom:    fmt.Sprintf("+1415555%04d", i),
		}
		u := used[b.ID]
		if u[ChannelWhatsApp] {
			wa := &config.WhatsApp{PhoneNumberID: sec.phoneNumberID, AccessToken: "eval-" + randomHex(8), AppSecret: sec.metaSecret,
				VerifyToken: "eval-verify", APIBase: api + "/v23.0"}
			if ch.WhatsApp != nil {
				wa.Template = ch.WhatsApp.Template
			}
			ch.WhatsApp = wa
		} else if ch.WhatsApp != nil {
			ch.WhatsApp.APIBase = api + "/v23.0"
		}
		if u[ChannelMessenger] {
			ch.Messenger = &config.Messenger{PageID: sec.pageID, PageAccessToken: "eval-" + randomHex(8), AppSecret: sec.metaSecret,
				VerifyToken: "eval-verify", APIBase: api + "/v23.0"}
		} else if ch.Messenger != nil {
			ch.Messenger.APIBase = api + "/v23.0"
		}
		if u[ChannelSMS] {
			ch.Twilio = &config.Twilio{AccountSID: sec.twilioSID, AuthToken: sec.twilioToken, From: sec.twilioFrom, APIBase: api}
		} else if ch.Twilio != nil {
			ch.Twilio.APIBase = api
		}
		if u[ChannelWebChat] {
			if ch.WebChat == nil {
				ch.WebChat = &config.WebChat{}
			}
			ch.WebChat.Enabled = true
			if ch.WebChat.IdentitySecret == "" {
				ch.WebChat.IdentitySecret = randomHex(16)
			}
			sec.identitySecret = ch.WebChat.IdentitySecret
		}
		r.channels[b.ID] = sec
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		return baton.WrapError(baton.EINVALID, &config.Error{File: cfg.File, Problems: problems}, "the run's configuration")
	}
	r.cfg = cfg
	cc := *cfg
	cc.Bots = slices.Clone(cfg.Bots)
	for i := range cc.Bots {
		cc.Bots[i].KB.Dir = ""
	}
	r.caseCfg = &cc
	return nil
}

// botOf is the bot a case talks to.
func (r *runner) botOf(c Case, cfg *config.Config) string {
	switch {
	case c.Bot != "":
		return c.Bot
	case r.suite.Bot != "":
		return r.suite.Bot
	case len(cfg.Bots) > 0:
		return cfg.Bots[0].ID
	}
	return ""
}

// prepare does once what every case would otherwise repeat: the intent
// models are trained into the run's model directory and, on SQLite, one
// database gets the migrations, the agents and the imported KB, to be
// copied for each case.
func (r *runner) prepare(ctx context.Context) error {
	clk := baton.NewManualClock(CaseStart())
	if r.opt.DatabaseURL != "" {
		// Train the models once; every case's schema imports the KB.
		st, drop, err := r.openPostgres(ctx, clk, "prep")
		if err != nil {
			return err
		}
		defer drop()
		a, err := app.New(ctx, r.cfg, app.Options{Store: st, Clock: clk, ModelDir: r.modelDir, Logger: r.log, HTTPClient: r.client, NewAnalyzer: r.analyzer})
		if err != nil {
			return err
		}
		return shutdown(a)
	}
	r.template = filepath.Join(r.tmp, "template.db")
	st, err := sqlite.Open(ctx, r.template, sqlite.Options{Clock: clk, Logger: r.log})
	if err != nil {
		return err
	}
	a, err := app.New(ctx, r.cfg, app.Options{Store: st, Clock: clk, ModelDir: r.modelDir, Logger: r.log, HTTPClient: r.client, NewAnalyzer: r.analyzer})
	if err == nil {
		err = r.setStatuses(ctx, st)
	}
	if err == nil {
		err = shutdown(a)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *runner) setStatuses(ctx context.Context, st baton.Store) error {
	ids := make([]string, 0, len(r.statuses))
	for id := range r.statuses {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := st.SetAgentStatus(ctx, id, r.statuses[id]); err != nil {
			return fmt.Errorf("eval: agent %s status: %w", id, err)
		}
	}
	return nil
}

func shutdown(a *app.App) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.Shutdown(ctx)
}

// openCase opens a case's own store on its own clock and assembles the
// app over it.
func (r *runner) openCase(ctx context.Context, i int, clk *baton.ManualClock) (baton.Store, *app.App, func(), error) {
	var (
		st      baton.Store
		cleanup func()
		cfg     = r.caseCfg
	)
	if r.opt.DatabaseURL != "" {
		var err error
		st, cleanup, err = r.openPostgres(ctx, clk, fmt.Sprint(i))
		if err != nil {
			return nil, nil, nil, err
		}
		cfg = r.cfg
	} else {
		path := filepath.Join(r.tmp, fmt.Sprintf("case-%d.db", i))
		if err := copyFile(r.template, path); err != nil {
			return nil, nil, nil, err
		}
		s, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clk, Logger: r.log})
		if err != nil {
			return nil, nil, nil, err
		}
		st = s
		cleanup = func() {
			_ = s.Close()
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix)
			}
		}
	}
	a, err := app.New(ctx, cfg, app.Options{Store: st, Clock: clk, ModelDir: r.modelDir, Logger: r.log, HTTPClient: r.client, Workers: 1, NewAnalyzer: r.analyzer})
	if err == nil && r.opt.DatabaseURL != "" {
		// The agents exist once the app has saved them.
		err = r.setStatuses(ctx, st)
	}
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return st, a, func() { _ = shutdown(a); cleanup() }, nil
}

// openPostgres opens a store in a schema of its own, dropped by drop.
func (r *runner) openPostgres(ctx context.Context, clk baton.Clock, name string) (baton.Store, func(), error) {
	url := r.opt.DatabaseURL
	schema := "eval_" + randomHex(6) + "_" + name
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(cctx, url)
	if err != nil {
		return nil, nil, baton.Errorf(baton.EUNAVAILABLE, "eval: connect to the database: %w", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(cctx, `CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public`); err != nil {
		return nil, nil, baton.Errorf(baton.EUNAVAILABLE, "eval: create the vector extension: %w", err)
	}
	if _, err := admin.Exec(cctx, `CREATE SCHEMA `+schema); err != nil {
		return nil, nil, baton.Errorf(baton.EUNAVAILABLE, "eval: create schema: %w", err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, url)
		if err != nil {
			r.log.Error("eval: drop schema", "schema", schema, "err", err)
			return
		}
		defer c.Close(dctx)
		if _, err := c.Exec(dctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			r.log.Error("eval: drop schema", "schema", schema, "err", err)
		}
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	st, err := postgres.Open(ctx, url+sep+"search_path="+schema+",public", postgres.Options{Clock: clk, MaxConns: 4, Logger: r.log})
	if err != nil {
		drop()
		return nil, nil, err
	}
	return st, func() { st.Close(); drop() }, nil
}

func (r *runner) close() {
	if r.provider != nil {
		r.provider.Close()
	}
	r.orders.Stop()
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
}

// fakeProvider answers the providers' send APIs as they answer a message
// accepted: Twilio with a message sid, the Graph API with a WhatsApp or
// Messenger message id. What was sent is in the store's outbox already.
func fakeProvider(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	id := randomHex(8)
	switch {
	case strings.Contains(req.URL.Path, "/Accounts/"):
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%s","status":"queued"}`, id)
	case strings.Contains(string(body), `"messaging_product"`):
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.eval%s"}]}`, id)
	default:
		fmt.Fprintf(w, `{"recipient_id":"PSID","message_id":"m_%s"}`, id)
	}
}

// memoryDir is a directory in memory (tmpfs) for the throwaway databases,
// or "" (the system's temporary directory) when there is none: a case's
// commits then cost no disk flush.
func memoryDir() string {
	const shm = "/dev/shm"
	if st, err := os.Stat(shm); err == nil && st.IsDir() {
		if f, err := os.CreateTemp(shm, ".baton-eval-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return shm
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("eval: copy the prepared database: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("eval: copy the prepared database: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("eval: copy the prepared database: %w", err)
	}
	return out.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

var errNoConversation = baton.Errorf(baton.ENOTFOUND, "no conversation: the customer has not written yet")
