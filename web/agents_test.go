package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/limit"
	"github.com/batonhq/baton/store/sqlite"
	"github.com/batonhq/baton/web"
)

// agentFixture is a server with the agent API over a real SQLite store:
// agents ann and bob (online, shop), dan (offline, shop) and olga (online,
// bot "other"), each with a token, and a handful of conversations.
type agentFixture struct {
	st     baton.Store
	clock  *baton.ManualClock
	desk   *storeDesk
	base   string
	logs   *syncBuffer
	secret map[string]string // agent id → token secret
	conv   map[string]int64  // name → conversation id
}

var agentQueues = []baton.Queue{
	{ID: "general", BotID: "shop", Name: "General", Skills: []string{"en"}, Priority: baton.PriorityNormal},
	{ID: "billing", BotID: "shop", Name: "Billing", Skills: []string{"billing"}, Priority: baton.PriorityHigh, Fallback: "general"},
	{ID: "elsewhere", BotID: "other", Name: "Elsewhere"},
}

func newAgentFixture(t *testing.T, cfg web.Config) *agentFixture {
	t.Helper()
	ctx := context.Background()
	clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &agentFixture{st: st, clock: clock, secret: map[string]string{}, conv: map[string]int64{}}
	queues := map[string]baton.Queue{}
	for _, q := range agentQueues {
		queues[q.ID] = q
	}
	f.desk = &storeDesk{st: st, clock: clock, queues: queues, templates: []baton.Template{{Name: "followup", Language: "en"}}}
	for _, a := range []baton.Agent{
		{ID: "ann", BotID: "shop", Name: "Ann", Skills: []string{"en"}, Status: baton.AgentOnline,
			Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 1, baton.ChannelWhatsApp: 2}},
		{ID: "bob", BotID: "shop", Name: "Bob", Skills: []string{"en", "billing"}, Status: baton.AgentOnline,
			Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 3}},
		{ID: "dan", BotID: "shop", Name: "Dan", Status: baton.AgentOffline, Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 3}},
		{ID: "olga", BotID: "other", Name: "Olga", Status: baton.AgentOnline, Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 3}},
	} {
		if err := st.UpsertAgent(ctx, &a); err != nil {
			t.Fatal(err)
		}
		f.secret[a.ID], _ = f.token(t, a.ID, "laptop", nil)
	}
	open := func(name, bot string, ch baton.ChannelKind, queue, agent string) {
		cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: bot, Channel: ch, Address: "addr-" + name}, "")
		if err != nil {
			t.Fatal(err)
		}
		c := &baton.Conversation{BotID: bot, CustomerID: cust.ID, Channel: ch, Address: "addr-" + name}
		if err := st.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := st.InsertMessage(ctx, &baton.Message{ConversationID: c.ID, BotID: bot, Channel: ch, ProviderID: "p-" + name,
			Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Text: "I need a person"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "wants_human", QueueID: &queue}); err != nil {
			t.Fatal(err)
		}
		if agent != "" {
			if _, _, err := st.AssignConversation(ctx, c.ID, agent, baton.Assignment{Actor: "system"}); err != nil {
				t.Fatal(err)
			}
		}
		f.conv[name] = c.ID
	}
	open("q1", "shop", baton.ChannelWebChat, "general", "")
	open("q2", "shop", baton.ChannelWebChat, "general", "")
	open("q3", "shop", baton.ChannelWebChat, "billing", "")
	open("wa", "shop", baton.ChannelWhatsApp, "general", "ann")
	open("bobs", "shop", baton.ChannelWebChat, "general", "bob")
	open("oth", "other", baton.ChannelWebChat, "elsewhere", "")
	// The WhatsApp customer wrote two days ago: the window is closed.
	clock.Advance(48 * time.Hour)

	cfg.Store, cfg.Desk, cfg.Queues, cfg.Clock = st, f.desk, agentQueues, clock
	if cfg.Bots == nil {
		cfg.Bots = []baton.Bot{{ID: "shop", Name: "Shop", Languages: []string{"en"}}, {ID: "other", Name: "Other", Languages: []string{"en"}}}
	}
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = newJSONLogger(logs)
	}
	f.logs = logs
	f.base, _ = serve(t, cfg)
	return f
}

