package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

func newDoctorCmd(e *env, g *globalFlags) *cobra.Command {
	var dataDirFlag string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that no open conversation is left unattended",
		Long: `Check the no-orphan invariant on the configured database (PostgreSQL when
BATON_DATABASE_URL is set, else the embedded SQLite file under the data
directory): every open conversation is the bot's, queued with a live SLA timer,
assigned to an agent who exists, or snoozed by one with a wake-up timer. Each
conversation that is not is printed with what is wrong, and the exit status is
1; 0 when there is none. It reads and changes nothing.`,
		Example: `  baton doctor --data-dir ./baton-data`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.loadConfig(e, dataDirFlag)
			if err != nil {
				return err
			}
			if !cfg.UsesPostgres() {
				// Checking must not create a database where there is none.
				path := filepath.Join(cfg.Server.DataDir, sqliteFile)
				if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
					fmt.Fprintf(e.stdout, "no database at %s yet: nothing to check\n", path)
					return nil
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			st, where, err := openStore(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer st.Close()
			vs, err := handoff.Check(ctx, st)
			if err != nil {
				return err
			}
			for _, v := range vs {
				fmt.Fprintln(e.stdout, v)
			}
			if len(vs) > 0 {
				return baton.Errorf(baton.ECONFLICT, "%d open conversation(s) nobody is looking after (%s)", len(vs), where)
			}
			fmt.Fprintf(e.stdout, "every open conversation is looked after (%s)\n", where)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDirFlag, "data-dir", "", "data directory for the embedded database (default $BATON_DATA_DIR or ./baton-data)")
	return cmd
}
