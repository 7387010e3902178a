package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
)

// agentOpenTimeout bounds opening the store and one token operation.
const agentOpenTimeout = time.Minute

func newAgentCmd(e *env, g *globalFlags) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Manage agents' API tokens",
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data directory for the embedded database (default $BATON_DATA_DIR or ./"+config.DefaultDataDir+")")
	token := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke an agent's bearer tokens for the agent API",
		Long: `An agent token signs an agent in to the agent API (/api/v1) as
"Authorization: Bearer <token>". The secret is printed once, when it is made;
the database keeps only its SHA-256 digest and its first characters (the
prefix), so that a list can tell tokens apart and a leaked database leaks no
usable token.

The commands work on the configured store, chosen as "baton serve" chooses it:
--config (or $BATON_CONFIG), BATON_DATA_DIR, BATON_DATABASE_URL. With no
configuration they work on the demo's store, like "baton demo". The agent must
be in the configuration or already in the database.`,
	}
	token.AddCommand(
		newAgentTokenCreateCmd(e, g, &dataDir),
		newAgentTokenListCmd(e, g, &dataDir),
		newAgentTokenRevokeCmd(e, g, &dataDir),
	)
	cmd.AddCommand(token)
	return cmd
}

func newAgentTokenCreateCmd(e *env, g *globalFlags, dataDir *string) *cobra.Command {
	var (
		name    string
		expires string
	)
	cmd := &cobra.Command{
		Use:   "create AGENT",
		Short: "Make a token for AGENT and print its secret, once",
		Long: `Make a bearer token for AGENT and print its secret on stdout, alone on its line,
so that a script can keep it (TOKEN=$(baton agent token create maya)); what it
is and when it expires goes to stderr. The secret is not shown again. --expires
is how long it works: a duration (720h, 30d); 0 makes a token that never
expires. An agent in the configuration who is not in the database yet (the
server has not started since they were added) is saved first, as "baton serve"
would.`,
		Example: `  baton agent token create maya --name laptop
  baton agent token create maya --expires 7d`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ttl, err := parseExpires(expires)
			if err != nil {
				return err
			}
			name = strings.TrimSpace(name)
			if name == "" || len(name) > 100 {
				return baton.Errorf(baton.EINVALID, "--name: a name of 1 to 100 characters, such as laptop or cli")
			}
			return withAgentStore(cmd.Context(), e, g, *dataDir, func(ctx context.Context, s *agentStore) error {
				if err := s.ensureAgent(ctx, args[0]); err != nil {
					return err
				}
				secret, err := baton.NewTokenSecret()
				if err != nil {
					return err
				}
				t := &baton.AgentToken{AgentID: args[0], Name: name, Prefix: baton.TokenPrefix(secret), Hash: baton.HashToken(secret)}
				if ttl > 0 {
					at := time.Now().UTC().Add(ttl).Truncate(time.Second)
					t.ExpiresAt = &at
				}
				if err := s.store.CreateAgentToken(ctx, t); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, secret)
				fmt.Fprintf(e.stderr, "token %d (%s, %s…) for agent %s, %s; shown this once: the database keeps only its digest\n",
					t.ID, t.Name, t.Prefix, t.AgentID, expiryText(t.ExpiresAt))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "api", "what the token is for (laptop, console, cli), to tell tokens apart")
	cmd.Flags().StringVar(&expires, "expires", "720h", "how long the token works: a duration (720h, 30d); 0 = never expires")
	return cmd
}

func newAgentTokenListCmd(e *env, g *globalFlags, dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list AGENT",
		Short: "List AGENT's tokens: id, name, prefix, created, expires, revoked",
		Long: `List AGENT's tokens, revoked and expired ones included, oldest first: id, name,
the secret's prefix, and when each was created, expires and was revoked. Never
the secret, which is not stored, nor its digest.`,
		Example: `  baton agent token list maya`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAgentStore(cmd.Context(), e, g, *dataDir, func(ctx context.Context, s *agentStore) error {
				if err := s.knownAgent(ctx, args[0]); err != nil {
					return err
				}
				ts, err := s.store.ListAgentTokens(ctx, args[0])
				if err != nil {
					return err
				}
				if len(ts) == 0 {
					fmt.Fprintf(e.stdout, "agent %s has no token (baton agent token create %s)\n", args[0], args[0])
					return nil
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tEXPIRES\tREVOKED")
				for _, t := range ts {
					fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix, stamp(&t.CreatedAt, "-"),
						stamp(t.ExpiresAt, "never"), stamp(t.RevokedAt, "-"))
				}
				return tw.Flush()
			})
		},
	}
}

