package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bots"
)

// TestAcknowledger runs the turn handler the app wires on every real store.
func TestAcknowledger(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		state     baton.State
		inbound   int // customer messages before the turn runs
		wantReply bool
	}{
		{"bot owns it", baton.StateBot, 1, true},
		{"a person owns it", baton.StateQueued, 1, false},
		{"a later message will be answered by its own turn", baton.StateBot, 2, false},
		{"a reaction asks for nothing", baton.StateBot, 1, false},
	}
	for _, sc := range stores() {
		for _, c := range cases {
			t.Run(sc.name+"/"+c.name, func(t *testing.T) {
				st := sc.open(t, nil)
				cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "b", Channel: baton.ChannelSMS, Address: "+1555"}, "")
				if err != nil {
					t.Fatal(err)
				}
				conv := &baton.Conversation{BotID: "b", CustomerID: cust.ID, Channel: baton.ChannelSMS, Address: "+1555", State: baton.StateBot}
				if err := st.CreateConversation(ctx, conv); err != nil {
					t.Fatal(err)
				}
				if c.state != baton.StateBot {
					q := "general"
					if _, _, err := st.TransitionConversation(ctx, conv.ID, baton.Transition{To: c.state, Actor: "bot", QueueID: &q}); err != nil {
						t.Fatal(err)
					}
				}
				var first int64
				for i := 0; i < c.inbound; i++ {
					m := &baton.Message{ConversationID: conv.ID, BotID: "b", Channel: baton.ChannelSMS, ProviderID: "SM" + string(rune('a'+i)),
						Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "hi", Status: baton.StatusReceived}
					if strings.HasPrefix(c.name, "a reaction") {
						m.Type, m.Text = baton.TypeReaction, "\U0001F44D"
					}
					if _, err := st.InsertMessage(ctx, m); err != nil {
						t.Fatal(err)
					}
					if first == 0 {
						first = m.ID
					}
				}
				payload, _ := json.Marshal(baton.TurnPayload{MessageID: first})
				a := &bots.Acknowledger{Store: st, Text: "got it"}
				for run := 0; run < 2; run++ { // a re-run must not answer twice
					if err := a.HandleJob(ctx, &baton.Job{ID: 1, Kind: baton.JobTurn, ConversationID: conv.ID, Payload: payload}); err != nil {
						t.Fatal(err)
					}
				}
				msgs, _ := st.ListMessages(ctx, conv.ID, 0, 0)
				var replies []*baton.Message
				for _, m := range msgs {
					if m.Direction == baton.DirectionOut {
						replies = append(replies, m)
					}
				}
				jobs, _ := st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobDeliver})
				if !c.wantReply {
					if len(replies) != 0 || len(jobs) != 0 {
						t.Fatalf("%d replies, %d deliver jobs; want none", len(replies), len(jobs))
					}
					return
				}
				if len(replies) != 1 || replies[0].Text != "got it" || replies[0].Status != baton.StatusQueued || replies[0].Author != baton.AuthorBot {
					t.Fatalf("replies %+v", replies)
				}
				if len(jobs) != 1 || jobs[0].ConversationID != conv.ID {
					t.Fatalf("deliver jobs %+v", jobs)
				}
			})
		}
	}
	if err := (&bots.Acknowledger{}).HandleJob(ctx, &baton.Job{Payload: []byte(`{}`)}); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("empty payload: %v", err)
	}
}

// The cost guard: a conversation over its bot-turn budget is not answered
// now; its turn comes back once the budget allows, and a burst's coalesced
// turns spend nothing.
func TestAcknowledgerTurnBudget(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.name, func(t *testing.T) { testAcknowledgerTurnBudget(t, sc.open(t, nil)) })
	}
}

func testAcknowledgerTurnBudget(t *testing.T, st baton.Store) {
	ctx := context.Background()
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "b", Channel: baton.ChannelWebChat, Address: "visitor:x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := &baton.Conversation{BotID: "b", CustomerID: cust.ID, Channel: baton.ChannelWebChat, Address: "visitor:x", State: baton.StateBot}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	left := 2
	asked := 0
	a := &bots.Acknowledger{Store: st, Text: "got it", Budget: func(id int64) time.Duration {
		asked++
		if id != conv.ID {
			t.Errorf("budget asked for conversation %d", id)
		}
		if left == 0 {
			return 7 * time.Second
		}
		left--
		return 0
	}}
	turn := func(text string) error {
		m := &baton.Message{ConversationID: conv.ID, BotID: "b", Channel: baton.ChannelWebChat, ProviderID: "web:" + text,
			Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: text}
		if _, err := st.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(baton.TurnPayload{MessageID: m.ID})
		return a.HandleJob(ctx, &baton.Job{ID: m.ID, Kind: baton.JobTurn, ConversationID: conv.ID, Payload: payload})
	}
	for i, text := range []string{"one", "two"} {
		if err := turn(text); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
	}
	err = turn("three")
	var later *baton.RetryLater
	if !errors.As(err, &later) || later.After != 7*time.Second || baton.ErrorCode(err) != baton.ERATELIMITED {
		t.Fatalf("third turn: %v, want a deferral of 7s", err)
	}
	msgs, _ := st.ListMessages(ctx, conv.ID, 0, 0)
	out := 0
	for _, m := range msgs {
		if m.Direction == baton.DirectionOut {
			out++
		}
	}
	if out != 2 {
		t.Fatalf("%d replies, want 2 (the third turn is deferred)", out)
	}
	if asked != 3 {
		t.Fatalf("budget asked %d times, want 3", asked)
	}
}
