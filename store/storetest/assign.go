package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// queued creates a conversation of botID on ch and escalates it to queue
// "support".
func queued(t *testing.T, ctx context.Context, st baton.Store, botID string, ch baton.ChannelKind, address string) *baton.Conversation {
	t.Helper()
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: botID, Channel: ch, Address: address}, "")
	must(t, err, "UpsertCustomerByIdentity")
	c := &baton.Conversation{BotID: botID, CustomerID: cust.ID, Channel: ch, Address: address}
	must(t, st.CreateConversation(ctx, c), "CreateConversation")
	c, _, err = st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "wants_human", QueueID: ptr("support")})
	must(t, err, "escalate")
	return c
}

func upsertAgents(t *testing.T, ctx context.Context, st baton.Store, agents ...*baton.Agent) {
	t.Helper()
	for _, a := range agents {
		must(t, st.UpsertAgent(ctx, a), "UpsertAgent "+a.ID)
	}
}

func capacity(kv ...any) map[baton.ChannelKind]int {
	m := map[baton.ChannelKind]int{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(baton.ChannelKind)] = kv[i+1].(int)
	}
	return m
}

// wantRefused checks that err is AssignConversation's ECONFLICT refusal for
// reason, naming owner as the conversation's owner.
func wantRefused(t *testing.T, err error, reason, owner, what string) *baton.AssignRefused {
	t.Helper()
	wantCode(t, err, baton.ECONFLICT, what)
	r, ok := baton.AsAssignRefused(err)
	if !ok {
		t.Fatalf("%s: %v has no *AssignRefused in its chain", what, err)
	}
	if r.Reason != reason || r.Owner != owner {
		t.Fatalf("%s: refused %q with owner %q (%v), want %q with owner %q", what, r.Reason, r.Owner, err, reason, owner)
	}
	return r
}

// unchanged checks that conversation c is stored as it was: same version,
// state and agent, no new event.
func unchanged(t *testing.T, ctx context.Context, st baton.Store, c *baton.Conversation, events int, what string) {
	t.Helper()
	got, err := st.GetConversation(ctx, c.ID)
	must(t, err, "GetConversation")
	if got.Version != c.Version || got.State != c.State || got.AgentID != c.AgentID {
		t.Fatalf("%s changed the conversation: version %d state %s agent %q, want %d %s %q",
			what, got.Version, got.State, got.AgentID, c.Version, c.State, c.AgentID)
	}
	evs, err := st.ListEvents(ctx, c.ID)
	must(t, err, "ListEvents")
	if len(evs) != events {
		t.Fatalf("%s: %d events, want %d", what, len(evs), events)
	}
}

