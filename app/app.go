// Package app is the one assembly of Baton: the channel adapters, the web
// chat, the outbox, the turn handler, the limits, the metrics, the knowledge
// base and the job pool, plugged together over one store from a validated
// configuration. cmd/baton serves it; tests and eval runs drive it, with
// RunJobs to drain the queue synchronously. Nothing but the binary, eval
// runs and tests imports it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu"
	"github.com/batonhq/baton/nlu/pii"
	"github.com/batonhq/baton/web"
)

// agentSyncTimeout bounds saving the configured agents at start.
const agentSyncTimeout = time.Minute

// Options are what the caller decides; everything else comes from the
// configuration.
type Options struct {
	// Store is opened and migrated by the caller, who closes it after
	// Shutdown.
	Store  baton.Store
	Logger *slog.Logger // [discard]
	Clock  baton.Clock  // [baton.SystemClock]
	// Workers is the number of concurrent job workers Start launches
	// [Jobs.Workers, else 4].
	Workers int
	// Jobs tunes the pool (leases, backoff, polling, store timeout); its
	// Clock, Logger, Redact, Observe and the retention of finished jobs
	// (server.keep_done_jobs, keep_dead_jobs) are the app's.
	Jobs jobs.Options
	// HTTPClient makes the calls to the providers' APIs
	// [http.DefaultClient, under each sender's timeout]. Their base URLs
	// come from the configuration (api_base).
	HTTPClient *http.Client
	// Redactor cleans personal data out of provider error text and job
	// errors before they are kept or logged [the PII redactor, nlu/pii].
	Redactor baton.Redactor
	// ModelDir keeps each bot's trained intent model between starts (a
	// directory per bot under it); "" trains in memory at every start.
	ModelDir string
	// NewAnalyzer, when set, builds each bot's offline analyser in place
	// of nlu.New: eval runs share one analyser per bot between the apps
	// of their cases (an analyser is safe for concurrent use, and building
	// one loads the language tables and the intent model).
	NewAnalyzer func(ctx context.Context, bot string, cfg nlu.Config) (*nlu.Analyzer, error)
	// Version is reported by /healthz.
	Version string
	// Services run beside the job pool: Start starts them after it, in
	// order, and Shutdown stops them before it, in reverse order.
	Services []Service
	// Slack tunes the Slack console's pacing and catch-up [their
	// defaults]; tests shorten them.
	Slack SlackOptions
}

// App is the assembled pipeline. New builds it without starting anything;
// Start launches the job workers and the services, Serve the HTTP server;
// Shutdown stops them all.
type App struct {
	store    baton.Store
	registry *prometheus.Registry
	pool     *jobs.Pool
	services *services // the pool first, then the wired ones, then Options.Services
	web      *fiber.App
	parts    *components
}

