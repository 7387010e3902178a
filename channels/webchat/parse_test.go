package webchat

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const secret = "host-app-secret"

func TestResolveIdentity(t *testing.T) {
	site := Site{IdentitySecret: secret}
	good := channels.HMACSHA256Hex([]byte(secret), []byte("u-42"))
	visitor := "0123456789abcdef0123"
	cases := []struct {
		name, visitor, user, sig string
		site                     Site
		wantAddr                 string
		wantVerified             bool
		wantErr                  bool
	}{
		{"anonymous", visitor, "", "", site, "visitor:" + visitor, false, false},
		{"verified", visitor, "u-42", good, site, "user:u-42", true, false},
		{"verified without visitor id", "", "u-42", good, site, "user:u-42", true, false},
		{"wrong signature is anonymous", visitor, "u-42", strings.Repeat("0", 64), site, "visitor:" + visitor, false, false},
		{"signature of another user", visitor, "u-43", good, site, "visitor:" + visitor, false, false},
		{"unsigned is anonymous", visitor, "u-42", "", site, "visitor:" + visitor, false, false},
		{"no secret configured", visitor, "u-42", good, Site{}, "visitor:" + visitor, false, false},
		{"visitor id too short", "abc", "", "", site, "", false, true},
		{"visitor id smuggling a separator", "0123456789abcdef/../x", "", "", site, "", false, true},
		{"wrong signature and no visitor", "", "u-42", "00", site, "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := Resolve(c.site, "acme", Credentials{VisitorID: c.visitor, UserID: c.user, UserSignature: c.sig}, now)
			if c.wantErr {
				if baton.ErrorCode(err) != baton.EINVALID {
					t.Fatalf("want EINVALID, got %v", err)
				}
				return
			}
			if err != nil || id.Address != c.wantAddr || id.Verified != c.wantVerified {
				t.Fatalf("got %+v %v", id, err)
			}
		})
	}
}

func TestParsePost(t *testing.T) {
	site := Site{IdentitySecret: secret}
	in, err := ParsePost("acme", site, []byte(`{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"  where is my order? ","attributes":{"url":"https://shop.example/orders/77","order_id":"77"}}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if in.From != "visitor:0123456789abcdef" || in.Text != "where is my order?" || in.ProviderMessageID != "web:visitor:0123456789abcdef:c-00000001" ||
		in.Attributes["order_id"] != "77" || in.Channel != baton.ChannelWebChat || in.Verified {
		t.Fatalf("got %+v", in)
	}
	cases := []struct{ name, body, code string }{
		{"not json", `{`, baton.EINVALID},
		{"unknown field", `{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"x","admin":true}`, baton.EINVALID},
		{"empty text", `{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"  "}`, baton.EINVALID},
		{"no client id", `{"visitor_id":"0123456789abcdef","text":"x"}`, baton.EINVALID},
		{"too long", `{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"` + strings.Repeat("a", MaxText+1) + `"}`, baton.EINVALID},
		{"too large", `{"text":"` + strings.Repeat("a", MaxPostBody) + `"}`, baton.ETOOLARGE},
		{"long attribute", `{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"x","attributes":{"url":"` + strings.Repeat("u", 600) + `"}}`, baton.EINVALID},
		{"bad user token", `{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"x","user_token":"a.b.c"}`, baton.EUNAUTHORIZED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParsePost("acme", site, []byte(c.body), now); baton.ErrorCode(err) != c.code {
				t.Fatalf("want %s, got %v", c.code, err)
			}
		})
	}
}

func FuzzParseWebChat(f *testing.F) {
	f.Add([]byte(`{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"hi","attributes":{"url":"https://x"}}`))
	f.Add([]byte(`{"visitor_id":"0123456789abcdef","client_message_id":"c-00000001","text":"hi","user_id":"u-42","user_signature":"00"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ParsePost("acme", Site{IdentitySecret: secret}, body, now)
		if err != nil {
			if c := baton.ErrorCode(err); c != baton.EINVALID && c != baton.ETOOLARGE && c != baton.EUNAUTHORIZED {
				t.Fatalf("parse error without EINVALID: %v", err)
			}
			return
		}
		if in.Verified {
			t.Fatalf("fuzzed body forged a verified identity: %+v", in)
		}
		if !strings.HasPrefix(in.From, "visitor:") || in.Text == "" || in.ProviderMessageID == "" {
			t.Fatalf("accepted an incomplete message: %+v", in)
		}
	})
}

// A click on a bot's button posts its title as the text and its id as the
// payload: the message is a button reply.
func TestParsePostButton(t *testing.T) {
	visitor := "0123456789abcdef0123"
	body := `{"visitor_id":"` + visitor + `","client_message_id":"c-00000001","text":"Yes","payload":"baton:help:yes"}`
	in, err := ParsePost("acme", Site{}, []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if in.Type != baton.TypeButton || in.Payload != "baton:help:yes" || in.Text != "Yes" {
		t.Fatalf("parsed %+v", in)
	}
	typed, err := ParsePost("acme", Site{}, []byte(`{"visitor_id":"`+visitor+`","client_message_id":"c-00000002","text":"yes"}`), now)
	if err != nil || typed.Type != baton.TypeText || typed.Payload != "" {
		t.Fatalf("typed message %+v %v", typed, err)
	}
	long := `{"visitor_id":"` + visitor + `","client_message_id":"c-00000003","text":"x","payload":"` + strings.Repeat("p", 300) + `"}`
	if _, err := ParsePost("acme", Site{}, []byte(long), now); baton.ErrorCode(err) != baton.EINVALID || strings.Contains(err.Error(), "ppp") {
		t.Fatalf("an oversized payload: %v", err)
	}
}
