package app

import (
	"context"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/messenger"
	"github.com/batonhq/baton/channels/whatsapp"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
)

// newDesk builds the human queue from the configuration: its queues and
// bots, the channels' messaging windows, the app's clock and logger.
func newDesk(cfg *config.Config, w wiring) (*handoff.Desk, error) {
	queues := map[string]baton.Queue{}
	for _, q := range cfg.DomainQueues() {
		queues[q.ID] = q
	}
	bots := map[string]baton.Bot{}
	for _, b := range cfg.DomainBots() {
		bots[b.ID] = b
	}
	return handoff.New(handoff.Config{Store: w.store, Queues: queues, Bots: bots, Clock: w.clock, Logger: w.log, Windows: windows(cfg),
		Surveys: w.surveys, Observer: w.observer, Notifier: w.notify})
}

// windows are the channels' rules for an agent's message, per bot: on
// WhatsApp free text within 24 hours of the customer's last message, else
// the bot's configured template; on Messenger a human agent's message up
// to 7 days after it (HUMAN_AGENT); SMS and the web chat have no window.
func windows(cfg *config.Config) handoff.Windows {
	templates := map[string][]baton.Template{}
	for _, b := range cfg.Bots {
		if c := b.Channels.WhatsApp; c != nil && c.Template.Name != "" {
			templates[b.ID] = []baton.Template{{Name: c.Template.Name, Language: c.Template.Language}}
		}
	}
	return func(_ context.Context, conv *baton.Conversation, now time.Time) baton.Window {
		within := func(d time.Duration) baton.Window {
			w := baton.Window{Open: channels.WithinWindow(conv.LastInboundAt, now, d)}
			if conv.LastInboundAt != nil {
				closes := conv.LastInboundAt.Add(d)
				w.ClosesAt = &closes
			}
			return w
		}
		switch conv.Channel {
		case baton.ChannelWhatsApp:
			w := within(whatsapp.Window)
			w.Templates = templates[conv.BotID]
			return w
		case baton.ChannelMessenger:
			return within(messenger.AgentWindow)
		}
		return baton.Window{Open: true}
	}
}

// Desk is the human queue: routing, SLA timers and every lifecycle action
// of escalated conversations, for the agent API and the consoles.
func (a *App) Desk() baton.Desk { return a.parts.desk }
