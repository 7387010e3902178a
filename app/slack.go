package app

import (
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	slackconsole "github.com/batonhq/baton/handoff/slack"
	"github.com/slack-go/slack"
)

// SlackOptions tune the Slack console; zero values take the console's
// defaults.
type SlackOptions struct {
	// PostInterval is the least time between two posts in a channel
	// [slackconsole.DefaultPostInterval].
	PostInterval time.Duration
	// OutageRetryMax caps the delay between tries of a channel's next
	// post while Slack is unreachable [slackconsole.DefaultOutageRetryMax].
	OutageRetryMax time.Duration
	// CatchUpEvery is how often the catch-up looks for escalations without
	// a card [slackconsole.DefaultCatchUpEvery].
	CatchUpEvery time.Duration
}

// slackChannels is each queue's Slack channel, by queue id.
func slackChannels(cfg *config.Config) map[string]string {
	channels := map[string]string{}
	for _, q := range cfg.DomainQueues() {
		if q.SlackChannel != "" {
			channels[q.ID] = q.SlackChannel
		}
	}
	return channels
}

// slackNotifier is the desk's and the bots' Notifier when the Slack
// console is configured (a bot token): every change to an escalation
// becomes a job that posts or updates its card. nil otherwise, and
// nothing changes.
func slackNotifier(cfg *config.Config, w wiring) baton.Notifier {
	if cfg.Slack.BotToken == "" {
		return nil
	}
	return &slackconsole.Notifier{Store: w.store, Clock: w.clock, Channels: slackChannels(cfg)}
}

// wireSlack plugs the Slack console in: the job that posts and updates
// cards with the bot token; with an app-level token, the Socket Mode
// connection as a service; with a signing secret, the HTTP Request URLs
// (/slack/events, /slack/interactions, /slack/commands). Both modes feed
// the one intake, so an event, a button press or a /baton command is
// handled the same whichever way it came.
func wireSlack(cfg *config.Config, w wiring, desk *handoff.Desk, comp *components) {
	s := cfg.Slack
	if s.BotToken == "" {
		return
	}
	var opts []slack.Option
	if w.client != nil {
		opts = append(opts, slack.OptionHTTPClient(w.client))
	}
	channels := slackChannels(cfg)
	queues := map[string]baton.Queue{}
	zones := map[string]*time.Location{}
	for _, q := range cfg.DomainQueues() {
		queues[q.ID] = q
	}
	// "Tomorrow 09:00" in a snooze is the queue's morning, when it has hours.
	for _, q := range cfg.Queues {
		if loc, err := time.LoadLocation(q.Hours.Timezone); err == nil && q.Hours.Timezone != "" {
			zones[q.ID] = loc
		}
	}
	console := &slackconsole.Console{API: slack.New(s.BotToken, opts...), Desk: desk, Store: w.store, Channels: channels, Logger: w.log,
		Clock: w.clock, PostInterval: w.slack.PostInterval, OutageRetryMax: w.slack.OutageRetryMax}
	comp.jobs[baton.JobSlack] = console
	// The notifier learns from the console which conversations have a card
	// (their jobs update it, out of the channel's lane), and the catch-up
	// gives a card to every open escalation that lacks one, Slack or the
	// store having failed when it was escalated.
	if n, ok := w.notify.(*slackconsole.Notifier); ok {
		n.Console = console
		comp.services = append(comp.services, &slackconsole.CatchUp{Store: w.store, Notifier: n, Console: console, Every: w.slack.CatchUpEvery,
			Logger: w.log, Wake: w.wake})
	}
	// Slack stamps its requests with real time, and SecretsVerifier checks
	// them against the wall clock: so does the intake, whatever clock the
	// rest of the app runs on.
	in := &slackconsole.Intake{SigningSecret: s.SigningSecret, Store: w.store, Clock: baton.SystemClock{}, Logger: w.log,
		Slash: &slackconsole.Commands{Desk: desk, Store: w.store, Clock: w.clock, Logger: w.log},
		Modals: &slackconsole.Modals{API: slack.New(s.BotToken, opts...), Desk: desk, Store: w.store, Queues: queues, Zones: zones,
			Clock: w.clock, Logger: w.log}}
	if s.AppToken != "" {
		api := slack.New(s.BotToken, append(opts, slack.OptionAppLevelToken(s.AppToken))...)
		comp.services = append(comp.services, &slackconsole.Socket{API: api, Intake: in, Logger: w.log})
	}
	if s.SigningSecret == "" {
		return
	}
	comp.slack["events"] = in.Events()
	comp.slack["interactions"] = in.Interactions()
	comp.slack["commands"] = in.Commands()
}
