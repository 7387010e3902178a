package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
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
	for _, w := range cfg.Warnings() {
		log.Warn("configuration: " + w)
	}
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
	log.Info("store ready", "database", where, "bots", len(cfg.Bots), "queues", len(cfg.Queues), "agents", len(cfg.Agents))
	// Trained intent models are kept in the data directory, so that a
	// restart with unchanged intents loads them instead of training.
	a, err := app.New(ctx, cfg, app.Options{Store: st, Logger: log, Workers: f.workers, Version: version(),
		ModelDir: filepath.Join(cfg.Server.DataDir, "models")})
	if err != nil {
		return err
	}
	// Workers start last: every failure above leaves nothing running.
	if err := a.Start(); err != nil {
		return err
	}
	url := "http://" + displayAddr(ln.Addr())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
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
	if err := a.Shutdown(sctx); err != nil {
		log.Warn("shutdown cut short", "err", err)
	}
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond).String())
	if serveErr != nil {
		return baton.Errorf(baton.EUNAVAILABLE, "http server: %w", serveErr)
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