// token stores a new token for agent and returns its secret.
func (f *agentFixture) token(t *testing.T, agent, name string, expires *time.Time) (string, *baton.AgentToken) {
	t.Helper()
	secret, err := baton.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	tok := &baton.AgentToken{AgentID: agent, Name: name, Prefix: baton.TokenPrefix(secret), Hash: baton.HashToken(secret), ExpiresAt: expires}
	if err := f.st.CreateAgentToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

// call sends a request as who: an agent id (their token), "admin", or ""
// (no Authorization header).
func (f *agentFixture) call(t *testing.T, method, path, who, body string, header map[string]string) (int, []byte) {
	t.Helper()
	h := map[string]string{}
	switch who {
	case "":
	case "admin":
		h["Authorization"] = "Bearer " + adminToken
	default:
		h["Authorization"] = "Bearer " + f.secret[who]
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	for k, v := range header {
		h[k] = v
	}
	status, _, out := do(t, method, f.base+path, []byte(body), h)
	return status, out
}

// path replaces {name} with the id of the named conversation.
func (f *agentFixture) path(p string) string {
	for name, id := range f.conv {
		p = strings.ReplaceAll(p, "{"+name+"}", fmt.Sprint(id))
	}
	return p
}

// snapshot is everything an action could change: each conversation's
// state, owner, queue and version, its events and messages, every agent's
// status.
func (f *agentFixture) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	convs, err := f.st.ListConversations(ctx, baton.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range convs {
		evs, err := f.st.ListEvents(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := f.st.ListMessages(ctx, c.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %s %s %s v%d events=%d messages=%d\n", c.ID, c.State, c.AgentID, c.QueueID, c.Version, len(evs), len(msgs))
	}
	agents, err := f.st.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		fmt.Fprintf(&b, "%s %s\n", a.ID, a.Status)
	}
	arts, err := f.st.ListArticles(ctx, baton.ArticleFilter{BotID: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "articles %d\n", len(arts))
	return b.String()
}

type errBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
		Refused *struct {
			Agent    string `json:"agent"`
			Reason   string `json:"reason"`
			Owner    string `json:"owner"`
			Status   string `json:"status"`
			Channel  string `json:"channel"`
			Load     int    `json:"load"`
			Capacity int    `json:"capacity"`
		} `json:"refused"`
		Window *struct {
			Open      bool `json:"open"`
			Templates []struct {
				Name     string `json:"name"`
				Language string `json:"language"`
			} `json:"templates"`
		} `json:"window"`
	} `json:"error"`
}

type convBody struct {
	Conversation struct {
		ID           int64      `json:"id"`
		State        string     `json:"state"`
		AgentID      string     `json:"agent_id"`
		QueueID      string     `json:"queue_id"`
		SnoozedUntil *time.Time `json:"snoozed_until"`
		AssignedAt   *time.Time `json:"assigned_at"`
	} `json:"conversation"`
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return v
}

func ops(calls []deskCall) []string {
	out := []string{}
	for _, c := range calls {
		out = append(out, c.Op)
	}
	return out
}

// TestAgentAPI walks the agent API through a working day, in order: each
// step is a request and what it must answer, and for each refusal, that
// nothing changed and whether the request reached the desk at all.
func TestAgentAPI(t *testing.T) {
	f := newAgentFixture(t, web.Config{AdminToken: adminToken})
	asBob := map[string]string{"X-Baton-Agent": "bob"}
	asDan := map[string]string{"X-Baton-Agent": "dan"}
	wantConv := func(state, agent, queue string) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			c := decode[convBody](t, body).Conversation
			if c.State != state || c.AgentID != agent || c.QueueID != queue {
				t.Errorf("conversation %+v, want %s, agent %q, queue %q", c, state, agent, queue)
			}
		}
	}
	lastActor := func(want baton.Actor) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			calls := f.desk.Calls()
			if got := calls[len(calls)-1].Actor; got != want {
				t.Errorf("the desk was called by %+v, want %+v", got, want)
			}
		}
	}
	both := func(checks ...func(t *testing.T, body []byte)) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			for _, c := range checks {
				c(t, body)
			}
		}
	}
	listed := func(want ...string) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			var got []int64
			for _, c := range decode[struct {
				Conversations []struct{ ID int64 } `json:"conversations"`
			}](t, body).Conversations {
				got = append(got, c.ID)
			}
			var ids []int64
			for _, n := range want {
				ids = append(ids, f.conv[n])
			}
			if !reflect.DeepEqual(got, ids) {
				t.Errorf("listed %v, want %v (%v)", got, ids, want)
			}
		}
	}
	long := strings.Repeat("é", 4097)
	steps := []struct {
		name              string
		method, path, who string
		header            map[string]string
		body              string
		want              int
		code, reason      string
		desk              []string // the desk calls it makes, in order; none for a request refused before
		check             func(t *testing.T, body []byte)
	}{
		// Listings read the store; every filter is checked.
		{name: "queues of ann's bot", method: "GET", path: "/api/v1/queues", who: "ann", want: 200, check: func(t *testing.T, body []byte) {
			got := decode[struct {
				Queues []struct {
					ID      string `json:"id"`
					Waiting int    `json:"waiting"`
					Open    bool   `json:"open"`
				} `json:"queues"`
			}](t, body).Queues
			want := fmt.Sprint([]any{[]any{"billing", 1, true}, []any{"general", 2, true}})
			var g []any
			for _, q := range got {
				g = append(g, []any{q.ID, q.Waiting, q.Open})
			}
			if fmt.Sprint(g) != want {
				t.Errorf("queues %v, want %v", g, want)
			}
		}},
		{name: "queues of every bot for the admin", method: "GET", path: "/api/v1/queues", who: "admin", want: 200, check: func(t *testing.T, body []byte) {
			if !strings.Contains(string(body), `"id":"elsewhere"`) {
				t.Errorf("queues %s", body)
			}
		}},
		{name: "queues of another bot", method: "GET", path: "/api/v1/queues?bot=other", who: "ann", want: 403, code: baton.EFORBIDDEN},
		{name: "list mine", method: "GET", path: "/api/v1/conversations?agent=me", who: "ann", want: 200, check: listed("wa")},
		{name: "list queued of my bot", method: "GET", path: "/api/v1/conversations?state=queued", who: "ann", want: 200, check: listed("q1", "q2", "q3")},
		{name: "list of a queue", method: "GET", path: "/api/v1/conversations?queue=billing", who: "bob", want: 200, check: listed("q3")},
		{name: "list for olga's bot", method: "GET", path: "/api/v1/conversations", who: "olga", want: 200, check: listed("oth")},
		{name: "list another bot's", method: "GET", path: "/api/v1/conversations?bot=shop", who: "olga", want: 403, code: baton.EFORBIDDEN},
		{name: "list every bot's as the admin", method: "GET", path: "/api/v1/conversations?state=queued", who: "admin", want: 200, check: listed("q1", "q2", "q3", "oth")},
		{name: "list: unknown state", method: "GET", path: "/api/v1/conversations?state=open", who: "ann", want: 400, code: baton.EINVALID},
		{name: "list: unknown queue", method: "GET", path: "/api/v1/conversations?queue=nope", who: "ann", want: 400, code: baton.EINVALID},
		{name: "list: unknown bot", method: "GET", path: "/api/v1/conversations?bot=nope", who: "ann", want: 400, code: baton.EINVALID},
		{name: "list: unknown agent", method: "GET", path: "/api/v1/conversations?agent=ghost", who: "ann", want: 400, code: baton.EINVALID},
		{name: "list: bad limit", method: "GET", path: "/api/v1/conversations?limit=501", who: "ann", want: 400, code: baton.EINVALID},
		{name: "list: agent=me for the admin acting for nobody", method: "GET", path: "/api/v1/conversations?agent=me", who: "admin", want: 400, code: baton.EINVALID},

		// Claims: one owner, capacity never exceeded, the loser told who.
		{name: "claim: the admin token names no agent", method: "POST", path: "/api/v1/conversations/{q1}/claim", who: "admin", want: 400, code: baton.EINVALID},
		{name: "claim", method: "POST", path: "/api/v1/conversations/{q1}/claim", who: "ann", want: 200, desk: []string{"claim"},
			check: both(wantConv("assigned", "ann", "general"), lastActor(baton.Actor{AgentID: "ann"}))},
		{name: "claim: taken", method: "POST", path: "/api/v1/conversations/{q1}/claim", who: "bob", want: 409, code: baton.ECONFLICT, reason: baton.AssignTaken, desk: []string{"claim"},
			check: func(t *testing.T, body []byte) {
				r := decode[errBody](t, body).Error.Refused
				if r == nil || r.Owner != "ann" || r.Agent != "bob" {
					t.Errorf("refusal %s does not say that ann has it", body)
				}
			}},
		{name: "claim: beyond capacity", method: "POST", path: "/api/v1/conversations/{q2}/claim", who: "ann", want: 409, code: baton.ECONFLICT, reason: baton.AssignFull, desk: []string{"claim"},
			check: func(t *testing.T, body []byte) {
				r := decode[errBody](t, body).Error.Refused
				if r == nil || r.Load != 1 || r.Capacity != 1 || r.Channel != "webchat" {
					t.Errorf("refusal %s does not give ann's load and capacity", body)
				}
			}},
		{name: "claim: for an offline agent", method: "POST", path: "/api/v1/conversations/{q2}/claim", who: "admin", header: asDan, want: 409, code: baton.ECONFLICT, reason: baton.AssignUnavailable, desk: []string{"claim"}},
		{name: "claim: the admin for bob", method: "POST", path: "/api/v1/conversations/{q2}/claim", who: "admin", header: asBob, want: 200, desk: []string{"claim"},
			check: both(wantConv("assigned", "bob", "general"), lastActor(baton.Actor{AgentID: "bob", Admin: true}))},
		{name: "claim: a body that is not JSON", method: "POST", path: "/api/v1/conversations/{q3}/claim", who: "bob", body: "{", want: 400, code: baton.EINVALID},

		// Another agent's conversation, unknown and malformed ids.
		{name: "view another agent's", method: "GET", path: "/api/v1/conversations/{q1}", who: "bob", want: 403, code: baton.EFORBIDDEN, desk: []string{"view"}},
		{name: "resolve another agent's", method: "POST", path: "/api/v1/conversations/{q1}/resolve", who: "bob", want: 403, code: baton.EFORBIDDEN, desk: []string{"resolve"}},
		{name: "view: unknown id", method: "GET", path: "/api/v1/conversations/999999", who: "ann", want: 404, code: baton.ENOTFOUND, desk: []string{"view"}},
		{name: "resolve: unknown id", method: "POST", path: "/api/v1/conversations/999999/resolve", who: "ann", want: 404, code: baton.ENOTFOUND, desk: []string{"resolve"}},
		{name: "resolve: malformed id", method: "POST", path: "/api/v1/conversations/x1/resolve", who: "ann", want: 400, code: baton.EINVALID},
		{name: "unknown action", method: "POST", path: "/api/v1/conversations/{q1}/escalate", who: "ann", want: 404, code: baton.ENOTFOUND},

		{name: "view", method: "GET", path: "/api/v1/conversations/{wa}", who: "ann", want: 200, desk: []string{"view"}, check: func(t *testing.T, body []byte) {
			v := decode[struct {
				Conversation struct{ ID int64 }           `json:"conversation"`
				Customer     struct{ ID int64 }           `json:"customer"`
				Messages     []struct{ Text string }      `json:"messages"`
				Events       []struct{ To, Actor string } `json:"events"`
				Decisions    []any                        `json:"decisions"`
				Packet       *struct{}                    `json:"packet"`
				SLA          struct {
					AssignedAt *time.Time `json:"assigned_at"`
				} `json:"sla"`
				Window struct {
					Open      bool
					Templates []struct{ Name string }
				} `json:"window"`
			}](t, body)
			if v.Conversation.ID != f.conv["wa"] || v.Customer.ID == 0 || len(v.Messages) != 1 || v.Messages[0].Text != "I need a person" ||
				len(v.Events) != 2 || v.Events[1].To != "assigned" || v.Decisions == nil || v.Packet != nil || v.SLA.AssignedAt == nil {
				t.Errorf("view %s", body)
			}
			if v.Window.Open || len(v.Window.Templates) != 1 || v.Window.Templates[0].Name != "followup" {
				t.Errorf("window %+v, want closed with the followup template", v.Window)
			}
		}},

		// Save reply as KB draft: the form's defaults, then the draft.
		{name: "kb draft: defaults", method: "GET", path: "/api/v1/conversations/{wa}/kb-drafts/defaults", who: "ann", want: 200, desk: []string{"kb_draft_for"},
			check: func(t *testing.T, body []byte) {
				if d := decode[struct{ Draft map[string]string }](t, body).Draft; d["slug"] != "where-is-my-order" || d["body"] != "It ships today." || d["language"] != "en" {
					t.Errorf("defaults %s", body)
				}
			}},
		{name: "kb draft: defaults of another agent's", method: "GET", path: "/api/v1/conversations/{wa}/kb-drafts/defaults", who: "bob", want: 403, code: baton.EFORBIDDEN, desk: []string{"kb_draft_for"}},
		{name: "kb draft: another agent's", method: "POST", path: "/api/v1/conversations/{wa}/kb-drafts", who: "bob", body: `{"slug":"x"}`, want: 403, code: baton.EFORBIDDEN, desk: []string{"kb_draft"}},
		{name: "kb draft: a misspelt field", method: "POST", path: "/api/v1/conversations/{wa}/kb-drafts", who: "ann", body: `{"titel":"x"}`, want: 400, code: baton.EINVALID},
		{name: "kb draft: not JSON", method: "POST", path: "/api/v1/conversations/{wa}/kb-drafts", who: "ann", body: `{"slug":`, want: 400, code: baton.EINVALID},
		{name: "kb draft: unknown conversation", method: "POST", path: "/api/v1/conversations/999999/kb-drafts", who: "ann", body: `{}`, want: 404, code: baton.ENOTFOUND, desk: []string{"kb_draft"}},
		{name: "kb draft: refused by the desk", method: "POST", path: "/api/v1/conversations/{wa}/kb-drafts", who: "ann", body: `{"slug":"Bad slug"}`, want: 400, code: baton.EINVALID, desk: []string{"kb_draft"}},
		{name: "kb draft", method: "POST", path: "/api/v1/conversations/{wa}/kb-drafts", who: "ann", want: 201, desk: []string{"kb_draft"},
			body: `{"title":"Where is my order?","slug":"where-is-my-order","body":"It ships today.","language":"en"}`,
			check: func(t *testing.T, body []byte) {
				calls := f.desk.Calls()
				if in := calls[len(calls)-1].Arg.(baton.KBDraft); in != (baton.KBDraft{Title: "Where is my order?", Slug: "where-is-my-order", Body: "It ships today.", Language: "en"}) {
					t.Errorf("the desk got %+v", in)
				}
				a := decode[struct {
					Article struct{ Slug, Status, Author, Body string }
				}](t, body).Article
				if a.Slug != "where-is-my-order" || a.Status != "draft" || a.Author != "agent:ann" || a.Body != "It ships today." {
					t.Errorf("article %s", body)
				}
			}},

		// Resolving, twice.
		{name: "resolve", method: "POST", path: "/api/v1/conversations/{q1}/resolve", who: "ann", want: 200, desk: []string{"resolve"}, check: wantConv("resolved", "ann", "general")},
		{name: "resolve twice", method: "POST", path: "/api/v1/conversations/{q1}/resolve", who: "ann", want: 400, code: baton.EINVALID, desk: []string{"resolve"},
			check: func(t *testing.T, body []byte) {
				if !strings.Contains(decode[errBody](t, body).Error.Message, "cannot go from resolved to resolved") {
					t.Errorf("the reason is not given: %s", body)
				}
			}},

		// Replies: WhatsApp's window is closed for free text.
		{name: "reply: free text outside the window", method: "POST", path: "/api/v1/conversations/{wa}/messages", who: "ann", body: `{"text":"Hi, are you still there?"}`,
			want: 409, code: baton.ECONFLICT, reason: "window_closed", desk: []string{"reply", "view"}, check: func(t *testing.T, body []byte) {
				w := decode[errBody](t, body).Error.Window
				if w == nil || w.Open || len(w.Templates) != 1 || w.Templates[0].Name != "followup" || w.Templates[0].Language != "en" {
					t.Errorf("the window and its templates are not offered: %s", body)
				}
			}},
		{name: "reply: a template", method: "POST", path: "/api/v1/conversations/{wa}/messages", who: "ann", body: `{"template":{"name":"followup","language":"en","body_params":["Ann"]}}`,
			want: 201, desk: []string{"reply"}, check: func(t *testing.T, body []byte) {
				calls := f.desk.Calls()
				r := calls[len(calls)-1].Arg.(baton.AgentReply)
				if r.Text != "" || r.Template == nil || !reflect.DeepEqual(*r.Template, baton.Template{Name: "followup", Language: "en", BodyParams: []string{"Ann"}}) {
					t.Errorf("the desk got %+v", r)
				}
				if m := decode[struct {
					Message struct{ Direction, Author, Type string }
				}](t, body).Message; m.Direction != "out" || m.Author != "agent" || m.Type != "template" {
					t.Errorf("message %s", body)
				}
			}},
		{name: "reply: free text", method: "POST", path: "/api/v1/conversations/{bobs}/messages", who: "bob", body: `{"text":"On it."}`, want: 201, desk: []string{"reply"}},
		{name: "reply: text and template", method: "POST", path: "/api/v1/conversations/{wa}/messages", who: "ann", body: `{"text":"x","template":{"name":"followup","language":"en"}}`, want: 400, code: baton.EINVALID},
		{name: "reply: template without a language", method: "POST", path: "/api/v1/conversations/{wa}/messages", who: "ann", body: `{"template":{"name":"followup"}}`, want: 400, code: baton.EINVALID},
		{name: "reply: nothing", method: "POST", path: "/api/v1/conversations/{wa}/messages", who: "ann", body: `{"text":"  "}`, want: 400, code: baton.EINVALID},
		{name: "reply: too long", method: "POST", path: "/api/v1/conversations/{bobs}/messages", who: "bob", body: `{"text":"` + long + `"}`, want: 400, code: baton.EINVALID},
		{name: "reply: a misspelt field", method: "POST", path: "/api/v1/conversations/{bobs}/messages", who: "bob", body: `{"txt":"hello"}`, want: 400, code: baton.EINVALID},
		{name: "reply: no body", method: "POST", path: "/api/v1/conversations/{bobs}/messages", who: "bob", want: 400, code: baton.EINVALID},
		{name: "reply: body over the limit", method: "POST", path: "/api/v1/conversations/{bobs}/messages", who: "bob", body: `{"text":"` + strings.Repeat("a", 70<<10) + `"}`, want: 413, code: baton.ETOOLARGE},
		{name: "reply: another agent's", method: "POST", path: "/api/v1/conversations/{bobs}/messages", who: "ann", body: `{"text":"hello"}`, want: 403, code: baton.EFORBIDDEN, desk: []string{"reply"}},

		// Notes.
		{name: "note", method: "POST", path: "/api/v1/conversations/{wa}/notes", who: "ann", body: `{"text":"Customer is on holiday until Friday."}`, want: 201, desk: []string{"note"},
			check: func(t *testing.T, body []byte) {
				if m := decode[struct {
					Message struct{ Direction, Text string }
				}](t, body).Message; m.Direction != "note" || !strings.HasPrefix(m.Text, "Customer is") {
					t.Errorf("note %s", body)
				}
			}},
		{name: "note: empty", method: "POST", path: "/api/v1/conversations/{wa}/notes", who: "ann", body: `{"text":""}`, want: 400, code: baton.EINVALID},

		// Transfers.
		{name: "transfer: a queue that does not exist", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "ann", body: `{"queue":"nope"}`, want: 404, code: baton.ENOTFOUND},
		{name: "transfer: another bot's queue", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "ann", body: `{"queue":"elsewhere"}`, want: 404, code: baton.ENOTFOUND, desk: []string{"transfer"}},
		{name: "transfer: agent and queue", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "ann", body: `{"queue":"billing","agent":"bob"}`, want: 400, code: baton.EINVALID},
		{name: "transfer: nowhere", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "ann", body: `{"note":"over to you"}`, want: 400, code: baton.EINVALID},
		{name: "transfer: to an agent without room", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "ann", body: `{"agent":"bob"}`, want: 409, code: baton.ECONFLICT, reason: baton.AssignFull, desk: []string{"transfer"}},
		{name: "transfer: another agent's", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "bob", body: `{"queue":"billing"}`, want: 403, code: baton.EFORBIDDEN, desk: []string{"transfer"}},
		{name: "transfer to a queue with a note", method: "POST", path: "/api/v1/conversations/{wa}/transfer", who: "ann", body: `{"queue":"billing","note":"Refund question"}`, want: 200, desk: []string{"transfer"},
			check: both(wantConv("queued", "", "billing"), func(t *testing.T, _ []byte) {
				calls := f.desk.Calls()
				if to := calls[len(calls)-1].Arg.(baton.TransferTo); to != (baton.TransferTo{Queue: "billing", Note: "Refund question"}) {
					t.Errorf("the desk got %+v", to)
				}
			})},

		// Snoozes.
		{name: "snooze: until and for", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{"until":"2026-03-05T09:00:00Z","for":"1h"}`, want: 400, code: baton.EINVALID},
		{name: "snooze: until in the past", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{"until":"2026-03-01T09:00:00Z"}`, want: 400, code: baton.EINVALID},
		{name: "snooze: until not a time", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{"until":"tomorrow"}`, want: 400, code: baton.EINVALID},
		{name: "snooze: negative", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{"for":"-1h"}`, want: 400, code: baton.EINVALID},
		{name: "snooze: too far", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{"for":"2500h"}`, want: 400, code: baton.EINVALID},
		{name: "snooze: neither", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{}`, want: 400, code: baton.EINVALID},
		{name: "snooze for two hours", method: "POST", path: "/api/v1/conversations/{bobs}/snooze", who: "bob", body: `{"for":"2h"}`, want: 200, desk: []string{"snooze"},
			check: func(t *testing.T, body []byte) {
				c := decode[convBody](t, body).Conversation
				if want := f.clock.Now().Add(2 * time.Hour); c.State != "snoozed" || c.SnoozedUntil == nil || !c.SnoozedUntil.Equal(want) {
					t.Errorf("conversation %+v, want snoozed until %s", c, want)
				}
			}},
		{name: "snooze until a time", method: "POST", path: "/api/v1/conversations/{q2}/snooze", who: "bob", body: `{"until":"2026-03-05T10:00:00+01:00"}`, want: 200, desk: []string{"snooze"},
			check: func(t *testing.T, body []byte) {
				c := decode[convBody](t, body).Conversation
				if c.SnoozedUntil == nil || !c.SnoozedUntil.Equal(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)) {
					t.Errorf("conversation %+v", c)
				}
			}},

		// Assignment by the admin.
		{name: "assign: no agent", method: "POST", path: "/api/v1/conversations/{q3}/assign", who: "admin", body: `{"agent":""}`, want: 400, code: baton.EINVALID},
		{name: "assign: an agent who does not exist", method: "POST", path: "/api/v1/conversations/{q3}/assign", who: "admin", body: `{"agent":"ghost"}`, want: 404, code: baton.ENOTFOUND, desk: []string{"assign"}},
		{name: "assign", method: "POST", path: "/api/v1/conversations/{q3}/assign", who: "admin", body: `{"agent":"bob"}`, want: 200, desk: []string{"assign"},
			check: both(wantConv("assigned", "bob", "billing"), lastActor(baton.Actor{Admin: true}))},

		// Archive and back to the bot.
		{name: "archive: no reason", method: "POST", path: "/api/v1/conversations/{q3}/archive", who: "bob", body: `{}`, want: 400, code: baton.EINVALID},
		{name: "archive: a reason on two lines", method: "POST", path: "/api/v1/conversations/{q3}/archive", who: "bob", body: `{"reason":"spam\nreally"}`, want: 400, code: baton.EINVALID},
		{name: "archive", method: "POST", path: "/api/v1/conversations/{q3}/archive", who: "bob", body: `{"reason":"spam"}`, want: 200, desk: []string{"archive"}, check: wantConv("archived", "bob", "billing")},
		{name: "archive: twice", method: "POST", path: "/api/v1/conversations/{q3}/archive", who: "bob", body: `{"reason":"spam"}`, want: 400, code: baton.EINVALID, desk: []string{"archive"}},
		{name: "back to the bot", method: "POST", path: "/api/v1/conversations/{wa}/bot", who: "admin", want: 200, desk: []string{"bot"}, check: wantConv("bot", "", "billing")},

		// Status.
		{name: "my status", method: "GET", path: "/api/v1/agents/me/status", who: "ann", want: 200, check: func(t *testing.T, body []byte) {
			if s := decode[struct{ AgentID, Status string }](t, body); s.Status != "online" {
				t.Errorf("status %s", body)
			}
		}},
		{name: "status: unknown", method: "PUT", path: "/api/v1/agents/me/status", who: "ann", body: `{"status":"busy"}`, want: 400, code: baton.EINVALID},
		{name: "status: the admin names no agent", method: "PUT", path: "/api/v1/agents/me/status", who: "admin", body: `{"status":"away"}`, want: 400, code: baton.EINVALID},
		{name: "status: away", method: "PUT", path: "/api/v1/agents/me/status", who: "ann", body: `{"status":"away"}`, want: 200, desk: []string{"status"},
			check: func(t *testing.T, body []byte) {
				if a := decode[struct{ Agent struct{ ID, Status string } }](t, body).Agent; a.ID != "ann" || a.Status != "away" {
					t.Errorf("agent %s", body)
				}
			}},
		{name: "status: the admin for dan", method: "PUT", path: "/api/v1/agents/me/status", who: "admin", header: asDan, body: `{"status":"online"}`, want: 200, desk: []string{"status"},
			check: lastActor(baton.Actor{AgentID: "dan", Admin: true})},

		// Agents and me.
		{name: "agents: an agent's token", method: "GET", path: "/api/v1/agents", who: "ann", want: 403, code: baton.EFORBIDDEN},
		{name: "agents", method: "GET", path: "/api/v1/agents", who: "admin", want: 200, check: func(t *testing.T, body []byte) {
			got := map[string]string{}
			for _, a := range decode[struct {
				Agents []struct {
					ID     string         `json:"id"`
					Status string         `json:"status"`
					Open   map[string]int `json:"open"`
				} `json:"agents"`
			}](t, body).Agents {
				got[a.ID] = fmt.Sprintf("%s %v", a.Status, a.Open)
			}
			want := map[string]string{"ann": "away map[]", "bob": "online map[webchat:2]", "dan": "online map[]", "olga": "online map[]"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("agents %v, want %v", got, want)
			}
		}},
		{name: "me", method: "GET", path: "/api/v1/me", who: "ann", want: 200, check: func(t *testing.T, body []byte) {
			m := decode[struct {
				Admin bool
				Agent struct{ ID string }
				Token struct{ Name, Prefix string }
			}](t, body)
			if m.Admin || m.Agent.ID != "ann" || m.Token.Name != "laptop" || m.Token.Prefix != baton.TokenPrefix(f.secret["ann"]) {
				t.Errorf("me %s", body)
			}
			if strings.Contains(string(body), f.secret["ann"]) || strings.Contains(string(body), "hash") {
				t.Errorf("me shows the secret or its digest: %s", body)
			}
		}},
		{name: "me: the admin for bob", method: "GET", path: "/api/v1/me?as=bob", who: "admin", want: 200, check: func(t *testing.T, body []byte) {
			if !strings.Contains(string(body), `"admin":true`) || !strings.Contains(string(body), `"id":"bob"`) || !strings.Contains(string(body), `"token":null`) {
				t.Errorf("me %s", body)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before, calls := f.snapshot(t), len(f.desk.Calls())
			status, body := f.call(t, s.method, f.path(s.path), s.who, s.body, s.header)
			if status != s.want {
				t.Fatalf("status %d, want %d: %s", status, s.want, body)
			}
			if s.want >= 400 {
				e := decode[errBody](t, body).Error
				if e.Code != s.code || e.Message == "" || e.Reason != s.reason {
					t.Errorf("error %+v, want code %q and reason %q with a message", e, s.code, s.reason)
				}
				if after := f.snapshot(t); after != before {
					t.Errorf("a refused request changed the store:\nbefore\n%s\nafter\n%s", before, after)
				}
			}
			if got := ops(f.desk.Calls()[calls:]); !reflect.DeepEqual(got, append([]string{}, s.desk...)) {
				t.Errorf("desk calls %v, want %v", got, s.desk)
			}
			if s.check != nil {
				s.check(t, body)
			}
		})
	}
}

