package storetest

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testConversations(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: "+1555"}, "Bo")
	must(t, err, "upsert customer")

	inbound := clock.Now().Add(-time.Minute)
	c := &baton.Conversation{
		BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: "+1555",
		Language: "en", Priority: baton.PriorityNormal,
		Attributes:    map[string]string{"page": "/orders/7"},
		LastInboundAt: &inbound,
	}
	must(t, st.CreateConversation(ctx, c), "CreateConversation")
	if c.ID == 0 || c.Version != 1 || c.State != baton.StateBot {
		t.Fatalf("created = id %d version %d state %q, want an id, version 1, state bot", c.ID, c.Version, c.State)
	}
	wantTime(t, "CreatedAt", c.CreatedAt, clock.Now())
	wantTime(t, "UpdatedAt", c.UpdatedAt, clock.Now())

	t.Run("get returns what was stored", func(t *testing.T) {
		got, err := st.GetConversation(ctx, c.ID)
		must(t, err, "GetConversation")
		if got.BotID != "shop" || got.CustomerID != cust.ID || got.Channel != baton.ChannelWhatsApp || got.Address != "+1555" ||
			got.Language != "en" || got.Priority != baton.PriorityNormal || got.State != baton.StateBot || got.Version != 1 ||
			!reflect.DeepEqual(got.Attributes, c.Attributes) {
			t.Fatalf("got %+v, want %+v", got, c)
		}
		wantTimePtr(t, "LastInboundAt", got.LastInboundAt, &inbound)
		wantTimePtr(t, "LastOutboundAt", got.LastOutboundAt, nil)
		wantTime(t, "CreatedAt", got.CreatedAt, suiteStart())
		_, err = st.GetConversation(ctx, 424242)
		wantCode(t, err, baton.ENOTFOUND, "GetConversation unknown")
		// The message reaches API clients: it names what was not found.
		if msg := baton.ErrorMessage(err); !strings.Contains(msg, "424242") {
			t.Errorf("GetConversation unknown: message %q does not name the id", msg)
		}
	})

	t.Run("invalid creations change nothing", func(t *testing.T) {
		cases := map[string]struct {
			conv *baton.Conversation
			code string
		}{
			"unknown customer": {&baton.Conversation{BotID: "shop", CustomerID: 999999, Channel: baton.ChannelWhatsApp, Address: "x"}, baton.ENOTFOUND},
			"bad state":        {&baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: "x", State: "limbo"}, baton.EINVALID},
			"bad channel":      {&baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: "fax", Address: "x"}, baton.EINVALID},
			"no bot":           {&baton.Conversation{CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: "x"}, baton.EINVALID},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				wantCode(t, st.CreateConversation(ctx, tc.conv), tc.code, "CreateConversation")
			})
		}
		all, err := st.ListConversations(ctx, baton.ConversationFilter{})
		must(t, err, "ListConversations")
		if len(all) != 1 {
			t.Fatalf("%d conversations stored, want 1", len(all))
		}
	})

	t.Run("optimistic versioning", func(t *testing.T) {
		a, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get a")
		b, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get b")
		now := clock.Advance(time.Minute)
		out := now.Add(-time.Second)
		a.Language = "tr"
		a.Attributes = map[string]string{"order": "A-1"}
		a.LastOutboundAt = &out
		must(t, st.UpdateConversation(ctx, a), "update a")
		if a.Version != 2 {
			t.Fatalf("version after update = %d, want 2", a.Version)
		}
		wantTime(t, "UpdatedAt", a.UpdatedAt, now)

		b.Language = "de"
		wantCode(t, st.UpdateConversation(ctx, b), baton.ECONFLICT, "stale update")
		got, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get")
		if got.Language != "tr" || got.Version != 2 || !reflect.DeepEqual(got.Attributes, map[string]string{"order": "A-1"}) {
			t.Fatalf("after stale update = lang %q version %d attrs %v, want tr, 2, order A-1", got.Language, got.Version, got.Attributes)
		}
		wantTimePtr(t, "LastOutboundAt", got.LastOutboundAt, &out)

		got.State = baton.StateResolved
		wantCode(t, st.UpdateConversation(ctx, got), baton.EINVALID, "update changing state")
		again, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get")
		if again.State != baton.StateBot || again.Version != 2 {
			t.Fatalf("state update went through: %q v%d", again.State, again.Version)
		}
		wantCode(t, st.UpdateConversation(ctx, &baton.Conversation{ID: 777777, Version: 1, State: baton.StateBot}), baton.ENOTFOUND, "update unknown")
	})

	t.Run("open conversation", func(t *testing.T) {
		other, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: "+1777"}, "")
		must(t, err, "upsert")
		_, err = st.OpenConversation(ctx, "shop", other.ID, baton.ChannelWhatsApp)
		wantCode(t, err, baton.ENOTFOUND, "no conversation yet")

		c1 := &baton.Conversation{BotID: "shop", CustomerID: other.ID, Channel: baton.ChannelWhatsApp, Address: "+1777"}
		must(t, st.CreateConversation(ctx, c1), "create c1")
		open := func(want int64, what string) {
			t.Helper()
			got, err := st.OpenConversation(ctx, "shop", other.ID, baton.ChannelWhatsApp)
			if want == 0 {
				wantCode(t, err, baton.ENOTFOUND, what)
				return
			}
			must(t, err, what)
			if got.ID != want {
				t.Fatalf("%s: open conversation = %d, want %d", what, got.ID, want)
			}
		}
		open(c1.ID, "fresh")
		_, _, err = st.TransitionConversation(ctx, c1.ID, baton.Transition{To: baton.StateResolved, Actor: "bot"})
		must(t, err, "resolve")
		open(c1.ID, "resolved is still returned")
		_, _, err = st.TransitionConversation(ctx, c1.ID, baton.Transition{To: baton.StateArchived, Actor: "system"})
		must(t, err, "archive")
		open(0, "archived is not")
		c2 := &baton.Conversation{BotID: "shop", CustomerID: other.ID, Channel: baton.ChannelWhatsApp, Address: "+1777"}
		must(t, st.CreateConversation(ctx, c2), "create c2")
		open(c2.ID, "new one")
		_, err = st.OpenConversation(ctx, "shop", other.ID, baton.ChannelSMS)
		wantCode(t, err, baton.ENOTFOUND, "other channel")
		_, err = st.OpenConversation(ctx, "other-bot", other.ID, baton.ChannelWhatsApp)
		wantCode(t, err, baton.ENOTFOUND, "other bot")
	})

	t.Run("list filters", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		var (
			ids       []int64
			customers []int64
			created   []time.Time // a minute apart
		)
		for _, spec := range []struct {
			bot   string
			addr  string // one customer per bot and address
			to    baton.State
			queue string
			agent string
		}{
			{"shop", "+2000", baton.StateBot, "", ""},
			{"shop", "+2001", baton.StateQueued, "billing", ""},
			{"shop", "+2002", baton.StateAssigned, "billing", "ada"},
			{"shop", "+2003", baton.StateQueued, "tech", ""},
			{"other", "+2004", baton.StateQueued, "billing", ""},
			{"shop", "+2000", baton.StateResolved, "", ""},
		} {
			clock.Advance(time.Minute)
			c := seedConversation(t, ctx, st, spec.bot, spec.addr)
			created = append(created, c.CreatedAt)
			if spec.to != baton.StateBot {
				tr := baton.Transition{To: spec.to, Actor: "system", QueueID: ptr(spec.queue)}
				if spec.agent != "" {
					tr.AgentID = ptr(spec.agent)
				}
				_, _, err := st.TransitionConversation(ctx, c.ID, tr)
				must(t, err, "transition")
			}
			ids, customers = append(ids, c.ID), append(customers, c.CustomerID)
		}
		if customers[5] != customers[0] || customers[1] == customers[0] {
			t.Fatalf("customers = %v, want the first and the last conversation to share theirs", customers)
		}
		cases := []struct {
			name string
			f    baton.ConversationFilter
			want []int64
		}{
			{"all", baton.ConversationFilter{}, ids},
			{"bot", baton.ConversationFilter{BotID: "shop"}, []int64{ids[0], ids[1], ids[2], ids[3], ids[5]}},
			{"customer", baton.ConversationFilter{CustomerID: customers[0]}, []int64{ids[0], ids[5]}},
			{"customer and state", baton.ConversationFilter{BotID: "shop", CustomerID: customers[0], States: []baton.State{baton.StateResolved}}, []int64{ids[5]}},
			{"customer, first only", baton.ConversationFilter{CustomerID: customers[0], Limit: 1}, []int64{ids[0]}},
			{"other customer", baton.ConversationFilter{CustomerID: customers[2]}, []int64{ids[2]}},
			{"unknown customer", baton.ConversationFilter{CustomerID: 999999}, nil},
			{"states", baton.ConversationFilter{BotID: "shop", States: []baton.State{baton.StateQueued, baton.StateAssigned}}, ids[1:4]},
			{"queue", baton.ConversationFilter{QueueID: "billing"}, []int64{ids[1], ids[2], ids[4]}},
			{"agent", baton.ConversationFilter{AgentID: "ada"}, []int64{ids[2]}},
			{"limit", baton.ConversationFilter{BotID: "shop", Limit: 2}, ids[:2]},
			{"nothing", baton.ConversationFilter{BotID: "nobody"}, nil},
			{"created from, inclusive", baton.ConversationFilter{CreatedFrom: created[3]}, ids[3:]},
			{"created to, exclusive", baton.ConversationFilter{CreatedTo: created[3]}, ids[:3]},
			{"created in a range", baton.ConversationFilter{CreatedFrom: created[1], CreatedTo: created[4]}, ids[1:4]},
			{"created between two", baton.ConversationFilter{CreatedFrom: created[1].Add(time.Microsecond), CreatedTo: created[2].Add(time.Microsecond)}, ids[2:3]},
			{"created range and bot", baton.ConversationFilter{BotID: "shop", CreatedFrom: created[3]}, []int64{ids[3], ids[5]}},
			{"created range and queue", baton.ConversationFilter{QueueID: "billing", CreatedTo: created[4]}, ids[1:3]},
			{"created range, first only", baton.ConversationFilter{CreatedFrom: created[2], Limit: 1}, ids[2:3]},
			{"an empty range", baton.ConversationFilter{CreatedFrom: created[2], CreatedTo: created[2]}, nil},
			{"after the last", baton.ConversationFilter{CreatedFrom: created[5].Add(time.Microsecond)}, nil},
			{"in another zone", baton.ConversationFilter{CreatedFrom: created[4].In(time.FixedZone("UTC+3", 3*3600))}, ids[4:]},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListConversations(ctx, tc.f)
				must(t, err, "ListConversations")
				var gotIDs []int64
				for _, c := range got {
					gotIDs = append(gotIDs, c.ID)
				}
				if !reflect.DeepEqual(gotIDs, tc.want) {
					t.Fatalf("ids = %v, want %v", gotIDs, tc.want)
				}
			})
		}
		t.Run("created to before created from", func(t *testing.T) {
			_, err := st.ListConversations(ctx, baton.ConversationFilter{CreatedFrom: created[3], CreatedTo: created[2]})
			wantCode(t, err, baton.EINVALID, "ListConversations")
		})
	})

	t.Run("events of many conversations", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		var convs []*baton.Conversation
		for i := range 3 {
			convs = append(convs, seedConversation(t, ctx, st, "shop", "+30"+strconv.Itoa(i)))
		}
		// Appended interleaved, so that the order by conversation is the
		// store's doing.
		want := map[int64][]*baton.Event{}
		for round := range 3 {
			for i, c := range convs {
				if i == 1 && round > 0 {
					continue // one conversation with a single event
				}
				e := &baton.Event{ConversationID: c.ID, Type: "note", Actor: "ada", Reason: "round " + strconv.Itoa(round),
					Data: map[string]any{"round": float64(round)}, At: clock.Advance(time.Second)}
				must(t, st.AppendEvent(ctx, e), "AppendEvent")
				want[c.ID] = append(want[c.ID], e)
			}
		}
		quiet := seedConversation(t, ctx, st, "shop", "+309") // no events
		cases := []struct {
			name string
			ids  []int64
			want []int64 // conversations whose events come back, in order
		}{
			{"none", nil, nil},
			{"one", []int64{convs[1].ID}, []int64{convs[1].ID}},
			{"several, by conversation", []int64{convs[2].ID, convs[0].ID}, []int64{convs[0].ID, convs[2].ID}},
			{"repeats and unknown ids add nothing", []int64{convs[0].ID, 987654, convs[0].ID, convs[1].ID}, []int64{convs[0].ID, convs[1].ID}},
			{"a conversation without events", []int64{quiet.ID, convs[1].ID}, []int64{convs[1].ID}},
			{"every one", []int64{convs[0].ID, convs[1].ID, convs[2].ID, quiet.ID}, []int64{convs[0].ID, convs[1].ID, convs[2].ID}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListEventsFor(ctx, tc.ids)
				must(t, err, "ListEventsFor")
				var wantEvs []*baton.Event
				for _, id := range tc.want {
					wantEvs = append(wantEvs, want[id]...)
				}
				if len(got) != len(wantEvs) {
					t.Fatalf("%d events, want %d", len(got), len(wantEvs))
				}
				for i, e := range got {
					w := wantEvs[i]
					if e.ID != w.ID || e.ConversationID != w.ConversationID || e.Type != w.Type || e.Actor != w.Actor ||
						e.Reason != w.Reason || !reflect.DeepEqual(e.Data, w.Data) {
						t.Fatalf("event %d = %+v, want %+v", i, e, w)
					}
					wantTime(t, "At", e.At, w.At)
				}
				// The same events ListEvents gives, one conversation at a
				// time.
				var one []*baton.Event
				for _, id := range tc.want {
					evs, err := st.ListEvents(ctx, id)
					must(t, err, "ListEvents")
					one = append(one, evs...)
				}
				if !reflect.DeepEqual(got, one) {
					t.Fatalf("ListEventsFor = %v, ListEvents one by one = %v", got, one)
				}
			})
		}
	})
}

