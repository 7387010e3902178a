package channels

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// Signature headers of the providers whose webhooks Baton accepts.
const (
	MetaSignatureHeader   = "X-Hub-Signature-256"
	TwilioSignatureHeader = "X-Twilio-Signature"
)

// macEqual computes the HMAC of msg under key and compares it with want in
// constant time. It is the one place where a webhook signature is checked, so
// that no adapter can compare MACs with a timing leak by accident.
func macEqual(h func() hash.Hash, key []byte, want []byte, msg ...[]byte) bool {
	m := hmac.New(h, key)
	for _, p := range msg {
		m.Write(p)
	}
	return hmac.Equal(m.Sum(nil), want)
}

// HMACSHA256Hex returns the lowercase hex HMAC-SHA256 of msg under key, the
// form Meta signs webhooks with and the web chat's verified identities use.
func HMACSHA256Hex(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyHMACSHA256Hex checks a hex HMAC-SHA256 of msg in constant time.
func VerifyHMACSHA256Hex(key, msg []byte, sigHex string) bool {
	want, err := hex.DecodeString(sigHex)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	return macEqual(sha256.New, key, want, msg)
}

// VerifyMetaSignature checks the X-Hub-Signature-256 header of a WhatsApp or
// Messenger webhook against the raw body exactly as received. Meta signs the
// bytes it sends (unicode escaped as \u00e4 and the like), so the body must
// never be re-encoded before this check.
func VerifyMetaSignature(appSecret string, body []byte, header string) error {
	if appSecret == "" {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: no app secret configured for this channel")
	}
	if header == "" {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: missing %s header", MetaSignatureHeader)
	}
	algo, sig, ok := strings.Cut(header, "=")
	if !ok || algo != "sha256" {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: %s header is not of the form sha256=<hex>", MetaSignatureHeader)
	}
	if !VerifyHMACSHA256Hex([]byte(appSecret), body, sig) {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: %s does not match the body", MetaSignatureHeader)
	}
	return nil
}

// TwilioSignature returns the X-Twilio-Signature Twilio computes for a POST
// to fullURL with params: base64(HMAC-SHA1(token, URL + every name+value
// sorted by name, then by value for repeated names)).
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write(twilioSigningString(fullURL, params))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func twilioSigningString(fullURL string, params url.Values) []byte {
	keys := make([]string, 0, len(params))
	n := len(fullURL)
	for k, vs := range params {
		keys = append(keys, k)
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	sort.Strings(keys)
	b := make([]byte, 0, n)
	b = append(b, fullURL...)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, v...)
		}
	}
	return b
}

// VerifyTwilioSignature checks X-Twilio-Signature for a form-encoded webhook
// sent to publicURL (the configured public URL, not the request's Host: behind
// a proxy the two differ). Twilio's own validators accept the URL with and
// without the scheme's default port, because what Twilio signs depends on how
// the URL was configured; so does this.
func VerifyTwilioSignature(authToken, publicURL string, params url.Values, header string) error {
	if authToken == "" {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: no auth token configured for this channel")
	}
	if header == "" {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: missing %s header", TwilioSignatureHeader)
	}
	want, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(want) != sha1.Size {
		return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: %s is not a base64 HMAC-SHA1", TwilioSignatureHeader)
	}
	for _, u := range urlVariants(publicURL) {
		if macEqual(sha1.New, []byte(authToken), want, twilioSigningString(u, params)) {
			return nil
		}
	}
	return baton.Errorf(baton.EUNAUTHORIZED, "webhook signature: %s does not match the URL and parameters", TwilioSignatureHeader)
}

// urlVariants returns raw, plus raw with the default port added when it has
// none, or removed when it has it.
func urlVariants(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return []string{raw}
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if def == "" {
		return []string{raw}
	}
	alt := *u
	switch u.Port() {
	case "":
		alt.Host = net.JoinHostPort(u.Hostname(), def)
	case def:
		alt.Host = u.Hostname()
		if strings.Contains(alt.Host, ":") { // IPv6 literal
			alt.Host = "[" + alt.Host + "]"
		}
	default:
		return []string{raw}
	}
	return []string{raw, alt.String()}
}
