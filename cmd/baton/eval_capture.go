package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/evals"
)

// captureTimeout bounds opening the store and reading one conversation.
const captureTimeout = time.Minute

// newEvalCaptureCmd is "baton eval capture CONVERSATION_ID": a stored
// conversation as a suite case for a reviewer to annotate.
func newEvalCaptureCmd(e *env, g *globalFlags) *cobra.Command {
	var out, dataDir, caseID string
	cmd := &cobra.Command{
		Use:   "capture CONVERSATION_ID",
		Short: "Turn a stored conversation into a suite case (redacted) for a reviewer to annotate",
		Long: `Read a conversation from the configured store (the same one "baton serve" uses)
and print it as a suite case file: the customer's turns with the channel,
language, attributes and page context, and the expectations the bot's decisions
imply (intent, action, cited articles, escalation with its trigger, queue and
priority, the outcome), each marked "# review:" for a person to confirm or
correct. Emails, phone numbers, card numbers and IBANs in the customer's text
become placeholders, attributes holding any are left out, and the customer's
name and address are never written. --out writes a new file instead of
printing; an existing file is not overwritten. The conversation's number is
the one the web inbox, the agent API and the Slack card show:

  baton eval capture 42
  baton eval capture 42 --out examples/evals/cases/captured-42.yaml --id refund-angry-tr

An unknown number is exit 2, like an unknown agent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return baton.Errorf(baton.EINVALID, "CONVERSATION_ID: want a conversation's positive number (as the inbox and the agent API show it), got %q", args[0])
			}
			if out != "" {
				if _, err := os.Stat(out); err == nil {
					return baton.Errorf(baton.EINVALID, "--out %s exists; capture writes a new file and leaves a reviewed one alone", out)
				}
			}
			cfg, log, err := g.loadConfigOrDemoWithLog(e, dataDir)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), captureTimeout)
			defer cancel()
			st, where, err := openStore(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer func() {
				if err := st.Close(); err != nil {
					log.Error("closing the store", "err", err)
				}
			}()
			data, err := evals.Capture(ctx, st, id, evals.CaptureOptions{CaseID: caseID})
			if baton.ErrorCode(err) == baton.ENOTFOUND {
				return baton.Errorf(baton.EINVALID, "CONVERSATION_ID: no conversation %d in %s", id, where)
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = e.stdout.Write(data)
				return err
			}
			return writeNewFile(out, data)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write the case to this new file instead of stdout")
	f.StringVar(&caseID, "id", "", "the case's id (default captured-CONVERSATION_ID)")
	f.StringVar(&dataDir, "data-dir", "", "data directory of the SQLite store (default: the configuration's)")
	return cmd
}

// loadConfigOrDemoWithLog is how a command that reads the configured
// store starts when it may run beside the demo: the logger, the
// configuration (the demo's when none is given) and --data-dir.
func (g *globalFlags) loadConfigOrDemoWithLog(e *env, dataDir string) (*config.Config, *slog.Logger, error) {
	log, err := g.logger(e)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfigOrDemo(e, g)
	if err != nil {
		return nil, nil, err
	}
	if dataDir != "" {
		cfg.Server.DataDir = dataDir
	}
	return cfg, log, nil
}

// writeNewFile writes data to path, which must not exist (O_EXCL: a file
// that appears meanwhile is not replaced either); a failed write removes
// what it started.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return baton.Errorf(baton.EINVALID, "--out %s exists; capture writes a new file and leaves a reviewed one alone", path)
	}
	if err != nil {
		return baton.Errorf(baton.EINVALID, "--out %s: %w", path, err)
	}
	if _, err = f.Write(data); err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return nil
}
