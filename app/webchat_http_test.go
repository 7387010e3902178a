package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/store/storecase"
)

// chat is the app's server on loopback, over a real store, on the system
// clock (user tokens carry real expiry times), with the web chat limits of
// the test.
type chat struct {
	t    *testing.T
	e    *env
	base string
}

func newChat(t *testing.T, sc storecase.Case, limits func(l *config.Limits)) *chat {
	t.Helper()
	e := newEnv(t, sc, envOptions{realClock: true, limits: limits})
	e.webChat().Poll = 20 * time.Millisecond
	return &chat{t: t, e: e, base: e.serve()}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) errorBody(t *testing.T) baton.ErrorDetail {
	t.Helper()
	// The one error shape of the server: exactly {"error": {"code",
	// "message"}}, nothing beside it.
	var raw map[string]map[string]any
	if err := json.Unmarshal(a.body, &raw); err != nil || len(raw) != 1 || len(raw["error"]) != 2 {
		t.Fatalf("body %s is not {\"error\": {\"code\", \"message\"}}", a.body)
	}
	code, _ := raw["error"]["code"].(string)
	msg, _ := raw["error"]["message"].(string)
	if code == "" || msg == "" {
		t.Fatalf("body %s lacks code or message", a.body)
	}
	return baton.ErrorDetail{Code: code, Message: msg}
}

func (c *chat) post(body map[string]any) answer {
	c.t.Helper()
	b, _ := json.Marshal(body)
	return c.do("POST", "/chat/"+botID+"/messages", b, nil)
}

func (c *chat) do(method, path string, body []byte, header map[string]string) answer {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// messages is every message stored for the bot.
func (c *chat) messages() []*baton.Message {
	c.t.Helper()
	ctx := context.Background()
	convs, err := c.e.st.ListConversations(ctx, baton.ConversationFilter{BotID: botID, Limit: 500})
	if err != nil {
		c.t.Fatal(err)
	}
	var out []*baton.Message
	for _, cv := range convs {
		ms, err := c.e.st.ListMessages(ctx, cv.ID, 0, 0)
		if err != nil {
			c.t.Fatal(err)
		}
		out = append(out, ms...)
	}
	return out
}

func msg(visitor, clientID, text string) map[string]any {
	return map[string]any{"visitor_id": visitor, "client_message_id": clientID, "text": text}
}

// refused checks a 429: Retry-After in whole seconds, the error shape.
func refused(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("status %d (%s), want 429", a.status, a.body)
	}
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q, want whole seconds", a.header.Get("Retry-After"))
	}
	if e := a.errorBody(t); e.Code != baton.ERATELIMITED {
		t.Fatalf("code %q", e.Code)
	}
}

func TestPostLimits(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Run("per visitor", func(t *testing.T) {
				c := newChat(t, sc, func(l *config.Limits) { l.WebChatPostsPerVisitor = "3/1m" })
				const visitor = "visitor-0000000001"
				for i := 0; i < 3; i++ {
					if a := c.post(msg(visitor, fmt.Sprintf("c-%08d", i), "hello")); a.status != 200 {
						t.Fatalf("post %d: %d %s", i, a.status, a.body)
					}
				}
				a := c.post(msg(visitor, "c-00000099", "one too many"))
				refused(t, a)
				if wait, _ := strconv.Atoi(a.header.Get("Retry-After")); wait != 20 {
					t.Errorf("Retry-After %d, want 20 (one post every 20 s)", wait)
				}
				if n := len(c.messages()); n != 3 {
					t.Fatalf("%d messages stored, want the 3 allowed", n)
				}
				if a := c.post(msg("visitor-0000000002", "c-00000001", "another visitor")); a.status != 200 {
					t.Fatalf("another visitor: %d", a.status)
				}
			})
			t.Run("per address", func(t *testing.T) {
				c := newChat(t, sc, func(l *config.Limits) { l.WebChatPostsPerAddress = "5/1m" })
				for i := 0; i < 5; i++ {
					if a := c.post(msg(fmt.Sprintf("visitor-%010d", i), "c-00000001", "new here")); a.status != 200 {
						t.Fatalf("visitor %d: %d", i, a.status)
					}
				}
				refused(t, c.post(msg("visitor-9999999999", "c-00000001", "new here too")))
				// Nothing of the refused visitor exists: no customer, no
				// conversation, no message.
				if _, err := c.e.st.GetIdentity(context.Background(), botID, baton.ChannelWebChat, "visitor:visitor-9999999999"); baton.ErrorCode(err) != baton.ENOTFOUND {
					t.Fatalf("the refused visitor was stored: %v", err)
				}
				if n := len(c.messages()); n != 5 {
					t.Fatalf("%d messages, want 5", n)
				}
				// A refusal is not a warning per request.
				if strings.Contains(c.e.logs.String(), `"level":"WARN"`) {
					t.Errorf("a refusal logged a warning:\n%s", c.e.logs.String())
				}
			})
		})
	}
}

