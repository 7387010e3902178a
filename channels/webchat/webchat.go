// Package webchat is Baton's own browser channel and in-app entry point: an
// anonymous visitor id, an optional identity the host app vouches for with
// an HMAC-SHA256 signature, page attributes stored on the conversation, and
// replies pushed over Server-Sent Events with catch-up from the last message
// the browser saw.
package webchat

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

// Site is one bot's web chat configuration.
type Site struct {
	// IdentitySecret is shared with the host app, which signs its user id
	// with it (lowercase hex HMAC-SHA256 of the id). Empty means every
	// visitor is anonymous.
	IdentitySecret string
	Title          string // shown on the chat page
}

// Limits of one web chat message.
const (
	MaxPostBody   = 16 << 10
	MaxText       = 4096
	maxAttributes = 20
	maxAttrLen    = 512
)

// PostRequest is what the chat page sends for one customer message.
type PostRequest struct {
	VisitorID       string            `json:"visitor_id"`
	ClientMessageID string            `json:"client_message_id"` // makes a retried POST idempotent
	Text            string            `json:"text"`
	UserID          string            `json:"user_id,omitempty"`        // host app's user id
	UserSignature   string            `json:"user_signature,omitempty"` // hex HMAC-SHA256(secret, user_id)
	Name            string            `json:"name,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"` // url, product, order_id, ...
}

// Identity is who a web chat request speaks for.
type Identity struct {
	Address    string // "user:<id>" when verified, else "visitor:<id>"
	Verified   bool
	ExternalID string
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

// Resolve decides who is speaking. A user id with a valid signature is a
// verified customer; anything else (no signature, a wrong one, or no secret
// configured) falls back to the anonymous visitor id, in a separate address
// space, so an anonymous visitor is never merged with a verified customer.
func Resolve(site Site, visitorID, userID, signature string) (Identity, error) {
	if userID != "" && site.IdentitySecret != "" && validID(userID, 1) &&
		channels.VerifyHMACSHA256Hex([]byte(site.IdentitySecret), []byte(userID), signature) {
		return Identity{Address: "user:" + userID, Verified: true, ExternalID: userID}, nil
	}
	if !validID(visitorID, 16) {
		return Identity{}, baton.Errorf(baton.EINVALID, "web chat: visitor_id must be 16 to 128 characters of letters, digits, - _ . @ :")
	}
	return Identity{Address: "visitor:" + visitorID}, nil
}

// ParsePost turns a chat page POST into an inbound message for botID.
func ParsePost(botID string, site Site, body []byte, now time.Time) (baton.InboundMessage, error) {
	var in baton.InboundMessage
	if len(body) > MaxPostBody {
		return in, baton.Errorf(baton.ETOOLARGE, "web chat: message body of %d bytes is over %d", len(body), MaxPostBody)
	}
	var p PostRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return in, baton.Errorf(baton.EINVALID, "web chat: body is not a valid message: %w", err)
	}
	if dec.More() {
		return in, baton.Errorf(baton.EINVALID, "web chat: trailing data after the JSON body")
	}
	id, err := Resolve(site, p.VisitorID, p.UserID, p.UserSignature)
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
	}
	attrs := map[string]string{}
	for k, v := range p.Attributes {
		if k == "" || len(k) > 64 || len(v) > maxAttrLen || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return in, baton.Errorf(baton.EINVALID, "web chat: attribute %.64q: keys are 1 to 64 bytes, values at most %d", k, maxAttrLen)
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
	return baton.InboundMessage{
		BotID:             botID,
		Channel:           baton.ChannelWebChat,
		ProviderMessageID: "web:" + id.Address + ":" + p.ClientMessageID,
		From:              id.Address,
		ProfileName:       name,
		Type:              baton.TypeText,
		RawType:           "text",
		Text:              text,
		Attributes:        attrs,
		Verified:          id.Verified,
		ExternalID:        id.ExternalID,
		Timestamp:         now,
	}, nil
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
