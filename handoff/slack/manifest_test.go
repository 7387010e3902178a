package slack

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// manifest is the part of a Slack app manifest the console depends on.
type manifest struct {
	Features struct {
		BotUser struct {
			DisplayName string `yaml:"display_name"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command string `yaml:"command"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot  []string `yaml:"bot"`
			User []string `yaml:"user"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			BotEvents  []string `yaml:"bot_events"`
			UserEvents []string `yaml:"user_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		SocketModeEnabled bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

// TestManifest: the example app manifest parses and grants exactly the
// scopes and events the console lists, with interactivity (the card's
// buttons), the /baton command and Socket Mode.
func TestManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "slack-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("examples/slack-manifest.yaml is not YAML: %v", err)
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"bot scopes", m.OAuthConfig.Scopes.Bot, botScopes()},
		{"user scopes", m.OAuthConfig.Scopes.User, nil},
		{"bot events", m.Settings.EventSubscriptions.BotEvents, botEvents()},
		{"user events", m.Settings.EventSubscriptions.UserEvents, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !slices.Equal(sorted(c.got), sorted(c.want)) {
				t.Errorf("manifest has %v, the console uses %v", c.got, c.want)
			}
		})
	}
	t.Run("settings", func(t *testing.T) {
		if m.Features.BotUser.DisplayName == "" {
			t.Error("no bot user: the console posts as one")
		}
		if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != Command {
			t.Errorf("slash commands %+v, want %s", m.Features.SlashCommands, Command)
		}
		if !m.Settings.Interactivity.IsEnabled {
			t.Error("interactivity is off: the card's buttons would do nothing")
		}
		if !m.Settings.SocketModeEnabled {
			t.Error("Socket Mode is off: the self-hoster's default needs it")
		}
	})
}
