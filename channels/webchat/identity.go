package webchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

// Credentials are what a chat page sends to say who is speaking.
type Credentials struct {
	VisitorID string // the browser's anonymous id
	// UserToken is a JWT the host app signed for its signed-in user
	// (HS256 with the bot's identity secret); see VerifyToken.
	UserToken string
	// UserID with UserSignature (lowercase hex HMAC-SHA256 of the id) is
	// the older form of a signed identity. Deprecated: it never expires,
	// so anyone who saw it once can speak as the user for good; use
	// UserToken.
	UserID        string
	UserSignature string
}

// Identity is who a web chat request speaks for.
type Identity struct {
	Address    string // "user:<id>" when verified, else "visitor:<id>"
	Verified   bool
	ExternalID string
	// Name and Attributes come from a verified user token only: the host
	// app vouched for them, so they are trusted customer data (an "email"
	// claim is the attribute "email").
	Name       string
	Attributes map[string]string
}

// Limits of a user token.
const (
	maxTokenLen     = 4096
	maxTokenAttrs   = 20
	maxTokenAttrKey = 64
	tokenLeeway     = 30 * time.Second
)

// Resolve decides who is speaking. A user token must verify: a bad,
// expired or wrongly signed one is an EUNAUTHORIZED error with the reason,
// never a silent fall back to anonymous. The deprecated user id with a
// valid signature is a verified customer too; with no signature, a wrong
// one, or no secret configured it falls back to the anonymous visitor id,
// as it always did. Verified users and anonymous visitors live in separate
// address spaces, so a visitor is never merged with a verified customer.
func Resolve(site Site, botID string, cr Credentials, now time.Time) (Identity, error) {
	if cr.UserToken != "" {
		if cr.UserID != "" || cr.UserSignature != "" {
			return Identity{}, baton.Errorf(baton.EINVALID, "web chat: send user_token or the deprecated user_id with user_signature, not both")
		}
		return VerifyToken(site, botID, cr.UserToken, now)
	}
	if cr.UserID != "" && site.IdentitySecret != "" && validID(cr.UserID, 1) &&
		channels.VerifyHMACSHA256Hex([]byte(site.IdentitySecret), []byte(cr.UserID), cr.UserSignature) {
		return Identity{Address: "user:" + cr.UserID, Verified: true, ExternalID: cr.UserID}, nil
	}
	if !validID(cr.VisitorID, 16) {
		return Identity{}, baton.Errorf(baton.EINVALID, "web chat: visitor_id must be 16 to 128 characters of letters, digits, - _ . @ :")
	}
	return Identity{Address: "visitor:" + cr.VisitorID}, nil
}

