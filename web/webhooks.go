package web

import (
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// webhook hands a provider's request to its adapter, raw.
func (s *server) webhook(c *fiber.Ctx) error {
	provider, botID := c.Params("provider"), c.Params("bot")
	h, ok := s.cfg.Webhooks[provider]
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "no webhook endpoint for provider %q", provider)
	}
	if _, ok := s.bots[botID]; !ok {
		return baton.Errorf(baton.ENOTFOUND, "unknown bot %q", botID)
	}
	return s.serveRaw(c, h, provider+" webhook", botID)
}

// slack hands an agent-console request to its adapter, raw.
func (s *server) slack(c *fiber.Ctx) error {
	kind := c.Params("kind")
	h, ok := s.cfg.Slack[kind]
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "no Slack endpoint %q", kind)
	}
	return s.serveRaw(c, h, "slack "+kind, "")
}

func (s *server) serveRaw(c *fiber.Ctx, h baton.WebhookHandler, what, botID string) error {
	body := c.Body()
	if len(body) > baton.MaxWebhookBody {
		return baton.Errorf(baton.ETOOLARGE, "%s: body of %d bytes is over the %d byte limit", what, len(body), baton.MaxWebhookBody)
	}
	// fasthttp reuses its buffers once the handler returns, and every
	// string fiber hands out (params, method, headers) aliases them; the
	// adapter may keep any part of the request (to store or enqueue it),
	// so it gets copies only.
	req := &baton.WebhookRequest{
		BotID:     strings.Clone(botID),
		Method:    strings.Clone(c.Method()),
		PublicURL: s.publicURL(c),
		Header:    header(c),
		Body:      append([]byte(nil), body...),
	}
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return baton.Errorf(baton.EINVALID, "%s: malformed query string: %w", what, err)
	}
	req.Query = q

	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.WebhookTimeout)
	defer cancel()
	resp, err := h.ServeWebhook(ctx, req)
	if err != nil {
		return fmt.Errorf("%s for bot %q: %w", what, botID, err)
	}
	if resp == nil {
		c.Status(http.StatusOK)
		return nil
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.ContentType != "" {
		c.Set(fiber.HeaderContentType, resp.ContentType)
	}
	return c.Status(status).Send(resp.Body)
}

// publicURL is the URL the provider called, as the provider saw it: the
// configured public base URL when set (behind a proxy or tunnel), otherwise
// the request's own scheme and Host. X-Forwarded-* headers are not trusted:
// anyone can send them, and signatures over URLs (Twilio) would then cover a
// URL of the sender's choosing. Path and query are the request's.
func (s *server) publicURL(c *fiber.Ctx) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if c.Context().IsTLS() {
			scheme = "https"
		}
		base = scheme + "://" + string(c.Request().Host())
	}
	// base is never empty, so the concatenation is a new string.
	return base + c.OriginalURL()
}

// header copies the request's headers; see serveRaw.
func header(c *fiber.Ctx) http.Header {
	h := http.Header{}
	for k, vs := range c.GetReqHeaders() {
		ck := textproto.CanonicalMIMEHeaderKey(strings.Clone(k))
		for _, v := range vs {
			h.Add(ck, strings.Clone(v))
		}
	}
	return h
}
