package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	slackconsole "github.com/batonhq/baton/handoff/slack"
	"github.com/batonhq/baton/store/storecase"
)

// e2eSlackAPI is threadSlackAPI with what the rest of the chain needs:
// ephemeral messages answered as Slack does, and the views opened
// recorded with their JSON (slack-go sends views.open as JSON, not as a
// form).
type e2eSlackAPI struct{ threadSlackAPI }

func (s e2eSlackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	v := url.Values{}
	switch method {
	case "chat.postEphemeral":
		_ = r.ParseForm()
		for k, vs := range r.PostForm {
			v[k] = vs
		}
	case "views.open":
		var body struct {
			TriggerID string          `json:"trigger_id"`
			View      json.RawMessage `json:"view"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v.Set("trigger_id", body.TriggerID)
		v.Set("view", string(body.View))
	default:
		s.threadSlackAPI.ServeHTTP(w, r)
		return
	}
	v.Set("method", method)
	s.mu.Lock()
	s.calls = append(s.calls, v)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if method == "views.open" {
		fmt.Fprint(w, `{"ok":true,"view":{"id":"V0MODAL"}}`)
		return
	}
	fmt.Fprint(w, `{"ok":true,"message_ts":"1700000099.000001"}`)
}

// blockText is every text of a Block Kit message's blocks, one per line,
// as a reader sees it (Slack's &lt; &gt; &amp; left as sent).
func blockText(t *testing.T, blocks string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(blocks), &v); err != nil {
		t.Fatalf("blocks %q: %v", blocks, err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return b.String()
}

// newSlackEnv is slackEnv on a manual clock at start with the usual
// pool, every request for slack.com sent to api.
func newSlackEnv(t *testing.T, sc storecase.Case, api http.Handler, configure func(*config.Config)) *env {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	fakeURL, _ := url.Parse(srv.URL)
	return slackEnv(t, sc, fakeURL, baton.NewManualClock(start), app.SlackOptions{}, fastJobs(), configure)
}

// TestSlackChainEndToEnd is the Slack console's acceptance chain through
// the real app, with a fake WhatsApp and a fake Slack, every Slack request
// signed and over HTTP: a WhatsApp customer asks for a person; the card
// reaches the queue's channel with every field of the handoff packet; Ann
// claims it with the card's button; her thread reply reaches the customer
// on WhatsApp and shows delivered; Bob's stays internal and offers him
// Claim; the customer's next message appears in the thread; Ann transfers
// it to Emre through the Transfer modal; Emre resolves it and the card's
// last update shows it resolved; then Emre saves Ann's reply as a KB
// draft through its modal.
func TestSlackChainEndToEnd(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			fake := e2eSlackAPI{threadSlackAPI{&slackAPI{}}}
			e := newSlackEnv(t, sc, fake, func(cfg *config.Config) {
				cfg.Queues[1].SlackChannel = "C0TURKISH"
				for i := range cfg.Agents {
					cfg.Agents[i].SlackUserID = "U0" + strings.ToUpper(cfg.Agents[i].ID)
				}
			})
			ctx := context.Background()
			base := e.serve()

			// Ann and Bob are online; neither speaks Turkish, so the
			// Turkish customer waits for a claim.
			e.online("ann", "bob")
			const customer = "905320000011"
			e.post("whatsapp", waText("wamid.c0", customer, "Merhaba", start))
			e.runJobs(func() bool { cs := e.conversations(); return len(cs) == 1 && len(e.outbound(cs[0].ID)) > 0 })
			conv := e.conversationOf(customer)
			cust, err := e.st.GetCustomer(ctx, conv.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			cust.Attributes = map[string]string{"plan": "gold", "order": "A-1009"}
			if err := e.st.UpdateCustomer(ctx, cust); err != nil {
				t.Fatal(err)
			}
			const question = "Müşteri temsilcisine bağlanmak istiyorum"
			e.post("whatsapp", waText("wamid.c1", customer, question, start.Add(time.Minute)))
			e.runJobs(func() bool { return len(fake.posts("chat.postMessage")) > 0 })

			// The card, in the queue's channel, with every packet field.
			conv = e.conversationOf(customer)
			if conv.State != baton.StateQueued || conv.QueueID != "general" {
				t.Fatalf("conversation %s in %q, want waiting in general", conv.State, conv.QueueID)
			}
			cards := fake.posts("chat.postMessage")
			if len(cards) != 1 || cards[0].Get("channel") != "C0GENERAL" || cards[0].Get("thread_ts") != "" {
				t.Fatalf("cards %v, want one in C0GENERAL", cards)
			}
			p, err := e.st.GetPacket(ctx, conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Reasons) == 0 || p.Summary == "" || p.Language != "tr" || len(p.Customer.Attributes) != 2 {
				t.Fatalf("packet %+v: the chain needs one with reasons, a summary, the language and the customer's attributes", p)
			}
			card := blockText(t, cards[0].Get("blocks"))
			want := []string{"WhatsApp", "#" + strconv.FormatInt(conv.ID, 10), "waiting for an agent", p.Language, p.QueueID,
				fmt.Sprintf("%+.2f (trend %+.2f)", p.Sentiment, p.SentimentTrend), p.Summary, "first reply due", question, "Claim", "Save reply as KB draft"}
			for _, r := range p.Reasons {
				want = append(want, fmt.Sprintf("`%s` value %s", r.Trigger, strconv.FormatFloat(r.Value, 'g', 4, 64)))
			}
			for k, v := range p.Customer.Attributes {
				want = append(want, k+": "+v)
			}
			for k, v := range p.Attributes {
				want = append(want, k+": "+v)
			}
			for _, f := range p.FailedAnswers {
				want = append(want, f)
			}
			for _, art := range p.ArticlesTried {
				want = append(want, art.Title, art.Slug)
			}
			if p.Customer.Name != "" {
				want = append(want, p.Customer.Name)
			}
			if p.Intent != "" {
				want = append(want, p.Intent)
			}
			for _, w := range want {
				if !strings.Contains(card, w) {
					t.Errorf("the card lacks %q:\n%s", w, card)
				}
			}
			th, err := e.st.GetSlackThread(ctx, "T0TEAM", conv.ID)
			if err != nil || th.ChannelID != "C0GENERAL" {
				t.Fatalf("thread %+v %v", th, err)
			}

			// Every Slack request below is signed and sent over HTTP.
			n := 0
			send := func(path, contentType string, body []byte) []byte {
				t.Helper()
				req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(string(body)))
				req.Header = slackSign(time.Now(), body)
				req.Header.Set("Content-Type", contentType)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out json.RawMessage
				_ = json.NewDecoder(resp.Body).Decode(&out)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d %s", path, resp.StatusCode, out)
				}
				return out
			}
			interact := func(v map[string]any) []byte {
				t.Helper()
				n++
				v["team"], v["trigger_id"] = map[string]string{"id": "T0TEAM"}, fmt.Sprintf("trig.%d", n)
				b, _ := json.Marshal(v)
				return send("/slack/interactions", "application/x-www-form-urlencoded", []byte("payload="+url.QueryEscape(string(b))))
			}
			pressCard := func(user, action string) []byte {
				t.Helper()
				return interact(map[string]any{"type": "block_actions", "user": map[string]string{"id": user},
					"channel": map[string]string{"id": th.ChannelID}, "container": map[string]any{"type": "message", "channel_id": th.ChannelID, "message_ts": th.MessageTS},
					"actions": []map[string]string{{"action_id": action, "block_id": slackconsole.BlockActions, "value": strconv.FormatInt(conv.ID, 10)}}})
			}
			submitModal := func(user, callback string, values map[string]map[string]any) []byte {
				t.Helper()
				return interact(map[string]any{"type": "view_submission", "user": map[string]string{"id": user},
					"view": map[string]any{"id": "V0MODAL", "type": "modal", "callback_id": callback, "private_metadata": strconv.FormatInt(conv.ID, 10),
						"state": map[string]any{"values": values}}})
			}
			say := func(user, text string) string {
				t.Helper()
				n++
				ts := fmt.Sprintf("1700000100.%06d", n)
				body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T0TEAM", "event_id": fmt.Sprintf("Ev0E2E%d", n),
					"event": map[string]any{"type": "message", "channel": th.ChannelID, "user": user, "text": text, "ts": ts, "thread_ts": th.Root()}})
				send("/slack/events", "application/json", body)
				return ts
			}
			reactions := func(name, ts string) int {
				k := 0
				for _, c := range fake.posts("reactions.add") {
					if c.Get("name") == name && c.Get("timestamp") == ts {
						k++
					}
				}
				return k
			}
			updates := func() []url.Values { return fake.posts("chat.update") }
			lastUpdate := func() string {
				t.Helper()
				up := updates()
				if len(up) == 0 {
					t.Fatal("the card was never updated")
				}
				if last := up[len(up)-1]; last.Get("ts") != th.MessageTS || last.Get("channel") != th.ChannelID {
					t.Fatalf("last update %v is not of the card", last)
				}
				return blockText(t, up[len(up)-1].Get("blocks"))
			}

			// Ann claims with the card's button.
			seen := len(updates())
			pressCard("U0ANN", slackconsole.ActionClaim)
			e.runJobs(func() bool { return len(updates()) > seen })
			if c := e.conversationOf(customer); c.State != baton.StateAssigned || c.AgentID != "ann" {
				t.Fatalf("after the claim: %s %q", c.State, c.AgentID)
			}
			if card := lastUpdate(); !strings.Contains(card, "with ann") || !strings.Contains(card, "Claimed by ann") {
				t.Fatalf("the card after the claim:\n%s", card)
			}

			// Ann's thread reply reaches the customer and shows delivered.
			const reply = "Merhaba, ben Ann. Siparişiniz yarın kargoda."
			ts := say("U0ANN", reply)
			e.runJobs(func() bool { return reactions("outbox_tray", ts) > 0 })
			if got := sentTo(e, customer, reply); len(got) != 1 {
				t.Fatalf("WhatsApp got %q, want the reply once", got)
			}
			var wamid string
			for _, m := range e.messages(conv.ID) {
				if m.Direction == baton.DirectionOut && m.Author == baton.AuthorAgent && m.Text == reply {
					wamid = m.ProviderID
				}
			}
			e.post("whatsapp", waStatus(wamid, "delivered", start.Add(3*time.Minute)))
			e.runJobs(func() bool { return reactions("white_check_mark", ts) > 0 })

			// Bob's reply stays internal; he is offered Claim, alone.
			say("U0BOB", "Bu müşteriyle dün konuştum")
			e.runJobs(func() bool { return len(fake.posts("chat.postEphemeral")) > 0 })
			if eph := fake.posts("chat.postEphemeral"); len(eph) != 1 || eph[0].Get("user") != "U0BOB" || !strings.Contains(eph[0].Get("blocks"), slackconsole.ActionClaim) {
				t.Fatalf("ephemeral %v", eph)
			}
			if got := sentTo(e, customer, "dün konuştum"); len(got) != 0 {
				t.Fatalf("a non-owner's reply reached the customer: %q", got)
			}
			if ms := e.messages(conv.ID); ms[len(ms)-1].Direction != baton.DirectionNote || ms[len(ms)-1].Text != "Bu müşteriyle dün konuştum" {
				t.Fatalf("Bob's reply is not an internal note: %+v", ms[len(ms)-1])
			}

			// The customer's next message appears in the thread.
			e.post("whatsapp", waText("wamid.c2", customer, "Teşekkürler", start.Add(4*time.Minute)))
			inThread := func(text string) bool {
				for _, p := range fake.posts("chat.postMessage") {
					if p.Get("thread_ts") == th.Root() && strings.Contains(p.Get("text"), text) {
						return true
					}
				}
				return false
			}
			e.runJobs(func() bool { return inThread("Teşekkürler") })

			// Ann transfers it to Emre through the Transfer modal.
			e.online("emre")
			pressCard("U0ANN", slackconsole.ActionTransfer)
			if views := fake.posts("views.open"); len(views) != 1 || !strings.Contains(views[0].Get("view"), slackconsole.CallbackTransfer) ||
				!strings.Contains(views[0].Get("view"), `"value":"emre"`) {
				t.Fatalf("views.open %v", views)
			}
			seen = len(updates())
			if answer := submitModal("U0ANN", slackconsole.CallbackTransfer, map[string]map[string]any{
				slackconsole.BlockAgent: {"agent": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "emre"}}},
				slackconsole.BlockNote:  {"note": map[string]any{"type": "plain_text_input", "value": "Türkçe konuşuyor"}},
			}); len(answer) != 0 {
				t.Fatalf("the transfer was refused: %s", answer)
			}
			e.runJobs(func() bool { return len(updates()) > seen })
			if c := e.conversationOf(customer); c.State != baton.StateAssigned || c.AgentID != "emre" {
				t.Fatalf("after the transfer: %s %q", c.State, c.AgentID)
			}
			if card := lastUpdate(); !strings.Contains(card, "with emre") {
				t.Fatalf("the card after the transfer:\n%s", card)
			}

			// Emre resolves it; the card's last update shows it resolved.
			seen = len(updates())
			pressCard("U0EMRE", slackconsole.ActionResolve)
			e.runJobs(func() bool { return len(updates()) > seen })
			if c := e.conversationOf(customer); c.State != baton.StateResolved {
				t.Fatalf("after resolve: %s", c.State)
			}
			if card := lastUpdate(); !strings.Contains(card, "Status:* resolved") || !strings.Contains(card, "Resolved by emre") ||
				strings.Contains(card, "Resolve\n") || !strings.Contains(card, "Save reply as KB draft") {
				t.Fatalf("the card's last update does not show it resolved:\n%s", card)
			}

			// Save reply as KB draft: the modal opens prefilled with Ann's
			// reply; saved as it is, the draft exists and Emre is told.
			pressCard("U0EMRE", slackconsole.ActionKBDraft)
			views := fake.posts("views.open")
			if len(views) != 2 || !strings.Contains(views[1].Get("view"), slackconsole.CallbackKBDraft) || !strings.Contains(views[1].Get("view"), "Siparişiniz yarın kargoda") {
				t.Fatalf("views.open %v", views)
			}
			if answer := submitModal("U0EMRE", slackconsole.CallbackKBDraft, map[string]map[string]any{}); len(answer) != 0 {
				t.Fatalf("the draft was refused: %s", answer)
			}
			const slug = "musteri-temsilcisine-baglanmak-istiyorum"
			draft, err := e.st.GetArticle(ctx, botID, slug, 0)
			if err != nil || draft.Status != baton.ArticleDraft || draft.Title != question || draft.Body != reply+"\n" || draft.Language != "tr" || draft.Author != "agent:emre" {
				t.Fatalf("draft %+v %v", draft, err)
			}
			if _, err := e.st.GetPublishedArticle(ctx, botID, slug); baton.ErrorCode(err) != baton.ENOTFOUND {
				t.Fatalf("the draft is published: %v", err)
			}
			eph := fake.posts("chat.postEphemeral")
			if last := eph[len(eph)-1]; last.Get("user") != "U0EMRE" || !strings.Contains(last.Get("text"), slug) || last.Get("thread_ts") != th.Root() {
				t.Fatalf("Emre was told %v", last)
			}
			if _, err := e.app.RunJobs(ctx); err != nil {
				t.Fatal(err)
			}
			for _, j := range e.jobs(baton.JobSlack) {
				if j.Status == baton.JobDead {
					t.Errorf("dead Slack job %d: %s", j.ID, j.LastError)
				}
			}
		})
	}
}
