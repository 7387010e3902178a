package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// TestHumanQueueEndToEnd walks one escalated WhatsApp customer through the
// human side, over HTTP as an agent's console would and through the fake
// Graph API as the customer would see it: routed by language to the one
// online agent who speaks it, answered through the agent API, transferred
// to another queue with a note (the packet travels), resolved, surveyed,
// rated 5, and counted by the metrics endpoint.
func TestHumanQueueEndToEnd(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newDeskEnv(t, sc, nil, nil)
			ctx := context.Background()
			base := e.serve()
			const customer = "905320000001"
			e.online("ann", "emre")

			// The escalation: Turkish, so only Emre may take it.
			e.post("whatsapp", waText("wamid.h1", customer, "Müşteri temsilcisine bağlanmak istiyorum", start))
			e.runJobs(func() bool { return e.conversationOf(customer).State == baton.StateAssigned })
			conv := e.conversationOf(customer)
			if conv.AgentID != "emre" || conv.QueueID != "general" {
				t.Fatalf("routed to %q in %q; want emre, the one online agent who speaks Turkish", conv.AgentID, conv.QueueID)
			}
			packet, err := e.st.GetPacket(ctx, conv.ID)
			if err != nil {
				t.Fatal(err)
			}

			emre := agentToken(t, e.st, "emre")
			api := func(method, path, token string, body any) (int, map[string]any) {
				t.Helper()
				return apiCall(t, method, base+path, token, body)
			}

			// Emre answers five minutes later, from the API; the customer
			// gets it on WhatsApp.
			e.clock.Advance(5 * time.Minute)
			reply := "Merhaba, ben Emre. Siparişinize bakıyorum."
			if code, body := api("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID), emre, map[string]any{"text": reply}); code/100 != 2 {
				t.Fatalf("reply: %d %v", code, body)
			}
			e.runJobs(func() bool { return len(sentTo(e, customer, reply)) == 1 })

			// Another agent may not touch it.
			if code, _ := api("POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", conv.ID), agentToken(t, e.st, "ann"), nil); code != http.StatusForbidden {
				t.Fatalf("ann resolving emre's conversation: %d, want 403", code)
			}

			// Transfer to the Turkish queue with a note: the packet goes
			// with it, the note stays inside.
			note := "Kargo firmasıyla görüştüm, iade etiketi gerekiyor."
			code, body := api("POST", fmt.Sprintf("/api/v1/conversations/%d/transfer", conv.ID), emre, map[string]any{"queue": "turkish", "note": note})
			if code/100 != 2 {
				t.Fatalf("transfer: %d %v", code, body)
			}
			e.runJobs(func() bool { return e.conversationOf(customer).State == baton.StateAssigned })
			conv = e.conversationOf(customer)
			if conv.QueueID != "turkish" || conv.AgentID != "emre" {
				t.Fatalf("after the transfer: %s in %q with %q", conv.State, conv.QueueID, conv.AgentID)
			}
			moved, err := e.st.GetPacket(ctx, conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if moved.QueueID != "turkish" || len(moved.Reasons) != len(packet.Reasons) || moved.Reasons[0].Trigger != packet.Reasons[0].Trigger ||
				moved.Language != packet.Language || moved.Customer.Address != packet.Customer.Address || !moved.CreatedAt.Equal(packet.CreatedAt) {
				t.Fatalf("the packet did not travel intact:\nbefore %+v\nafter  %+v", packet, moved)
			}
			code, view := api("GET", fmt.Sprintf("/api/v1/conversations/%d", conv.ID), emre, nil)
			if code != http.StatusOK || !strings.Contains(fmt.Sprint(view["messages"]), note) {
				t.Fatalf("view: %d; the note is not in the transcript: %v", code, view["messages"])
			}
			if len(sentTo(e, customer, note)) != 0 {
				t.Fatal("the internal note reached the customer")
			}

			// Resolved twenty minutes after the escalation: the customer is
			// asked for a rating, and answers 5.
			e.clock.Advance(15 * time.Minute)
			if code, body := api("POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", conv.ID), emre, nil); code/100 != 2 {
				t.Fatalf("resolve: %d %v", code, body)
			}
			if code, _ := api("POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", conv.ID), emre, nil); code/100 != 4 {
				t.Fatalf("resolving twice: %d, want a 4xx", code)
			}
			e.runJobs(func() bool { return len(sentTo(e, customer, "csat:5")) == 1 })
			e.clock.Advance(time.Minute)
			e.post("whatsapp", waText("wamid.h2", customer, "5", e.clock.Now()))
			e.runJobs(e.idle)
			surveys, err := e.st.ListCSAT(ctx, baton.CSATFilter{ConversationID: conv.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(surveys) != 1 || surveys[0].Rating != 5 || surveys[0].AgentID != "emre" || surveys[0].QueueID != "turkish" {
				t.Fatalf("surveys %+v; want one rated 5, of emre in turkish", surveys)
			}
			if c := e.conversationOf(customer); c.ID != conv.ID || c.State != baton.StateResolved {
				t.Fatalf("the rating reopened or moved the conversation: %d %s", c.ID, c.State)
			}

			// The metrics endpoint shows it.
			q := url.Values{"from": {start.Add(-time.Hour).Format(time.RFC3339)}, "to": {e.clock.Now().Add(time.Hour).Format(time.RFC3339)}}
			code, m := api("GET", "/api/v1/metrics?"+q.Encode(), adminToken, nil)
			if code != http.StatusOK {
				t.Fatalf("metrics: %d %v", code, m)
			}
			first := m["first_response"].(map[string]any)
			resolution := m["resolution"].(map[string]any)
			csat := m["csat"].(map[string]any)
			if first["count"] != 1.0 || first["median_seconds"] != 300.0 {
				t.Errorf("first response %v; want one, of 300 s", first)
			}
			if resolution["count"] != 1.0 || resolution["median_seconds"] != 1200.0 {
				t.Errorf("resolution %v; want one, of 1200 s", resolution)
			}
			if !strings.Contains(fmt.Sprint(csat), "average:5") || !strings.Contains(fmt.Sprint(csat), "answered:1") {
				t.Errorf("csat %v; want one answer, average 5", csat)
			}
			if vs, err := handoff.Check(ctx, e.st); err != nil || len(vs) > 0 {
				t.Fatalf("invariant: %v %v", vs, err)
			}
		})
	}
}

