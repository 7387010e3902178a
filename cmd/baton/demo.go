package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
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
open. --config runs another file the same way.

The example bot's order-status action calls the order API at $` + orderAPIEnv + `;
unless that is set, the demo serves the fictional orders of ` + demoOrdersFile + ` (next to
the configuration file) itself, on a loopback port, and points the action at it.`,
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
			// The order API starts before the configuration is read: the
			// configuration names its address.
			lookup, orders, err := withDemoOrders(e, filepath.Dir(path))
			if err != nil {
				return err
			}
			if orders != nil {
				defer orders.Stop()
			}
			cfg, err := config.Load(path, lookup)
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
			ln, err := listen(cfg.Server.Addr)
			if err != nil {
				return err
			}
			if cfg.Server.AdminToken == "" {
				if cfg.Server.AdminToken, err = demoAdminToken(cfg, log); err != nil {
					_ = ln.Close()
					return err
				}
			}
			// The inbox link: a token of the demo agent's, made before the
			// server starts (the secret is only in the printed link; the
			// database keeps its digest).
			agent, secret, err := demoAgentToken(cmd.Context(), cfg, log)
			if err != nil {
				_ = ln.Close()
				return err
			}
			log.Info("demo configuration", "file", path)
			return serve(cmd.Context(), e, log, cfg, f, ln, func(url string) {
				if orders != nil {
					// Logged once the server listens, so that the first
					// address in the log is the one to open.
					log.Info("demo: order API serving the example orders", "file", filepath.Join(filepath.Dir(path), demoOrdersFile),
						"orders", len(orders.IDs), "url", orders.URL)
				}
				fmt.Fprintf(e.stdout, "\nBaton demo is running. Open %s/\n", url)
				if orders != nil {
					fmt.Fprintf(e.stdout, "Orders to ask about: %s\n", strings.Join(orders.IDs, ", "))
				}
				if secret != "" {
					fmt.Fprintf(e.stdout, "Agent inbox, signed in as %s: %s/console#token=%s\n", agent, url, secret)
				}
				fmt.Fprintf(e.stdout, "Admin API: curl -H 'Authorization: Bearer %s' %s/api/v1/conversations\n", cfg.Server.AdminToken, url)
				fmt.Fprintf(e.stdout, "Press Ctrl-C to stop.\n\n")
			})
		},
	}
	f.register(cmd)
	return cmd
}

// The demo's agent: the example's maya, else the first configured agent.
const (
	demoAgent     = "maya"
	demoTokenName = "demo inbox"
	demoTokenLife = 7 * 24 * time.Hour
)

// demoAgentToken makes a token for the demo's agent, so that the printed
// link signs them in to the inbox, and revokes the tokens earlier starts
// made: only the newest link works. It returns "" when the configuration
// has no agent.
func demoAgentToken(ctx context.Context, cfg *config.Config, log *slog.Logger) (agent, secret string, err error) {
	agents := cfg.DomainAgents()
	if len(agents) == 0 {
		return "", "", nil
	}
	agent = agents[0].ID
	for _, a := range agents {
		if a.ID == demoAgent {
			agent = a.ID
		}
	}
	ctx, cancel := context.WithTimeout(ctx, agentOpenTimeout)
	defer cancel()
	st, _, err := openStore(ctx, cfg, log)
	if err != nil {
		return "", "", err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	if err := st.Migrate(ctx); err != nil {
		return "", "", baton.WrapError(baton.ErrorCode(err), err, "migrate")
	}
	s := &agentStore{cfg: cfg, store: st}
	if err := s.ensureAgent(ctx, agent); err != nil {
		return "", "", err
	}
	old, err := st.ListAgentTokens(ctx, agent)
	if err != nil {
		return "", "", err
	}
	for _, t := range old {
		if t.Name == demoTokenName && t.RevokedAt == nil {
			if err := st.RevokeAgentToken(ctx, agent, t.ID); err != nil {
				return "", "", err
			}
		}
	}
	if secret, err = baton.NewTokenSecret(); err != nil {
		return "", "", err
	}
	expires := time.Now().UTC().Add(demoTokenLife).Truncate(time.Second)
	t := &baton.AgentToken{AgentID: agent, Name: demoTokenName, Prefix: baton.TokenPrefix(secret), Hash: baton.HashToken(secret), ExpiresAt: &expires}
	if err := st.CreateAgentToken(ctx, t); err != nil {
		return "", "", err
	}
	log.Info("demo: inbox token made", "agent", agent, "token_id", t.ID, "prefix", t.Prefix, "expires_at", expires)
	return agent, secret, nil
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

// adminTokenFile keeps the demo's admin token in its data directory.
const adminTokenFile = "admin-token"

// demoAdminToken returns the admin token kept in the data directory, made
// up and saved (mode 0600) on the first start, so that the curl line the
// demo prints keeps working across restarts on the same data. A token file
// others could read is no secret any more: it is replaced, and the old
// token stops working.
func demoAdminToken(cfg *config.Config, log *slog.Logger) (string, error) {
	dir, err := dataDir(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, adminTokenFile)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info("demo: admin token saved for the next starts", "file", path)
		return saveAdminToken(dir, path)
	case err != nil:
		return "", baton.Errorf(baton.EINTERNAL, "admin token: %w", err)
	case !fi.Mode().IsRegular():
		return "", baton.Errorf(baton.EINVALID, "admin token: %s is not a regular file; remove it and start again", path)
	case fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows":
		log.Warn("demo: the admin token file was readable by others; it is replaced by a new token", "file", path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
		return saveAdminToken(dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", baton.Errorf(baton.EINTERNAL, "admin token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < config.MinAdminTokenLen || strings.ContainsFunc(tok, unicode.IsSpace) {
		log.Warn("demo: the admin token file does not hold a usable token; it is replaced by a new token", "file", path)
		return saveAdminToken(dir, path)
	}
	return tok, nil
}

// saveAdminToken writes a new token through a temporary file (created
// 0600) and a rename: a crash never leaves half a token, nor a moment when
// the file is readable by others.
func saveAdminToken(dir, path string) (string, error) {
	tok := randomToken()
	tmp, err := os.CreateTemp(dir, ".admin-token-*")
	if err != nil {
		return "", baton.Errorf(baton.EINTERNAL, "admin token: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(tok + "\n"); err != nil {
		tmp.Close()
		return "", baton.Errorf(baton.EINTERNAL, "admin token: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", baton.Errorf(baton.EINTERNAL, "admin token: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", baton.Errorf(baton.EINTERNAL, "admin token: %w", err)
	}
	return tok, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
