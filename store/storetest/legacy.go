package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// Legacy is the history of conversations written before the SLA clocks
// existed (schema version 7): each store's migration test writes it with
// SQL into a database at that version, migrates, and CheckLegacy checks
// that the rows survived and the clocks were filled from the history.
type Legacy struct {
	Start time.Time
	// CustomerID 1 owns every conversation; conversation 1 has a history,
	// conversation 2 none.
	Conversations []LegacyConversation
	Events        []LegacyEvent
	Messages      []LegacyMessage
	AgentID       string // one agent row of that version
}

// LegacyConversation is a conversations row of schema version 7.
type LegacyConversation struct {
	ID      int64
	State   baton.State
	QueueID string
	AgentID string
	Version int
}

// LegacyEvent is an events row.
type LegacyEvent struct {
	ConversationID int64
	Type           string
	From, To       baton.State
	At             time.Time
}

// LegacyMessage is a messages row.
type LegacyMessage struct {
	ConversationID int64
	Direction      baton.Direction
	Author         baton.Author
	At             time.Time
}

// LegacyHistory returns the fixture.
func LegacyHistory() Legacy {
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	tr := func(from, to baton.State, minutes int) LegacyEvent {
		return LegacyEvent{ConversationID: 1, Type: "transition", From: from, To: to, At: at(minutes)}
	}
	msg := func(d baton.Direction, a baton.Author, minutes int) LegacyMessage {
		return LegacyMessage{ConversationID: 1, Direction: d, Author: a, At: at(minutes)}
	}
	return Legacy{
		Start: t0,
		Conversations: []LegacyConversation{
			{ID: 1, State: baton.StateResolved, QueueID: "billing", AgentID: "bob", Version: 10},
			{ID: 2, State: baton.StateBot, Version: 1},
		},
		Events: []LegacyEvent{
			tr(baton.StateBot, baton.StateQueued, 1),
			tr(baton.StateQueued, baton.StateAssigned, 2),
			tr(baton.StateAssigned, baton.StateResolved, 3),
			tr(baton.StateResolved, baton.StateQueued, 4), // a reopen: queued since 4
			tr(baton.StateQueued, baton.StateQueued, 5),   // a transfer: still queued since 4
			tr(baton.StateQueued, baton.StateAssigned, 6),
			tr(baton.StateAssigned, baton.StateSnoozed, 7),
			tr(baton.StateSnoozed, baton.StateAssigned, 8), // a wake: still assigned since 6
			{ConversationID: 1, Type: "note", At: at(9)},
			tr(baton.StateAssigned, baton.StateResolved, 10),
		},
		Messages: []LegacyMessage{
			msg(baton.DirectionIn, baton.AuthorCustomer, 0),
			msg(baton.DirectionOut, baton.AuthorBot, 1),
			msg(baton.DirectionNote, baton.AuthorAgent, 2),
			msg(baton.DirectionOut, baton.AuthorAgent, 3),
			msg(baton.DirectionOut, baton.AuthorSystem, 5),
			msg(baton.DirectionOut, baton.AuthorAgent, 9),
			msg(baton.DirectionOut, baton.AuthorBot, 11),
		},
		AgentID: "bob",
	}
}

// CheckLegacy checks a store migrated from version 7 with l written into
// it: every row is still there, the clocks come from the history, and the
// store works on the migrated rows.
func CheckLegacy(t *testing.T, st baton.Store, l Legacy) {
	t.Helper()
	ctx := context.Background()
	at := func(minutes int) *time.Time { return ptr(l.Start.Add(time.Duration(minutes) * time.Minute)) }
	c, err := st.GetConversation(ctx, 1)
	must(t, err, "conversation 1 after the migration")
	if c.State != baton.StateResolved || c.AgentID != "bob" || c.QueueID != "billing" || c.Version != 10 {
		t.Fatalf("conversation 1 = %+v, want resolved by bob in billing at version 10", c)
	}
	wantClocks(t, ctx, st, 1, clocks{queued: at(4), assigned: at(6), firstReply: at(3), lastReply: at(9), resolutions: 2})
	wantClocks(t, ctx, st, 2, clocks{})
	evs, err := st.ListEvents(ctx, 1)
	must(t, err, "ListEvents")
	ms, err := st.ListMessages(ctx, 1, 0, 0)
	must(t, err, "ListMessages")
	if len(evs) != len(l.Events) || len(ms) != len(l.Messages) {
		t.Fatalf("%d events and %d messages after the migration, want %d and %d", len(evs), len(ms), len(l.Events), len(l.Messages))
	}
	agent, err := st.GetAgent(ctx, l.AgentID)
	must(t, err, "GetAgent")
	if agent.LastAssignedAt != nil {
		t.Fatalf("LastAssignedAt = %v, want nil (never assigned through the store)", agent.LastAssignedAt)
	}
	// The next resolution of the migrated conversation is its third
	// episode: its CSAT is asked about as such.
	_, _, err = st.TransitionConversation(ctx, 1, baton.Transition{To: baton.StateQueued, Actor: "customer", Reason: "reopen"})
	must(t, err, "reopen")
	c, _, err = st.TransitionConversation(ctx, 1, baton.Transition{To: baton.StateResolved, Actor: "bot"})
	must(t, err, "resolve")
	if c.Resolutions != 3 {
		t.Fatalf("Resolutions = %d after another resolve, want 3", c.Resolutions)
	}
}
