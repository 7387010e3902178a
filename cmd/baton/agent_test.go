package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres/pgtest"
)

const agentsConfig = `bots:
  - id: shop
    languages: [en]
agents:
  - id: ann
    name: Ann
    capacity: {webchat: 2}
  - id: bob
    name: Bob
    capacity: {webchat: 2}
`

// agent runs "baton --config <cfg> agent token ARGS" in process on the
// world's store.
func (w *kbWorld) agent(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, lookupEnv: func(k string) (string, bool) {
		switch {
		case k == "BATON_DATA_DIR":
			return w.data, true
		case k == "BATON_DATABASE_URL" && w.databaseURL != "":
			return w.databaseURL, true
		}
		return "", false
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, append([]string{"--config", w.cfg, "--log-level", "warn", "agent", "token"}, args...), e)
	return code, out.String(), errb.String()
}

// tokens lists ann's and bob's stored tokens.
func (w *kbWorld) tokens(t *testing.T) []*baton.AgentToken {
	t.Helper()
	st := w.store(t)
	var out []*baton.AgentToken
	for _, a := range []string{"ann", "bob"} {
		ts, err := st.ListAgentTokens(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ts...)
	}
	return out
}

// TestAgentToken: create prints the secret once and stores its digest
// (the API's lookup finds it), list shows every token without secret or
// digest, revoke makes it refused; bad input changes nothing, exit 2.
func TestAgentToken(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testAgentToken(t, "") })
	t.Run("postgres", func(t *testing.T) { testAgentToken(t, pgtest.Schema(t)) })
}

func testAgentToken(t *testing.T, databaseURL string) {
	w := newKBWorld(t, agentsConfig)
	w.databaseURL = databaseURL
	ctx := context.Background()

	// ann is configured but the server never ran: create saves her first.
	before := time.Now().UTC()
	code, out, errOut := w.agent(t, "create", "ann", "--name", "laptop", "--expires", "2d")
	if code != exitOK {
		t.Fatalf("create: exit %d\n%s%s", code, out, errOut)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, baton.TokenSecretPrefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout %q, want the secret alone on its line", out)
	}
	if !strings.Contains(errOut, "token 1 (laptop, "+baton.TokenPrefix(secret)+"…) for agent ann, expires ") || strings.Contains(errOut, secret) {
		t.Errorf("stderr %q", errOut)
	}
	agent, tok, err := w.store(t).AgentByToken(ctx, baton.HashToken(secret))
	if err != nil {
		t.Fatalf("the API's lookup does not find the new token: %v", err)
	}
	if agent.ID != "ann" || agent.Name != "Ann" || tok.Name != "laptop" || tok.ExpiresAt == nil ||
		tok.ExpiresAt.Before(before.Add(48*time.Hour-time.Second)) || tok.ExpiresAt.After(time.Now().Add(48*time.Hour)) {
		t.Errorf("agent %+v token %+v, want ann's laptop token expiring in 2 days", agent, tok)
	}

	if code, out, errOut := w.agent(t, "create", "ann", "--name", "cli", "--expires", "0"); code != exitOK {
		t.Fatalf("create for ever: exit %d\n%s%s", code, out, errOut)
	}

	list := func() string {
		t.Helper()
		code, out, errOut := w.agent(t, "list", "ann")
		if code != exitOK {
			t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
		}
		if strings.Contains(out, secret) || strings.Contains(out, hex.EncodeToString(baton.HashToken(secret))) {
			t.Fatalf("list shows the secret or its digest:\n%s", out)
		}
		return out
	}
	out = list()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME PREFIX CREATED EXPIRES REVOKED" {
		t.Fatalf("list:\n%s", out)
	}
	laptop, cli := strings.Fields(lines[1]), strings.Fields(lines[2])
	if laptop[0] != "1" || laptop[1] != "laptop" || laptop[2] != baton.TokenPrefix(secret)+"…" || laptop[5] != "-" {
		t.Errorf("laptop row %q", lines[1])
	}
	if cli[0] != "2" || cli[1] != "cli" || cli[4] != "never" || cli[5] != "-" {
		t.Errorf("cli row %q", lines[2])
	}

	if code, out, errOut := w.agent(t, "revoke", "ann", "1"); code != exitOK || out != "revoked token 1 of agent ann\n" {
		t.Fatalf("revoke: exit %d\n%s%s", code, out, errOut)
	}
	_, _, err = w.store(t).AgentByToken(ctx, baton.HashToken(secret))
	if baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked token: %v, want unauthorized, revoked", err)
	}
	if row := strings.Fields(strings.Split(list(), "\n")[1]); row[5] == "-" {
		t.Errorf("the list does not show the revocation: %q", row)
	}
	if code, _, errOut := w.agent(t, "revoke", "ann", "1"); code != exitOK {
		t.Errorf("revoking again: exit %d: %s", code, errOut)
	}

	stored := len(w.tokens(t))
	bad := []struct {
		name string
		args []string
		want string
	}{
		{"unknown agent", []string{"create", "ghost"}, `no agent "ghost" in the configuration or the database (agents: ann, bob)`},
		{"expiry not a duration", []string{"create", "ann", "--expires", "soon"}, "--expires: want a duration"},
		{"negative expiry", []string{"create", "ann", "--expires", "-1h"}, "--expires: want a duration"},
		{"empty name", []string{"create", "ann", "--name", " "}, "--name:"},
		{"no agent", []string{"create"}, "accepts 1 arg(s)"},
		{"token id not a number", []string{"revoke", "ann", "first"}, "TOKEN-ID: want the positive number"},
		{"another agent's token", []string{"revoke", "bob", "2"}, "agent bob has no token 2"},
		{"list of an unknown agent", []string{"list", "ghost"}, `no agent "ghost"`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := w.agent(t, tc.args...)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", code, errOut, exitBadInput, tc.want)
			}
			if out != "" && !strings.HasPrefix(out, "Usage") {
				t.Errorf("stdout %q", out)
			}
			if n := len(w.tokens(t)); n != stored {
				t.Errorf("%d tokens after bad input, want %d", n, stored)
			}
		})
	}
	// Only create saves a configured agent; list and revoke read.
	if _, err := w.store(t).GetAgent(ctx, "bob"); baton.ErrorCode(err) != baton.ENOTFOUND {
		t.Errorf("bob: %v, want not saved by list or revoke", err)
	}
	if code, out, _ := w.agent(t, "list", "bob"); code != exitOK || !strings.Contains(out, "agent bob has no token") {
		t.Errorf("list of an agent without tokens: exit %d: %s", code, out)
	}
}