func (s *suite) testTransitions(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	c := seedConversation(t, ctx, st, "shop", "+1888")

	type step struct {
		name    string
		tr      baton.Transition
		code    string // "" = legal
		state   baton.State
		queue   string
		agent   string
		snoozed bool
	}
	snoozeUntil := suiteStart().Add(48 * time.Hour)
	steps := []step{
		{name: "bot to snoozed is illegal", tr: baton.Transition{To: baton.StateSnoozed, Actor: "bot", SnoozedUntil: &snoozeUntil}, code: baton.EINVALID, state: baton.StateBot},
		{name: "no actor", tr: baton.Transition{To: baton.StateQueued, QueueID: ptr("billing")}, code: baton.EINVALID, state: baton.StateBot},
		{name: "unknown state", tr: baton.Transition{To: "limbo", Actor: "bot"}, code: baton.EINVALID, state: baton.StateBot},
		{name: "escalate", tr: baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "wants_human", QueueID: ptr("billing"), Priority: ptr(baton.PriorityHigh), Data: map[string]any{"trigger": "wants_human", "score": 0.75}}, state: baton.StateQueued, queue: "billing"},
		{name: "assign without agent", tr: baton.Transition{To: baton.StateAssigned, Actor: "system"}, code: baton.EINVALID, state: baton.StateQueued, queue: "billing"},
		{name: "assign", tr: baton.Transition{To: baton.StateAssigned, Actor: "agent:ada", AgentID: ptr("ada")}, state: baton.StateAssigned, queue: "billing", agent: "ada"},
		{name: "snooze in the past", tr: baton.Transition{To: baton.StateSnoozed, Actor: "agent:ada", SnoozedUntil: ptr(suiteStart().Add(-time.Hour))}, code: baton.EINVALID, state: baton.StateAssigned, queue: "billing", agent: "ada"},
		{name: "snooze", tr: baton.Transition{To: baton.StateSnoozed, Actor: "agent:ada", SnoozedUntil: &snoozeUntil}, state: baton.StateSnoozed, queue: "billing", agent: "ada", snoozed: true},
		{name: "snoozed to queued is illegal", tr: baton.Transition{To: baton.StateQueued, Actor: "system"}, code: baton.EINVALID, state: baton.StateSnoozed, queue: "billing", agent: "ada", snoozed: true},
		{name: "wake", tr: baton.Transition{To: baton.StateAssigned, Actor: "customer"}, state: baton.StateAssigned, queue: "billing", agent: "ada"},
		{name: "resolve", tr: baton.Transition{To: baton.StateResolved, Actor: "agent:ada", Reason: "answered"}, state: baton.StateResolved, queue: "billing", agent: "ada"},
		{name: "reopen to queue", tr: baton.Transition{To: baton.StateQueued, Actor: "customer", Reason: "reopen"}, state: baton.StateQueued, queue: "billing"},
		{name: "archive", tr: baton.Transition{To: baton.StateArchived, Actor: "system", Reason: "spam"}, state: baton.StateArchived, queue: "billing"},
		{name: "archived is final", tr: baton.Transition{To: baton.StateQueued, Actor: "system"}, code: baton.EINVALID, state: baton.StateArchived, queue: "billing"},
	}
	var wantEvents []baton.Event
	version := c.Version
	for _, sp := range steps {
		t.Run(sp.name, func(t *testing.T) {
			now := clock.Advance(time.Minute)
			got, ev, err := st.TransitionConversation(ctx, c.ID, sp.tr)
			if sp.code != "" {
				wantCode(t, err, sp.code, "TransitionConversation")
			} else {
				must(t, err, "TransitionConversation")
				version++
				if got.Version != version || got.State != sp.state {
					t.Fatalf("returned state %q version %d, want %q %d", got.State, got.Version, sp.state, version)
				}
				if ev == nil || ev.ID == 0 || ev.ConversationID != c.ID || ev.Type != "transition" || ev.To != sp.state || ev.Actor != sp.tr.Actor {
					t.Fatalf("event = %+v", ev)
				}
				wantTime(t, "event At", ev.At, now)
				wantTime(t, "UpdatedAt", got.UpdatedAt, now)
				wantEvents = append(wantEvents, *ev)
			}
			stored, err := st.GetConversation(ctx, c.ID)
			must(t, err, "GetConversation")
			if stored.State != sp.state || stored.QueueID != sp.queue || stored.AgentID != sp.agent || stored.Version != version {
				t.Fatalf("stored = state %q queue %q agent %q version %d, want %q %q %q %d",
					stored.State, stored.QueueID, stored.AgentID, stored.Version, sp.state, sp.queue, sp.agent, version)
			}
			if sp.snoozed {
				wantTimePtr(t, "SnoozedUntil", stored.SnoozedUntil, &snoozeUntil)
			} else if stored.SnoozedUntil != nil {
				t.Fatalf("SnoozedUntil = %v, want nil", stored.SnoozedUntil)
			}
			if sp.state == baton.StateResolved {
				wantTimePtr(t, "ResolvedAt", stored.ResolvedAt, &now)
			}
			evs, err := st.ListEvents(ctx, c.ID)
			must(t, err, "ListEvents")
			if len(evs) != len(wantEvents) {
				t.Fatalf("%d events, want %d", len(evs), len(wantEvents))
			}
		})
	}

	t.Run("event log", func(t *testing.T) {
		evs, err := st.ListEvents(ctx, c.ID)
		must(t, err, "ListEvents")
		if len(evs) != len(wantEvents) {
			t.Fatalf("%d events, want %d", len(evs), len(wantEvents))
		}
		var from baton.State = baton.StateBot
		for i, e := range evs {
			w := wantEvents[i]
			if e.ID != w.ID || e.From != from || e.To != w.To || e.Actor != w.Actor || e.Reason != w.Reason || e.Type != "transition" {
				t.Errorf("event %d = %+v, want %+v from %s", i, e, w, from)
			}
			if !reflect.DeepEqual(e.Data, w.Data) {
				t.Errorf("event %d data = %#v, want %#v", i, e.Data, w.Data)
			}
			wantTime(t, "event At", e.At, w.At)
			from = w.To
		}
		if evs[0].Data["trigger"] != "wants_human" || evs[0].Data["score"] != 0.75 {
			t.Errorf("escalation data = %#v", evs[0].Data)
		}
	})

	t.Run("priority and unknown", func(t *testing.T) {
		got, err := st.GetConversation(ctx, c.ID)
		must(t, err, "get")
		if got.Priority != baton.PriorityHigh {
			t.Errorf("priority = %d, want %d", got.Priority, baton.PriorityHigh)
		}
		_, _, err = st.TransitionConversation(ctx, 55555, baton.Transition{To: baton.StateQueued, Actor: "bot"})
		wantCode(t, err, baton.ENOTFOUND, "transition unknown")
	})

	t.Run("append event", func(t *testing.T) {
		now := clock.Advance(time.Minute)
		e := &baton.Event{ConversationID: c.ID, Type: "note", Actor: "agent:ada", Reason: "called back", Data: map[string]any{"ok": true}}
		must(t, st.AppendEvent(ctx, e), "AppendEvent")
		if e.ID == 0 {
			t.Fatal("event id not set")
		}
		wantTime(t, "At defaults to now", e.At, now)
		evs, err := st.ListEvents(ctx, c.ID)
		must(t, err, "ListEvents")
		last := evs[len(evs)-1]
		if last.ID != e.ID || last.Type != "note" || last.Data["ok"] != true {
			t.Fatalf("last event = %+v", last)
		}
		wantCode(t, st.AppendEvent(ctx, &baton.Event{ConversationID: 31337, Type: "note", Actor: "x"}), baton.ENOTFOUND, "AppendEvent unknown")
		wantCode(t, st.AppendEvent(ctx, &baton.Event{ConversationID: c.ID, Actor: "x"}), baton.EINVALID, "AppendEvent no type")
		none, err := st.ListEvents(ctx, 31337)
		must(t, err, "ListEvents unknown")
		if len(none) != 0 {
			t.Fatalf("events of unknown conversation = %d", len(none))
		}
	})
}
