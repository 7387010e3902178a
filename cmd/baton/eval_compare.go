package main

import (
	"github.com/spf13/cobra"

	"github.com/batonhq/baton/evals"
)

// newEvalCompareCmd is "baton eval compare A.json B.json": two runs side by
// side. It reads the reports only; the gate (eval run --baseline) is what
// fails a build.
func newEvalCompareCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare A.json B.json",
		Short: "Show two eval runs side by side: every metric, its change, the cases that changed verdict",
		Long: `Compare two reports written by "baton eval run" (report.json): every metric of
either run with B minus A and whether that is better or worse (lower is better
for turns_to_resolution and timings), then the cases that passed in A and fail
in B (broken) with what failed, the cases fixed, and the cases only one run has.
Use it for an offline run against an LLM run, or an old threshold against a
new one. A report of another report version is refused. --json prints one
JSON object instead. The exit status is 0 whatever changed: the gate is
"baton eval run --baseline".`,
		Example: `  baton eval compare evals/testdata/report_a.json evals/testdata/report_b.json
  baton eval compare evals/testdata/report_a.json evals/testdata/report_b.json --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := evals.ReadReport(args[0])
			if err != nil {
				return err
			}
			b, err := evals.ReadReport(args[1])
			if err != nil {
				return err
			}
			c, err := evals.Compare(a, b, args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return c.WriteJSON(e.stdout)
			}
			return c.WriteText(e.stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
