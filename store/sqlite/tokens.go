package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"strings"

	"github.com/batonhq/baton"
)

const tokenCols = `id, agent_id, name, prefix, expires_at, revoked_at, created_at`

func scanToken(r scanner) (*baton.AgentToken, error) {
	var (
		t                baton.AgentToken
		expires, revoked sql.NullInt64
		created          int64
	)
	if err := r.Scan(&t.ID, &t.AgentID, &t.Name, &t.Prefix, &expires, &revoked, &created); err != nil {
		return nil, err
	}
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = fromTSPtr(expires), fromTSPtr(revoked), fromTS(created)
	return &t, nil
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

// CreateAgentToken stores a token's digest.
func (s *Store) CreateAgentToken(ctx context.Context, t *baton.AgentToken) error {
	if err := validToken(t); err != nil {
		return err
	}
	now := s.now()
	return s.writeOne(ctx, "create agent token for "+t.AgentID, func(q querier) error {
		err := q.QueryRowContext(ctx, `INSERT INTO agent_tokens (agent_id, name, prefix, hash, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, t.AgentID, t.Name, t.Prefix, t.Hash, tsPtr(t.ExpiresAt), ts(now)).Scan(&t.ID)
		switch baton.ErrorCode(translate(err, "")) {
		case "":
			t.CreatedAt, t.RevokedAt = now, nil
			return nil
		case baton.ENOTFOUND:
			return baton.Errorf(baton.ENOTFOUND, "agent token: no agent %s", t.AgentID)
		case baton.ECONFLICT:
			return baton.Errorf(baton.ECONFLICT, "agent token for %s: a token with this digest exists", t.AgentID)
		}
		return err
	})
}

// AgentByToken returns a live token and its agent by digest, in one query.
func (s *Store) AgentByToken(ctx context.Context, hash []byte) (*baton.Agent, *baton.AgentToken, error) {
	var (
		t                baton.AgentToken
		expires, revoked sql.NullInt64
		created          int64
	)
	row := s.reader().QueryRowContext(ctx, `SELECT t.id, t.name, t.prefix, t.expires_at, t.revoked_at, t.created_at,
		a.id, a.bot_id, a.name, a.email, a.skills, a.capacity, a.status, a.slack_user_id, a.last_assigned_at, a.updated_at
		FROM agent_tokens t JOIN agents a ON a.id = t.agent_id WHERE t.hash = ?`, hash)
	agent, err := scanAgent(prefixScanner{row, []any{&t.ID, &t.Name, &t.Prefix, &expires, &revoked, &created}})
	if err == sql.ErrNoRows {
		return nil, nil, baton.Errorf(baton.EUNAUTHORIZED, "agent token: unknown token")
	}
	if err != nil {
		return nil, nil, translate(err, "agent token")
	}
	t.AgentID, t.Hash = agent.ID, append([]byte(nil), hash...)
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = fromTSPtr(expires), fromTSPtr(revoked), fromTS(created)
	if err := t.Check(s.now()); err != nil {
		return nil, nil, err
	}
	return agent, &t, nil
}

// prefixScanner scans leading columns into prefix before the rest.
type prefixScanner struct {
	r      scanner
	prefix []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.r.Scan(append(append([]any{}, p.prefix...), dest...)...)
}

// ListAgentTokens returns an agent's tokens without digests.
func (s *Store) ListAgentTokens(ctx context.Context, agentID string) ([]*baton.AgentToken, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+tokenCols+` FROM agent_tokens WHERE agent_id = ? ORDER BY id`, agentID)
	if err != nil {
		return nil, translate(err, "list agent tokens")
	}
	defer rows.Close()
	var out []*baton.AgentToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, translate(err, "list agent tokens")
		}
		out = append(out, t)
	}
	return out, translate(rows.Err(), "list agent tokens")
}

// RevokeAgentToken revokes one of an agent's tokens; revoking again keeps
// the first time.
func (s *Store) RevokeAgentToken(ctx context.Context, agentID string, id int64) error {
	return s.writeOne(ctx, "revoke agent token "+itoa(id), func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE agent_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND agent_id = ?`,
			ts(s.now()), id, agentID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return baton.Errorf(baton.ENOTFOUND, "revoke agent token %d: agent %s has no such token", id, agentID)
		}
		return nil
	})
}