// agentToken stores a fresh token of agent and returns its secret.
func agentToken(t *testing.T, st baton.Store, agent string) string {
	t.Helper()
	secret, err := baton.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	tok := &baton.AgentToken{AgentID: agent, Name: "test", Prefix: baton.TokenPrefix(secret), Hash: baton.HashToken(secret)}
	if err := st.CreateAgentToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return secret
}

// apiCall sends one JSON request with a bearer token and decodes the
// answer.
func apiCall(t *testing.T, method, u, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

// sentTo are the Graph API sends to the customer at to that contain s.
func sentTo(e *env, to, s string) []string {
	var out []string
	for _, r := range e.graph.Requests() {
		body := string(r.Body)
		if strings.Contains(body, `"to":"`+to+`"`) && strings.Contains(body, s) {
			out = append(out, body)
		}
	}
	return out
}

// TestAgentAPIRefusals sends the agent API, over the real desk, every kind
// of request it must refuse, and checks each gets its status and reason
// and changes nothing: no conversation moves, no event, message, job or
// survey is written.
func TestAgentAPIRefusals(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newDeskEnv(t, sc, nil, nil)
			ctx := context.Background()
			base := e.serve()
			d := e.app.Desk()
			// Ann (capacity 2 on WhatsApp) owns two conversations, resolved
			// a third, and a fourth waits: nobody else is online.
			e.online("ann")
			run := func() {
				if _, err := e.app.RunJobs(ctx); err != nil {
					t.Fatal(err)
				}
			}
			first := queueConversation(t, e.st, d, "16505551000")
			resolved := queueConversation(t, e.st, d, "16505551001")
			run()
			if _, err := d.Resolve(ctx, resolved, baton.Actor{AgentID: "ann"}); err != nil {
				t.Fatal(err)
			}
			second := queueConversation(t, e.st, d, "16505551002")
			run()
			waiting := queueConversation(t, e.st, d, "16505552000")
			run()
			for _, id := range []int64{first, second} {
				if c, _ := e.st.GetConversation(ctx, id); c.AgentID != "ann" || c.State != baton.StateAssigned {
					t.Fatalf("setup: conversation %d is %s with %q", id, c.State, c.AgentID)
				}
			}
			if c, _ := e.st.GetConversation(ctx, waiting); c.State != baton.StateQueued {
				t.Fatalf("setup: conversation %d is %s", waiting, c.State)
			}
			full := waiting
			owned := []int64{first, second}
			mine := owned[0]
			ann, bob := agentToken(t, e.st, "ann"), agentToken(t, e.st, "bob")
			revoked := agentToken(t, e.st, "bob")
			toks, _ := e.st.ListAgentTokens(ctx, "bob")
			if err := e.st.RevokeAgentToken(ctx, "bob", toks[len(toks)-1].ID); err != nil {
				t.Fatal(err)
			}
			conv := func(id int64, action string) string { return fmt.Sprintf("/api/v1/conversations/%d/%s", id, action) }
			tests := []struct {
				name, method, path, token string
				body                      any
				status                    int
				says                      string
			}{
				{"no token", "GET", conv(mine, ""), "", nil, http.StatusUnauthorized, ""},
				{"a wrong token", "POST", conv(mine, "resolve"), "bat_not-a-token", nil, http.StatusUnauthorized, ""},
				{"a revoked token", "POST", conv(waiting, "claim"), revoked, nil, http.StatusUnauthorized, "revoked"},
				{"an unknown conversation", "POST", conv(987654, "resolve"), ann, nil, http.StatusNotFound, "987654"},
				{"a malformed id", "POST", "/api/v1/conversations/abc/resolve", ann, nil, http.StatusBadRequest, ""},
				{"another agent's conversation", "POST", conv(mine, "resolve"), bob, nil, http.StatusForbidden, ""},
				{"another agent's transcript", "GET", conv(mine, ""), bob, nil, http.StatusForbidden, ""},
				{"resolving twice", "POST", conv(resolved, "resolve"), ann, nil, http.StatusBadRequest, "resolved"},
				{"claiming beyond capacity", "POST", conv(full, "claim"), ann, nil, http.StatusConflict, "full"},
				{"transferring to a queue that does not exist", "POST", conv(mine, "transfer"), ann, map[string]any{"queue": "nowhere", "note": "x"}, http.StatusNotFound, "nowhere"},
				{"transferring to nobody", "POST", conv(mine, "transfer"), ann, map[string]any{"note": "x"}, http.StatusBadRequest, ""},
				{"snoozing into the past", "POST", conv(mine, "snooze"), ann, map[string]any{"until": start.Add(-time.Hour).Format(time.RFC3339)}, http.StatusBadRequest, ""},
				{"an empty reply", "POST", conv(mine, "messages"), ann, map[string]any{"text": "  "}, http.StatusBadRequest, ""},
				{"an unknown status", "PUT", "/api/v1/agents/me/status", ann, map[string]any{"status": "asleep"}, http.StatusBadRequest, "online, away or offline"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					before := snapshot(t, e.st)
					code, body := apiCall(t, tc.method, base+strings.TrimSuffix(tc.path, "/"), tc.token, tc.body)
					if code != tc.status {
						t.Fatalf("status %d, want %d: %v", code, tc.status, body)
					}
					if !strings.Contains(fmt.Sprint(body), tc.says) || body["error"] == nil {
						t.Errorf("answer %v does not say %q", body, tc.says)
					}
					if after := snapshot(t, e.st); after != before {
						t.Errorf("the refusal changed the store:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
		})
	}
}

// snapshot sums up everything a desk action writes: each conversation's
// state, owner, queue and version, and how many events, messages, jobs and
// surveys there are.
func snapshot(t *testing.T, st baton.Store) string {
	t.Helper()
	ctx := context.Background()
	convs, err := st.ListConversations(ctx, baton.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var ids []int64
	msgs := 0
	for _, c := range convs {
		fmt.Fprintf(&b, "%d:%s/%s/%s/v%d ", c.ID, c.State, c.AgentID, c.QueueID, c.Version)
		ids = append(ids, c.ID)
		ms, err := st.ListMessages(ctx, c.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		msgs += len(ms)
	}
	evs, err := st.ListEventsFor(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := st.ListJobs(ctx, baton.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	surveys, err := st.ListCSAT(ctx, baton.CSATFilter{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "events %d messages %d jobs %d surveys %d", len(evs), msgs, len(jobs), len(surveys))
	return b.String()
}

// TestAgentsThroughTheAPI: the admin defines an agent over HTTP; the agent
// signs in with a token of their own, comes online and is routed the
// waiting customer who needs their language. A bad definition is refused
// with every problem named and changes nothing; an agent may not define
// agents.
func TestAgentsThroughTheAPI(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newDeskEnv(t, sc, nil, nil)
			ctx := context.Background()
			base := e.serve()
			const customer = "905320000002"
			e.post("whatsapp", waText("wamid.a1", customer, "Müşteri temsilcisine bağlanmak istiyorum", start))
			e.runJobs(func() bool { return e.conversationOf(customer).State == baton.StateQueued })

			def := map[string]any{"name": "Zeynep Kaya", "email": "zeynep@example.com", "skills": []string{"en", "tr"},
				"capacity": map[string]int{"whatsapp": 1}, "slack_user_id": "U0ZEYNEP"}
			code, body := apiCall(t, "PUT", base+"/api/v1/agents/zeynep", adminToken, def)
			if code != http.StatusOK {
				t.Fatalf("define zeynep: %d %v", code, body)
			}
			if a, err := e.st.GetAgent(ctx, "zeynep"); err != nil || a.Status != baton.AgentOffline || a.Capacity[baton.ChannelWhatsApp] != 1 || a.SlackUserID != "U0ZEYNEP" {
				t.Fatalf("stored %+v %v", a, err)
			}
			zeynep := agentToken(t, e.st, "zeynep")
			if code, body := apiCall(t, "PUT", base+"/api/v1/agents/me/status", zeynep, map[string]any{"status": "online"}); code != http.StatusOK {
				t.Fatalf("online: %d %v", code, body)
			}
			e.runJobs(func() bool { return e.conversationOf(customer).State == baton.StateAssigned })
			if c := e.conversationOf(customer); c.AgentID != "zeynep" {
				t.Fatalf("routed to %q", c.AgentID)
			}

			before := snapshot(t, e.st)
			agents := func() string {
				all, _ := e.st.ListAgents(ctx)
				b, _ := json.Marshal(all)
				return string(b)
			}
			agentsBefore := agents()
			for _, tc := range []struct {
				name, path, token string
				body              any
				status            int
				says              []string
			}{
				{"every problem at once", "/api/v1/agents/zeynep", adminToken,
					map[string]any{"name": " ", "email": "not an address", "bot_id": "ghost", "skills": []string{"Turkish speaker"},
						"capacity": map[string]int{"telegram": 2, "whatsapp": 400}},
					http.StatusBadRequest, []string{"name: required", "bot_id: no bot \"ghost\"", "email:", "skills[0]:", "capacity.telegram: unknown channel kind", "capacity.whatsapp: 400"}},
				{"a bad id", "/api/v1/agents/Zeynep%20K", adminToken, def, http.StatusBadRequest, []string{"not a valid agent id"}},
				{"an unknown field", "/api/v1/agents/zeynep", adminToken, map[string]any{"name": "Z", "status": "online"}, http.StatusBadRequest, []string{"status"}},
				{"an agent's token", "/api/v1/agents/zeynep", zeynep, def, http.StatusForbidden, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					code, body := apiCall(t, "PUT", base+tc.path, tc.token, tc.body)
					if code != tc.status {
						t.Fatalf("status %d, want %d: %v", code, tc.status, body)
					}
					for _, s := range tc.says {
						if !strings.Contains(fmt.Sprint(body), s) {
							t.Errorf("answer %v does not say %q", body, s)
						}
					}
					if after := snapshot(t, e.st); after != before {
						t.Errorf("the refusal changed the conversations:\nbefore %s\nafter  %s", before, after)
					}
					if after := agents(); after != agentsBefore {
						t.Errorf("the refusal changed the agents:\nbefore %s\nafter  %s", agentsBefore, after)
					}
				})
			}
		})
	}
}
