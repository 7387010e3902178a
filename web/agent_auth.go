package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// principal is who a request of the agent API authenticated as.
type principal struct {
	actor baton.Actor
	// agent is the agent the request acts as: the token's own, or the one
	// the admin named; nil when the admin acts as the system.
	agent *baton.Agent
	// token is the agent token used; nil for the admin token.
	token *baton.AgentToken
}

// principalKey is the fiber Locals key under which authenticate keeps the
// request's principal.
type principalKey struct{}

// Where the admin token names the agent it acts for.
const (
	actAsHeader = "X-Baton-Agent"
	actAsQuery  = "as"
)

// authenticate guards /api/v1. Without a desk it is the admin check alone.
// With one, a bearer token is either the admin token (compared in constant
// time; it acts for the agent named by X-Baton-Agent or ?as=, or as the
// system) or an agent token, looked up by its digest. Failures of either
// count against the address's budget in the auth guard, and no answer or
// log line carries what was sent.
func (s *server) authenticate(c *fiber.Ctx) error {
	if s.cfg.Desk == nil {
		return s.requireAdmin(c)
	}
	attempt, err := s.cfg.AuthGuard.Begin(s.cfg.Proxies.Client(c))
	if err != nil {
		return err
	}
	fail := func(reason string, err error) error {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="baton"`)
		if s.cfg.AuthGuard == nil {
			return err
		}
		attempt.Failed(reason)
		return reported{err}
	}
	auth := c.Get(fiber.HeaderAuthorization)
	secret, ok := strings.CutPrefix(auth, "Bearer ")
	switch {
	case auth == "":
		return fail("no Authorization header", baton.Errorf(baton.EUNAUTHORIZED, "Authorization: a bearer token is required (an agent token, or the admin token)"))
	case !ok || secret == "":
		return fail("not a bearer token", baton.Errorf(baton.EUNAUTHORIZED, "Authorization: want \"Bearer <token>\""))
	}
	if s.isAdminToken(secret) {
		attempt.Succeeded()
		as, err := actAs(c)
		if err != nil {
			return err
		}
		p := principal{actor: baton.Actor{Admin: true}}
		if as != "" {
			a, err := s.cfg.Store.GetAgent(c.UserContext(), as)
			if err != nil {
				if baton.ErrorCode(err) == baton.ENOTFOUND {
					return baton.Errorf(baton.ENOTFOUND, "%s: no agent %q", actAsHeader, as)
				}
				return err
			}
			p.actor.AgentID, p.agent = a.ID, a
		}
		c.Locals(principalKey{}, p)
		return c.Next()
	}
	if !strings.HasPrefix(secret, baton.TokenSecretPrefix) {
		// Not shaped like an agent token: no lookup can find it.
		msg := "Authorization: wrong token; want an agent token or the admin token"
		if s.cfg.AdminToken == "" {
			msg = "Authorization: wrong token; want an agent token (the admin token is not configured)"
		}
		return fail("wrong token", baton.Errorf(baton.EUNAUTHORIZED, "%s", msg))
	}
	agent, tok, err := s.cfg.Store.AgentByToken(c.UserContext(), baton.HashToken(secret))
	switch {
	case baton.ErrorCode(err) == baton.EUNAUTHORIZED:
		// The store says unknown, revoked or expired, naming the token by
		// id and display prefix only.
		return fail("agent token refused", err)
	case err != nil:
		// Not a guess that failed: the store could not answer.
		attempt.Succeeded()
		return err
	}
	attempt.Succeeded()
	as, err := actAs(c)
	if err != nil {
		return err
	}
	if as != "" && as != agent.ID {
		return baton.Errorf(baton.EFORBIDDEN, "%s: an agent token acts for its own agent (%s) only; the admin token may act for another", actAsHeader, agent.ID)
	}
	c.Locals(principalKey{}, principal{actor: baton.Actor{AgentID: agent.ID}, agent: agent, token: tok})
	return c.Next()
}

// isAdminToken compares digests, so that the comparison is constant-time
// in the token's length as well as its content.
func (s *server) isAdminToken(secret string) bool {
	if s.cfg.AdminToken == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(s.cfg.AdminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// actAs reads the agent a request names with X-Baton-Agent or ?as=; both
// may be given only when they agree.
func actAs(c *fiber.Ctx) (string, error) {
	h, q := strings.TrimSpace(c.Get(actAsHeader)), strings.TrimSpace(c.Query(actAsQuery))
	switch {
	case h != "" && q != "" && h != q:
		return "", baton.Errorf(baton.EINVALID, "%s and query parameter %s name different agents; give one", actAsHeader, actAsQuery)
	case h == "":
		h = q
	}
	if len(h) > 200 {
		return "", baton.Errorf(baton.EINVALID, "%s: an agent id is at most 200 characters", actAsHeader)
	}
	// The id outlives fiber's buffers in the actor the desk records.
	return strings.Clone(h), nil
}

// principalOf is the request's principal. Without a desk, authenticate
// admitted the admin token only.
func (s *server) principalOf(c *fiber.Ctx) (principal, error) {
	if p, ok := c.Locals(principalKey{}).(principal); ok {
		return p, nil
	}
	if s.cfg.Desk == nil {
		return principal{actor: baton.Actor{Admin: true}}, nil
	}
	return principal{}, baton.Errorf(baton.EINTERNAL, "%s %s: no principal: the route is outside authenticate", c.Method(), c.Path())
}

// adminOnly keeps a route for the admin token: agent tokens are refused
// with 403. Without a desk, authenticate admitted nothing else.
func (s *server) adminOnly(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	if !p.actor.Admin {
		return baton.Errorf(baton.EFORBIDDEN, "%s %s needs the admin token; agent %s's token does not reach it", c.Method(), c.Route().Path, p.actor.AgentID)
	}
	return c.Next()
}

// asAgent is the agent a request acts as: an agent token's own, or the one
// the admin token names. what names the request in the error.
func (p principal) asAgent(what string) (*baton.Agent, error) {
	if p.agent == nil {
		return nil, baton.Errorf(baton.EINVALID, "%s: the admin token acts for an agent here: name them with %s or ?%s=", what, actAsHeader, actAsQuery)
	}
	return p.agent, nil
}
