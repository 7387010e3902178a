package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu/pii"
	"github.com/batonhq/baton/web"
)

// serveFlags are the flags of serve and demo.
type serveFlags struct {
	addr            string
	dataDir         string
	shutdownTimeout time.Duration
	workers         int
}

func (f *serveFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "addr", "", "listen address (default $BATON_ADDR or "+config.DefaultAddr+")")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data directory for the embedded database (default $BATON_DATA_DIR or ./"+config.DefaultDataDir+")")
	cmd.Flags().DurationVar(&f.shutdownTimeout, "shutdown-timeout", 4*time.Second, "on SIGINT/SIGTERM, how long running requests and jobs may take to finish")
	cmd.Flags().IntVar(&f.workers, "workers", 4, "concurrent job workers")
}

// apply lets flags override the configuration (flags beat environment
// variables, which beat the file).
func (f *serveFlags) apply(cfg *config.Config) error {
	if f.addr != "" {
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			return baton.Errorf(baton.EINVALID, "--addr: must be host:port, got %q", f.addr)
		}
		cfg.Server.Addr = f.addr
	}
	if f.dataDir != "" {
		cfg.Server.DataDir = f.dataDir
	}
	if f.shutdownTimeout <= 0 {
		return baton.Errorf(baton.EINVALID, "--shutdown-timeout: must be positive")
	}
	if f.workers < 1 {
		return baton.Errorf(baton.EINVALID, "--workers: must be at least 1")
	}
	return nil
}

