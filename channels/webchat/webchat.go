// Package webchat is Baton's own browser channel and in-app entry point: an
// anonymous visitor id, an optional identity the host app vouches for with
// a signed token (JWT, HS256), page attributes stored on the conversation,
// and replies pushed over Server-Sent Events with catch-up from the last
// message the browser saw.
package webchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// Site is one bot's web chat configuration.
type Site struct {
	// IdentitySecret is shared with the host app, which signs its users'
	// tokens with it (and, deprecated, their bare ids). Empty means every
	// visitor is anonymous and user tokens are refused.
	IdentitySecret string
	Title          string // shown on the chat page
}

// Limits of one web chat message.
const (
	MaxPostBody   = 16 << 10
	MaxText       = 4096
	maxAttributes = 20
	maxAttrLen    = 512
	maxPayload    = 256
)

// PostRequest is what the chat page sends for one customer message.
type PostRequest struct {
	VisitorID       string `json:"visitor_id"`
	ClientMessageID string `json:"client_message_id"` // makes a retried POST idempotent
	Text            string `json:"text"`
	// Payload is the id of the button the visitor clicked (Text is its
	// title); empty for a typed message.
	Payload   string `json:"payload,omitempty"`
	UserToken string `json:"user_token,omitempty"` // the host app's signed token for its user
	// Deprecated: the host app's user id and hex HMAC-SHA256(secret,
	// user_id); use UserToken.
	UserID        string `json:"user_id,omitempty"`
	UserSignature string `json:"user_signature,omitempty"`
	Name          string `json:"name,omitempty"`
	// Attributes are page context (url, product, order_id, ...). The page
	// is not trusted: they are kept on the conversation, apart from the
	// customer attributes a user token carries.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// validID accepts the ids the page and host apps generate: 1 to 128
// characters of letters, digits and - _ . @ :, so that ids cannot smuggle
// separators into addresses.
func validID(s string, min int) bool {
	if len(s) < min || len(s) > 128 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.@:", r):
		default:
			return false
		}
	}
	return true
}

// ParsePost turns a chat page POST into an inbound message for botID.
// Error messages name the field and the rule, never the value sent: they
// are logged, and values (an e-mail address as an attribute key, a token)
// are personal data or credentials.
func ParsePost(botID string, site Site, body []byte, now time.Time) (baton.InboundMessage, error) {
	var in baton.InboundMessage
	if len(body) > MaxPostBody {
		return in, baton.Errorf(baton.ETOOLARGE, "web chat: message body of %d bytes is over %d", len(body), MaxPostBody)
	}
	var p PostRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return in, baton.Errorf(baton.EINVALID, "web chat: body is not a valid message: %s", jsonProblem(err))
	}
	if dec.More() {
		return in, baton.Errorf(baton.EINVALID, "web chat: trailing data after the JSON body")
	}
	return InboundOf(botID, site, p, now)
}

// InboundOf checks one chat page message, already decoded, and turns it into
// an inbound message for botID: what ParsePost does after the JSON, and
// what Handler.Accept does for a caller that has no HTTP request.
func InboundOf(botID string, site Site, p PostRequest, now time.Time) (baton.InboundMessage, error) {
	var in baton.InboundMessage
	id, err := Resolve(site, botID, Credentials{VisitorID: p.VisitorID, UserToken: p.UserToken, UserID: p.UserID, UserSignature: p.UserSignature}, now)
	if err != nil {
		return in, err
	}
	text := strings.TrimSpace(p.Text)
	switch {
	case text == "":
		return in, baton.Errorf(baton.EINVALID, "web chat: text is empty")
	case !utf8.ValidString(text):
		return in, baton.Errorf(baton.EINVALID, "web chat: text is not valid UTF-8")
	case utf8.RuneCountInString(text) > MaxText:
		return in, baton.Errorf(baton.EINVALID, "web chat: text is over %d characters", MaxText)
	case !validID(p.ClientMessageID, 8):
		return in, baton.Errorf(baton.EINVALID, "web chat: client_message_id must be 8 to 128 characters of letters, digits, - _ . @ :")
	case len(p.Attributes) > maxAttributes:
		return in, baton.Errorf(baton.EINVALID, "web chat: %d attributes, at most %d", len(p.Attributes), maxAttributes)
	case len(p.Payload) > maxPayload || !utf8.ValidString(p.Payload):
		return in, baton.Errorf(baton.EINVALID, "web chat: payload must be at most %d bytes of UTF-8", maxPayload)
	}
	typ, rawType := baton.TypeText, "text"
	if p.Payload != "" {
		typ, rawType = baton.TypeButton, "button"
	}
	attrs := map[string]string{}
	for k, v := range p.Attributes {
		if k == "" || len(k) > 64 || !utf8.ValidString(k) {
			return in, baton.Errorf(baton.EINVALID, "web chat: attributes: every key must be 1 to 64 bytes of UTF-8")
		}
		// The page sends its own address, which a host app may have
		// opened with identity parameters; no stored value keeps them
		// (and a long token does not make the value too long).
		v = StripIdentityParams(v)
		if len(v) > maxAttrLen || !utf8.ValidString(v) {
			return in, baton.Errorf(baton.EINVALID, "web chat: attributes: every value must be at most %d bytes of UTF-8", maxAttrLen)
		}
		attrs[k] = v
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	name := p.Name
	if utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		name = ""
	}
	if id.Name != "" {
		name = id.Name
	}
	return baton.InboundMessage{
		BotID:              botID,
		Channel:            baton.ChannelWebChat,
		ProviderMessageID:  "web:" + id.Address + ":" + p.ClientMessageID,
		From:               id.Address,
		ProfileName:        name,
		Type:               typ,
		RawType:            rawType,
		Text:               text,
		Payload:            p.Payload,
		Attributes:         attrs,
		Verified:           id.Verified,
		ExternalID:         id.ExternalID,
		CustomerAttributes: id.Attributes,
		Timestamp:          now,
	}, nil
}

// jsonProblem describes a decoding error without the input: encoding/json
// quotes unknown field names, which a page could fill with anything.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "not valid JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		// The first segment only: below it come map keys, which are data.
		field, _, _ := strings.Cut(typ.Field, ".")
		return "field " + field + " must be " + typ.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "unknown field; the fields are visitor_id, client_message_id, text, payload, user_token, user_id, user_signature, name, attributes"
	}
	return "not a JSON object"
}

// Sender "sends" a web chat reply: the browser reads the transcript over the
// stream, so accepting the message is recording it, and waking the visitor's
// streams (Signal, when set). The provider id is the message's own id,
// which makes a re-run of the deliver job harmless.
type Sender struct {
	Signal *Signal
}

// Send implements baton.Sender.
func (s Sender) Send(_ context.Context, conv *baton.Conversation, msg *baton.Message) (string, error) {
	if conv.Channel != baton.ChannelWebChat {
		return "", baton.Errorf(baton.EINVALID, "web chat: conversation %d is on %s", conv.ID, conv.Channel)
	}
	s.Signal.Notify(conv.BotID, conv.Address)
	return "web:out:" + strconv.FormatInt(msg.ID, 10), nil
}
