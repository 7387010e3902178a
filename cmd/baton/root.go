package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
)

// Exit codes, one rule for every command (the README's "Exit status"):
// 2 when what the user gave is wrong, 1 when a correct command failed.
const (
	exitOK      = 0
	exitFailure = 1 // the command was valid but failed: a busy port, an unreachable database, an I/O error
	// exitBadInput: an unknown command or flag, wrong arguments, a bad flag
	// value, an invalid configuration or input file (errors with code
	// baton.EINVALID). Nothing was started, and nothing was taken from
	// the bad input.
	exitBadInput = 2
)

// env is the process's outside world, injected so that commands run in tests
// exactly as they do in production.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader // nil reads as empty
	lookupEnv      func(string) (string, bool)
	isTerminal     bool // stderr is a terminal: human-readable logs, progress bars
	stdinTerminal  bool // stdin is a terminal: a person types (prompts, no echo)
}

// globalFlags are shared by every command.
type globalFlags struct {
	config    string
	logLevel  string
	logFormat string
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, e *env) int {
	return runRoot(ctx, newRootCmd(e), args, e)
}

// runRoot executes args on a command tree: run's, or one a test extended.
func runRoot(ctx context.Context, root *cobra.Command, args []string, e *env) int {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "baton: %v\n", err)
	var coded *exitCodeError
	if errors.As(err, &coded) {
		return coded.code
	}
	var cerr *config.Error
	if errors.As(err, &cerr) || baton.ErrorCode(err) == baton.EINVALID {
		return exitBadInput
	}
	return exitFailure
}

func newRootCmd(e *env) *cobra.Command {
	root := newCommandTree(e, &globalFlags{})
	strictUsage(root)
	return root
}

// newCommandTree builds every command, their global flags bound to g.
func newCommandTree(e *env, g *globalFlags) *cobra.Command {
	root := &cobra.Command{
		Use:   "baton",
		Short: "Baton: customer-support bots that hand over to humans",
		Long: `Baton answers customers on WhatsApp, Messenger, SMS and web chat from a knowledge
base, and hands conversations to a routed human queue when it should.

Start with "baton demo": it needs no configuration and no network.

Exit status: 0 when the command succeeded; 1 when a valid command failed
(a busy port, an unreachable database); 2 when the command line, the
configuration or an input file is wrong (nothing was started, and nothing
was taken from the bad input). "baton eval run" adds 3 (a metric regressed
against the baseline) and 4 (a case failed, with --strict).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.PersistentFlags().StringVar(&g.config, "config", "", "configuration file (default $BATON_CONFIG)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "auto", "log format: auto (text in a terminal, JSON otherwise), text or json")
	root.AddCommand(
		newServeCmd(e, g),
		newDemoCmd(e, g),
		newMigrateCmd(e, g),
		newDoctorCmd(e, g),
		newAgentCmd(e, g),
		newVersionCmd(e),
		newNLUCmd(e),
		newKBCmd(e, g),
		newChatCmd(e, g),
		newEvalCmd(e, g),
	)
	return root
}

// configPath is the --config flag, else $BATON_CONFIG.
func (g *globalFlags) configPath(e *env) string {
	if g.config != "" {
		return g.config
	}
	v, _ := e.lookupEnv("BATON_CONFIG")
	return v
}

// loadConfig is how a command that opens the configured store starts: the
// logger, the configuration (--config or $BATON_CONFIG) and its data
// directory overridden by a --data-dir flag when one was given.
func (g *globalFlags) loadConfig(e *env, dataDir string) (*config.Config, *slog.Logger, error) {
	log, err := g.logger(e)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(g.configPath(e), e.lookupEnv)
	if err != nil {
		return nil, nil, err
	}
	if dataDir != "" {
		cfg.Server.DataDir = dataDir
	}
	return cfg, log, nil
}

// logger builds the process logger: text for a person at a terminal, JSON for
// a log collector.
func (g *globalFlags) logger(e *env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "--log-level: %q is not one of debug, info, warn, error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(g.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	case "auto", "":
		if e.isTerminal {
			return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, baton.Errorf(baton.EINVALID, "--log-format: %q is not one of auto, text, json", g.logFormat)
}