func newAgentTokenRevokeCmd(e *env, g *globalFlags, dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke AGENT TOKEN-ID",
		Short: "Revoke one of AGENT's tokens from now on",
		Long: `Revoke AGENT's token TOKEN-ID (the ID of "baton agent token list"): from now on
the API answers it with 401. Revoking a revoked token changes nothing.`,
		Example: `  baton agent token revoke maya 1`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id < 1 {
				return baton.Errorf(baton.EINVALID, "TOKEN-ID: want the positive number that \"baton agent token list %s\" shows", args[0])
			}
			return withAgentStore(cmd.Context(), e, g, *dataDir, func(ctx context.Context, s *agentStore) error {
				if err := s.knownAgent(ctx, args[0]); err != nil {
					return err
				}
				if err := s.store.RevokeAgentToken(ctx, args[0], id); err != nil {
					if baton.ErrorCode(err) == baton.ENOTFOUND {
						return baton.Errorf(baton.EINVALID, "TOKEN-ID: agent %s has no token %d (baton agent token list %s)", args[0], id, args[0])
					}
					return err
				}
				fmt.Fprintf(e.stdout, "revoked token %d of agent %s\n", id, args[0])
				return nil
			})
		},
	}
}

// parseExpires reads --expires: a Go duration or whole days ("30d"); 0 is
// never.
func parseExpires(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := baton.Errorf(baton.EINVALID, "--expires: want a duration such as 720h or 30d, or 0 for never")
	if s == "0" {
		return 0, nil
	}
	var (
		d   time.Duration
		err error
	)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, aerr := strconv.Atoi(days)
		d, err = time.Duration(n)*24*time.Hour, aerr
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

func expiryText(t *time.Time) string {
	if t == nil {
		return "never expires"
	}
	return "expires " + t.UTC().Format(time.RFC3339)
}

func stamp(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// agentStore is an open store and the configuration it came from.
type agentStore struct {
	cfg   *config.Config
	store baton.Store
}

// withAgentStore opens the configured store (as the kb commands do), runs
// fn on it within agentOpenTimeout and closes it.
func withAgentStore(ctx context.Context, e *env, g *globalFlags, dataDir string, fn func(context.Context, *agentStore) error) error {
	log, err := g.logger(e)
	if err != nil {
		return err
	}
	cfg, err := loadConfigOrDemo(e, g)
	if err != nil {
		return err
	}
	if dataDir != "" {
		cfg.Server.DataDir = dataDir
	}
	ctx, cancel := context.WithTimeout(ctx, agentOpenTimeout)
	defer cancel()
	st, _, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	return fn(ctx, &agentStore{cfg: cfg, store: st})
}

// knownAgent checks that id is an agent of the database or the
// configuration; any other id is bad input naming the agents there are.
func (s *agentStore) knownAgent(ctx context.Context, id string) error {
	_, err := s.configured(ctx, id)
	return err
}

// ensureAgent is knownAgent that also saves a configured agent missing from
// the database, as "baton serve" does at start, so that a token can be
// made before the server first runs with them.
func (s *agentStore) ensureAgent(ctx context.Context, id string) error {
	a, err := s.configured(ctx, id)
	if err != nil || a == nil {
		return err
	}
	if err := s.store.UpsertAgent(ctx, a); err != nil {
		return baton.WrapError(baton.ErrorCode(err), err, "save agent "+id)
	}
	return nil
}

// configured returns nil when agent id is in the database, the configured
// agent when only the configuration has them, and EINVALID when neither.
func (s *agentStore) configured(ctx context.Context, id string) (*baton.Agent, error) {
	_, err := s.store.GetAgent(ctx, id)
	if err == nil {
		return nil, nil
	}
	if baton.ErrorCode(err) != baton.ENOTFOUND {
		return nil, err
	}
	known := map[string]bool{}
	for _, a := range s.cfg.DomainAgents() {
		if a.ID == id {
			return &a, nil
		}
		known[a.ID] = true
	}
	stored, err := s.store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range stored {
		known[a.ID] = true
	}
	ids := make([]string, 0, len(known))
	for k := range known {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "AGENT: no agent %q: there is no agent in the configuration or the database (add one under agents)", id)
	}
	return nil, baton.Errorf(baton.EINVALID, "AGENT: no agent %q in the configuration or the database (agents: %s)", id, strings.Join(ids, ", "))
}
