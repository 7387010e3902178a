package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// reply is a message of conv from author in direction d, at (zero = now).
func reply(conv *baton.Conversation, d baton.Direction, author baton.Author, providerID string, at time.Time) *baton.Message {
	return &baton.Message{ConversationID: conv.ID, BotID: conv.BotID, Channel: conv.Channel, ProviderID: providerID,
		Direction: d, Author: author, Type: baton.TypeText, Text: "…", CreatedAt: at}
}

// clocks is what a conversation's SLA clocks should read (nil = unset).
type clocks struct {
	queued, assigned, firstDue, nextDue, firstReply, lastReply *time.Time
	resolutions                                                int
}

func wantClocks(t *testing.T, ctx context.Context, st baton.Store, id int64, want clocks) *baton.Conversation {
	t.Helper()
	c, err := st.GetConversation(ctx, id)
	must(t, err, "GetConversation")
	wantTimePtr(t, "QueuedAt", c.QueuedAt, want.queued)
	wantTimePtr(t, "AssignedAt", c.AssignedAt, want.assigned)
	wantTimePtr(t, "FirstResponseDue", c.FirstResponseDue, want.firstDue)
	wantTimePtr(t, "NextResponseDue", c.NextResponseDue, want.nextDue)
	wantTimePtr(t, "FirstAgentReplyAt", c.FirstAgentReplyAt, want.firstReply)
	wantTimePtr(t, "LastAgentReplyAt", c.LastAgentReplyAt, want.lastReply)
	if c.Resolutions != want.resolutions {
		t.Errorf("Resolutions = %d, want %d", c.Resolutions, want.resolutions)
	}
	return c
}