// stream opens a reply stream and returns its status, and a close that
// drops the connection.
func (c *chat) stream(query string) (int, http.Header, func()) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/chat/"+botID+"/stream?"+query, nil)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	if resp.StatusCode == 200 {
		// Read the first line, so that the stream is surely open.
		_, _ = bufio.NewReader(resp.Body).ReadString('\n')
	}
	closed := false
	closeFn := func() {
		if !closed {
			closed = true
			cancel()
			resp.Body.Close()
		}
	}
	c.t.Cleanup(closeFn)
	return resp.StatusCode, resp.Header, closeFn
}

func TestStreamLimits(t *testing.T) {
	sc := stores()[0]
	c := newChat(t, sc, func(l *config.Limits) { l.WebChatStreamsPerVisitor, l.WebChatStreamsTotal = "2", "3" })
	a1, _, closeA1 := c.stream("visitor_id=visitor-aaaaaaaaaa")
	a2, _, _ := c.stream("visitor_id=visitor-aaaaaaaaaa")
	if a1 != 200 || a2 != 200 {
		t.Fatalf("two streams of one visitor: %d %d", a1, a2)
	}
	status, hdr, _ := c.stream("visitor_id=visitor-aaaaaaaaaa")
	if status != 429 || hdr.Get("Retry-After") != "10" {
		t.Fatalf("third stream of the visitor: %d, Retry-After %q", status, hdr.Get("Retry-After"))
	}
	if b, _, _ := c.stream("visitor_id=visitor-bbbbbbbbbb"); b != 200 {
		t.Fatalf("another visitor: %d", b)
	}
	if s, _, _ := c.stream("visitor_id=visitor-cccccccccc"); s != 429 {
		t.Fatalf("a fourth stream in total: %d", s)
	}
	// A refused identity takes no slot.
	if s, _, _ := c.stream("visitor_id=short"); s != 400 {
		t.Fatalf("bad visitor: %d", s)
	}
	// The browser goes away: its slot comes back.
	closeA1()
	deadline := time.Now().Add(10 * time.Second)
	for {
		total, _ := c.e.webChat().Streams.Open("")
		if total == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams still counted after a disconnect", total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s, _, _ := c.stream("visitor_id=visitor-aaaaaaaaaa"); s != 200 {
		t.Fatalf("a stream after one was closed: %d", s)
	}
}