// tokenClaims are the claims of a user token. Attributes stay raw until
// the signature is verified, so that nothing an unsigned token says is
// interpreted.
type tokenClaims struct {
	jwt.RegisteredClaims
	Name       string          `json:"name,omitempty"`
	Email      string          `json:"email,omitempty"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

// VerifyToken checks a user token: a JWT signed with HS256 (no other
// algorithm, "none" least of all) with the bot's identity secret, carrying
// sub (the host app's user id, same rules as a visitor id but from 1
// character), exp (required), optionally nbf and iat (checked with 30 s
// of leeway), aud (when present it must name the bot), name, email and
// attributes (an object of at most 20 string, number or boolean values).
// Every failure is EUNAUTHORIZED with a reason that quotes nothing from
// the token.
func VerifyToken(site Site, botID, token string, now time.Time) (Identity, error) {
	fail := func(reason string) (Identity, error) {
		return Identity{}, baton.Errorf(baton.EUNAUTHORIZED, "web chat: user_token %s", reason)
	}
	if site.IdentitySecret == "" {
		return fail("is not accepted: this bot's web chat has no identity secret")
	}
	if len(token) > maxTokenLen {
		return fail("is over 4096 bytes")
	}
	var c tokenClaims
	parsed, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return []byte(site.IdentitySecret), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case err == nil:
	case parsed != nil && parsed.Method != nil && parsed.Method.Alg() != jwt.SigningMethodHS256.Alg(),
		errors.Is(err, jwt.ErrTokenUnverifiable):
		return fail("must be signed with HS256")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fail("is not a well-formed JWT")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fail("signature does not match the bot's identity secret")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fail("has no exp (expiry) claim")
	case errors.Is(err, jwt.ErrTokenExpired):
		return fail("has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fail("is not valid yet (nbf)")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail("is issued in the future (iat)")
	default:
		return fail("is not valid")
	}
	if len(c.Audience) > 0 && !contains(c.Audience, botID) {
		return fail("is for another bot (aud)")
	}
	if !validID(c.Subject, 1) {
		return fail("sub must be 1 to 128 characters of letters, digits, - _ . @ :")
	}
	id := Identity{Address: "user:" + c.Subject, Verified: true, ExternalID: c.Subject}
	if c.Name != "" {
		if !utf8.ValidString(c.Name) || utf8.RuneCountInString(c.Name) > 100 {
			return fail("name must be at most 100 characters")
		}
		id.Name = c.Name
	}
	attrs, err := tokenAttributes(c.Attributes)
	if err != nil {
		return fail(err.Error())
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
			return fail("email is not an e-mail address")
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["email"] = c.Email
	}
	id.Attributes = attrs
	return id, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// tokenAttributes reads the attributes claim. Values may be strings,
// numbers or booleans (host apps write "vip": true); they are stored as
// text. Errors name no key or value.
func tokenAttributes(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New("attributes must be a JSON object")
	}
	if len(m) > maxTokenAttrs {
		return nil, errors.New("attributes: at most 20")
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !validAttrKey(k) {
			return nil, errors.New("attributes: keys are 1 to 64 letters, digits, - _ .")
		}
		var val any
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if err := d.Decode(&val); err != nil {
			return nil, errors.New("attributes: values must be strings, numbers or booleans")
		}
		var s string
		switch x := val.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = "false"
			if x {
				s = "true"
			}
		default:
			return nil, errors.New("attributes: values must be strings, numbers or booleans")
		}
		if len(s) > maxAttrLen || !utf8.ValidString(s) {
			return nil, errors.New("attributes: values are at most 512 bytes of UTF-8")
		}
		out[k] = s
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func validAttrKey(k string) bool {
	if k == "" || len(k) > maxTokenAttrKey {
		return false
	}
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// isIdentityParam reports whether a URL parameter carries an identity or a
// credential: the web chat's own (user_id, user_signature, user_token) and
// the usual names of tokens, signatures, sessions and secrets.
func isIdentityParam(name string) bool {
	name = strings.ToLower(name)
	switch name {
	case "user_id", "userid", "uid", "jwt", "sig", "auth", "session", "session_id", "sessionid", "sid":
		return true
	}
	for _, suffix := range []string{"token", "signature", "secret", "password", "api_key", "apikey"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// StripIdentityParams removes identity and credential parameters
// (isIdentityParam) from the query and the fragment of a URL, keeping
// everything else as it was written. It works on the text, not on a
// parsed URL, so that a URL net/url refuses still loses its secrets.
func StripIdentityParams(s string) string {
	if !strings.ContainsAny(s, "?#") {
		return s
	}
	rest, frag, hasFrag := strings.Cut(s, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	out := base
	if hasQuery {
		if q := stripParams(query); q != "" {
			out += "?" + q
		}
	}
	if hasFrag {
		// A fragment may be an anchor (#returns) or parameters
		// (#user_token=...); only parameters are filtered.
		if strings.Contains(frag, "=") {
			frag = stripParams(frag)
		}
		if frag != "" {
			out += "#" + frag
		}
	}
	return out
}

func stripParams(q string) string {
	parts := strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' })
	kept := parts[:0]
	for _, p := range parts {
		// A parameter without a value carries nothing to hide.
		name, _, hasValue := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !hasValue || !isIdentityParam(strings.TrimSpace(name)) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}
