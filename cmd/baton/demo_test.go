package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/evals/orderapi"
)

// demoView is a conversation as the admin API shows it.
type demoView struct {
	Conversation struct {
		ID       int64  `json:"id"`
		Address  string `json:"address"`
		State    string `json:"state"`
		QueueID  string `json:"queue_id"`
		Priority int    `json:"priority"`
	} `json:"conversation"`
	Messages []struct {
		Direction string `json:"direction"`
		Text      string `json:"text"`
	} `json:"messages"`
	Decisions []struct {
		Action   string `json:"action"`
		Detail   string `json:"detail"`
		Analysis *struct {
			Language   string  `json:"language"`
			Intent     string  `json:"intent"`
			Sentiment  float64 `json:"sentiment"`
			WantsHuman bool    `json:"wants_human"`
		} `json:"analysis"`
		Citations []struct {
			Slug string `json:"slug"`
		} `json:"citations"`
		Triggers []demoTrigger `json:"triggers"`
	} `json:"decisions"`
	Packet *struct {
		QueueID  string        `json:"queue_id"`
		Priority int           `json:"priority"`
		Language string        `json:"language"`
		Summary  string        `json:"summary"`
		Reasons  []demoTrigger `json:"reasons"`
	} `json:"packet"`
}

type demoTrigger struct {
	Trigger string `json:"trigger"`
	Fired   bool   `json:"fired"`
	Detail  string `json:"detail"`
}

// fired names the triggers that fired, in order.
func fired(ts []demoTrigger) []string {
	var out []string
	for _, t := range ts {
		if t.Fired {
			out = append(out, t.Trigger)
		}
	}
	return out
}

// reply is what the bot said after the customer's last message.
func (v demoView) reply() string {
	var out []string
	for _, m := range v.Messages {
		switch m.Direction {
		case "in":
			out = nil
		case "out":
			out = append(out, m.Text)
		}
	}
	return strings.Join(out, "\n")
}

// last is the index of the bot's decision on the last turn.
func (v demoView) last() int { return len(v.Decisions) - 1 }

// demoChat talks to a running demo as its web chat page does and reads
// the outcome back as an operator would.
type demoChat struct {
	r      demoRun
	client *http.Client
	n      int
}

