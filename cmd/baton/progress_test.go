package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProgress: long commands draw a bar on stderr when it is a terminal,
// and print nothing of the kind otherwise; stdout carries the same result
// either way.
func TestProgress(t *testing.T) {
	commands := []struct {
		name   string
		args   func(dir string) []string
		stages []string // bar descriptions a terminal sees
		stdout string
	}{
		{"nlu train", func(dir string) []string {
			return []string{"nlu", "train", "--intents", "../../nlu/nlueval/testdata/intent_train.csv", "--dir", dir}
		}, []string{"training"}, ": trained"},
		{"nlu eval", func(string) []string {
			return []string{"nlu", "eval", "--task", "intent", "--train", "../../nlu/nlueval/testdata/intent_train.csv", "--test", "../../nlu/nlueval/testdata/intent_test.csv"}
		}, []string{"training", "classifying"}, "accuracy:"},
		{"kb eval", func(string) []string {
			return []string{"kb", "eval", "--faq", "testdata/kb/faq.tsv", "--queries", "testdata/kb/queries.tsv"}
		}, []string{"importing", "searching (keyword)", "searching (vector)", "searching (hybrid)", "answering"}, "recall@1"},
		{"kb import", func(dir string) []string {
			return []string{"--config", writeConfig(t, dir, oneBotConfig), "kb", "import", "--data-dir", filepath.Join(dir, "data"), "testdata/kb/articles"}
		}, []string{"importing"}, "created      3"},
	}
	for _, c := range commands {
		for _, terminal := range []bool{true, false} {
			name := c.name + "/pipe"
			if terminal {
				name = c.name + "/terminal"
			}
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				e := &env{stdout: &stdout, stderr: &stderr, isTerminal: terminal, lookupEnv: func(string) (string, bool) { return "", false }}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				args := append([]string{"--log-level", "warn"}, c.args(t.TempDir())...)
				if code := run(ctx, args, e); code != exitOK {
					t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
				}
				if !strings.Contains(stdout.String(), c.stdout) {
					t.Errorf("stdout lacks %q:\n%s", c.stdout, stdout.String())
				}
				if strings.Contains(stdout.String(), "\r") {
					t.Errorf("progress on stdout: %q", stdout.String())
				}
				if !terminal {
					if stderr.Len() != 0 {
						t.Errorf("stderr of a pipe: %q", stderr.String())
					}
					return
				}
				for _, s := range c.stages {
					if !strings.Contains(stderr.String(), s) {
						t.Errorf("no %q bar on the terminal: %q", s, stderr.String())
					}
				}
				// The bar is erased: the terminal's last line is blank.
				cr := strings.LastIndex(stderr.String(), "\r")
				if cr < 0 {
					t.Fatalf("no bar drawn: %q", stderr.String())
				}
				last := stderr.String()[cr:]
				if strings.TrimSpace(last) != "" {
					t.Errorf("the bar is left on the terminal: %q", last)
				}
			})
		}
	}
}

func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, "baton.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
