package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/evals"
)

// Exit codes of "baton eval run" beyond the common ones (root.go): the run
// happened and its verdict is no.
const (
	// exitGateFailed: a metric moved the wrong way beyond its tolerance
	// against --baseline.
	exitGateFailed = 3
	// exitCasesFailed: with --strict, at least one case failed.
	exitCasesFailed = 4
)

// exitCodeError ends a command with a code of its own; the message is
// printed as any error's.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// reportWriter writes one file of a run's report under --report DIR.
type reportWriter struct {
	file string
	// write gets the run's report and its baseline (nil without one).
	write func(w io.Writer, r, base *evals.Report) error
}

// evalRun is the "eval run" command's wiring: the files --report writes
// (the HTML report joins them here) and the dataset evaluations.
type evalRun struct {
	writers []reportWriter
	// datasets evaluates a suite's labelled datasets; nil leaves them out
	// of the run, with a warning.
	datasets func(ctx context.Context, d evals.Dataset) (*evals.DatasetResult, error)
}

func newEvalRun() *evalRun {
	return &evalRun{
		writers: []reportWriter{
			{"report.json", func(w io.Writer, r, _ *evals.Report) error { return evals.WriteJSON(w, r) }},
			{"report.xml", func(w io.Writer, r, _ *evals.Report) error { return evals.WriteJUnit(w, r) }},
			{"report.html", evals.WriteHTML},
		},
		datasets: func(ctx context.Context, d evals.Dataset) (*evals.DatasetResult, error) {
			return evals.RunDataset(ctx, d, evals.DatasetOptions{})
		},
	}
}

type evalRunFlags struct {
	report      string
	baseline    string
	databaseURL string
	parallel    int
	json        bool
	strict      bool
}

func newEvalCmd(e *env, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Run regression suites through the real pipeline and gate a change on them",
	}
	cmd.AddCommand(newEvalRunCmd(e, g, newEvalRun()), newEvalCompareCmd(e), newEvalCaptureCmd(e, g))
	return cmd
}

func newEvalRunCmd(e *env, g *globalFlags, er *evalRun) *cobra.Command {
	f := &evalRunFlags{}
	cmd := &cobra.Command{
		Use:   "run SUITE",
		Short: "Run a suite's conversations and datasets and report, optionally against a baseline",
		Long: `Run an eval suite (a directory with suite.yaml, or the file itself) through the
same assembly "baton serve" runs: every case is a conversation played on its
channel (web chat, WhatsApp, Messenger, SMS; the providers' APIs faked in
process), with agents acting through the agent API and a clock that only wait
steps move. Each case runs in a world of its own (a throwaway SQLite database by
default, a PostgreSQL schema of its own with --database-url), cases in parallel.

The suite is checked against its configuration first: an invalid suite is
reported with file, line and case, and nothing runs.

Prints the summary (or the report's JSON with --json); --report DIR writes
report.json, report.xml (JUnit) and report.html there. --baseline FILE compares the run with
a stored report.json under the suite's tolerances.

A suite may hold cases that fail on purpose (a known defect, described by
the case until it is fixed): a failed case is reported, and the gate is what
fails a change. --strict fails the run on any failed case instead.

Exit status: 0 when the run completed (with --baseline: and no metric
regressed; with --strict: and every case passed); 2 when the suite, its
configuration or a flag is invalid; 3 when a metric regressed against
--baseline; 4 with --strict when a case failed; 1 when the run itself failed.`,
		Example: `  baton eval run evals/testdata/suite --report out/eval
  baton eval run evals/testdata/suite --baseline out/eval/report.json --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("log-level") {
				g.logLevel = "warn"
			}
			return er.run(cmd.Context(), e, g, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.report, "report", "", "write report.json, report.xml (JUnit) and report.html into this directory")
	fl.StringVar(&f.baseline, "baseline", "", "compare with this report.json and fail (exit 3) when a metric regressed beyond its tolerance")
	fl.StringVar(&f.databaseURL, "database-url", "", "run on PostgreSQL, each case in a schema of its own that is dropped after it (default: throwaway SQLite)")
	fl.IntVar(&f.parallel, "parallel", 0, "cases run at once (default: the number of CPUs)")
	fl.BoolVar(&f.json, "json", false, "print the report's JSON instead of the summary")
	fl.BoolVar(&f.strict, "strict", false, "exit 4 when any case failed")
	return cmd
}

func (er *evalRun) run(ctx context.Context, e *env, g *globalFlags, f *evalRunFlags, path string) error {
	if f.parallel < 0 {
		return baton.Errorf(baton.EINVALID, "--parallel: %d is negative", f.parallel)
	}
	if f.databaseURL != "" && !strings.HasPrefix(f.databaseURL, "postgres://") && !strings.HasPrefix(f.databaseURL, "postgresql://") {
		return baton.Errorf(baton.EINVALID, "--database-url: want postgres://user:pass@host:port/db")
	}
	log, err := g.logger(e)
	if err != nil {
		return err
	}
	var base *evals.Report
	if f.baseline != "" {
		if base, err = evals.ReadReport(f.baseline); err != nil {
			return err
		}
	}
	s, err := evals.LoadSuite(path)
	if err != nil {
		return err
	}
	if len(s.Datasets) > 0 && er.datasets == nil {
		log.Warn("eval: this build does not run datasets; the suite's datasets are left out", "datasets", len(s.Datasets))
	}
	progress, stdout, done := e.progress()
	opt := evals.Options{DatabaseURL: f.databaseURL, Parallel: f.parallel, Logger: log, LookupEnv: e.lookupEnv, RunDataset: er.datasets}
	if progress != nil {
		opt.Progress = func(n, total int) { progress("cases", n, total) }
	}
	rep, err := evals.Run(ctx, s, opt)
	done()
	if err != nil {
		return err
	}
	if base != nil {
		rep.Gate = evals.Gate(rep, base, f.baseline, s.Tolerances)
	}
	if f.report != "" {
		if err := er.writeReports(f.report, rep, base); err != nil {
			return err
		}
	}
	if f.json {
		err = evals.WriteJSON(stdout, rep)
	} else {
		err = evals.WriteText(stdout, rep)
	}
	if err != nil {
		return err
	}
	switch {
	case rep.Gate != nil && !rep.Gate.Passed:
		var names []string
		for _, d := range rep.Gate.Regressions() {
			names = append(names, d.Metric)
		}
		msg := fmt.Sprintf("eval: the gate failed against %s: %s regressed", f.baseline, strings.Join(names, ", "))
		if len(rep.Gate.Broken) > 0 {
			msg += "; broken cases: " + strings.Join(rep.Gate.Broken, ", ")
		}
		return &exitCodeError{exitGateFailed, errors.New(msg)}
	case f.strict && rep.Counts["failed"] > 0:
		return &exitCodeError{exitCasesFailed, fmt.Errorf("eval: %d of %d cases failed", rep.Counts["failed"], rep.Counts["cases"])}
	}
	return nil
}

// writeReports writes every report file into dir.
func (er *evalRun) writeReports(dir string, rep, base *evals.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	for _, w := range er.writers {
		path := filepath.Join(dir, w.file)
		fh, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		err = w.write(fh, rep, base)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--report: write %s: %w", path, err)
		}
	}
	return nil
}