// TestAgentTokens authenticates with real stored tokens: in use, revoked,
// expired, unknown; the admin token acting for an agent; an agent token
// trying to act for another. No answer and no log line carries a secret.
func TestAgentTokens(t *testing.T) {
	f := newAgentFixture(t, web.Config{AdminToken: adminToken})
	ctx := context.Background()
	expiry := f.clock.Now().Add(time.Hour)
	expiring, _ := f.token(t, "bob", "phone", &expiry)
	revoked, rt := f.token(t, "bob", "old laptop", nil)
	if err := f.st.RevokeAgentToken(ctx, "bob", rt.ID); err != nil {
		t.Fatal(err)
	}
	unknown, err := baton.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(s string) map[string]string { return map[string]string{"Authorization": "Bearer " + s} }
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range h {
			out[a] = b
		}
		return out
	}
	tests := []struct {
		name    string
		path    string
		header  map[string]string
		advance time.Duration // the clock moves before the request
		want    int
		code    string
		message string // in the error message
		agent   string // GET /me answers with this agent
	}{
		{name: "no token", header: nil, want: 401, code: baton.EUNAUTHORIZED, message: "bearer token is required"},
		{name: "not a bearer token", header: map[string]string{"Authorization": "Basic " + f.secret["ann"]}, want: 401, code: baton.EUNAUTHORIZED},
		{name: "unknown agent token", header: bearer(unknown), want: 401, code: baton.EUNAUTHORIZED, message: "unknown token"},
		{name: "wrong token", header: bearer("not-a-token"), want: 401, code: baton.EUNAUTHORIZED, message: "wrong token"},
		{name: "agent token", header: bearer(f.secret["ann"]), want: 200, agent: "ann"},
		{name: "agent token acting for itself", header: with(bearer(f.secret["ann"]), "X-Baton-Agent", "ann"), want: 200, agent: "ann"},
		{name: "agent token acting for another", header: with(bearer(f.secret["ann"]), "X-Baton-Agent", "bob"), want: 403, code: baton.EFORBIDDEN},
		{name: "revoked token", header: bearer(revoked), want: 401, code: baton.EUNAUTHORIZED, message: "revoked"},
		{name: "token before its expiry", header: bearer(expiring), want: 200, agent: "bob"},
		{name: "admin acting for an agent", header: with(bearer(adminToken), "X-Baton-Agent", "ann"), want: 200, agent: "ann"},
		{name: "admin acting for an agent by query", path: "/api/v1/me?as=bob", header: bearer(adminToken), want: 200, agent: "bob"},
		{name: "admin acting for two agents", path: "/api/v1/me?as=bob", header: with(bearer(adminToken), "X-Baton-Agent", "ann"), want: 400, code: baton.EINVALID},
		{name: "admin acting for nobody who exists", header: with(bearer(adminToken), "X-Baton-Agent", "ghost"), want: 404, code: baton.ENOTFOUND},
		{name: "expired token", header: bearer(expiring), advance: 2 * time.Hour, want: 401, code: baton.EUNAUTHORIZED, message: "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Advance(tc.advance)
			path := tc.path
			if path == "" {
				path = "/api/v1/me"
			}
			status, hdr, body := do(t, "GET", f.base+path, nil, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			if tc.want >= 400 {
				e := decode[errBody](t, body).Error
				if e.Code != tc.code || !strings.Contains(e.Message, tc.message) {
					t.Errorf("error %+v, want %s saying %q", e, tc.code, tc.message)
				}
			}
			if status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without a Bearer challenge")
			}
			if tc.agent != "" {
				if got := decode[struct{ Agent struct{ ID string } }](t, body).Agent.ID; got != tc.agent {
					t.Errorf("acting as %q, want %q", got, tc.agent)
				}
			}
			for _, s := range []string{f.secret["ann"], f.secret["bob"], expiring, revoked, unknown, adminToken} {
				if strings.Contains(string(body), s) {
					t.Fatalf("the answer carries a secret: %s", body)
				}
			}
		})
	}
	for _, s := range []string{f.secret["ann"], expiring, revoked, unknown, adminToken} {
		if strings.Contains(f.logs.String(), s) {
			t.Fatalf("a secret reached the log:\n%s", f.logs.String())
		}
	}
}

