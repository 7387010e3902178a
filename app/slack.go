package app

import (
	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	slackconsole "github.com/batonhq/baton/handoff/slack"
	"github.com/slack-go/slack"
)

// slackNotifier is the desk's and the bots' Notifier when the Slack
// console is configured (a bot token): every change to an escalation
// becomes a job that posts or updates its card. nil otherwise, and
// nothing changes.
func slackNotifier(cfg *config.Config, w wiring) baton.Notifier {
	if cfg.Slack.BotToken == "" {
		return nil
	}
	return &slackconsole.Notifier{Store: w.store, Clock: w.clock}
}

// wireSlack plugs the Slack console in: the job that posts and updates
// cards with the bot token, and, when a signing secret lets Slack's
// requests be verified, the HTTP Request URLs (/slack/events,
// /slack/interactions, /slack/commands). Socket Mode is not built yet.
func wireSlack(cfg *config.Config, w wiring, desk *handoff.Desk, comp *components) {
	s := cfg.Slack
	if s.BotToken == "" {
		return
	}
	var opts []slack.Option
	if w.client != nil {
		opts = append(opts, slack.OptionHTTPClient(w.client))
	}
	channels := map[string]string{}
	for _, q := range cfg.DomainQueues() {
		if q.SlackChannel != "" {
			channels[q.ID] = q.SlackChannel
		}
	}
	comp.jobs[baton.JobSlack] = &slackconsole.Console{API: slack.New(s.BotToken, opts...), Desk: desk, Store: w.store, Channels: channels, Logger: w.log}
	if s.SigningSecret == "" {
		return
	}
	// Slack stamps its requests with real time, and SecretsVerifier checks
	// them against the wall clock: so does the intake, whatever clock the
	// rest of the app runs on.
	in := &slackconsole.Intake{SigningSecret: s.SigningSecret, Store: w.store, Clock: baton.SystemClock{}, Logger: w.log}
	comp.slack["events"] = in.Events()
	comp.slack["interactions"] = in.Interactions()
	comp.slack["commands"] = in.Commands()
}
