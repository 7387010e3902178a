package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
)

// evalTree is the command tree with the eval subcommands this file's
// commands add, whether or not "eval" is registered on the root yet, and
// the usage rules every command gets.
func evalTree(e *env, sub ...func(*env, *globalFlags) *cobra.Command) *cobra.Command {
	g := &globalFlags{}
	root := newCommandTree(e, g)
	var eval *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "eval" {
			eval = c
		}
	}
	if eval == nil {
		eval = &cobra.Command{Use: "eval", Short: "Eval runs"}
		root.AddCommand(eval)
	}
	for _, mk := range sub {
		c := mk(e, g)
		if found, _, err := eval.Find([]string{c.Name()}); err == nil && found != eval {
			continue // registered already
		}
		eval.AddCommand(c)
	}
	strictUsage(root)
	return root
}

// runEvalTree runs "baton eval ARGS" in process.
func runEvalTree(t *testing.T, lookup func(string) (string, bool), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	e := &env{stdout: &out, stderr: &errb, lookupEnv: lookup}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root := evalTree(e,
		func(e *env, _ *globalFlags) *cobra.Command { return newEvalCompareCmd(e) },
		newEvalCaptureCmd,
	)
	code = runRoot(ctx, root, append([]string{"eval"}, args...), e)
	return code, out.String(), errb.String()
}

func TestEvalCompareCommand(t *testing.T) {
	a, b := "../../evals/testdata/report_a.json", "../../evals/testdata/report_b.json"
	dir := t.TempDir()
	v2 := filepath.Join(dir, "v2.json")
	if err := os.WriteFile(v2, []byte(`{"version": 2, "suite": "sportshop", "metrics": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runEvalTree(t, nil, "compare", a, b)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"A: " + a, "case.pass_rate", "worse", "broken: passed in A, fail in B (1)", "human-please-tr", "fixed: failed in A, pass in B (1)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}

	code, out, errs = runEvalTree(t, nil, "compare", a, b, "--json")
	if code != exitOK {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	var c struct {
		Metrics []struct{ Metric, Change string }
		Broken  []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || len(c.Metrics) == 0 || len(c.Broken) != 1 || c.Broken[0].ID != "human-please-tr" {
		t.Fatalf("--json: %v\n%s", err, out)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"another version", []string{"compare", a, v2}, "is of report version 2; this baton reads version 1"},
		{"missing file", []string{"compare", a, filepath.Join(dir, "nope.json")}, "nope.json: no such file"},
		{"one argument", []string{"compare", a}, "accepts 2 arg(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runEvalTree(t, nil, tc.args...)
			if code != exitBadInput || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", code, errs, exitBadInput, tc.want)
			}
			if out != "" {
				t.Errorf("output on error: %s", out)
			}
		})
	}
}

// TestEvalCaptureCommand captures a conversation from the configured
// SQLite store, to stdout and to a new file; an unknown id, a bad id and
// an existing --out file are bad input (exit 2) and write nothing.
func TestEvalCaptureCommand(t *testing.T) {
	dir := t.TempDir()
	cfg, data := filepath.Join(dir, "baton.yaml"), filepath.Join(dir, "data")
	if err := os.WriteFile(cfg, []byte(oneBotConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelSMS, Address: "+15551234567"}, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelSMS, Address: "+15551234567", Language: "en"}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	m := &baton.Message{ConversationID: conv.ID, BotID: "shop", Channel: baton.ChannelSMS, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "Where is my order? Text me at +1 555 987 6543"}
	if _, err := st.InsertMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertDecision(ctx, &baton.Decision{ConversationID: conv.ID, MessageID: m.ID, Action: baton.ActionAction, Detail: "order_status",
		Analysis: &baton.DecisionAnalysis{Language: "en", Intent: "order_status", IntentConfidence: 0.9}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	lookup := func(k string) (string, bool) {
		if k == "BATON_DATA_DIR" {
			return data, true
		}
		return "", false
	}
	capture := func(args ...string) (int, string, string) {
		return runEvalTree(t, lookup, append([]string{"--config", cfg, "--log-level", "warn", "capture"}, args...)...)
	}
	id := strconv.FormatInt(conv.ID, 10)
	code, out, errs := capture(id)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"id: captured-" + id, "channel: sms", `customer: "Where is my order? Text me at [PHONE]"`, "intent: order_status # review:", "outcome: bot_resolved # review:"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "555") {
		t.Errorf("a phone number in the case:\n%s", out)
	}

	file := filepath.Join(dir, "case.yaml")
	if code, out, errs := capture(id, "--out", file, "--id", "order-sms"); code != exitOK || out != "" {
		t.Fatalf("--out: exit %d, stdout %q, stderr %s", code, out, errs)
	}
	written, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(written), "id: order-sms") {
		t.Fatalf("--out file: %v\n%s", err, written)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown id", []string{"999"}, "CONVERSATION_ID: no conversation 999 in sqlite " + filepath.Join(data, sqliteFile)},
		{"not a number", []string{"abc"}, `CONVERSATION_ID: want a conversation's positive number`},
		{"existing file", []string{id, "--out", file}, "case.yaml exists; capture writes a new file"},
		{"no id", nil, "accepts 1 arg(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := capture(tc.args...)
			if code != exitBadInput || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", code, errs, exitBadInput, tc.want)
			}
			if out != "" {
				t.Errorf("output on error: %s", out)
			}
		})
	}
	if again, _ := os.ReadFile(file); string(again) != string(written) {
		t.Error("the existing --out file changed")
	}
}