func mintToken(t *testing.T, key string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIdentityAndStoredURL: a user token makes a verified customer whose
// signed attributes are customer attributes; the page's URL is stored
// without any identity parameter and the token is nowhere in what the
// admin API returns; a bad token is a 401 that stores nothing.
func TestIdentityAndStoredURL(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			c := newChat(t, sc, nil)
			exp := time.Now().Add(time.Hour).Unix()
			token := mintToken(t, chatSecret, jwt.MapClaims{"sub": "u-42", "exp": exp, "name": "Ana",
				"email": "ana@example.com", "attributes": map[string]any{"vip": true, "plan": "pro"}})
			legacySig := channels.HMACSHA256Hex([]byte(chatSecret), []byte("u-42"))
			pageURL := "https://shop.example/help?user_id=u-42&user_signature=" + legacySig + "&product=kettle#user_token=" + token
			a := c.post(map[string]any{"client_message_id": "c-00000001", "text": "Where is my kettle?", "user_token": token,
				"attributes": map[string]string{"url": pageURL, "vip": "false", "referrer": "https://mail.example/?token=abc&id=3"}})
			if a.status != 200 {
				t.Fatalf("post with a token: %d %s", a.status, a.body)
			}
			var listed struct {
				Conversations []struct {
					ID int64 `json:"id"`
				} `json:"conversations"`
			}
			l := c.do("GET", "/api/v1/conversations?bot="+botID, nil, map[string]string{"Authorization": "Bearer " + adminToken})
			if err := json.Unmarshal(l.body, &listed); err != nil || len(listed.Conversations) != 1 {
				t.Fatalf("admin list: %d %s", l.status, l.body)
			}
			one := c.do("GET", fmt.Sprintf("/api/v1/conversations/%d", listed.Conversations[0].ID), nil, map[string]string{"Authorization": "Bearer " + adminToken})
			var got struct {
				Conversation struct {
					Address    string            `json:"address"`
					Attributes map[string]string `json:"attributes"`
				} `json:"conversation"`
			}
			if err := json.Unmarshal(one.body, &got); err != nil {
				t.Fatalf("admin get: %d %s", one.status, one.body)
			}
			want := map[string]string{"url": "https://shop.example/help?product=kettle", "vip": "false", "referrer": "https://mail.example/?id=3"}
			if !reflect.DeepEqual(got.Conversation.Attributes, want) || got.Conversation.Address != "user:u-42" {
				t.Fatalf("stored conversation %+v, want attributes %v", got.Conversation, want)
			}
			for _, secretPart := range []string{token, legacySig, strings.Split(token, ".")[2]} {
				if strings.Contains(string(one.body), secretPart) {
					t.Fatalf("the admin API returns a credential: %s", one.body)
				}
			}
			// The signed attributes are the customer's; the page's "vip"
			// stayed page context and did not touch them.
			ctx := context.Background()
			ident, err := c.e.st.GetIdentity(ctx, botID, baton.ChannelWebChat, "user:u-42")
			if err != nil {
				t.Fatal(err)
			}
			cust, err := c.e.st.GetCustomer(ctx, ident.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			wantCust := map[string]string{"vip": "true", "plan": "pro", "email": "ana@example.com"}
			if !cust.Verified || cust.ExternalID != "u-42" || cust.Name != "Ana" || !reflect.DeepEqual(cust.Attributes, wantCust) {
				t.Fatalf("customer %+v, want verified u-42 Ana with %v", cust, wantCust)
			}

			// A later token changes what it carries, key by key.
			token2 := mintToken(t, chatSecret, jwt.MapClaims{"sub": "u-42", "exp": exp, "attributes": map[string]any{"vip": false}})
			if a := c.post(map[string]any{"client_message_id": "c-00000002", "text": "and now?", "user_token": token2}); a.status != 200 {
				t.Fatalf("second token: %d %s", a.status, a.body)
			}
			cust, _ = c.e.st.GetCustomer(ctx, ident.CustomerID)
			if cust.Attributes["vip"] != "false" || cust.Attributes["plan"] != "pro" {
				t.Fatalf("customer attributes after a second token: %v", cust.Attributes)
			}

			// The deprecated form still works.
			if a := c.post(map[string]any{"client_message_id": "c-00000003", "text": "old page", "user_id": "u-42", "user_signature": legacySig}); a.status != 200 {
				t.Fatalf("deprecated signature: %d %s", a.status, a.body)
			}

			before := len(c.messages())
			bad := []struct{ name, token, reason string }{
				{"expired", mintToken(t, chatSecret, jwt.MapClaims{"sub": "u-42", "exp": time.Now().Add(-time.Hour).Unix()}), "has expired"},
				{"wrong secret", mintToken(t, "not-the-secret-0123", jwt.MapClaims{"sub": "u-42", "exp": exp}), "signature does not match"},
				{"HS512", func() string {
					s, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "u-42", "exp": exp}).SignedString([]byte(chatSecret))
					return s
				}(), "HS256"},
			}
			for _, b := range bad {
				t.Run(b.name, func(t *testing.T) {
					a := c.post(map[string]any{"visitor_id": "visitor-0123456789", "client_message_id": "c-00000009", "text": "hi", "user_token": b.token})
					if a.status != 401 {
						t.Fatalf("status %d %s, want 401", a.status, a.body)
					}
					if e := a.errorBody(t); e.Code != baton.EUNAUTHORIZED || !strings.Contains(e.Message, b.reason) {
						t.Fatalf("error %+v, want the reason %q", e, b.reason)
					}
					s, _, _ := c.stream("visitor_id=visitor-0123456789&user_token=" + url.QueryEscape(b.token))
					if s != 401 {
						t.Fatalf("stream with the token: %d, want 401", s)
					}
				})
			}
			if n := len(c.messages()); n != before {
				t.Fatalf("refused tokens stored %d messages", n-before)
			}
			if s, _, _ := c.stream("user_token=" + url.QueryEscape(token)); s != 200 {
				t.Fatalf("stream with a good token: %d", s)
			}
			if strings.Contains(c.e.logs.String(), token) || strings.Contains(c.e.logs.String(), "ana@example.com") {
				t.Fatalf("a token or an e-mail address reached the log:\n%s", c.e.logs.String())
			}
		})
	}
}