// New assembles the pipeline for a validated cfg over opt.Store: it saves
// the configured agents, imports each bot's kb.dir (a bad file or a failing
// import is logged, and the app is built with what could be imported),
// registers the metrics, builds the channel adapters, the outbox and the
// turn handler, registers their jobs and builds the HTTP app. ctx bounds
// that start-up work and is not kept. Nothing runs until Start and Serve;
// on an error nothing is left running.
func New(ctx context.Context, cfg *config.Config, opt Options) (*App, error) {
	if cfg == nil || opt.Store == nil {
		return nil, baton.Errorf(baton.EINVALID, "app: a configuration and a store are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = baton.SystemClock{}
	}
	if opt.Redactor == nil {
		// Provider error text and job errors may carry a customer's
		// number or address.
		opt.Redactor = baton.RedactFunc(pii.String)
	}
	st, log := opt.Store, opt.Logger
	sctx, cancel := context.WithTimeout(ctx, agentSyncTimeout)
	err := syncAgents(sctx, st, cfg.DomainAgents())
	cancel()
	if err != nil {
		return nil, err
	}
	emb, err := Embedder(cfg)
	if err != nil {
		return nil, err
	}
	importKBs(ctx, cfg, st, emb, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	jm, err := newJobMetrics(reg)
	if err != nil {
		return nil, err
	}
	wm, err := newWebhookMetrics(reg)
	if err != nil {
		return nil, err
	}
	hm, err := newDeskMetrics(reg, cfg, st, log)
	if err != nil {
		return nil, err
	}
	po := opt.Jobs
	if opt.Workers > 0 {
		po.Workers = opt.Workers
	}
	po.Clock, po.Logger, po.Redact, po.Observe = opt.Clock, log, opt.Redactor, jm.observe
	po.KeepDone, po.KeepDead = cfg.Server.KeepDoneJobs.Value(), cfg.Server.KeepDeadJobs.Value()
	pool := jobs.New(st, po)
	llmClient, err := openAIClient(cfg)
	if err != nil {
		return nil, err
	}
	var llm baton.LLM
	if llmClient != nil {
		llm = llmClient.LLM()
	}
	brains, err := buildBrains(ctx, cfg, brainDeps{store: st, embedder: emb, llm: llm, client: opt.HTTPClient, modelDir: opt.ModelDir, newAnalyzer: opt.NewAnalyzer})
	if err != nil {
		return nil, err
	}
	surveys, err := newSurveys(cfg, opt.Clock, hm, log)
	if err != nil {
		return nil, err
	}
	parts, err := wire(cfg, wiring{brains: brains, store: st, log: log, clock: opt.Clock, client: opt.HTTPClient, redact: opt.Redactor,
		foreign: wm.foreign, inDoubt: jm.deliveryInDoubt, surveys: surveys, observer: hm, slack: opt.Slack, wake: pool.Notify})
	if err != nil {
		return nil, err
	}
	for _, kind := range sortedKinds(parts.jobs) {
		if err := pool.Register(kind, parts.jobs[kind]); err != nil {
			return nil, err
		}
	}
	w, err := web.New(web.Config{
		Store:      st,
		Webhooks:   parts.webhooks,
		Slack:      parts.slack,
		WebChat:    parts.webChat,
		KB:         &kb.Manager{Store: st, Embedder: emb},
		Bots:       cfg.DomainBots(),
		PublicURL:  cfg.Server.PublicURL,
		AdminToken: cfg.Server.AdminToken,
		Metrics:    &handoff.Metrics{Store: st, Clock: opt.Clock},
		Proxies:    parts.limits.proxies,
		AuthGuard:  parts.limits.auth,
		Registry:   reg,
		Logger:     log,
		Version:    opt.Version,
		Queues:     cfg.DomainQueues(),
		Clock:      opt.Clock,
		Desk:       parts.desk,
		// Agent streams share the web chat's stream bounds: each holds
		// a connection and polls the database alike.
		Streams: parts.limits.streams,
	})
	if err != nil {
		return nil, err
	}
	svc := newServices(append(append([]Service{poolService{pool}}, parts.services...), opt.Services...)...)
	return &App{store: st, registry: reg, pool: pool, services: svc, web: w, parts: parts}, nil
}

// Start launches the job workers, then the services in order. When one
// fails to start, those started before it are stopped again (the workers
// last) and the error says which failed.
func (a *App) Start() error {
	ctx, cancel := context.WithTimeout(context.Background(), serviceStartTimeout)
	defer cancel()
	return a.services.start(ctx)
}

// Serve serves HTTP on ln until Shutdown (then it returns nil) or until
// the listener fails.
func (a *App) Serve(ln net.Listener) error { return a.web.Listener(ln) }

// Shutdown stops accepting requests and lets running ones finish, then
// stops the services in reverse order and drains the job workers; all
// within ctx. Jobs still running when ctx is done are cancelled and given
// back to run again; the error says so, and names every service that did
// not stop cleanly.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	if err := a.web.ShutdownWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := a.services.stop(ctx); err != nil {
		errs = append(errs, err)
	}
	// The failures counted since the last summary are not lost.
	a.parts.limits.auth.Flush()
	return errors.Join(errs...)
}

// RunJobs runs every job that is due now, in the caller's goroutine, with
// the handlers and the retry and dead-letter verdicts of the workers, until
// none is due; jobs scheduled later or waiting for a retry stay. It returns
// how many attempts it made. Tests, "baton chat" and eval runs use it in
// place of Start.
func (a *App) RunJobs(ctx context.Context) (ran int, err error) { return a.pool.RunDue(ctx) }

// Store is the store the app works on.
func (a *App) Store() baton.Store { return a.store }

// Registry holds every metric the app exports at /metrics.
func (a *App) Registry() *prometheus.Registry { return a.registry }

// Webhook is the handler of a provider's webhooks ("whatsapp",
// "messenger", "twilio"), or nil when no bot uses the provider.
func (a *App) Webhook(provider string) baton.WebhookHandler { return a.parts.webhooks[provider] }

// JobHandler is the handler of a job kind, or nil.
func (a *App) JobHandler(kind string) baton.JobHandler { return a.parts.jobs[kind] }

// WebChat is the web chat's HTTP side, or nil when no bot enables it.
func (a *App) WebChat() web.WebChat { return a.parts.webChat }

// PostWebChat stores one message of a web chat visitor of bot as the chat
// page's POST does (the same checks, per-visitor limit and ingestion; see
// webchat.Handler.Accept), without HTTP: "baton chat" talks to a bot
// through it. ENOTFOUND when the bot has no web chat.
func (a *App) PostWebChat(ctx context.Context, bot string, p webchat.PostRequest) (channels.IngestResult, error) {
	if a.parts.chat == nil {
		return channels.IngestResult{}, baton.Errorf(baton.ENOTFOUND, "web chat: no web chat for bot %q", bot)
	}
	return a.parts.chat.Accept(ctx, bot, p)
}

func sortedKinds(m map[string]baton.JobHandler) []string {
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// syncAgents saves the configured agents. Their definitions come from the
// configuration; their status is run-time state the upsert leaves alone.
func syncAgents(ctx context.Context, st baton.AgentStore, agents []baton.Agent) error {
	for i := range agents {
		if err := st.UpsertAgent(ctx, &agents[i]); err != nil {
			return baton.WrapError(baton.ErrorCode(err), err, "save agent "+agents[i].ID)
		}
	}
	return nil
}