// say posts text to the web chat as who ("visitor:<id>" or a signed
// user's token) and waits until the bot has decided on it; it returns the
// conversation as the admin API shows it.
func (c *demoChat) say(t *testing.T, who demoWho, text string) demoView {
	t.Helper()
	c.n++
	body := map[string]any{"client_message_id": fmt.Sprintf("demo-test-%04d", c.n), "text": text}
	if who.page != nil {
		body["attributes"] = who.page
	}
	if who.token != "" {
		body["user_token"] = who.token
	} else {
		body["visitor_id"] = who.visitor
	}
	b, _ := json.Marshal(body)
	before := 0
	if id := c.find(t, who.address()); id != 0 {
		before = len(c.view(t, id).Decisions)
	}
	resp, err := c.client.Post(c.r.url+"/chat/sportshop/messages", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting %q: status %d", text, resp.StatusCode)
	}
	id := c.find(t, who.address())
	if id == 0 {
		t.Fatalf("no conversation for %s after posting", who.address())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := c.view(t, id)
		if len(v.Decisions) > before {
			// The admin API reads messages before decisions: read again
			// now that the turn's transaction is surely visible.
			return c.view(t, id)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not decide on %q within 10 s: %+v", text, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *demoChat) get(t *testing.T, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.r.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.r.token)
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (c *demoChat) find(t *testing.T, address string) int64 {
	t.Helper()
	var list struct {
		Conversations []struct {
			ID      int64  `json:"id"`
			Address string `json:"address"`
		} `json:"conversations"`
	}
	c.get(t, "/api/v1/conversations?bot=sportshop&limit=500", &list)
	for _, cv := range list.Conversations {
		if cv.Address == address {
			return cv.ID
		}
	}
	return 0
}

func (c *demoChat) view(t *testing.T, id int64) demoView {
	t.Helper()
	var v demoView
	c.get(t, "/api/v1/conversations/"+url.PathEscape(fmt.Sprint(id)), &v)
	return v
}

// demoWho is one customer of the web chat.
type demoWho struct {
	visitor string // an anonymous visitor's id
	user    string // a signed-in user's id, with token
	token   string
	// page is the page context the chat page sends (untrusted).
	page map[string]string
}

func (w demoWho) address() string {
	if w.user != "" {
		return "user:" + w.user
	}
	return "visitor:" + w.visitor
}

// TestDemoPaths tries the demo as the README's "Try the demo" tells a new
// user to: each message in the demo's own web chat, each path in a
// conversation of its own, and what the bot did read back through the
// admin API with the token the demo printed: KB answers with their
// citation in English, Turkish and Russian, the order-status action
// against the order API the demo serves (at once, after asking for the
// number, and for an unknown number), the escalations (an angry message,
// asking for a person in three languages, the always-a-person topics, a
// VIP signed in through the web chat token) and spam.
func TestDemoPaths(t *testing.T) {
	const secret = "demo-test-identity-secret-0123456789"
	cfg, err := config.Load("../../examples/sportshop/baton.yaml", config.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	order := cfg.Bots[0].Actions[0]
	if order.Name != "order_status" {
		t.Fatalf("the example bot's first action is %q", order.Name)
	}
	orders, err := orderapi.Read(filepath.Join("../../examples/sportshop", demoOrdersFile))
	if err != nil {
		t.Fatal(err)
	}
	vip := demoWho{user: "demo-vip-1"}
	vip.token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": vip.user, "aud": "sportshop", "exp": time.Now().Add(time.Hour).Unix(),
		"attributes": map[string]any{"vip": true},
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}

	// answered checks a KB answer in lang: cited, from an article in the
	// customer's language or saying that it is only in another one.
	answered := func(lang, sources, otherLanguage string) func(t *testing.T, v demoView) {
		return func(t *testing.T, v demoView) {
			d := v.Decisions[v.last()]
			if d.Action != baton.ActionAnswer || d.Analysis == nil || d.Analysis.Language != lang || len(d.Citations) == 0 {
				t.Fatalf("decision %+v, want an answer in %s with a citation; said %q", d, lang, v.reply())
			}
			slug := d.Citations[0].Slug
			inLang := lang == "en" || strings.HasSuffix(slug, "-"+lang)
			if !strings.Contains(v.reply(), "\n\n"+sources+": ") || (!inLang && !strings.HasPrefix(v.reply(), otherLanguage)) {
				t.Errorf("cites %s; said %q: want the %q line, and %q before an article in another language", slug, v.reply(), sources, otherLanguage)
			}
		}
	}
	// orderReply checks that the action ran and said what the order API
	// has on the order.
	orderReply := func(id string, want ...string) func(t *testing.T, v demoView) {
		return func(t *testing.T, v demoView) {
			d := v.Decisions[v.last()]
			o := orders[id]
			if d.Action != baton.ActionAction || d.Detail != "order_status" {
				t.Fatalf("decision %s %q, want the order_status action; said %q", d.Action, d.Detail, v.reply())
			}
			for _, s := range append([]string{id, o.Carrier, o.TrackingNumber}, want...) {
				if !strings.Contains(v.reply(), s) {
					t.Errorf("said %q, want it to hold %q", v.reply(), s)
				}
			}
		}
	}
	// escalated checks that the conversation waits in queue at priority,
	// with a packet giving the reason, and that the customer was told.
	escalated := func(trigger, queue string, priority int, told string) func(t *testing.T, v demoView) {
		return func(t *testing.T, v demoView) {
			d := v.Decisions[v.last()]
			if d.Action != baton.ActionEscalate || !slices.Contains(fired(d.Triggers), trigger) {
				t.Fatalf("decision %s fired %v, want an escalation by %s", d.Action, fired(d.Triggers), trigger)
			}
			c := v.Conversation
			if c.State != string(baton.StateQueued) || c.QueueID != queue || c.Priority != priority {
				t.Errorf("conversation %s in %q at %d, want queued in %q at %d", c.State, c.QueueID, c.Priority, queue, priority)
			}
			p := v.Packet
			if p == nil || p.QueueID != queue || !slices.Contains(fired(p.Reasons), trigger) || p.Summary == "" {
				t.Errorf("packet %+v, want one for %q giving %s", p, queue, trigger)
			}
			if !strings.Contains(v.reply(), told) {
				t.Errorf("said %q, want %q", v.reply(), told)
			}
		}
	}
	only := func(triggers ...string) func(t *testing.T, v demoView) {
		return func(t *testing.T, v demoView) {
			if got := fired(v.Decisions[v.last()].Triggers); !slices.Equal(got, triggers) {
				t.Errorf("fired %v, want only %v", got, triggers)
			}
		}
	}
	const (
		toldEN = "I'm passing you to a person from our team."
		toldTR = "Sizi ekibimizden bir temsilciye aktarıyorum."
		toldRU = "Передаю вас сотруднику нашей команды."
	)
	type turn struct {
		says   string
		checks []func(t *testing.T, v demoView)
	}
	tests := []struct {
		name  string
		who   demoWho
		turns []turn
	}{
		{"an English question is answered from the KB with its source", demoWho{}, []turn{
			{"How do I start a return?", check(answered("en", "Source", ""))},
		}},
		{"yes to did this help resolves the conversation", demoWho{}, []turn{
			{"How do I start a return?", check(answered("en", "Source", ""))},
			{"Yes", check(func(t *testing.T, v demoView) {
				if v.Conversation.State != string(baton.StateResolved) || !strings.HasPrefix(v.reply(), "Glad I could help!") {
					t.Errorf("conversation %s, said %q; want it resolved by the bot", v.Conversation.State, v.reply())
				}
			})},
		}},
		{"no to did this help goes to a person", demoWho{}, []turn{
			{"How do I start a return?", check(answered("en", "Source", ""))},
			{"No", check(escalated(baton.TriggerNotHelped, "general", baton.PriorityNormal, "Sorry that didn't help.\n"+toldEN))},
		}},
		{"a Turkish question is answered in Turkish", demoWho{}, []turn{
			{"Yurt dışına gönderim yapıyor musunuz?", check(answered("tr", "Kaynak", ""))},
		}},
		{"a Russian question is answered in Russian", demoWho{}, []turn{
			{"Можно обменять на другой размер?", check(answered("ru", "Источник", ""))},
		}},
		{"a Turkish question only an English article answers says so", demoWho{}, []turn{
			{"Click & Collect var mı?", check(answered("tr", "Kaynak", "(Bu yanıt yalnızca İngilizce olarak mevcut.)"))},
		}},
		{"an order number is looked up in the order API", demoWho{}, []turn{
			{"where is my order SS-10001", check(orderReply("SS-10001", "is on its way"))},
		}},
		{"without a number the bot asks for it, then looks it up", demoWho{}, []turn{
			{"where is my order", check(func(t *testing.T, v demoView) {
				if d := v.Decisions[v.last()]; d.Detail != "order_status: asked for order_id" || v.reply() != order.Slots[0].Prompt["en"] {
					t.Errorf("decision %q, said %q; want the order_id prompt", d.Detail, v.reply())
				}
			})},
			{"SS-10002", check(orderReply("SS-10002", "was delivered"))},
		}},
		{"an unknown order number is said to be unknown", demoWho{}, []turn{
			{"where is my order SS-99999", check(func(t *testing.T, v demoView) {
				d := v.Decisions[v.last()]
				if d.Action != baton.ActionAction || !strings.HasPrefix(v.reply(), "I couldn't find an order SS-99999.") {
					t.Errorf("decision %s %q, said %q; want the not_found reply", d.Action, d.Detail, v.reply())
				}
			})},
		}},
		{"a Turkish order question gets a Turkish status", demoWho{}, []turn{
			{"siparişim nerede SS-10003", check(func(t *testing.T, v demoView) {
				if !strings.HasPrefix(v.reply(), "SS-10003 numaralı siparişiniz") || !strings.Contains(v.reply(), "hazırlanıyor") {
					t.Errorf("said %q", v.reply())
				}
			})},
		}},
		{"a Russian order question gets a Russian status", demoWho{}, []turn{
			{"где мой заказ SS-10004", check(func(t *testing.T, v demoView) {
				if !strings.HasPrefix(v.reply(), "Заказ SS-10004") || !strings.Contains(v.reply(), "отменён") {
					t.Errorf("said %q", v.reply())
				}
			})},
		}},
		{"an angry message goes to a person", demoWho{}, []turn{
			{"This is ridiculous, I'm really angry, nobody answers!", check(escalated(baton.TriggerNegativeSentiment, "general", baton.PriorityHigh, toldEN))},
		}},
		{"asking for a person gets one", demoWho{}, []turn{
			{"I want a person", check(escalated(baton.TriggerWantsHuman, "general", baton.PriorityNormal, toldEN), only(baton.TriggerWantsHuman))},
		}},
		{"asking for a person in Turkish gets one", demoWho{}, []turn{
			{"temsilciyle görüşmek istiyorum", check(escalated(baton.TriggerWantsHuman, "general", baton.PriorityNormal, toldTR))},
		}},
		{"asking for a person in Russian gets one", demoWho{}, []turn{
			{"хочу поговорить с оператором", check(escalated(baton.TriggerWantsHuman, "general", baton.PriorityNormal, toldRU))},
		}},
		{"a damaged item always goes to a person", demoWho{}, []turn{
			{"My new shoes arrived damaged", check(escalated(baton.TriggerTopic, "returns", baton.PriorityHigh, toldEN))},
		}},
		{"a personal-data request always goes to a person", demoWho{}, []turn{
			{"delete my account and my data", check(escalated(baton.TriggerTopic, "general", baton.PriorityHigh, toldEN))},
		}},
		{"a signed-in VIP goes to the team leads", vip, []turn{
			{"How do I start a return?", check(escalated(baton.TriggerAttribute, "escalations", baton.PriorityHigh, toldEN))},
		}},
		{"a page that says vip is page context, not a VIP", demoWho{page: map[string]string{"vip": "true", "url": "https://shop.example/"}}, []turn{
			{"How do I start a return?", check(func(t *testing.T, v demoView) {
				if d := v.Decisions[v.last()]; d.Action == baton.ActionEscalate {
					t.Errorf("an untrusted page attribute escalated: %+v", d)
				}
			})},
		}},
		{"spam is archived unanswered", demoWho{}, []turn{
			{"Crypto giveaway! Double your bitcoin today", check(func(t *testing.T, v demoView) {
				if d := v.Decisions[v.last()]; d.Action != baton.ActionArchive || v.Conversation.State != string(baton.StateArchived) || v.reply() != "" {
					t.Errorf("decision %s, conversation %s, said %q; want it archived and no reply", d.Action, v.Conversation.State, v.reply())
				}
			})},
		}},
	}
	start := time.Now()
	runDemo(t, map[string]string{"BATON_DATA_DIR": t.TempDir(), "WEBCHAT_IDENTITY_SECRET": secret}, func(r demoRun) {
		t.Logf("the demo started in %v", time.Since(start).Round(time.Millisecond))
		c := &demoChat{r: r, client: &http.Client{Timeout: 10 * time.Second}}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				who := tc.who
				if who.user == "" {
					who.visitor = fmt.Sprintf("demo-test-visitor-%02d", i)
				}
				for _, tu := range tc.turns {
					v := c.say(t, who, tu.says)
					for _, chk := range tu.checks {
						chk(t, v)
					}
				}
			})
		}
	})
	t.Logf("all paths tried in %v", time.Since(start).Round(time.Millisecond))
}

func check(fs ...func(t *testing.T, v demoView)) []func(t *testing.T, v demoView) { return fs }