// TestErrorsCarryNoValues: the web chat answers with the server's one error
// shape, and neither the answer's log line nor the message repeats what
// the client sent.
func TestErrorsCarryNoValues(t *testing.T) {
	c := newChat(t, stores()[0], nil)
	const personal = "ana.lopez@example.com"
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
	}{
		{"attribute key that is an e-mail address", "/chat/" + botID + "/messages",
			`{"visitor_id":"visitor-0123456789","client_message_id":"c-00000001","text":"hi","attributes":{"` + personal + strings.Repeat("x", 60) + `":"1"}}`, 400, baton.EINVALID},
		{"attribute value over the limit", "/chat/" + botID + "/messages",
			`{"visitor_id":"visitor-0123456789","client_message_id":"c-00000001","text":"hi","attributes":{"email":"` + personal + strings.Repeat("x", 600) + `"}}`, 400, baton.EINVALID},
		{"unknown field named by the client", "/chat/" + botID + "/messages",
			`{"visitor_id":"visitor-0123456789","client_message_id":"c-00000001","text":"hi","` + personal + `":1}`, 400, baton.EINVALID},
		{"wrongly typed attribute", "/chat/" + botID + "/messages",
			`{"visitor_id":"visitor-0123456789","client_message_id":"c-00000001","text":"hi","attributes":{"` + personal + `":1}}`, 400, baton.EINVALID},
		{"visitor id that is no id", "/chat/" + botID + "/messages",
			`{"visitor_id":"` + personal + ` <x>","client_message_id":"c-00000001","text":"hi"}`, 400, baton.EINVALID},
		{"token that is not one", "/chat/" + botID + "/messages",
			`{"visitor_id":"visitor-0123456789","client_message_id":"c-00000001","text":"hi","user_token":"` + personal + `"}`, 401, baton.EUNAUTHORIZED},
		{"body over the limit", "/chat/" + botID + "/messages", `{"text":"` + strings.Repeat("a", webchat.MaxPostBody) + `"}`, 413, baton.ETOOLARGE},
		{"unknown bot", "/chat/nobody/messages", `{}`, 404, baton.ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := c.do("POST", tc.path, []byte(tc.body), nil)
			if a.status != tc.status {
				t.Fatalf("status %d %s, want %d", a.status, a.body, tc.status)
			}
			if e := a.errorBody(t); e.Code != tc.code || strings.Contains(e.Message, personal) {
				t.Fatalf("error %+v", e)
			}
		})
	}
	if strings.Contains(c.e.logs.String(), personal) {
		t.Fatalf("a value the client sent reached the log:\n%s", c.e.logs.String())
	}
	if n := strings.Count(c.e.logs.String(), `"msg":"web chat request refused"`); n != len(tests) {
		t.Errorf("%d refusal lines, want one per request", n)
	}
}

// TestPostWebChat: a message posted without HTTP ("baton chat") takes the
// page's path: the same checks (nothing stored when they fail), the same
// per-visitor limit as the page's POSTs, the same ingestion onto the web
// chat channel, and the same answer once the jobs run.
func TestPostWebChat(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			c := newChat(t, sc, func(l *config.Limits) { l.WebChatPostsPerVisitor = "2/1m" })
			ctx := context.Background()
			const visitor = "visitor-0000000007"
			if a := c.post(msg(visitor, "c-00000001", "hello over HTTP")); a.status != 200 {
				t.Fatalf("POST: %d %s", a.status, a.body)
			}
			res, err := c.e.app.PostWebChat(ctx, botID, webchat.PostRequest{VisitorID: visitor, ClientMessageID: "c-00000002", Text: "hello without HTTP"})
			if err != nil {
				t.Fatalf("PostWebChat: %v", err)
			}
			conv, err := c.e.st.GetConversation(ctx, res.ConversationID)
			if err != nil {
				t.Fatal(err)
			}
			if conv.Channel != baton.ChannelWebChat || len(c.messages()) != 2 {
				t.Fatalf("conversation on %s with %d messages, want the web chat's one with both", conv.Channel, len(c.messages()))
			}
			refusals := []struct {
				name string
				bot  string
				req  webchat.PostRequest
				code string
			}{
				{"over the visitor's limit, shared with the page", botID, webchat.PostRequest{VisitorID: visitor, ClientMessageID: "c-00000003", Text: "one too many"}, baton.ERATELIMITED},
				{"visitor id that is no id", botID, webchat.PostRequest{VisitorID: "no id", ClientMessageID: "c-00000004", Text: "hi"}, baton.EINVALID},
				{"empty text", botID, webchat.PostRequest{VisitorID: "visitor-0000000008", ClientMessageID: "c-00000005", Text: "  "}, baton.EINVALID},
				{"unknown bot", "nobody", webchat.PostRequest{VisitorID: "visitor-0000000008", ClientMessageID: "c-00000006", Text: "hi"}, baton.ENOTFOUND},
			}
			for _, r := range refusals {
				if _, err := c.e.app.PostWebChat(ctx, r.bot, r.req); baton.ErrorCode(err) != r.code {
					t.Errorf("%s: %v, want %s", r.name, err, r.code)
				}
			}
			if n := len(c.messages()); n != 2 {
				t.Fatalf("refused posts stored %d messages", n-2)
			}
			if _, err := c.e.app.RunJobs(ctx); err != nil {
				t.Fatal(err)
			}
			var replies []string
			for _, m := range c.messages() {
				if m.Direction == baton.DirectionOut {
					replies = append(replies, m.Text)
				}
			}
			if len(replies) != 1 || replies[0] != ackText {
				t.Fatalf("replies %q, want the bot's one answer to the burst", replies)
			}
		})
	}
}