// TestAgentTokensWithoutAdmin: with no admin token configured, agents
// still sign in with theirs, and the admin's routes are closed.
func TestAgentTokensWithoutAdmin(t *testing.T) {
	f := newAgentFixture(t, web.Config{})
	tests := []struct {
		who, path string
		header    map[string]string
		want      int
	}{
		{who: "ann", path: "/api/v1/me", want: 200},
		{who: "ann", path: "/api/v1/agents", want: 403},
		{path: "/api/v1/me", header: map[string]string{"Authorization": "Bearer "}, want: 401},
		{path: "/api/v1/me", header: map[string]string{"Authorization": "Bearer " + adminToken}, want: 401},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.who, tc.path, tc.header), func(t *testing.T) {
			if status, body := f.call(t, "GET", tc.path, tc.who, "", tc.header); status != tc.want {
				t.Errorf("status %d, want %d: %s", status, tc.want, body)
			}
		})
	}
}

// TestAgentAuthFailuresAreLimited: wrong agent tokens spend the address's
// failure budget like wrong admin tokens; past it even a right token waits.
func TestAgentAuthFailuresAreLimited(t *testing.T) {
	guard := newGuard(3)
	f := newAgentFixture(t, web.Config{AdminToken: adminToken, AuthGuard: guard})
	var got []int
	for i := 0; i < 4; i++ {
		status, _ := f.call(t, "GET", "/api/v1/me", "", "", map[string]string{"Authorization": "Bearer " + baton.TokenSecretPrefix + fmt.Sprint("guess", i)})
		got = append(got, status)
	}
	status, _ := f.call(t, "GET", "/api/v1/me", "ann", "", nil)
	got = append(got, status)
	if want := []int{401, 401, 401, 429, 429}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

// TestAgentAPIWithoutDesk: without a desk, /api/v1 stays the admin's: no
// agent token passes, and the agent routes do not exist.
func TestAgentAPIWithoutDesk(t *testing.T) {
	f := newAgentFixture(t, web.Config{AdminToken: adminToken})
	base, _ := serve(t, web.Config{Store: f.st, AdminToken: adminToken})
	tests := []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/v1/conversations", f.secret["ann"], 401},
		{"GET", "/api/v1/conversations", adminToken, 200},
		{"GET", "/api/v1/queues", adminToken, 404},
		{"POST", "/api/v1/conversations/1/claim", adminToken, 404},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, _, body := do(t, tc.method, base+tc.path, nil, map[string]string{"Authorization": "Bearer " + tc.token})
			if status != tc.want {
				t.Errorf("status %d, want %d: %s", status, tc.want, body)
			}
		})
	}
}

func newJSONLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// newGuard allows n failed sign-ins per address a minute.
func newGuard(n int) *limit.Guard {
	return limit.NewGuard("API", limit.Rate{N: n, Per: time.Minute}, limit.GuardOptions{Every: time.Hour})
}