func (s *suite) testAgentLoads(t *testing.T) {
	st, _, ctx := s.fresh(t)
	upsertAgents(t, ctx, st,
		&baton.Agent{ID: "ada", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 3, baton.ChannelWebChat, 2)},
		&baton.Agent{ID: "bob", BotID: "shop", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 1)},
		&baton.Agent{ID: "cy", BotID: "bank", Status: baton.AgentAway, Capacity: capacity(baton.ChannelSMS, 1)},
	)
	assign := func(c *baton.Conversation, agent string) *baton.Conversation {
		t.Helper()
		got, _, err := st.AssignConversation(ctx, c.ID, agent, baton.Assignment{Actor: "system"})
		must(t, err, "assign to "+agent)
		return got
	}
	// ada: two WhatsApp (one snoozed, one of another bot), one web chat,
	// one resolved (not open); bob: one WhatsApp; cy: nothing.
	assign(queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+1"), "ada")
	snoozed := assign(queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+2"), "ada")
	_, _, err := st.TransitionConversation(ctx, snoozed.ID, baton.Transition{To: baton.StateSnoozed, Actor: "agent:ada", SnoozedUntil: ptr(suiteStart().Add(time.Hour))})
	must(t, err, "snooze")
	assign(queued(t, ctx, st, "bank", baton.ChannelWebChat, "v-1"), "ada")
	resolved := assign(queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+3"), "ada")
	_, _, err = st.TransitionConversation(ctx, resolved.ID, baton.Transition{To: baton.StateResolved, Actor: "agent:ada"})
	must(t, err, "resolve")
	assign(queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+4"), "bob")
	queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+5") // nobody's

	ada := map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2, baton.ChannelWebChat: 1}
	bob := map[baton.ChannelKind]int{baton.ChannelWhatsApp: 1}
	none := map[baton.ChannelKind]int{}
	cases := []struct {
		name  string
		botID string
		want  map[string]map[baton.ChannelKind]int
	}{
		{"every agent", "", map[string]map[baton.ChannelKind]int{"ada": ada, "bob": bob, "cy": none}},
		{"agents of shop and of every bot", "shop", map[string]map[baton.ChannelKind]int{"ada": ada, "bob": bob}},
		{"agents of bank", "bank", map[string]map[baton.ChannelKind]int{"ada": ada, "cy": none}},
		{"a bot nobody works for alone", "other", map[string]map[baton.ChannelKind]int{"ada": ada}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loads, err := st.AgentLoads(ctx, tc.botID)
			must(t, err, "AgentLoads")
			got := map[string]map[baton.ChannelKind]int{}
			var ids []string
			for _, l := range loads {
				if l.Open == nil {
					t.Fatalf("%s: Open is nil, want an empty map", l.ID)
				}
				got[l.ID] = l.Open
				ids = append(ids, l.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("loads = %v, want %v", got, tc.want)
			}
			for i := 1; i < len(ids); i++ {
				if ids[i-1] >= ids[i] {
					t.Fatalf("agents %v are not by id", ids)
				}
			}
		})
	}
	t.Run("free room and the agent's fields", func(t *testing.T) {
		loads, err := st.AgentLoads(ctx, "")
		must(t, err, "AgentLoads")
		l := loads[0]
		if l.ID != "ada" || l.Status != baton.AgentOnline || !reflect.DeepEqual(l.Capacity, capacity(baton.ChannelWhatsApp, 3, baton.ChannelWebChat, 2)) {
			t.Fatalf("first load = %+v, want ada online with her capacity", l.Agent)
		}
		if l.LastAssignedAt == nil {
			t.Fatal("ada's LastAssignedAt is nil after her assignments")
		}
		for ch, want := range map[baton.ChannelKind]int{baton.ChannelWhatsApp: 1, baton.ChannelWebChat: 1, baton.ChannelSMS: 0} {
			if got := l.Free(ch); got != want {
				t.Errorf("ada's free room on %s = %d, want %d", ch, got, want)
			}
		}
	})
}

func (s *suite) testAssign(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	upsertAgents(t, ctx, st,
		&baton.Agent{ID: "ada", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 2, baton.ChannelWebChat, 1)},
		&baton.Agent{ID: "bob", BotID: "shop", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 1)},
		&baton.Agent{ID: "cy", Status: baton.AgentAway, Capacity: capacity(baton.ChannelWhatsApp, 5)},
		&baton.Agent{ID: "dee", BotID: "bank", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 5)},
	)

	var first *baton.Conversation
	t.Run("a queued conversation to an agent with room", func(t *testing.T) {
		c := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+10")
		now := clock.Advance(time.Minute)
		got, ev, err := st.AssignConversation(ctx, c.ID, "ada", baton.Assignment{Actor: "agent:ada", Reason: "claim", Data: map[string]any{"via": "api"}})
		must(t, err, "AssignConversation")
		if got.State != baton.StateAssigned || got.AgentID != "ada" || got.Owner() != "ada" || got.Version != c.Version+1 || got.QueueID != "support" {
			t.Fatalf("assigned = state %s agent %q version %d queue %q, want assigned to ada at version %d in support",
				got.State, got.AgentID, got.Version, got.QueueID, c.Version+1)
		}
		wantTimePtr(t, "AssignedAt", got.AssignedAt, &now)
		wantTime(t, "UpdatedAt", got.UpdatedAt, now)
		if ev.ID == 0 || ev.Type != "transition" || ev.From != baton.StateQueued || ev.To != baton.StateAssigned ||
			ev.Actor != "agent:ada" || ev.Reason != "claim" || ev.Data["agent"] != "ada" || ev.Data["via"] != "api" || ev.Data["from_agent"] != nil {
			t.Fatalf("event = %+v", ev)
		}
		wantTime(t, "event At", ev.At, now)
		stored, err := st.GetConversation(ctx, c.ID)
		must(t, err, "GetConversation")
		if stored.State != baton.StateAssigned || stored.AgentID != "ada" || stored.Version != got.Version {
			t.Fatalf("stored = %+v", stored)
		}
		wantTimePtr(t, "stored AssignedAt", stored.AssignedAt, &now)
		evs, err := st.ListEvents(ctx, c.ID)
		must(t, err, "ListEvents")
		if last := evs[len(evs)-1]; last.ID != ev.ID || last.Data["agent"] != "ada" {
			t.Fatalf("last event = %+v, want %+v", last, ev)
		}
		agent, err := st.GetAgent(ctx, "ada")
		must(t, err, "GetAgent")
		wantTimePtr(t, "LastAssignedAt", agent.LastAssignedAt, &now)
		// The definition from the config is saved again on every start:
		// the last assignment stays.
		must(t, st.UpsertAgent(ctx, &baton.Agent{ID: "ada", Capacity: capacity(baton.ChannelWhatsApp, 2, baton.ChannelWebChat, 1)}), "UpsertAgent")
		agent, err = st.GetAgent(ctx, "ada")
		must(t, err, "GetAgent")
		wantTimePtr(t, "LastAssignedAt after UpsertAgent", agent.LastAssignedAt, &now)
		first = got
	})
	if first == nil {
		t.FailNow()
	}

	newQueued := func(ch baton.ChannelKind, address string) func(*testing.T) *baton.Conversation {
		return func(t *testing.T) *baton.Conversation { return queued(t, ctx, st, "shop", ch, address) }
	}
	refusals := []struct {
		name   string
		conv   func(t *testing.T) *baton.Conversation
		agent  string
		a      baton.Assignment
		reason string // AssignRefused.Reason; "" when code is not ECONFLICT
		owner  string
		code   string
	}{
		{name: "theirs already", conv: func(*testing.T) *baton.Conversation { return first }, agent: "ada", reason: baton.AssignTaken, owner: "ada"},
		{name: "taken by another agent", conv: func(*testing.T) *baton.Conversation { return first }, agent: "bob", reason: baton.AssignTaken, owner: "ada"},
		{name: "a transfer from someone who does not own it", conv: func(*testing.T) *baton.Conversation { return first }, agent: "bob",
			a: baton.Assignment{From: []baton.State{baton.StateAssigned}, Owner: "cy"}, reason: baton.AssignTaken, owner: "ada"},
		{name: "agent not online", conv: newQueued(baton.ChannelWhatsApp, "+11"), agent: "cy", reason: baton.AssignUnavailable},
		{name: "no capacity on the channel kind", conv: newQueued(baton.ChannelSMS, "+12"), agent: "ada", reason: baton.AssignFull},
		{name: "resolved since it was read", conv: func(t *testing.T) *baton.Conversation {
			c := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+13")
			c, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateResolved, Actor: "bot"})
			must(t, err, "resolve")
			return c
		}, agent: "ada", reason: baton.AssignMoved},
		{name: "still with the bot", conv: func(t *testing.T) *baton.Conversation { return seedConversation(t, ctx, st, "shop", "+14") },
			agent: "ada", reason: baton.AssignMoved},
		{name: "a transfer of a conversation nobody owns", conv: newQueued(baton.ChannelWhatsApp, "+15"), agent: "ada", a: baton.Assignment{From: []baton.State{baton.StateAssigned}, Owner: "bob"}, reason: baton.AssignMoved},
		{name: "an agent of another bot", conv: newQueued(baton.ChannelWhatsApp, "+16"), agent: "dee", code: baton.EINVALID},
		{name: "no actor", conv: newQueued(baton.ChannelWhatsApp, "+17"), agent: "ada", a: baton.Assignment{Actor: "-"}, code: baton.EINVALID},
		{name: "from a state that cannot be assigned", conv: newQueued(baton.ChannelWhatsApp, "+18"), agent: "ada", a: baton.Assignment{From: []baton.State{baton.StateArchived}}, code: baton.EINVALID},
		{name: "archived", conv: func(t *testing.T) *baton.Conversation {
			c := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+19")
			c, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateArchived, Actor: "system", Reason: "spam"})
			must(t, err, "archive")
			return c
		}, agent: "ada", a: baton.Assignment{From: []baton.State{baton.StateResolved}}, code: baton.EINVALID},
		{name: "unknown agent", conv: newQueued(baton.ChannelWhatsApp, "+20"), agent: "nobody", code: baton.ENOTFOUND},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conv(t)
			evs, err := st.ListEvents(ctx, c.ID)
			must(t, err, "ListEvents")
			a := tc.a
			switch a.Actor {
			case "":
				a.Actor = "system"
			case "-":
				a.Actor = ""
			}
			clock.Advance(time.Minute)
			_, _, err = st.AssignConversation(ctx, c.ID, tc.agent, a)
			if tc.reason != "" {
				r := wantRefused(t, err, tc.reason, tc.owner, "AssignConversation")
				if r.ConversationID != c.ID || r.AgentID != tc.agent || r.State != c.State || r.Channel != c.Channel {
					t.Fatalf("refusal = %+v, want conversation %d, agent %s, state %s, channel %s", r, c.ID, tc.agent, c.State, c.Channel)
				}
			} else {
				wantCode(t, err, tc.code, "AssignConversation")
			}
			unchanged(t, ctx, st, c, len(evs), "a refused assignment")
		})
	}
	_, _, err := st.AssignConversation(ctx, 987654, "ada", baton.Assignment{Actor: "system"})
	wantCode(t, err, baton.ENOTFOUND, "unknown conversation")

	t.Run("capacity counts assigned and snoozed, not resolved", func(t *testing.T) {
		// ada has first (WhatsApp). A second WhatsApp conversation fits
		// her capacity of 2, snoozed it still counts; a third does not
		// fit until one is resolved.
		second := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+30")
		_, _, err := st.AssignConversation(ctx, second.ID, "ada", baton.Assignment{Actor: "system"})
		must(t, err, "second")
		_, _, err = st.TransitionConversation(ctx, second.ID, baton.Transition{To: baton.StateSnoozed, Actor: "agent:ada", SnoozedUntil: ptr(clock.Now().Add(time.Hour))})
		must(t, err, "snooze")
		third := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+31")
		_, _, err = st.AssignConversation(ctx, third.ID, "ada", baton.Assignment{Actor: "system"})
		r := wantRefused(t, err, baton.AssignFull, "", "third")
		if r.Load != 2 || r.Capacity != 2 || r.Channel != baton.ChannelWhatsApp || r.Status != baton.AgentOnline {
			t.Fatalf("refusal = %+v, want load 2 of capacity 2 on whatsapp", r)
		}
		unchanged(t, ctx, st, third, 1, "a refusal for capacity")
		// Her web chat room is separate.
		web := queued(t, ctx, st, "shop", baton.ChannelWebChat, "v-30")
		_, _, err = st.AssignConversation(ctx, web.ID, "ada", baton.Assignment{Actor: "system"})
		must(t, err, "web chat")
		_, _, err = st.TransitionConversation(ctx, first.ID, baton.Transition{To: baton.StateResolved, Actor: "agent:ada"})
		must(t, err, "resolve first")
		got, _, err := st.AssignConversation(ctx, third.ID, "ada", baton.Assignment{Actor: "system"})
		must(t, err, "third after a resolve")
		if got.AgentID != "ada" {
			t.Fatalf("third = %+v", got)
		}
	})

	t.Run("a transfer from the owner", func(t *testing.T) {
		c := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+40")
		_, _, err := st.AssignConversation(ctx, c.ID, "bob", baton.Assignment{Actor: "system"})
		must(t, err, "assign to bob")
		_, _, err = st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateSnoozed, Actor: "agent:bob", SnoozedUntil: ptr(clock.Now().Add(time.Hour))})
		must(t, err, "snooze")
		must(t, st.SetAgentStatus(ctx, "cy", baton.AgentOnline), "cy online")
		now := clock.Advance(time.Minute)
		got, ev, err := st.AssignConversation(ctx, c.ID, "cy", baton.Assignment{Actor: "agent:bob", Reason: "transfer",
			From: []baton.State{baton.StateAssigned, baton.StateSnoozed}, Owner: "bob"})
		must(t, err, "transfer")
		if got.State != baton.StateAssigned || got.AgentID != "cy" || got.SnoozedUntil != nil || ev.From != baton.StateSnoozed ||
			ev.Data["agent"] != "cy" || ev.Data["from_agent"] != "bob" {
			t.Fatalf("transferred = %+v, event %+v", got, ev)
		}
		wantTimePtr(t, "AssignedAt of the new owner", got.AssignedAt, &now)
		// bob's room is free again.
		other := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+41")
		_, _, err = st.AssignConversation(ctx, other.ID, "bob", baton.Assignment{Actor: "system"})
		must(t, err, "bob has room after the transfer")
	})

	t.Run("a reopen to the last agent", func(t *testing.T) {
		c := queued(t, ctx, st, "shop", baton.ChannelWebChat, "v-50")
		must(t, st.UpsertAgent(ctx, &baton.Agent{ID: "eve", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWebChat, 1)}), "eve")
		_, _, err := st.AssignConversation(ctx, c.ID, "eve", baton.Assignment{Actor: "system"})
		must(t, err, "assign")
		res, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateResolved, Actor: "agent:eve"})
		must(t, err, "resolve")
		if res.Owner() != "" || res.AgentID != "eve" {
			t.Fatalf("resolved: owner %q agent %q, want nobody and eve remembered", res.Owner(), res.AgentID)
		}
		_, _, err = st.AssignConversation(ctx, c.ID, "eve", baton.Assignment{Actor: "system"})
		wantRefused(t, err, baton.AssignMoved, "", "a routing assignment of a resolved conversation")
		got, ev, err := st.AssignConversation(ctx, c.ID, "eve", baton.Assignment{Actor: "customer", Reason: "reopen", From: []baton.State{baton.StateResolved}})
		must(t, err, "reopen")
		if got.State != baton.StateAssigned || got.AgentID != "eve" || got.ResolvedAt != nil || got.Resolutions != 1 || ev.From != baton.StateResolved {
			t.Fatalf("reopened = %+v, event %+v", got, ev)
		}
	})
}