// testClocks walks one conversation through its life and checks the SLA
// clocks after every step: the store keeps the times of events, the caller
// sets the due times, and only an agent's reply to the customer answers.
func (s *suite) testClocks(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	upsertAgents(t, ctx, st,
		&baton.Agent{ID: "ada", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 5)},
		&baton.Agent{ID: "bob", Status: baton.AgentOnline, Capacity: capacity(baton.ChannelWhatsApp, 5)})
	conv := seedConversation(t, ctx, st, "shop", "+500")
	var (
		want    clocks
		version = conv.Version
	)
	at := func(d time.Duration) *time.Time { return ptr(clock.Now().Add(d)) }
	transition := func(t *testing.T, tr baton.Transition) *baton.Conversation {
		t.Helper()
		c, _, err := st.TransitionConversation(ctx, conv.ID, tr)
		must(t, err, "TransitionConversation")
		version++
		return c
	}
	insert := func(t *testing.T, m *baton.Message, bumps bool) {
		t.Helper()
		_, err := st.InsertMessage(ctx, m)
		must(t, err, "InsertMessage")
		if bumps {
			version++
		}
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
	}{
		{"a new conversation has no clocks", func(t *testing.T) {}},
		{"the bot's replies are not responses", func(t *testing.T) {
			insert(t, reply(conv, baton.DirectionIn, baton.AuthorCustomer, "wamid.c1", time.Time{}), false)
			insert(t, reply(conv, baton.DirectionOut, baton.AuthorBot, "", time.Time{}), false)
			insert(t, reply(conv, baton.DirectionOut, baton.AuthorSystem, "", time.Time{}), false)
		}},
		{"escalation starts the first-response clock", func(t *testing.T) {
			want.queued, want.firstDue, want.nextDue = ptr(clock.Now()), at(15*time.Minute), at(15*time.Minute)
			transition(t, baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: ptr("billing"), FirstResponseDue: want.firstDue, NextResponseDue: want.nextDue})
		}},
		{"a transfer between queues keeps the queue time", func(t *testing.T) {
			transition(t, baton.Transition{To: baton.StateQueued, Actor: "system", Reason: "transfer", QueueID: ptr("tech")})
		}},
		{"assignment", func(t *testing.T) {
			want.assigned = ptr(clock.Now())
			_, _, err := st.AssignConversation(ctx, conv.ID, "ada", baton.Assignment{Actor: "system"})
			must(t, err, "AssignConversation")
			version++
		}},
		{"an internal note is not a response", func(t *testing.T) {
			insert(t, reply(conv, baton.DirectionNote, baton.AuthorAgent, "", time.Time{}), false)
		}},
		{"the agent's first reply stops the clocks", func(t *testing.T) {
			want.firstReply, want.lastReply, want.nextDue = ptr(clock.Now()), ptr(clock.Now()), nil
			insert(t, reply(conv, baton.DirectionOut, baton.AuthorAgent, "wamid.a1", time.Time{}), true)
		}},
		{"a duplicate of that reply changes nothing", func(t *testing.T) {
			insert(t, reply(conv, baton.DirectionOut, baton.AuthorAgent, "wamid.a1", clock.Now().Add(time.Minute)), false)
		}},
		{"a reopen-style transition sets the next-response clock", func(t *testing.T) {
			want.nextDue = at(time.Hour)
			transition(t, baton.Transition{To: baton.StateAssigned, Actor: "system", NextResponseDue: want.nextDue})
		}},
		{"a later reply moves the last reply only", func(t *testing.T) {
			want.lastReply, want.nextDue = ptr(clock.Now()), nil
			insert(t, reply(conv, baton.DirectionOut, baton.AuthorAgent, "", time.Time{}), true)
		}},
		{"a reply stored late with an earlier time is the first, not the last", func(t *testing.T) {
			insert(t, reply(conv, baton.DirectionOut, baton.AuthorAgent, "", clock.Now().Add(-time.Hour)), true)
			want.firstReply = ptr(clock.Now().Add(-time.Hour))
		}},
		{"a transfer to another agent is a new assignment", func(t *testing.T) {
			want.assigned = ptr(clock.Now())
			_, _, err := st.AssignConversation(ctx, conv.ID, "bob", baton.Assignment{Actor: "agent:ada", From: []baton.State{baton.StateAssigned}, Owner: "ada"})
			must(t, err, "transfer")
			version++
		}},
		{"a wake from snooze is not", func(t *testing.T) {
			transition(t, baton.Transition{To: baton.StateSnoozed, Actor: "agent:bob", SnoozedUntil: at(time.Hour)})
			clock.Advance(time.Minute)
			transition(t, baton.Transition{To: baton.StateAssigned, Actor: "customer", NextResponseDue: at(time.Hour)})
			want.nextDue = at(time.Hour)
		}},
		{"resolving stops the next-response clock and counts", func(t *testing.T) {
			want.nextDue, want.resolutions = nil, 1
			transition(t, baton.Transition{To: baton.StateResolved, Actor: "agent:bob"})
		}},
		{"a reopen to the queue is queued again", func(t *testing.T) {
			want.queued, want.nextDue = ptr(clock.Now()), at(30*time.Minute)
			transition(t, baton.Transition{To: baton.StateQueued, Actor: "customer", Reason: "reopen", NextResponseDue: want.nextDue})
		}},
		{"back to the bot stops the next-response clock", func(t *testing.T) {
			want.nextDue = nil
			transition(t, baton.Transition{To: baton.StateBot, Actor: "agent:bob", Reason: "back to the bot"})
		}},
		{"escalated again, assigned, handed back from assigned", func(t *testing.T) {
			want.queued, want.nextDue = ptr(clock.Now()), at(10*time.Minute)
			transition(t, baton.Transition{To: baton.StateQueued, Actor: "bot", NextResponseDue: want.nextDue})
			clock.Advance(time.Minute)
			want.assigned = ptr(clock.Now())
			_, _, err := st.AssignConversation(ctx, conv.ID, "ada", baton.Assignment{Actor: "system"})
			must(t, err, "assign")
			version++
			clock.Advance(time.Minute)
			c := transition(t, baton.Transition{To: baton.StateBot, Actor: "agent:ada"})
			want.nextDue = nil
			if c.AgentID != "" || c.Owner() != "" {
				t.Fatalf("back with the bot: agent %q, want nobody", c.AgentID)
			}
		}},
		{"resolve and archive", func(t *testing.T) {
			want.resolutions = 2
			transition(t, baton.Transition{To: baton.StateResolved, Actor: "bot"})
			transition(t, baton.Transition{To: baton.StateArchived, Actor: "system"})
		}},
	}
	for _, sp := range steps {
		t.Run(sp.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			sp.do(t)
			got := wantClocks(t, ctx, st, conv.ID, want)
			if got.Version != version {
				t.Fatalf("version = %d, want %d", got.Version, version)
			}
		})
	}

	t.Run("UpdateConversation saves the due times and keeps the rest", func(t *testing.T) {
		c := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+501")
		queuedAt := c.QueuedAt
		c.FirstResponseDue, c.NextResponseDue = at(time.Hour), at(2*time.Hour)
		c.QueuedAt, c.AssignedAt, c.FirstAgentReplyAt, c.LastAgentReplyAt, c.Resolutions = at(time.Minute), at(time.Minute), at(time.Minute), at(time.Minute), 7
		must(t, st.UpdateConversation(ctx, c), "UpdateConversation")
		wantClocks(t, ctx, st, c.ID, clocks{queued: queuedAt, firstDue: at(time.Hour), nextDue: at(2 * time.Hour)})
	})

	t.Run("CreateConversation keeps every clock as given", func(t *testing.T) {
		cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: "+502"}, "")
		must(t, err, "customer")
		w := clocks{queued: at(-5 * time.Hour), assigned: at(-4 * time.Hour), firstDue: at(-3 * time.Hour), nextDue: at(time.Hour),
			firstReply: at(-2 * time.Hour), lastReply: at(-time.Hour), resolutions: 3}
		c := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, State: baton.StateAssigned, AgentID: "ada",
			QueuedAt: w.queued, AssignedAt: w.assigned, FirstResponseDue: w.firstDue, NextResponseDue: w.nextDue,
			FirstAgentReplyAt: w.firstReply, LastAgentReplyAt: w.lastReply, Resolutions: w.resolutions}
		must(t, st.CreateConversation(ctx, c), "CreateConversation")
		wantClocks(t, ctx, st, c.ID, w)
	})

	t.Run("an agent reply inside a transaction that rolls back stops no clock", func(t *testing.T) {
		c := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+503")
		due := at(time.Hour)
		_, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "system", NextResponseDue: due})
		must(t, err, "arm")
		err = st.Tx(ctx, func(tx baton.Store) error {
			if _, err := tx.InsertMessage(ctx, reply(c, baton.DirectionOut, baton.AuthorAgent, "", time.Time{})); err != nil {
				return err
			}
			return baton.Errorf(baton.EINVALID, "changed my mind")
		})
		wantCode(t, err, baton.EINVALID, "Tx")
		wantClocks(t, ctx, st, c.ID, clocks{queued: c.QueuedAt, nextDue: due})
	})
}

