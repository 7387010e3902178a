package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
)

func newMigrateCmd(e *env, g *globalFlags) *cobra.Command {
	var dataDirFlag string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Long: `Apply pending database migrations and exit. The database is PostgreSQL when
BATON_DATABASE_URL (or server.database_url) is a postgres:// URL, else the
embedded SQLite file under the data directory. "baton serve" also migrates on
start; this command is for deployments that migrate as a separate step.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.loadConfig(e, dataDirFlag)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			st, where, err := openStore(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				return baton.WrapError(baton.ErrorCode(err), err, "migrate")
			}
			if err := st.Ping(ctx); err != nil {
				return baton.WrapError(baton.ErrorCode(err), err, "check the migrated database")
			}
			fmt.Fprintf(e.stdout, "database is up to date (%s)\n", where)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDirFlag, "data-dir", "", "data directory for the embedded database (default $BATON_DATA_DIR or ./baton-data)")
	return cmd
}
