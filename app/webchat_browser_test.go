package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/internal/browsertest"
)

// chromium finds the browser the way every browser test does
// (internal/browsertest): skipped without one, unless CI requires it.
func chromium(t *testing.T) string { return browsertest.Chromium(t) }

// TestWebChatInARealBrowser opens the chat page in headless Chromium, sends a
// message the way a visitor does and waits for the bot's reply to arrive over
// the stream: page → POST → store → turn job → outbox → SSE → page.
func TestWebChatInARealBrowser(t *testing.T) {
	exe := chromium(t)
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			h := e.webChat()
			h.Poll, h.StreamFor = 50*time.Millisecond, time.Minute
			base := e.serve()
			// The app's own workers answer, as in a server; the env's
			// cleanup stops them.
			if err := e.app.Start(); err != nil {
				t.Fatal(err)
			}

			opts := browsertest.Options(exe, t.TempDir())
			actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancelAlloc()
			bctx, cancelBrowser := chromedp.NewContext(actx)
			defer cancelBrowser()
			// The first Run starts the browser and must not carry a timeout
			// (it would bound the browser's life); the steps after it do.
			if err := chromedp.Do(bctx); err != nil {
				t.Fatalf("start chromium: %v", err)
			}
			ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
			defer cancel()
			err := chromedp.Do(ctx,
				chromedp.Navigate(base+"/chat/"+botID+"?product=kettle&order_id=77"),
				chromedp.WaitVisible(chromedp.CSS("#text")),
				chromedp.Steps(voidOf(chromedp.Poll[bool](`document.getElementById("state").textContent === "connected"`, chromedp.WithPollingTimeout(20*time.Second)))),
				chromedp.SendKeys(chromedp.CSS("#text"), "Where is my kettle?"),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(".msg.in")),
				chromedp.WaitVisible(chromedp.CSS(".msg.out")),
			)
			if err != nil {
				sctx, scancel := context.WithTimeout(bctx, 5*time.Second)
				state, _ := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("#state")))
				scancel()
				t.Fatalf("browser: %v (page state %q)", err, state)
			}
			reply, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg.out")))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(reply) != ackText {
				t.Fatalf("reply in the page %q, want %q", reply, ackText)
			}
			conv := onlyConversation(t, e)
			if conv.Attributes["product"] != "kettle" || conv.Attributes["order_id"] != "77" || !strings.HasPrefix(conv.Address, "visitor:") {
				t.Fatalf("conversation from the page: %+v", conv)
			}

			// The host app opens the page with a signed user token in the
			// fragment (and an old signed id in the query): the page
			// speaks as the verified user, leaves no credential in its
			// address bar and sends none in the stored URL.
			token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"sub": "u-42", "exp": time.Now().Add(time.Hour).Unix(), "attributes": map[string]any{"vip": true},
			}).SignedString([]byte(chatSecret))
			if err != nil {
				t.Fatal(err)
			}
			sig := channels.HMACSHA256Hex([]byte(chatSecret), []byte("u-7"))
			var href string
			err = chromedp.Do(ctx,
				chromedp.Navigate(base+"/chat/"+botID+"?product=boots&user_id=u-7&user_signature="+sig+"#user_token="+token),
				chromedp.WaitVisible(chromedp.CSS("#text")),
				chromedp.Steps(voidOf(chromedp.Poll[bool](`document.getElementById("state").textContent === "connected"`, chromedp.WithPollingTimeout(20*time.Second)))),
				chromedp.SendKeys(chromedp.CSS("#text"), "Where are my boots?"),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(".msg.out")),
			)
			if err != nil {
				t.Fatalf("browser with a token: %v", err)
			}
			if href, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`)); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(href, "token") || strings.Contains(href, "user_") || !strings.Contains(href, "product=boots") {
				t.Fatalf("address bar after load: %s", href)
			}
			ident, err := e.st.GetIdentity(context.Background(), botID, baton.ChannelWebChat, "user:u-42")
			if err != nil {
				t.Fatalf("the token's user: %v", err)
			}
			cust, _ := e.st.GetCustomer(context.Background(), ident.CustomerID)
			if !cust.Verified || cust.Attributes["vip"] != "true" {
				t.Fatalf("customer from the token: %+v", cust)
			}
			for _, c := range e.conversations() {
				if c.Address == "user:u-42" {
					if u := c.Attributes["url"]; strings.Contains(u, "token") || strings.Contains(u, "user_") || !strings.Contains(u, "product=boots") {
						t.Fatalf("stored page URL %q", u)
					}
				}
			}
		})
	}
}

// voidOf drops an action's value so that it can run among other steps.
func voidOf[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}
