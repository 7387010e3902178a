package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/channels/webchat"
)

// TestMintIsWhatTheWebChatAccepts: the example's token verifies as the
// user it names, with its attributes trusted, for its bot only.
func TestMintIsWhatTheWebChatAccepts(t *testing.T) {
	const secret = "host-app-secret-0123456789abcdef"
	now := time.Now()
	tok, err := Mint(secret, Token{UserID: "u-42", Name: "Ana Lima", Email: "ana@example.com",
		Attributes: map[string]string{"vip": "true"}, Bot: "sportshop", TTL: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	site := webchat.Site{IdentitySecret: secret}
	id, err := webchat.VerifyToken(site, "sportshop", tok, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"vip": "true", "email": "ana@example.com"}
	if id.Address != "user:u-42" || id.Name != "Ana Lima" || !reflect.DeepEqual(id.Attributes, want) {
		t.Fatalf("identity %+v", id)
	}
	if _, err := webchat.VerifyToken(site, "otherbot", tok, now); err == nil {
		t.Error("a token for one bot was accepted by another")
	}
	if _, err := webchat.VerifyToken(site, "sportshop", tok, now.Add(2*time.Hour)); err == nil {
		t.Error("the token outlived its TTL")
	}
	if u := ChatURL("https://help.example/", "sportshop", tok); u != "https://help.example/chat/sportshop#user_token="+tok {
		t.Errorf("url %s", u)
	}
	if _, err := Mint("", Token{UserID: "u"}, now); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("no secret: %v", err)
	}
}
