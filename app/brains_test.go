package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
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
			_, err = app.New(context.Background(), cfg, app.Options{Store: stores()[0].open(t, nil)})
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
