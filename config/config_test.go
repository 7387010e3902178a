package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/limit"
)

func TestLoadValid(t *testing.T) {
	env := MapEnv(map[string]string{
		"ADMIN_TOKEN": "0123456789abcdef-admin",
		"WA_TOKEN":    "wa-access",
		"WA_SECRET":   "wa: secret # with yaml syntax",
		"OPENAI_KEY":  "",
	})
	cfg, err := Load("testdata/valid.yaml", env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"addr from file", cfg.Server.Addr, "127.0.0.1:9090"},
		{"data dir default", cfg.Server.DataDir, DefaultDataDir},
		{"secret from env", cfg.Server.AdminToken, "0123456789abcdef-admin"},
		{"secret with yaml syntax kept verbatim", cfg.Bots[0].Channels.WhatsApp.AppSecret, "wa: secret # with yaml syntax"},
		{"numeric id read as text", cfg.Bots[0].Channels.WhatsApp.PhoneNumberID, "1234567890"},
		{"empty env with empty default", cfg.OpenAI.APIKey, ""},
		{"default used when unset", cfg.Slack.BotToken, "xoxb-default"},
		{"openai timeout", cfg.OpenAI.Timeout.Value(), 20 * time.Second},
		{"done jobs kept", cfg.Server.KeepDoneJobs.Value(), 3 * 24 * time.Hour},
		{"dead jobs kept: unset means the pool's default", cfg.Server.KeepDeadJobs.Value(), time.Duration(0)},
		{"reopen window in days", cfg.DomainBots()[0].ReopenAfter, 7 * 24 * time.Hour},
		{"bot queues", strings.Join(cfg.DomainBots()[0].Queues, ","), "general,billing"},
		{"queue default priority", cfg.DomainQueues()[0].Priority, baton.PriorityNormal},
		{"queue priority", cfg.DomainQueues()[1].Priority, baton.PriorityHigh},
		{"sla urgent target", cfg.DomainQueues()[0].SLA.FirstResponse[baton.PriorityUrgent], 15 * time.Minute},
		{"sla warn ratio", cfg.DomainQueues()[0].SLA.WarnRatio, 0.75},
		{"sla default warn ratio", cfg.DomainQueues()[1].SLA.WarnRatio, 0.8},
		{"fallback", cfg.DomainQueues()[0].Fallback, "billing"},
		{"agent capacity", cfg.DomainAgents()[0].Capacity[baton.ChannelWebChat], 5},
		{"agent status is not configuration", cfg.DomainAgents()[0].Status, baton.AgentStatus("")},
		{"kb dir resolved against the file", cfg.Resolve(cfg.Bots[0].KB.Dir), mustAbs(t, "testdata/kb")},
		{"sqlite by default", cfg.UsesPostgres(), false},
		{"rate", cfg.Server.Limits.WebChatPostsPerVisitor.Value(), limit.Rate{N: 5, Per: 30 * time.Second}},
		{"rate off", cfg.Server.Limits.WebChatPostsPerAddress.Value().Off(), true},
		{"rate in days", cfg.Server.Limits.FailedAuthPerAddress.Value(), limit.Rate{N: 1000, Per: 7 * 24 * time.Hour}},
		{"bot turns reserved for the bot", cfg.Server.Limits.BotTurnsPerConversation.Value(), limit.Rate{N: 4, Per: time.Minute}},
		{"count off", cfg.Server.Limits.WebChatStreamsTotal.Value(), 0},
		{"count default", cfg.Server.Limits.WebChatStreamsPerVisitor.Value(), 3},
		{"trusted proxies", cfg.Server.Proxies() != nil, true},
		{"csat of bot-resolved conversations", cfg.Bots[0].CSAT.BotResolved, true},
		{"csat comment window", cfg.Bots[0].CSAT.CommentWindow.Value(), 15 * time.Minute},
		{"csat answer window unset", cfg.Bots[0].CSAT.AnswerWindow.Value(), time.Duration(0)},
		{"csat template", cfg.Bots[0].CSAT.Template, Template{Name: "csat_rating", Language: "en_US"}},
		{"csat text", cfg.Bots[0].CSAT.Texts["tr"]["rating_5"], "5 – Harika"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := MapEnv(map[string]string{
		"ADMIN_TOKEN":          "0123456789abcdef-admin",
		"WA_TOKEN":             "t",
		"WA_SECRET":            "s",
		"BATON_ADDR":           "0.0.0.0:7000",
		"BATON_DATA_DIR":       "/var/lib/baton",
		"BATON_DATABASE_URL":   "postgres://baton@db/baton",
		"BATON_PUBLIC_URL":     "https://proxy.example.com",
		"OPENAI_API_KEY":       "sk-env",
		"OPENAI_BASE_URL":      "http://127.0.0.1:11434/v1",
		"SLACK_BOT_TOKEN":      "xoxb-env",
		"SLACK_APP_TOKEN":      "xapp-env",
		"SLACK_SIGNING_SECRET": "signing-env",
	})
	cfg, err := Load("testdata/valid.yaml", env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct{ name, got, want string }{
		{"addr", cfg.Server.Addr, "0.0.0.0:7000"},
		{"data dir", cfg.Server.DataDir, "/var/lib/baton"},
		{"database", cfg.Server.DatabaseURL, "postgres://baton@db/baton"},
		{"public url", cfg.Server.PublicURL, "https://proxy.example.com"},
		{"openai key", cfg.OpenAI.APIKey, "sk-env"},
		{"openai base", cfg.OpenAI.BaseURL, "http://127.0.0.1:11434/v1"},
		{"slack bot", cfg.Slack.BotToken, "xoxb-env"},
		{"slack app", cfg.Slack.AppToken, "xapp-env"},
		{"slack signing", cfg.Slack.SigningSecret, "signing-env"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	if !cfg.UsesPostgres() {
		t.Error("a postgres:// URL must select PostgreSQL")
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	tests := []struct {
		file   string
		env    map[string]string
		want   []string // "path: reason fragment", in order
		secret string   // a value no problem may repeat
	}{
		{
			file: "three_mistakes.yaml",
			want: []string{
				"server.adress: unknown field (line 4)",
				"bots[0].languages[1]: \"english\" is not an ISO 639-1 language code",
				"bots[0].channels.whatsapp.app_secret: required",
			},
		},
		{
			file: "references.yaml",
			want: []string{
				"server.keep_done_jobs: not a duration",
				"server.keep_dead_jobs: must be positive",
				"bots[0].kb.dir: no-such-dir does not exist",
				"bots[0].escalation.wants_human.off: the escape hatch cannot be turned off",
				"bots[0].escalation.negative_sentiment.threshold: must be between -1 and 1, got -3",
				"bots[0].escalation.negative_sentiment.count: not a setting of negative_sentiment",
				"bots[0].escalation.loop.similarity: must be above 0 and at most 1, got 0",
				"bots[0].escalation.topics[0].intent: required",
				"bots[0].escalation.topics[0].priority: must be low, normal, high or urgent; got \"asap\"",
				"bots[0].escalation.spam.senders[0]: not a valid sender pattern",
				"bots[0].escalation.spam.patterns[0]: not a valid regular expression",
				"bots[0].texts.de: not one of the bot's languages",
				"bots[0].texts.en.greeting: empty",
				"bots[0].texts.en.hello: unknown text",
				"bots[0].small_talk.greeting: \"salute\" is not a text",
				"bots[0].follow_up: not a duration",
				"bots[0].actions[0].slots[0].pattern: not a valid regular expression",
				"bots[0].actions[0].slots[0].entity: must be order_number, email, phone or amount; got \"passport\"",
				"bots[0].actions[0].slots[0].prompt: no en text: the bot's default language is required",
				"bots[0].actions[0].slots[0].prompt.tr: not one of the bot's languages",
				"bots[0].actions[0].request.method: must be GET, POST, PUT, PATCH or DELETE; got \"FETCH\"",
				"bots[0].actions[0].request.url: not a valid template",
				"bots[0].actions[0].request.timeout: not a duration",
				"bots[0].actions[0].reply.en: not a valid template",
				"bots[0].reopen_window: not a duration",
				"bots[1].id: \"shop\" is already used by bots[0]",
				"queues[0].bot: no bot with id \"ghost\"",
				"queues[0].priority: must be one of low, normal, high, urgent",
				"queues[0].sla.first_response.normal: not a duration",
				"queues[0].hours: timezone: \"Mars/Olympus\" is not an IANA time zone",
				"queues[0].sla.fallback_queue: required when breach_action is reroute",
				"bots[0].escalation.queue: no queue with id \"nowhere\"",
				"bots[0].escalation.negative_sentiment.queue: no queue with id \"elsewhere\"",
				"agents[0].id: \"Bad Id\" is not a valid id",
				"agents[0].email: not an e-mail address",
				"agents[0].skills[0]: \"french\" is not a skill of any queue",
				"agents[0].capacity.telegram: unknown channel kind",
				"agents[0].capacity.webchat: must not be negative",
			},
		},
		{
			file: "types.yaml",
			want: []string{
				"server.addr: expected a single value (line 3)",
				"bots[0].languages: expected a list (line 6)",
				"bots[0].escalation.max_turns.count: expected a whole number, got \"many\"",
				"bots[0].channels.messenger.page_access_token: environment variable PAGE_TOKEN is not set",
			},
		},
		{
			file: "channels.yaml",
			env:  map[string]string{"TWILIO_TOKEN": ""},
			want: []string{
				"slack.bot_token: must be a bot token",
				"slack.signing_secret: required unless slack.app_token selects Socket Mode",
				"bots[0].channels.messenger.page_access_token: required",
				"bots[0].channels.messenger.app_secret: required",
				"bots[0].channels.messenger.verify_token: required",
				"bots[0].channels.twilio.auth_token: required",
				"bots[0].channels.twilio.from: must be an E.164 number",
				"bots[0].channels.twilio.api_base: must be an absolute http(s) URL",
				"bots[0].channels.webchat.identity_secret: too short",
			},
		},
		{
			file: "shared_channels.yaml",
			want: []string{
				"bots[0].channels.whatsapp.api_base: must be an absolute http(s) URL, not ftp:",
				"bots[2].channels.messenger.page_id: must be the Page's numeric id",
				"bots[1].channels.whatsapp.phone_number_id: is bots[0]'s too",
				"bots[1].channels.messenger.page_id: is bots[0]'s too",
				"bots[1].channels.twilio.from: is bots[0]'s too",
			},
			secret: "s3cret-password",
		},
		{
			file: "limits.yaml",
			want: []string{
				"server.limits.webchat_posts_per_visitor: not a rate (\"20 per minute\"); write <count>/<duration>",
				"server.limits.webchat_posts_per_address: not a rate",
				"server.limits.failed_auth_per_address: not a rate",
				"server.limits.bot_turns_per_conversation: not a rate (\"6\")",
				"server.limits.webchat_streams_per_visitor: not a count (\"many\")",
				"server.limits.webchat_streams_total: not a count",
				"server.trusted_proxies[1]: \"proxy.internal\" is not an IP address or CIDR range",
				"server.proxy_header: \"X Forwarded\" is not an HTTP header name",
			},
		},
		{
			file: "csat.yaml",
			want: []string{
				"bots[0].csat.bot_resolved: the survey is off (csat.off): nothing is surveyed",
				"bots[0].csat.answer_window: not a duration",
				"bots[0].csat.comment_window: must be positive",
				"bots[0].csat.template: name and language go together",
				"bots[0].csat.texts.de: not one of the bot's languages",
				"bots[0].csat.texts.en.ask: empty",
				"bots[0].csat.texts.en.please: unknown text; the texts are ask, sms_ask, list_button",
				"bots[0].csat.texts.en.rating_5: 23 characters; a button title takes at most 20",
				"bots[1].csat.template: only WhatsApp sends a template, and the bot has no WhatsApp channel",
			},
		},
		{
			file: "not_yaml.yaml",
			want: []string{"(file): not valid YAML"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tc.file), MapEnv(tc.env))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load returned %v, want *config.Error", err)
			}
			if code := baton.ErrorCode(err); code != baton.EINVALID {
				t.Errorf("error code %q, want %q", code, baton.EINVALID)
			}
			got := cerr.Problems
			if len(got) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(got), len(tc.want), got.Error())
			}
			for i := 0; i < len(got) && i < len(tc.want); i++ {
				if !strings.HasPrefix(got[i].String(), tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i].String(), tc.want[i])
				}
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the problems repeat a secret:\n%s", err)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name the file", err.Error())
			}
		})
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	cfg, err := Load("testdata/anchors.yaml", MapEnv(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	qs := cfg.DomainQueues()
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"two queues", len(qs), 2},
		{"own key wins over the merged one", qs[1].ID, "vip"},
		{"merged bot", qs[1].BotID, "shop"},
		{"merged skills", strings.Join(qs[1].Skills, ","), "en"},
		{"own priority", qs[1].Priority, baton.PriorityUrgent},
		{"base keeps its default priority", qs[0].Priority, baton.PriorityNormal},
		{"aliased SLA", qs[1].SLA.FirstResponse[baton.PriorityNormal], 4 * time.Hour},
		{"aliased breach action", qs[0].SLA.BreachAction, "notify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestNoFileIsAnEmptyValidConfig(t *testing.T) {
	cfg, err := Load("", MapEnv(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Server.Addr != DefaultAddr || cfg.Server.DataDir != DefaultDataDir {
		t.Errorf("defaults not applied: %+v", cfg.Server)
	}
	if cfg.Server.Limits != DefaultLimits() || cfg.Server.Limits.WebChatPostsPerVisitor.Value() != (limit.Rate{N: 20, Per: time.Minute}) {
		t.Errorf("default limits not applied: %+v", cfg.Server.Limits)
	}
	if cfg.Server.Proxies() != nil {
		t.Error("no proxy is trusted by default")
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load("testdata/absent.yaml", MapEnv(nil))
	if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("got %v, want EINVALID naming the file", err)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"2d", 48 * time.Hour, true},
		{"d", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestWarnings: a queue no configured agent can take is loaded (agents
// may come through the agent API) and named by Warnings.
func TestWarnings(t *testing.T) {
	env := MapEnv(map[string]string{"ADMIN_TOKEN": "0123456789abcdef-admin", "WA_TOKEN": "wa-access", "WA_SECRET": "s", "OPENAI_KEY": ""})
	cfg, err := Load("testdata/valid.yaml", env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if w := cfg.Warnings(); len(w) != 0 {
		t.Fatalf("every queue is served, yet Warnings = %q", w)
	}
	for _, c := range []struct {
		name   string
		skills []string
		want   []string
	}{
		{"billing skill gone", []string{"en"}, []string{"queues[1].skills: no configured agent has all of [en billing]"}},
		{"no skills at all", nil, []string{"queues[0].skills: no configured agent has all of [en]", "queues[1].skills: no configured agent has all of [en billing]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := *cfg
			cc.Agents = append(cc.Agents[:0:0], cfg.Agents...)
			cc.Agents[0].Skills = c.skills
			got := cc.Warnings()
			if len(got) != len(c.want) {
				t.Fatalf("Warnings = %q, want %q", got, c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("warning %d = %q, want it to start %q", i, got[i], c.want[i])
				}
			}
		})
	}
}
