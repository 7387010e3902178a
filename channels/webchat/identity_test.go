package webchat

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/batonhq/baton"
)

// mint signs claims the way a host app does.
func mint(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyToken(t *testing.T) {
	site := Site{IdentitySecret: secret}
	exp := now.Add(time.Hour).Unix()
	good := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u-42", "exp": exp}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	hs256 := func(c jwt.MapClaims) string { return mint(t, jwt.SigningMethodHS256, []byte(secret), c) }
	// A token whose header names another algorithm, signed with the
	// secret all the same: the algorithm alone must refuse it.
	rs256Header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	hsParts := strings.Split(hs256(good(nil)), ".")
	tests := []struct {
		name      string
		site      Site
		token     string
		wantAttrs map[string]string
		wantName  string
		wantErr   string // part of the EUNAUTHORIZED message; "" for success
	}{
		{name: "subject and expiry", site: site, token: hs256(good(nil))},
		{name: "name, email and attributes", site: site,
			token: hs256(good(jwt.MapClaims{"name": "Ana María", "email": "ana@example.com",
				"attributes": map[string]any{"plan": "pro", "vip": true, "orders": 12}})),
			wantName: "Ana María", wantAttrs: map[string]string{"plan": "pro", "vip": "true", "orders": "12", "email": "ana@example.com"}},
		{name: "audience naming the bot", site: site, token: hs256(good(jwt.MapClaims{"aud": []string{"other", "acme"}}))},
		{name: "within the leeway after expiry", site: site, token: hs256(good(jwt.MapClaims{"exp": now.Add(-20 * time.Second).Unix()}))},
		{name: "expired", site: site, token: hs256(good(jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()})), wantErr: "has expired"},
		{name: "no expiry", site: site, token: hs256(jwt.MapClaims{"sub": "u-42"}), wantErr: "no exp"},
		{name: "not valid yet", site: site, token: hs256(good(jwt.MapClaims{"nbf": now.Add(time.Minute).Unix()})), wantErr: "not valid yet"},
		{name: "issued in the future", site: site, token: hs256(good(jwt.MapClaims{"iat": now.Add(time.Minute).Unix()})), wantErr: "issued in the future"},
		{name: "wrong secret", site: site, token: mint(t, jwt.SigningMethodHS256, []byte("another-secret-0123"), good(nil)), wantErr: "signature does not match"},
		{name: "HS512", site: site, token: mint(t, jwt.SigningMethodHS512, []byte(secret), good(nil)), wantErr: "must be signed with HS256"},
		{name: "alg none", site: site, token: mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(nil)), wantErr: "must be signed with HS256"},
		{name: "RS256 header over an HMAC", site: site, token: rs256Header + "." + hsParts[1] + "." + hsParts[2], wantErr: "must be signed with HS256"},
		{name: "unknown alg", site: site, token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX1"}`)) + "." + hsParts[1] + "." + hsParts[2], wantErr: "must be signed with HS256"},
		{name: "not a JWT", site: site, token: "user-42", wantErr: "not a well-formed JWT"},
		{name: "another bot's audience", site: site, token: hs256(good(jwt.MapClaims{"aud": "other"})), wantErr: "another bot"},
		{name: "no subject", site: site, token: hs256(jwt.MapClaims{"exp": exp}), wantErr: "sub must be"},
		{name: "subject with a separator", site: site, token: hs256(good(jwt.MapClaims{"sub": "u/../42"})), wantErr: "sub must be"},
		{name: "attributes not an object", site: site, token: hs256(good(jwt.MapClaims{"attributes": []string{"vip"}})), wantErr: "must be a JSON object"},
		{name: "attribute value an object", site: site, token: hs256(good(jwt.MapClaims{"attributes": map[string]any{"vip": map[string]any{}}})), wantErr: "strings, numbers or booleans"},
		{name: "attribute key an e-mail address", site: site, token: hs256(good(jwt.MapClaims{"attributes": map[string]any{"ana@example.com": "x"}})), wantErr: "keys are"},
		{name: "too many attributes", site: site, token: hs256(good(jwt.MapClaims{"attributes": manyAttrs(21)})), wantErr: "at most 20"},
		{name: "bad email", site: site, token: hs256(good(jwt.MapClaims{"email": "Ana <ana@example.com>"})), wantErr: "email is not"},
		{name: "no identity secret configured", site: Site{}, token: hs256(good(nil)), wantErr: "no identity secret"},
		{name: "oversized", site: site, token: strings.Repeat("a", 5000), wantErr: "over 4096 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := VerifyToken(tc.site, "acme", tc.token, now)
			if tc.wantErr != "" {
				if baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want unauthorized saying %q", err, tc.wantErr)
				}
				for _, leak := range []string{"u-42", "ana@example.com", "u/../42", tc.token} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("the error %q repeats what the token carried", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Address != "user:u-42" || !id.Verified || id.ExternalID != "u-42" || id.Name != tc.wantName || !reflect.DeepEqual(id.Attributes, tc.wantAttrs) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func manyAttrs(n int) map[string]any {
	m := map[string]any{}
	for i := 0; i < n; i++ {
		m["k"+strings.Repeat("x", i)] = "v"
	}
	return m
}

// TestResolveToken: a token is never a silent anonymous visitor, and it is
// one form or the other, not both.
func TestResolveToken(t *testing.T) {
	site := Site{IdentitySecret: secret}
	tok := mint(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "u-42", "exp": now.Add(time.Hour).Unix()})
	id, err := Resolve(site, "acme", Credentials{VisitorID: "0123456789abcdef", UserToken: tok}, now)
	if err != nil || id.Address != "user:u-42" {
		t.Fatalf("%+v %v", id, err)
	}
	expired := mint(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "u-42", "exp": now.Add(-time.Hour).Unix()})
	if _, err := Resolve(site, "acme", Credentials{VisitorID: "0123456789abcdef", UserToken: expired}, now); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
		t.Fatalf("an expired token with a visitor id: %v, want unauthorized", err)
	}
	if _, err := Resolve(site, "acme", Credentials{UserToken: tok, UserID: "u-42", UserSignature: "00"}, now); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("both forms: %v", err)
	}
}

