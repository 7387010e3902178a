package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/cmd/baton/internal/config"
)

// demoConfig is the example bot's configuration, relative to the project.
const demoConfig = "examples/sportshop/baton.yaml"

func newDemoCmd(e *env, g *globalFlags) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the example bot with no configuration and no network",
		Long: `Run the example support bot (` + demoConfig + `) on the embedded SQLite
database under ./baton-data (or $BATON_DATA_DIR), with the offline language
services: no configuration, no API key and no network needed. Prints the URL to
open. --config runs another file the same way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(e)
			if err != nil {
				return err
			}
			path := g.configPath(e)
			if path == "" {
				if path, err = findDemoConfig(); err != nil {
					return err
				}
			}
			cfg, err := config.Load(path, e.lookupEnv)
			if err != nil {
				return err
			}
			if err := f.apply(cfg); err != nil {
				return err
			}
			// The demo is the embedded, offline setup whatever the
			// environment says: it must work on a laptop with no services.
			if cfg.Server.DatabaseURL != "" || cfg.OpenAI.APIKey != "" {
				log.Info("demo: ignoring the database URL and OpenAI key; the demo runs on SQLite with offline language services")
			}
			cfg.Server.DatabaseURL = ""
			cfg.OpenAI.APIKey = ""
			if cfg.Server.AdminToken == "" {
				cfg.Server.AdminToken = randomToken()
			}
			log.Info("demo configuration", "file", path)
			return serve(cmd.Context(), e, log, cfg, f, func(url string) {
				fmt.Fprintf(e.stdout, "\nBaton demo is running. Open %s/\n", url)
				fmt.Fprintf(e.stdout, "Admin API: curl -H 'Authorization: Bearer %s' %s/api/v1/conversations\n", cfg.Server.AdminToken, url)
				fmt.Fprintf(e.stdout, "Press Ctrl-C to stop.\n\n")
			})
		},
	}
	f.register(cmd)
	return cmd
}

// findDemoConfig looks for the example configuration from the working
// directory upwards, then next to the executable, so that the demo starts
// from anywhere inside a checkout and from an unpacked release.
func findDemoConfig() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, demoConfig)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", baton.Errorf(baton.ENOTFOUND, "cannot find %s above the working directory or the executable; pass --config", demoConfig)
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
