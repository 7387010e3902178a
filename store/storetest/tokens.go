package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testAgentTokens(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	upsertAgents(t, ctx, st,
		&baton.Agent{ID: "ada", Name: "Ada", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 2)},
		&baton.Agent{ID: "bob", Name: "Bob"})
	newSecret := func(t *testing.T) string {
		t.Helper()
		secret, err := baton.NewTokenSecret()
		must(t, err, "NewTokenSecret")
		return secret
	}
	create := func(t *testing.T, agent, name string, expires *time.Time) (string, *baton.AgentToken) {
		t.Helper()
		secret := newSecret(t)
		tok := &baton.AgentToken{AgentID: agent, Name: name, Prefix: baton.TokenPrefix(secret), Hash: baton.HashToken(secret), ExpiresAt: expires}
		must(t, st.CreateAgentToken(ctx, tok), "CreateAgentToken")
		if tok.ID == 0 {
			t.Fatal("token id not set")
		}
		wantTime(t, "CreatedAt", tok.CreatedAt, clock.Now())
		return secret, tok
	}

	var laptop *baton.AgentToken
	var laptopSecret string
	t.Run("create and look up by the secret's digest", func(t *testing.T) {
		laptopSecret, laptop = create(t, "ada", "laptop", nil)
		if !strings.HasPrefix(laptopSecret, baton.TokenSecretPrefix) || !strings.HasPrefix(laptopSecret, laptop.Prefix) || len(laptop.Prefix) <= len(baton.TokenSecretPrefix) {
			t.Fatalf("secret %q… and prefix %q do not match", laptopSecret[:8], laptop.Prefix)
		}
		agent, tok, err := st.AgentByToken(ctx, baton.HashToken(laptopSecret))
		must(t, err, "AgentByToken")
		if agent.ID != "ada" || agent.Name != "Ada" || agent.Status != baton.AgentOnline || agent.Capacity[baton.ChannelWhatsApp] != 2 {
			t.Fatalf("agent = %+v, want ada", agent)
		}
		if tok.ID != laptop.ID || tok.AgentID != "ada" || tok.Name != "laptop" || tok.Prefix != laptop.Prefix || tok.RevokedAt != nil || tok.ExpiresAt != nil ||
			!bytes.Equal(tok.Hash, baton.HashToken(laptopSecret)) {
			t.Fatalf("token = %+v, want %+v", tok, laptop)
		}
		wantTime(t, "CreatedAt", tok.CreatedAt, laptop.CreatedAt)
	})

	t.Run("unknown secrets are unauthorized", func(t *testing.T) {
		for name, hash := range map[string][]byte{
			"another secret":    baton.HashToken(newSecret(t)),
			"the secret itself": []byte(laptopSecret),
			"nothing":           nil,
			// The last byte flipped, not set: a digest whose last byte is
			// already 0 (one secret in 256) would be its own neighbor.
			"a digest's neighbor": neighbor(baton.HashToken(laptopSecret)),
		} {
			t.Run(name, func(t *testing.T) {
				_, _, err := st.AgentByToken(ctx, hash)
				wantCode(t, err, baton.EUNAUTHORIZED, "AgentByToken")
			})
		}
	})

	t.Run("bad tokens change nothing", func(t *testing.T) {
		secret := newSecret(t)
		cases := []struct {
			name string
			tok  baton.AgentToken
			code string
		}{
			{"no agent", baton.AgentToken{Name: "x", Hash: baton.HashToken(secret)}, baton.EINVALID},
			{"no name", baton.AgentToken{AgentID: "ada", Hash: baton.HashToken(secret)}, baton.EINVALID},
			{"not a digest", baton.AgentToken{AgentID: "ada", Name: "x", Hash: []byte(secret)}, baton.EINVALID},
			{"no digest", baton.AgentToken{AgentID: "ada", Name: "x"}, baton.EINVALID},
			{"unknown agent", baton.AgentToken{AgentID: "nobody", Name: "x", Hash: baton.HashToken(secret)}, baton.ENOTFOUND},
			{"a digest stored already", baton.AgentToken{AgentID: "bob", Name: "copy", Hash: baton.HashToken(laptopSecret)}, baton.ECONFLICT},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tok := tc.tok
				wantCode(t, st.CreateAgentToken(ctx, &tok), tc.code, "CreateAgentToken")
			})
		}
		for _, agent := range []string{"ada", "bob", "nobody"} {
			toks, err := st.ListAgentTokens(ctx, agent)
			must(t, err, "ListAgentTokens")
			if want := map[string]int{"ada": 1}[agent]; len(toks) != want {
				t.Fatalf("%s has %d tokens, want %d", agent, len(toks), want)
			}
		}
	})

	t.Run("a refused duplicate leaves the transaction usable", func(t *testing.T) {
		secret := newSecret(t)
		err := st.Tx(ctx, func(tx baton.Store) error {
			dup := &baton.AgentToken{AgentID: "bob", Name: "copy", Hash: baton.HashToken(laptopSecret)}
			wantCode(t, tx.CreateAgentToken(ctx, dup), baton.ECONFLICT, "duplicate in a transaction")
			ghost := &baton.AgentToken{AgentID: "nobody", Name: "x", Hash: baton.HashToken(newSecret(t))}
			wantCode(t, tx.CreateAgentToken(ctx, ghost), baton.ENOTFOUND, "unknown agent in a transaction")
			return tx.CreateAgentToken(ctx, &baton.AgentToken{AgentID: "bob", Name: "cli", Hash: baton.HashToken(secret)})
		})
		must(t, err, "Tx")
		agent, _, err := st.AgentByToken(ctx, baton.HashToken(secret))
		must(t, err, "AgentByToken")
		if agent.ID != "bob" {
			t.Fatalf("agent = %s, want bob", agent.ID)
		}
	})

	t.Run("expiry by the store's clock", func(t *testing.T) {
		expires := clock.Now().Add(time.Hour)
		secret, tok := create(t, "ada", "temporary", &expires)
		wantTimePtr(t, "ExpiresAt", tok.ExpiresAt, &expires)
		clock.Advance(time.Hour - time.Microsecond)
		_, got, err := st.AgentByToken(ctx, baton.HashToken(secret))
		must(t, err, "AgentByToken just before it expires")
		wantTimePtr(t, "ExpiresAt", got.ExpiresAt, &expires)
		clock.Advance(time.Microsecond)
		_, _, err = st.AgentByToken(ctx, baton.HashToken(secret))
		wantCode(t, err, baton.EUNAUTHORIZED, "AgentByToken at expiry")
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatal("the error shows the secret")
		}
	})

	t.Run("revoke", func(t *testing.T) {
		wantCode(t, st.RevokeAgentToken(ctx, "bob", laptop.ID), baton.ENOTFOUND, "revoke another agent's token")
		wantCode(t, st.RevokeAgentToken(ctx, "ada", 987654), baton.ENOTFOUND, "revoke an unknown token")
		if _, _, err := st.AgentByToken(ctx, baton.HashToken(laptopSecret)); err != nil {
			t.Fatalf("a refused revoke revoked: %v", err)
		}
		revokedAt := clock.Advance(time.Minute)
		must(t, st.RevokeAgentToken(ctx, "ada", laptop.ID), "RevokeAgentToken")
		_, _, err := st.AgentByToken(ctx, baton.HashToken(laptopSecret))
		wantCode(t, err, baton.EUNAUTHORIZED, "AgentByToken after revoke")
		clock.Advance(time.Minute)
		must(t, st.RevokeAgentToken(ctx, "ada", laptop.ID), "revoke again")
		toks, err := st.ListAgentTokens(ctx, "ada")
		must(t, err, "ListAgentTokens")
		wantTimePtr(t, "RevokedAt after a second revoke", toks[0].RevokedAt, &revokedAt)
	})

	t.Run("list shows every token by id, without digests", func(t *testing.T) {
		toks, err := st.ListAgentTokens(ctx, "ada")
		must(t, err, "ListAgentTokens")
		var names []string
		for i, tok := range toks {
			names = append(names, tok.Name)
			if tok.Hash != nil {
				t.Errorf("token %s carries its digest", tok.Name)
			}
			if tok.AgentID != "ada" || tok.Prefix == "" || (i > 0 && tok.ID <= toks[i-1].ID) {
				t.Errorf("token %d = %+v", i, tok)
			}
		}
		if strings.Join(names, ",") != "laptop,temporary" {
			t.Fatalf("tokens = %v, want laptop (revoked) and temporary (expired)", names)
		}
		if toks[0].RevokedAt == nil || toks[1].ExpiresAt == nil {
			t.Fatalf("revoked or expiry lost: %+v %+v", toks[0], toks[1])
		}
	})
}

// neighbor is digest with its last bit flipped.
func neighbor(digest []byte) []byte {
	out := append([]byte(nil), digest...)
	out[len(out)-1] ^= 1
	return out
}