func newServeCmd(e *env, g *globalFlags) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Baton server",
		Long: `Run the Baton server: webhooks, the admin API, /healthz, /readyz, /metrics and
the job workers. Configuration comes from --config (or $BATON_CONFIG) and the
environment (BATON_ADDR, BATON_DATA_DIR, BATON_DATABASE_URL, BATON_PUBLIC_URL,
BATON_ADMIN_TOKEN, OPENAI_API_KEY, OPENAI_BASE_URL, SLACK_BOT_TOKEN,
SLACK_APP_TOKEN, SLACK_SIGNING_SECRET). An invalid configuration is reported in
full and nothing starts. SIGINT or SIGTERM stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(e)
			if err != nil {
				return err
			}
			path := g.configPath(e)
			if path == "" {
				return baton.Errorf(baton.EINVALID, "no configuration: pass --config or set BATON_CONFIG (or try \"baton demo\")")
			}
			cfg, err := config.Load(path, e.lookupEnv)
			if err != nil {
				return err
			}
			if len(cfg.Bots) == 0 {
				return &config.Error{File: path, Problems: config.Problems{{Path: "bots", Reason: "required: a server needs at least one bot"}}}
			}
			if err := f.apply(cfg); err != nil {
				return err
			}
			ln, err := listen(cfg.Server.Addr)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), e, log, cfg, f, ln, nil)
		},
	}
	f.register(cmd)
	return cmd
}

// listen binds the server's address. serve and demo call it before they
// touch the data directory: a busy port fails at once, with nothing
// migrated or imported.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "listen on %s: the address is already in use (another baton?): stop that process or choose another address with --addr or BATON_ADDR: %w", addr, err)
	}
	if err != nil {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "listen on %s: %w", addr, err)
	}
	return ln, nil
}

// serve runs on ln until ctx is cancelled or SIGINT/SIGTERM arrives, then
// shuts down: stop accepting, finish requests, drain jobs, close the store,
// all within the shutdown timeout. It owns ln and closes it on every path;
// connections wait in its backlog until the server is ready. ready, when
// set, is called with the base URL once the server accepts connections.
func serve(ctx context.Context, e *env, log *slog.Logger, cfg *config.Config, f *serveFlags, ln net.Listener, ready func(url string)) error {
	// After a clean shutdown the app has closed ln already; closing twice
	// only returns an error, ignored.
	defer ln.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	openCtx, cancelOpen := context.WithTimeout(ctx, time.Minute)
	defer cancelOpen()
	st, where, err := openStore(openCtx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	if err := st.Migrate(openCtx); err != nil {
		return baton.WrapError(baton.ErrorCode(err), err, "migrate")
	}
	if err := syncAgents(openCtx, st, cfg.DomainAgents()); err != nil {
		return err
	}
	log.Info("store ready", "database", where, "bots", len(cfg.Bots), "queues", len(cfg.Queues), "agents", len(cfg.Agents))
	emb, err := kbEmbedder(cfg)
	if err != nil {
		return err
	}
	importKBs(ctx, cfg, st, emb, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	jm, err := newJobMetrics(reg)
	if err != nil {
		return err
	}
	wm, err := newWebhookMetrics(reg)
	if err != nil {
		return err
	}
	// Provider error text and job errors may carry a customer's number or
	// address: they are redacted before they are kept or logged.
	redact := baton.RedactFunc(pii.String)
	pool := jobs.New(st, jobs.Options{Workers: f.workers, Logger: log, Observe: jm.observe, Redact: redact,
		KeepDone: cfg.Server.KeepDoneJobs.Value(), KeepDead: cfg.Server.KeepDeadJobs.Value()})
	comp, err := wire(ctx, cfg, st, log, pool.Notify, redact, wm.foreign, jm.deliveryInDoubt)
	if err != nil {
		return err
	}
	for _, kind := range sortedKinds(comp.jobs) {
		if err := pool.Register(kind, comp.jobs[kind]); err != nil {
			return err
		}
	}

	app, err := web.New(web.Config{
		Store:      st,
		Webhooks:   comp.webhooks,
		Slack:      comp.slack,
		WebChat:    comp.webChat,
		KB:         &kb.Manager{Store: st, Embedder: emb},
		Bots:       cfg.DomainBots(),
		PublicURL:  cfg.Server.PublicURL,
		AdminToken: cfg.Server.AdminToken,
		Proxies:    comp.limits.proxies,
		AuthGuard:  comp.limits.auth,
		Registry:   reg,
		Logger:     log,
		Version:    version(),
	})
	if err != nil {
		return err
	}
	// Workers start last: every failure above leaves nothing running.
	if err := pool.Start(); err != nil {
		return err
	}
	url := "http://" + displayAddr(ln.Addr())
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("listening", "url", url, "addr", ln.Addr().String())
	if ready != nil {
		ready(url)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", f.shutdownTimeout.String())
	case serveErr = <-served:
		log.Error("server stopped", "err", serveErr)
	}
	// A second Ctrl-C now kills the process the default way.
	stop()

	start := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := app.ShutdownWithContext(sctx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	if err := pool.Shutdown(sctx); err != nil {
		log.Warn("job pool shutdown: jobs were cancelled", "err", err)
	}
	// The failures counted since the last summary are not lost.
	comp.limits.auth.Flush()
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond).String())
	if serveErr != nil {
		return baton.Errorf(baton.EUNAVAILABLE, "http server: %w", serveErr)
	}
	return nil
}

// components are what the capability packages contribute to a running
// server.
type components struct {
	webhooks map[string]baton.WebhookHandler // by provider: whatsapp, messenger, twilio
	slack    map[string]baton.WebhookHandler // by kind: events, interactions, commands
	webChat  web.WebChat
	jobs     map[string]baton.JobHandler // by job kind; only these are ever claimed
	limits   *serverLimits
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

// displayAddr is the address to print for people: a wildcard listen address
// is reachable on loopback.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
	}
	return tcp.String()
}

// jobMetrics counts finished job attempts by kind and outcome, and the
// deliveries that may have reached the customer twice.
type jobMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inDoubt  *prometheus.CounterVec
}

func newJobMetrics(reg *prometheus.Registry) (*jobMetrics, error) {
	m := &jobMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_jobs_total",
			Help: "Finished job attempts by kind and outcome (done, retry, dead, lost).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_job_duration_seconds",
			Help:    "Job attempt duration by kind.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind"}),
		inDoubt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_deliveries_in_doubt_total",
			Help: "Sends repeated after an attempt stopped between the provider's call and recording its answer: the customer may have the message twice.",
		}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.total, m.duration, m.inDoubt} {
		if err := reg.Register(c); err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "register job metrics: %w", err)
		}
	}
	return m, nil
}

func (m *jobMetrics) observe(kind, outcome string, took time.Duration) {
	m.total.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind).Observe(took.Seconds())
}

// webhookMetrics counts what provider webhooks carried that no bot owns.
type webhookMetrics struct {
	foreignTotal *prometheus.CounterVec
}

func newWebhookMetrics(reg *prometheus.Registry) (*webhookMetrics, error) {
	m := &webhookMetrics{foreignTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_webhook_foreign_recipients_total",
		Help: "Webhook events (messages, statuses, receipts) addressed to a number, Page or account no bot is configured with: acknowledged, not stored.",
	}, []string{"provider"})}
	if err := reg.Register(m.foreignTotal); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "register webhook metrics: %w", err)
	}
	// Every provider is exported from the start, at 0, so that an alert
	// on an increase works from the first event.
	for _, p := range []string{"whatsapp", "messenger", "twilio"} {
		m.foreignTotal.WithLabelValues(p)
	}
	return m, nil
}

func (m *webhookMetrics) foreign(provider string, n int) {
	m.foreignTotal.WithLabelValues(provider).Add(float64(n))
}

func (m *jobMetrics) deliveryInDoubt(ch baton.ChannelKind) {
	m.inDoubt.WithLabelValues(string(ch)).Inc()
}
