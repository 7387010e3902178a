package app

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/store/sqlite"
)

// TestSyncAgentsKeepsStatus: a restart updates what the configuration says
// about an agent and keeps what happened at run time.
func TestSyncAgentsKeepsStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Load("testdata/agents.yaml", config.MapEnv(map[string]string{"TEST_ADMIN_TOKEN": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	agents := cfg.DomainAgents()
	if err := syncAgents(ctx, st, agents); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAgentStatus(ctx, "ana", baton.AgentOnline); err != nil {
		t.Fatal(err)
	}
	agents = cfg.DomainAgents()
	agents[0].Name = "Ana Lima"
	if err := syncAgents(ctx, st, agents); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetAgent(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"status survives a restart", string(got.Status), string(baton.AgentOnline)},
		{"configuration is applied", got.Name, "Ana Lima"},
		{"capacity from configuration", strconv.Itoa(got.Capacity[baton.ChannelWebChat]), "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	fresh := cfg.DomainAgents()
	fresh[0].ID = "new"
	if err := syncAgents(ctx, st, fresh[:1]); err != nil {
		t.Fatal(err)
	}
	if a, err := st.GetAgent(ctx, "new"); err != nil || a.Status != baton.AgentOffline {
		t.Errorf("a new agent = %+v, %v; want offline", a, err)
	}
}
