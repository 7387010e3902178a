package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/nlu"
)

// TestBotConfigurationProblems: what only the analyser and the intents
// file can tell is reported as configuration problems with their paths,
// before anything starts.
func TestBotConfigurationProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("broken.yaml", "intents: [ {name: a, examples: [x]\n")
	write("intents.yaml", "intents:\n  - name: order_status\n    examples: [where is my order, track my parcel]\n  - name: refunds\n    examples: [refund please, money back]\n")
	tests := []struct {
		name string
		bot  string
		want []string
	}{
		{"an intents file that does not parse", `
    nlu: {intents: broken.yaml}`, []string{"bots[0].nlu.intents: "}},
		{"a topic, an action and small talk naming intents the file does not have", `
    nlu: {intents: intents.yaml}
    escalation:
      topics: [{intent: fraud}]
    small_talk: {hello: greeting}
    actions:
      - name: cancel
        intent: cancel_order
        request: {url: "http://127.0.0.1:9/cancel"}
        reply: {en: "Done."}`, []string{
			`bots[0].escalation.topics[0].intent: no intent "fraud" in intents.yaml`,
			`bots[0].actions[0].intent: no intent "cancel_order" in intents.yaml`,
			`bots[0].small_talk.hello: no intent "hello" in intents.yaml`,
		}},
		{"a language the bot has no texts for", `
    languages: [en, de]`, []string{"bots[0].texts: texts.de: no built-in texts for this language"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := "bots:\n  - id: shop" + tc.bot + "\n"
			if !strings.Contains(tc.bot, "languages:") {
				body = "bots:\n  - id: shop\n    languages: [en]" + tc.bot + "\n"
			}
			path := write("baton.yaml", body)
			cfg, err := config.Load(path, config.MapEnv(nil))
			if err != nil {
				t.Fatalf("the file itself should load: %v", err)
			}
			_, err = app.New(context.Background(), cfg, app.Options{Store: stores()[0].Open(t, nil)})
			var ce *config.Error
			if !errors.As(err, &ce) || baton.ErrorCode(err) != baton.EINVALID || ce.File != path {
				t.Fatalf("error %v, want a configuration error of %s", err, path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestNewAnalyzerShared: Options.NewAnalyzer builds each bot's analyser
// in place of nlu.New, with the bot's languages and intents, so that an
// eval run builds it once and every case's app shares it; its error is
// the app's.
func TestNewAnalyzerShared(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "baton.yaml")
	if err := os.WriteFile(filepath.Join(dir, "intents.yaml"), []byte("intents:\n  - name: refunds\n    examples: [refund please, money back]\n  - name: orders\n    examples: [where is my order, track my parcel]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("bots:\n  - id: shop\n    languages: [en, tr]\n    nlu: {intents: intents.yaml}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, config.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	var built *nlu.Analyzer
	var calls []string
	shared := func(ctx context.Context, bot string, c nlu.Config) (*nlu.Analyzer, error) {
		calls = append(calls, fmt.Sprintf("%s %v %d", bot, c.Languages, len(c.Intents)))
		if built == nil {
			var err error
			if built, err = nlu.New(ctx, c); err != nil {
				return nil, err
			}
		}
		return built, nil
	}
	for range 2 {
		if _, err := app.New(context.Background(), cfg, app.Options{Store: stores()[0].Open(t, nil), NewAnalyzer: shared}); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(calls, "; ") != "shop [en tr] 2; shop [en tr] 2" {
		t.Errorf("NewAnalyzer calls: %v", calls)
	}
	refused := func(context.Context, string, nlu.Config) (*nlu.Analyzer, error) {
		return nil, baton.Errorf(baton.EINVALID, "no model")
	}
	_, err = app.New(context.Background(), cfg, app.Options{Store: stores()[0].Open(t, nil), NewAnalyzer: refused})
	if err == nil || !strings.Contains(err.Error(), "bots[0].nlu: no model") {
		t.Errorf("a refused analyser: %v", err)
	}
}
