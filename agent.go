package baton

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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
	// LastAssignedAt is when the agent was last given a conversation
	// (AssignConversation sets it; UpsertAgent keeps it): routing prefers
	// whoever waited longest. nil = never.
	LastAssignedAt *time.Time
	UpdatedAt      time.Time
}

// AgentLoad is an agent with the conversations they own now.
type AgentLoad struct {
	Agent
	// Open counts the agent's assigned and snoozed conversations, of every
	// bot, by channel kind; kinds with none are absent.
	Open map[ChannelKind]int
}

// Free is how many more conversations on ch the agent can take: their
// capacity on ch less their open ones (never below 0).
func (l *AgentLoad) Free(ch ChannelKind) int {
	return max(l.Capacity[ch]-l.Open[ch], 0)
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
	// AgentLoads returns, in one query, every agent who works for botID
	// (their BotID is botID or ""; botID "" = every agent) with their open
	// conversations per channel kind (Open is never nil), by id: what
	// routing reads. The
	// counts are a snapshot; AssignConversation checks capacity again
	// under its lock.
	AgentLoads(ctx context.Context, botID string) ([]*AgentLoad, error)
}

// AgentToken is a credential an agent uses outside Slack (the browser
// inbox, the API). The caller makes the secret (NewTokenSecret) and shows
// it once; the store keeps only its SHA-256 (HashToken) and a short prefix
// to tell tokens apart, so that a leaked database leaks no usable token.
type AgentToken struct {
	ID        int64
	AgentID   string
	Name      string // what the agent calls it: "laptop", "cli"
	Prefix    string // the secret's first characters (TokenPrefix), for display
	Hash      []byte // HashToken(secret); never returned by listings
	ExpiresAt *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// Check reports whether t may be used at now: a revoked or expired token
// is EUNAUTHORIZED. The message names the token by id and prefix, never
// by anything secret.
func (t *AgentToken) Check(now time.Time) error {
	switch {
	case t.RevokedAt != nil:
		return Errorf(EUNAUTHORIZED, "agent token %d (%s…) of %s was revoked at %s", t.ID, t.Prefix, t.AgentID, t.RevokedAt.UTC().Format(time.RFC3339))
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return Errorf(EUNAUTHORIZED, "agent token %d (%s…) of %s expired at %s", t.ID, t.Prefix, t.AgentID, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// TokenSecretPrefix starts every agent token secret, so that one is
// recognisable in a config file or a secret scanner.
const TokenSecretPrefix = "bat_"

// NewTokenSecret returns a fresh token secret: TokenSecretPrefix and 32
// random bytes in unpadded base64url.
func NewTokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", Errorf(EINTERNAL, "agent token: read random bytes: %w", err)
	}
	return TokenSecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is the digest under which a token secret is stored and looked
// up. A lookup by digest needs no constant-time compare: the secret never
// meets a stored value.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// tokenPrefixLen is how much of a secret is kept for display: the fixed
// prefix and 4 random characters (24 bits: enough to tell an agent's
// tokens apart, too few to help a guess).
const tokenPrefixLen = len(TokenSecretPrefix) + 4

// TokenPrefix is the part of secret kept for display.
func TokenPrefix(secret string) string {
	if len(secret) <= tokenPrefixLen {
		return ""
	}
	return secret[:tokenPrefixLen]
}

// AgentTokenStore keeps agent tokens by digest.
type AgentTokenStore interface {
	// CreateAgentToken stores t and sets t.ID and t.CreatedAt. t.Hash must
	// be a SHA-256 digest (32 bytes) and t.Name is required (EINVALID); an
	// unknown agent is ENOTFOUND; a digest stored already is ECONFLICT.
	CreateAgentToken(ctx context.Context, t *AgentToken) error
	// AgentByToken returns the token with digest hash and its agent. An
	// unknown digest, a revoked token and an expired one (by the store's
	// clock) are all EUNAUTHORIZED, the message saying which.
	AgentByToken(ctx context.Context, hash []byte) (*Agent, *AgentToken, error)
	// ListAgentTokens returns an agent's tokens by id, revoked and expired
	// ones included, without their digests.
	ListAgentTokens(ctx context.Context, agentID string) ([]*AgentToken, error)
	// RevokeAgentToken revokes agentID's token id from now on; revoking a
	// revoked token keeps its first RevokedAt. A token that is not
	// agentID's is ENOTFOUND.
	RevokeAgentToken(ctx context.Context, agentID string, id int64) error
}