// TestParsePostTrustedAttributes: attributes a token signed are customer
// attributes; attributes in the body stay page context, whatever their
// names.
func TestParsePostTrustedAttributes(t *testing.T) {
	site := Site{IdentitySecret: secret}
	tok := mint(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{
		"sub": "u-42", "exp": now.Add(time.Hour).Unix(), "name": "Ana", "attributes": map[string]any{"vip": true},
	})
	in, err := ParsePost("acme", site, []byte(`{"client_message_id":"c-00000001","text":"hi","name":"Mallory","user_token":"`+tok+`","attributes":{"plan":"enterprise"}}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Verified || in.From != "user:u-42" || in.ProfileName != "Ana" ||
		!reflect.DeepEqual(in.CustomerAttributes, map[string]string{"vip": "true"}) || !reflect.DeepEqual(in.Attributes, map[string]string{"plan": "enterprise"}) {
		t.Fatalf("got %+v", in)
	}
	forged, err := ParsePost("acme", site, []byte(`{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"hi","attributes":{"vip":"true"}}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if forged.Verified || forged.CustomerAttributes != nil || forged.Attributes["vip"] != "true" {
		t.Fatalf("a page's vip must stay page context: %+v", forged)
	}
}

func TestStripIdentityParams(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.example/orders/77", "https://shop.example/orders/77"},
		{"https://shop.example/p?id=9&utm_source=mail", "https://shop.example/p?id=9&utm_source=mail"},
		{"https://shop.example/chat?user_id=u-42&user_signature=abcdef&product=shoe", "https://shop.example/chat?product=shoe"},
		{"https://shop.example/chat?product=shoe&user_token=eyJ.x.y#top", "https://shop.example/chat?product=shoe#top"},
		{"https://shop.example/chat#user_token=eyJ.x.y&lang=en", "https://shop.example/chat#lang=en"},
		{"https://shop.example/chat?User_Token=a&ACCESS_TOKEN=b&csrf_token=c&sig=d&session_id=e&jwt=f&password=g", "https://shop.example/chat"},
		{"https://shop.example/chat?user%5Ftoken=a&q=1", "https://shop.example/chat?q=1"},
		{"https://shop.example/%zz?token=a", "https://shop.example/%zz"},
		{"/chat/acme?user_id=u-42;x=1", "/chat/acme?x=1"},
		{"Size 42? token", "Size 42? token"},
	}
	for _, tc := range tests {
		if got := StripIdentityParams(tc.in); got != tc.want {
			t.Errorf("StripIdentityParams(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
