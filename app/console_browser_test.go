package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/browsertest"
)

// TestConsoleInARealBrowser plays both sides in headless Chromium, each in
// a browser context of its own (no shared storage or cookies): a customer
// on the web chat asks for a person and waits in the queue; the agent
// opens the inbox from a sign-in link, sees the conversation arrive in the
// waiting list over the stream, opens it, claims it, replies and adds an
// internal note; the customer's page shows the reply and never the note.
// The conversation view is saved as a screenshot under testdata/out.
func TestConsoleInARealBrowser(t *testing.T) {
	exe := chromium(t)
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newDeskEnv(t, sc, nil, nil)
			h := e.webChat()
			h.Poll, h.StreamFor = 50*time.Millisecond, time.Minute
			base := e.serve()
			if err := e.app.Start(); err != nil {
				t.Fatal(err)
			}
			secret := agentToken(t, e.st, "ann")

			opts := browsertest.Options(exe, t.TempDir(), chromedp.WindowSize(1280, 1000))
			actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancelAlloc()
			bctx, cancelBrowser := chromedp.NewContext(actx)
			defer cancelBrowser()
			if err := chromedp.Do(bctx); err != nil {
				t.Fatalf("start chromium: %v", err)
			}
			customer, cancelCustomer := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
			defer cancelCustomer()
			agent, cancelAgent := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
			defer cancelAgent()
			timeout := func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 60*time.Second)
			}
			wait := func(js string) chromedp.Action[chromedp.Void] {
				return voidOf(chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second)))
			}
			fail := func(ctx context.Context, what string, err error) {
				t.Helper()
				sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
				defer scancel()
				live, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`(document.getElementById("live")||{}).textContent + " | " + ((document.getElementById("action-error")||{}).textContent||"") + " | " + ((document.getElementById("signin-error")||{}).textContent||"")`))
				t.Fatalf("%s: %v (page: %q)", what, err, live)
			}

			// The agent signs in from the link first: the stream is then
			// open before the customer writes.
			actx2, cancelA := timeout(agent)
			defer cancelA()
			if err := chromedp.Do(actx2,
				chromedp.Navigate(base+"/console#token="+secret),
				chromedp.WaitVisible(chromedp.CSS("#app-view")),
				wait(`document.getElementById("live").textContent === "live"`),
				// Online from the status control; she speaks English only,
				// so the Turkish customer below is not routed to her.
				chromedp.SetValue(chromedp.CSS("#status"), "online"),
				voidOf(chromedp.Evaluate[bool](`document.getElementById("status").dispatchEvent(new Event("change"))`)),
			); err != nil {
				fail(agent, "agent sign-in", err)
			}
			href, err := chromedp.Run(actx2, chromedp.Evaluate[string](`location.href`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(href, "token") || strings.Contains(href, secret) {
				t.Fatalf("the token stayed in the address bar: %s", href)
			}

			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				a, err := e.st.GetAgent(context.Background(), "ann")
				if err == nil && a.Status == baton.AgentOnline {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ann after the status control: %+v %v", a, err)
				}
			}

			// The customer asks for a person in Turkish; nobody online
			// speaks it, so the conversation waits in the general queue.
			cctx, cancelC := timeout(customer)
			defer cancelC()
			if err := chromedp.Do(cctx,
				chromedp.Navigate(base+"/chat/"+botID),
				chromedp.WaitVisible(chromedp.CSS("#text")),
				wait(`document.getElementById("state").textContent === "connected"`),
				chromedp.SendKeys(chromedp.CSS("#text"), "Müşteri temsilcisine bağlanmak istiyorum"),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(".msg.in")),
			); err != nil {
				t.Fatalf("customer: %v", err)
			}
			var conv *baton.Conversation
			deadline := time.Now().Add(30 * time.Second)
			for conv == nil || conv.State != baton.StateQueued {
				if time.Now().After(deadline) {
					t.Fatalf("the web chat conversation was not queued: %+v", conv)
				}
				time.Sleep(50 * time.Millisecond)
				if cs := e.conversations(); len(cs) == 1 {
					conv = cs[0]
				}
			}

			// The conversation appears in the agent's waiting list without a
			// reload; the agent opens it, claims it, replies and notes.
			const reply = "Hi, I am Ann from the support team. How can I help?"
			item := fmt.Sprintf(`#waiting button[data-conv="%d"]`, conv.ID)
			if err := chromedp.Do(actx2,
				chromedp.WaitVisible(chromedp.CSS(item)),
				chromedp.Click(chromedp.CSS(item)),
				chromedp.WaitVisible(chromedp.CSS("#conv-body")),
				wait(`[...document.querySelectorAll("#transcript .msg.in")].some(m => m.textContent.includes("temsilcisine"))`),
				wait(`!document.getElementById("claim").disabled`),
				chromedp.Click(chromedp.CSS("#claim")),
				wait(`!document.getElementById("resolve").disabled && document.querySelector("#mine button[data-conv='`+fmt.Sprint(conv.ID)+`']") !== null`),
				chromedp.SendKeys(chromedp.CSS("#reply"), reply),
				chromedp.Click(chromedp.CSS("#reply-send")),
				wait(`[...document.querySelectorAll("#transcript .msg.out")].some(m => m.textContent.includes("I am Ann"))`),
				// An internal note: marked as such in the transcript.
				chromedp.SendKeys(chromedp.CSS("#note"), "Customer writes Turkish; asked Emre to look later"),
				chromedp.Click(chromedp.CSS(`#note-form button[type="submit"]`)),
				wait(`[...document.querySelectorAll("#transcript .msg.note")].some(m => m.textContent.includes("Internal note") && m.textContent.includes("asked Emre"))`),
			); err != nil {
				fail(agent, "agent", err)
			}
			if got := e.conversationOf(conv.Address); got.State != baton.StateAssigned || got.AgentID != "ann" {
				t.Fatalf("after the claim: %s with %q, want assigned to ann", got.State, got.AgentID)
			}

			// The customer's page, in the other browser context, shows it.
			if err := chromedp.Do(cctx,
				wait(`[...document.querySelectorAll(".msg.out")].some(m => m.textContent === `+fmt.Sprintf("%q", reply)+`)`),
			); err != nil {
				t.Fatalf("the customer never saw the agent's reply: %v", err)
			}
			page, err := chromedp.Run(cctx, chromedp.Text(chromedp.CSS("#log")))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(page, "asked Emre") {
				t.Fatal("the internal note reached the customer's page")
			}

			// Save reply as KB draft, from the keyboard: the form opens
			// prefilled with the reply and the customer's question.
			if err := chromedp.Do(actx2,
				chromedp.Focus(chromedp.CSS("#kbdraft summary")),
				chromedp.KeyEvent(kb.Enter),
				wait(`document.getElementById("kbdraft-slug").value === "musteri-temsilcisine-baglanmak-istiyorum" && document.getElementById("kbdraft-body").value === `+fmt.Sprintf("%q", reply)),
				chromedp.Focus(chromedp.CSS("#kbdraft-save")),
				chromedp.KeyEvent(kb.Enter),
				wait(`document.getElementById("kbdraft-status").textContent.includes("Saved as draft musteri-temsilcisine-baglanmak-istiyorum")`),
			); err != nil {
				fail(agent, "save reply as KB draft", err)
			}
			draft, err := e.st.GetArticle(context.Background(), botID, "musteri-temsilcisine-baglanmak-istiyorum", 0)
			if err != nil || draft.Status != baton.ArticleDraft || draft.Body != reply+"\n" || draft.Author != "agent:ann" {
				t.Fatalf("draft %+v %v", draft, err)
			}

			shot, err := chromedp.Run(actx2, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", "out")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path, _ := filepath.Abs(filepath.Join(dir, "console-"+sc.Name+".png"))
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot of the conversation view: %s", path)
		})
	}
}
