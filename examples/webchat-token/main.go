// Command webchat-token is what a host app does to open the web chat as its
// signed-in user: mint a short-lived token signed with the bot's identity
// secret, on the server (the secret never reaches a browser), and put it in
// the chat page's address fragment.
//
//	WEBCHAT_IDENTITY_SECRET=... go run ./examples/webchat-token \
//	    -user u-42 -name "Ana Lima" -email ana@example.com -attr plan=pro -attr vip=true
//
// prints the URL to open (or to use as an iframe's src).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token is one user's web chat token.
type Token struct {
	UserID     string            // the host app's user id: the token's sub
	Name       string            // optional
	Email      string            // optional
	Attributes map[string]string // optional: plan, vip, ... trusted by the bot
	Bot        string            // optional: the token is only good for this bot (aud)
	TTL        time.Duration     // how long it is good for
}

// Mint signs t with the bot's identity secret (HS256).
func Mint(secret string, t Token, now time.Time) (string, error) {
	if secret == "" || t.UserID == "" || t.TTL <= 0 {
		return "", errors.New("a secret, a user id and a positive lifetime are required")
	}
	claims := jwt.MapClaims{
		"sub": t.UserID,
		"iat": now.Unix(),
		"exp": now.Add(t.TTL).Unix(),
	}
	if t.Bot != "" {
		claims["aud"] = t.Bot
	}
	if t.Name != "" {
		claims["name"] = t.Name
	}
	if t.Email != "" {
		claims["email"] = t.Email
	}
	if len(t.Attributes) > 0 {
		claims["attributes"] = t.Attributes
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
}

// ChatURL is the chat page for bot at base with the token in the fragment,
// which browsers send to no server and put in no Referer.
func ChatURL(base, bot, token string) string {
	return strings.TrimRight(base, "/") + "/chat/" + bot + "#user_token=" + token
}

type attrs map[string]string

func (a attrs) String() string { return fmt.Sprint(map[string]string(a)) }

func (a attrs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want key=value")
	}
	a[k] = v
	return nil
}

func main() {
	t := Token{Attributes: attrs{}}
	base := flag.String("base", "http://127.0.0.1:8080", "the Baton server's public URL")
	flag.StringVar(&t.Bot, "bot", "sportshop", "bot id")
	flag.StringVar(&t.UserID, "user", "", "the signed-in user's id (required)")
	flag.StringVar(&t.Name, "name", "", "the user's name")
	flag.StringVar(&t.Email, "email", "", "the user's e-mail address")
	flag.Var(attrs(t.Attributes), "attr", "a customer attribute, key=value (repeatable)")
	flag.DurationVar(&t.TTL, "ttl", time.Hour, "how long the token is good for")
	flag.Parse()
	token, err := Mint(os.Getenv("WEBCHAT_IDENTITY_SECRET"), t, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "webchat-token:", err, "(set WEBCHAT_IDENTITY_SECRET and pass -user)")
		os.Exit(2)
	}
	fmt.Println(ChatURL(*base, t.Bot, token))
}
