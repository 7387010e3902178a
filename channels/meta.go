package channels

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/batonhq/baton"
)

// MetaHandshake answers the GET subscription check of a Meta webhook
// (WhatsApp and Messenger): when hub.mode is subscribe and hub.verify_token
// is ours, echo hub.challenge as plain text; anything else is refused.
func MetaHandshake(provider, verifyToken string, q url.Values) (*baton.WebhookResponse, error) {
	if q.Get("hub.mode") != "subscribe" {
		return nil, baton.Errorf(baton.EFORBIDDEN, "%s webhook handshake: hub.mode is not \"subscribe\"", provider)
	}
	if verifyToken == "" || subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return nil, baton.Errorf(baton.EFORBIDDEN, "%s webhook handshake: hub.verify_token does not match the configured token", provider)
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" {
		return nil, baton.Errorf(baton.EINVALID, "%s webhook handshake: no hub.challenge to echo", provider)
	}
	return &baton.WebhookResponse{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte(challenge)}, nil
}

// OK is the answer to a webhook that was stored.
func OK() *baton.WebhookResponse {
	return &baton.WebhookResponse{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")}
}

// MetaWebhook does what every Meta webhook (WhatsApp, Messenger) does
// before its own parser: the GET subscription handshake, the method and size
// checks, and the X-Hub-Signature-256 check over the raw body. It returns
// the response to send as it is (the handshake), or nil when r is a verified
// notification for the caller to parse.
func MetaWebhook(provider, appSecret, verifyToken string, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	switch r.Method {
	case http.MethodGet:
		return MetaHandshake(provider, verifyToken, r.Query)
	case http.MethodPost:
	default:
		return nil, baton.Errorf(baton.EINVALID, "%s webhook: method %s not allowed", provider, r.Method)
	}
	if len(r.Body) > baton.MaxWebhookBody {
		return nil, baton.Errorf(baton.ETOOLARGE, "%s webhook: body of %d bytes is over the %d-byte limit", provider, len(r.Body), baton.MaxWebhookBody)
	}
	return nil, VerifyMetaSignature(appSecret, r.Body, r.Header.Get(MetaSignatureHeader))
}
