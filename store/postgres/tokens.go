package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const tokenCols = `id, agent_id, name, prefix, expires_at, revoked_at, created_at`

func scanToken(row pgx.Row, extra ...any) (*baton.AgentToken, error) {
	t := &baton.AgentToken{}
	dest := append([]any{&t.ID, &t.AgentID, &t.Name, &t.Prefix, &t.ExpiresAt, &t.RevokedAt, &t.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = utcPtr(t.ExpiresAt), utcPtr(t.RevokedAt), t.CreatedAt.UTC()
	return t, nil
}

func validToken(t *baton.AgentToken) error {
	switch {
	case strings.TrimSpace(t.AgentID) == "":
		return baton.Errorf(baton.EINVALID, "agent token: agent id is required")
	case strings.TrimSpace(t.Name) == "":
		return baton.Errorf(baton.EINVALID, "agent token for %s: name is required", t.AgentID)
	case len(t.Hash) != sha256.Size:
		return baton.Errorf(baton.EINVALID, "agent token for %s: hash has %d bytes, want a SHA-256 digest (%d)", t.AgentID, len(t.Hash), sha256.Size)
	}
	return nil
}

// CreateAgentToken stores a token's digest. The insert selects the agent
// and skips a duplicate digest rather than raising, so that neither an
// unknown agent nor a duplicate aborts the caller's transaction; which of
// the two it was is read afterwards.
func (s *Store) CreateAgentToken(ctx context.Context, t *baton.AgentToken) error {
	if err := validToken(t); err != nil {
		return err
	}
	now := s.now()
	err := s.q().QueryRow(ctx, `
		INSERT INTO agent_tokens (agent_id, name, prefix, hash, expires_at, created_at)
		SELECT id, $2, $3, $4, $5, $6 FROM agents WHERE id = $1
		ON CONFLICT ON CONSTRAINT agent_tokens_hash DO NOTHING
		RETURNING id`, t.AgentID, t.Name, t.Prefix, t.Hash, truncPtr(t.ExpiresAt), now).Scan(&t.ID)
	if err == nil {
		t.CreatedAt, t.RevokedAt, t.ExpiresAt = now, nil, truncPtr(t.ExpiresAt)
		return nil
	}
	if err != pgx.ErrNoRows {
		return wrapErr(err, "create agent token for "+t.AgentID)
	}
	var agentExists bool
	if err := s.q().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1)`, t.AgentID).Scan(&agentExists); err != nil {
		return wrapErr(err, "create agent token for "+t.AgentID)
	}
	if !agentExists {
		return baton.Errorf(baton.ENOTFOUND, "agent token: no agent %s", t.AgentID)
	}
	return baton.Errorf(baton.ECONFLICT, "agent token for %s: a token with this digest exists", t.AgentID)
}

// AgentByToken returns a live token and its agent by digest, in one query;
// whether it is live is decided by the store's clock.
func (s *Store) AgentByToken(ctx context.Context, hash []byte) (*baton.Agent, *baton.AgentToken, error) {
	var (
		t     baton.AgentToken
		agent *baton.Agent
	)
	row := s.q().QueryRow(ctx, `SELECT t.id, t.name, t.prefix, t.expires_at, t.revoked_at, t.created_at,
		a.id, a.bot_id, a.name, a.email, a.skills, a.capacity, a.status, a.slack_user_id, a.last_assigned_at, a.updated_at
		FROM agent_tokens t JOIN agents a ON a.id = t.agent_id WHERE t.hash = $1`, hash)
	agent, err := scanAgent(prefixRow{row, []any{&t.ID, &t.Name, &t.Prefix, &t.ExpiresAt, &t.RevokedAt, &t.CreatedAt}})
	if err == pgx.ErrNoRows {
		return nil, nil, baton.Errorf(baton.EUNAUTHORIZED, "agent token: unknown token")
	}
	if err != nil {
		return nil, nil, wrapErr(err, "agent token")
	}
	t.AgentID, t.Hash = agent.ID, append([]byte(nil), hash...)
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = utcPtr(t.ExpiresAt), utcPtr(t.RevokedAt), t.CreatedAt.UTC()
	if err := t.Check(s.now()); err != nil {
		return nil, nil, err
	}
	return agent, &t, nil
}

// ListAgentTokens returns an agent's tokens without digests.
func (s *Store) ListAgentTokens(ctx context.Context, agentID string) ([]*baton.AgentToken, error) {
	rows, err := s.q().Query(ctx, `SELECT `+tokenCols+` FROM agent_tokens WHERE agent_id = $1 ORDER BY id`, agentID)
	if err != nil {
		return nil, wrapErr(err, "list agent tokens")
	}
	defer rows.Close()
	var out []*baton.AgentToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrapErr(err, "list agent tokens")
		}
		out = append(out, t)
	}
	return out, wrapErr(rows.Err(), "list agent tokens")
}

// RevokeAgentToken revokes one of an agent's tokens; revoking again keeps
// the first time.
func (s *Store) RevokeAgentToken(ctx context.Context, agentID string, id int64) error {
	tag, err := s.q().Exec(ctx, `UPDATE agent_tokens SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND agent_id = $2`,
		id, agentID, s.now())
	if err != nil {
		return wrapErr(err, fmt.Sprintf("revoke agent token %d", id))
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ENOTFOUND, "revoke agent token %d: agent %s has no such token", id, agentID)
	}
	return nil
}