func (s *suite) testResponseClock(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	conv := queued(t, ctx, st, "shop", baton.ChannelWhatsApp, "+600")
	t0 := clock.Now()
	start := func(t *testing.T, since, due time.Time, wantStarted bool, wantDue *time.Time) {
		t.Helper()
		before, err := st.GetConversation(ctx, conv.ID)
		must(t, err, "GetConversation")
		got, started, err := st.StartResponseClock(ctx, conv.ID, since, due)
		must(t, err, "StartResponseClock")
		if started != wantStarted {
			t.Fatalf("started = %v, want %v", started, wantStarted)
		}
		wantTimePtr(t, "returned NextResponseDue", got.NextResponseDue, wantDue)
		stored, err := st.GetConversation(ctx, conv.ID)
		must(t, err, "GetConversation")
		wantTimePtr(t, "stored NextResponseDue", stored.NextResponseDue, wantDue)
		wantVersion := before.Version
		if wantStarted {
			wantVersion++
		}
		if got.Version != wantVersion || stored.Version != wantVersion {
			t.Fatalf("version returned %d stored %d, want %d", got.Version, stored.Version, wantVersion)
		}
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
	}{
		{"a customer message starts it", func(t *testing.T) {
			start(t, t0, t0.Add(time.Hour), true, ptr(t0.Add(time.Hour)))
		}},
		{"a later message keeps the earliest unanswered one's due time", func(t *testing.T) {
			start(t, t0.Add(time.Minute), t0.Add(2*time.Hour), false, ptr(t0.Add(time.Hour)))
		}},
		{"an agent reply stops it", func(t *testing.T) {
			clock.Set(t0.Add(10 * time.Minute))
			_, err := st.InsertMessage(ctx, reply(conv, baton.DirectionOut, baton.AuthorAgent, "", time.Time{}))
			must(t, err, "InsertMessage")
			got, err := st.GetConversation(ctx, conv.ID)
			must(t, err, "GetConversation")
			if got.NextResponseDue != nil {
				t.Fatalf("NextResponseDue = %v after the reply, want nil", got.NextResponseDue)
			}
		}},
		{"a message the agent already answered starts nothing", func(t *testing.T) {
			start(t, t0.Add(5*time.Minute), t0.Add(time.Hour), false, nil)
		}},
		{"a message at the very time of the reply is answered too", func(t *testing.T) {
			start(t, t0.Add(10*time.Minute), t0.Add(time.Hour), false, nil)
		}},
		{"a message after the reply starts it again", func(t *testing.T) {
			start(t, t0.Add(11*time.Minute), t0.Add(11*time.Minute), true, ptr(t0.Add(11*time.Minute)))
		}},
	}
	for _, sp := range steps {
		t.Run(sp.name, sp.do)
	}
	t.Run("bad input", func(t *testing.T) {
		_, _, err := st.StartResponseClock(ctx, conv.ID, t0, t0.Add(-time.Second))
		wantCode(t, err, baton.EINVALID, "due before the message")
		_, _, err = st.StartResponseClock(ctx, 987654, t0, t0.Add(time.Hour))
		wantCode(t, err, baton.ENOTFOUND, "unknown conversation")
	})
}
