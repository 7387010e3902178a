package baton

import (
	"context"
	"time"
)

// AgentStatus is an agent's availability.
type AgentStatus string

const (
	AgentOnline  AgentStatus = "online"
	AgentAway    AgentStatus = "away"
	AgentOffline AgentStatus = "offline"
)

// Agent is a person who answers escalated conversations.
type Agent struct {
	ID          string
	BotID       string // "" = works for every bot
	Name        string
	Email       string
	Skills      []string
	Capacity    map[ChannelKind]int // concurrent conversations per channel kind
	Status      AgentStatus
	SlackUserID string
	UpdatedAt   time.Time
}

// HasSkills reports whether the agent has every skill in need.
func (a *Agent) HasSkills(need []string) bool {
	for _, n := range need {
		found := false
		for _, s := range a.Skills {
			if s == n {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// AgentStore keeps agents; their definitions come from config and are
// upserted at start, their status changes at run time.
type AgentStore interface {
	// UpsertAgent stores a by ID. An empty Status keeps the stored one
	// (offline for a new agent).
	UpsertAgent(ctx context.Context, a *Agent) error
	GetAgent(ctx context.Context, id string) (*Agent, error)
	GetAgentBySlackUser(ctx context.Context, slackUserID string) (*Agent, error)
	// ListAgents returns every agent by id.
	ListAgents(ctx context.Context) ([]*Agent, error)
	SetAgentStatus(ctx context.Context, id string, s AgentStatus) error
}