func (s *suite) testAssignConcurrently(t *testing.T) {
	t.Run("20 agents claim one conversation", func(t *testing.T) {
		a, b, _, ctx := s.pair(t)
		const n = 20
		for i := 0; i < n; i++ {
			upsertAgents(t, ctx, a, &baton.Agent{ID: fmt.Sprintf("agent-%02d", i), Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 3)})
		}
		c := queued(t, ctx, a, "shop", baton.ChannelWhatsApp, "+100")
		owners := make([]string, n)
		errs := race(n, func(i int) error {
			st := []baton.Store{a, b}[i%2]
			got, _, err := st.AssignConversation(ctx, c.ID, fmt.Sprintf("agent-%02d", i), baton.Assignment{Actor: "agent", Reason: "claim"})
			if err == nil {
				owners[i] = got.AgentID
			}
			return err
		})
		winner := ""
		for i, err := range errs {
			if err == nil {
				if winner != "" {
					t.Fatalf("%s and %s both won the claim", winner, owners[i])
				}
				winner = owners[i]
			}
		}
		if winner == "" {
			t.Fatalf("nobody won: %v", errs)
		}
		for i, err := range errs {
			if err != nil {
				wantRefused(t, err, baton.AssignTaken, winner, fmt.Sprintf("claim of agent-%02d", i))
			}
		}
		stored, err := a.GetConversation(ctx, c.ID)
		must(t, err, "GetConversation")
		if stored.AgentID != winner || stored.Version != c.Version+1 {
			t.Fatalf("stored agent %q version %d, want %s at %d", stored.AgentID, stored.Version, winner, c.Version+1)
		}
		evs, err := a.ListEvents(ctx, c.ID)
		must(t, err, "ListEvents")
		if len(evs) != 2 {
			t.Fatalf("%d events, want the escalation and one assignment", len(evs))
		}
	})

	t.Run("concurrent assignments never exceed capacity", func(t *testing.T) {
		a, b, _, ctx := s.pair(t)
		const (
			agents = 3
			convs  = 36
			room   = 4 // per agent on WhatsApp
		)
		for i := 0; i < agents; i++ {
			upsertAgents(t, ctx, a, &baton.Agent{ID: fmt.Sprintf("agent-%d", i), Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, room, baton.ChannelWebChat, 1)})
		}
		ids := make([]int64, convs)
		for i := range ids {
			ids[i] = queued(t, ctx, a, "shop", baton.ChannelWhatsApp, fmt.Sprintf("+2%03d", i)).ID
		}
		// Every conversation is offered to every agent, from both stores,
		// all at once: 108 racing assignments for 12 places.
		var won atomic.Int64
		errs := race(convs*agents, func(i int) error {
			st := []baton.Store{a, b}[i%2]
			_, _, err := st.AssignConversation(ctx, ids[i/agents], fmt.Sprintf("agent-%d", i%agents), baton.Assignment{Actor: "system"})
			if err == nil {
				won.Add(1)
				return nil
			}
			if r, ok := baton.AsAssignRefused(err); ok && (r.Reason == baton.AssignFull || r.Reason == baton.AssignTaken) {
				return nil
			}
			return err
		})
		for _, err := range errs {
			must(t, err, "AssignConversation")
		}
		if won.Load() != agents*room {
			t.Errorf("%d assignments succeeded, want %d (every place filled once)", won.Load(), agents*room)
		}
		loads, err := b.AgentLoads(ctx, "shop")
		must(t, err, "AgentLoads")
		for _, l := range loads {
			if l.Open[baton.ChannelWhatsApp] != room {
				t.Errorf("%s has %d open on WhatsApp, want exactly %d", l.ID, l.Open[baton.ChannelWhatsApp], room)
			}
		}
		all, err := a.ListConversations(ctx, baton.ConversationFilter{BotID: "shop"})
		must(t, err, "ListConversations")
		assigned := 0
		for _, c := range all {
			evs, err := a.ListEvents(ctx, c.ID)
			must(t, err, "ListEvents")
			if c.State == baton.StateAssigned {
				assigned++
				if len(evs) != 2 {
					t.Errorf("conversation %d was assigned %d times", c.ID, len(evs)-1)
				}
			}
		}
		if assigned != agents*room {
			t.Errorf("%d conversations assigned, want %d", assigned, agents*room)
		}
	})
}
