package config

import (
	"time"

	"github.com/batonhq/baton"
)

// DomainBots returns the configured bots as domain values.
func (c *Config) DomainBots() []baton.Bot {
	bots := make([]baton.Bot, 0, len(c.Bots))
	for _, b := range c.Bots {
		var queues []string
		for _, q := range c.Queues {
			if q.Bot == b.ID {
				queues = append(queues, q.ID)
			}
		}
		name := b.Name
		if name == "" {
			name = b.ID
		}
		bots = append(bots, baton.Bot{
			ID:          b.ID,
			Name:        name,
			Languages:   append([]string(nil), b.Languages...),
			Collection:  b.ID,
			Queues:      queues,
			ReopenAfter: b.ReopenWindow.Value(),
		})
	}
	return bots
}

// DomainQueues returns the configured queues as domain values.
func (c *Config) DomainQueues() []baton.Queue {
	queues := make([]baton.Queue, 0, len(c.Queues))
	for _, q := range c.Queues {
		prio, _ := PriorityLevel(q.Priority)
		sla := baton.SLAPolicy{
			FirstResponse: targets(q.SLA.FirstResponse),
			NextResponse:  targets(q.SLA.NextResponse),
			WarnRatio:     0.8,
			BreachAction:  q.SLA.BreachAction,
		}
		if q.SLA.WarnRatio != nil {
			sla.WarnRatio = *q.SLA.WarnRatio
		}
		if sla.BreachAction == "" {
			sla.BreachAction = "notify"
		}
		name := q.Name
		if name == "" {
			name = q.ID
		}
		hours, _ := baton.ParseHours(q.Hours.Timezone, q.Hours.Days) // validated on load
		queues = append(queues, baton.Queue{
			Hours:        hours,
			ID:           q.ID,
			BotID:        q.Bot,
			Name:         name,
			Skills:       append([]string(nil), q.Skills...),
			Priority:     prio,
			SLA:          sla,
			SlackChannel: q.SlackChannel,
			Fallback:     q.SLA.FallbackQueue,
		})
	}
	return queues
}

func targets(m map[string]Duration) map[int]time.Duration {
	out := make(map[int]time.Duration, len(m))
	for name, d := range m {
		if p, ok := PriorityLevel(name); ok {
			out[p] = d.Value()
		}
	}
	return out
}

// DomainAgents returns the configured agents as domain values. Status is
// left empty: availability is run-time state, not configuration, so an
// upsert keeps the agent's current status (offline for a new agent).
func (c *Config) DomainAgents() []baton.Agent {
	agents := make([]baton.Agent, 0, len(c.Agents))
	for _, a := range c.Agents {
		capacity := make(map[baton.ChannelKind]int, len(a.Capacity))
		for k, n := range a.Capacity {
			capacity[baton.ChannelKind(k)] = n
		}
		agents = append(agents, baton.Agent{
			ID:          a.ID,
			BotID:       a.Bot,
			Name:        a.Name,
			Email:       a.Email,
			Skills:      append([]string(nil), a.Skills...),
			Capacity:    capacity,
			SlackUserID: a.SlackUserID,
		})
	}
	return agents
}
