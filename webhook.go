package baton

import (
	"context"
	"net/http"
	"net/url"
)

// MaxWebhookBody is the largest webhook body accepted; larger ones get 413
// before anything is parsed.
const MaxWebhookBody = 1 << 20

// WebhookRequest is an inbound HTTP request as a channel or console adapter
// sees it: the raw body exactly as received (signatures are computed over
// it), the headers, and the public URL the provider called (behind a proxy
// this is the configured public base URL, not the request's Host).
type WebhookRequest struct {
	BotID     string
	Method    string
	PublicURL string
	Query     url.Values
	Header    http.Header
	Body      []byte
}

// WebhookResponse is what to answer the provider.
type WebhookResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// WebhookHandler handles one provider's webhooks. It works on raw bytes so
// it can be tested without a server. A returned error carries a domain code
// (EUNAUTHORIZED, EINVALID, ENOTFOUND, ETOOLARGE, ...) that the web layer
// maps to a status and logs once; nothing is stored when it is returned.
type WebhookHandler interface {
	ServeWebhook(ctx context.Context, r *WebhookRequest) (*WebhookResponse, error)
}
