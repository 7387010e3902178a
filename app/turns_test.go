package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/nlu"
)

// turnsFixture is a conversation of bot "b" on a real store and the turn
// handler over it: a bot with no intents and no KB (every message is out of
// scope and gets the same clarifying answer), repeated failures not
// escalating.
type turnsFixture struct {
	t     *testing.T
	st    baton.Store
	conv  *baton.Conversation
	turns *bots.Turns
	n     int
}

func newTurnsFixture(t *testing.T, st baton.Store, state baton.State) *turnsFixture {
	t.Helper()
	ctx := context.Background()
	an, err := nlu.New(ctx, nlu.Config{Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	texts, err := bots.NewTexts([]string{"en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pol := bots.DefaultPolicy("general")
	pol.RepeatedFailure.Off = true
	brain := &bots.Brain{Bot: baton.Bot{ID: "b", Languages: []string{"en"}}, Policy: pol, Texts: texts, Analyzer: an}
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "b", Channel: baton.ChannelSMS, Address: "+1555"}, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := &baton.Conversation{BotID: "b", CustomerID: cust.ID, Channel: baton.ChannelSMS, Address: "+1555", State: baton.StateBot, Language: "en"}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	switch state {
	case baton.StateQueued:
		q := "general"
		if _, _, err := st.TransitionConversation(ctx, conv.ID, baton.Transition{To: state, Actor: "bot", QueueID: &q}); err != nil {
			t.Fatal(err)
		}
	case baton.StateAssigned:
		a := "maya"
		if _, _, err := st.TransitionConversation(ctx, conv.ID, baton.Transition{To: state, Actor: "agent:maya", AgentID: &a}); err != nil {
			t.Fatal(err)
		}
	}
	return &turnsFixture{t: t, st: st, conv: conv, turns: &bots.Turns{Store: st, Brains: map[string]*bots.Brain{"b": brain}}}
}

// write stores a customer message (without running its turn).
func (f *turnsFixture) write(typ baton.MessageType, text string) *baton.Message {
	f.t.Helper()
	f.n++
	m := &baton.Message{ConversationID: f.conv.ID, BotID: "b", Channel: baton.ChannelSMS, ProviderID: "SM" + string(rune('a'+f.n)),
		Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: typ, Text: text, Status: baton.StatusReceived}
	if _, err := f.st.InsertMessage(context.Background(), m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *turnsFixture) turn(m *baton.Message) error {
	payload, _ := json.Marshal(baton.TurnPayload{MessageID: m.ID})
	return f.turns.HandleJob(context.Background(), &baton.Job{ID: m.ID, Kind: baton.JobTurn, ConversationID: f.conv.ID, Payload: payload})
}

func (f *turnsFixture) replies() []*baton.Message {
	msgs, err := f.st.ListMessages(context.Background(), f.conv.ID, 0, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*baton.Message
	for _, m := range msgs {
		if m.Direction == baton.DirectionOut {
			out = append(out, m)
		}
	}
	return out
}

func (f *turnsFixture) decisions() []*baton.Decision {
	ds, err := f.st.ListDecisions(context.Background(), f.conv.ID, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}

// TestTurns runs the turn handler on every real store: who answers, how
// often, and that a re-run or a burst never answers twice.
func TestTurns(t *testing.T) {
	ctx := context.Background()
	for _, sc := range stores() {
		t.Run(sc.Name+"/the bot answers once, however often the job runs", func(t *testing.T) {
			f := newTurnsFixture(t, sc.Open(t, nil), baton.StateBot)
			m := f.write(baton.TypeText, "hello there friend")
			for run := 0; run < 3; run++ {
				if err := f.turn(m); err != nil {
					t.Fatal(err)
				}
			}
			r := f.replies()
			if len(r) != 1 || r[0].Text != ackText || r[0].Author != baton.AuthorBot || r[0].Status != baton.StatusQueued {
				t.Fatalf("replies %+v", r)
			}
			ds := f.decisions()
			if len(ds) != 1 || ds[0].Action != baton.ActionClarify || ds[0].MessageID != m.ID || ds[0].Analysis == nil || len(ds[0].Triggers) == 0 {
				t.Fatalf("decisions %+v", ds)
			}
			if jobs, _ := f.st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobDeliver}); len(jobs) != 1 {
				t.Fatalf("%d deliver jobs", len(jobs))
			}
		})
		t.Run(sc.Name+"/a burst gets one answer, from the last message's turn", func(t *testing.T) {
			f := newTurnsFixture(t, sc.Open(t, nil), baton.StateBot)
			first, second := f.write(baton.TypeText, "my parcel"), f.write(baton.TypeText, "it never came")
			for _, m := range []*baton.Message{first, second} {
				if err := f.turn(m); err != nil {
					t.Fatal(err)
				}
			}
			if r, ds := f.replies(), f.decisions(); len(r) != 1 || len(ds) != 1 || ds[0].MessageID != second.ID {
				t.Fatalf("%d replies, decisions %+v", len(r), ds)
			}
		})
		t.Run(sc.Name+"/a reaction asks for nothing", func(t *testing.T) {
			f := newTurnsFixture(t, sc.Open(t, nil), baton.StateBot)
			if err := f.turn(f.write(baton.TypeReaction, "\U0001F44D")); err != nil {
				t.Fatal(err)
			}
			if r, ds := f.replies(), f.decisions(); len(r) != 0 || len(ds) != 0 {
				t.Fatalf("%d replies, %d decisions", len(r), len(ds))
			}
		})
		t.Run(sc.Name+"/a queued customer hears once that a person will answer", func(t *testing.T) {
			f := newTurnsFixture(t, sc.Open(t, nil), baton.StateQueued)
			for i, text := range []string{"hello?", "anyone there?"} {
				if err := f.turn(f.write(baton.TypeText, text)); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			r := f.replies()
			if len(r) != 1 || r[0].Author != baton.AuthorSystem || r[0].Text != "You're still in the queue: a person will answer here as soon as they can." {
				t.Fatalf("replies %+v", r)
			}
			ds := f.decisions()
			if len(ds) != 2 || ds[0].Action != baton.ActionWait || ds[1].Action != baton.ActionNone || ds[1].Analysis != nil {
				t.Fatalf("decisions %+v", ds)
			}
		})
		t.Run(sc.Name+"/an assigned conversation is the agent's", func(t *testing.T) {
			f := newTurnsFixture(t, sc.Open(t, nil), baton.StateAssigned)
			if err := f.turn(f.write(baton.TypeText, "thanks, waiting")); err != nil {
				t.Fatal(err)
			}
			if r, ds := f.replies(), f.decisions(); len(r) != 0 || len(ds) != 1 || ds[0].Action != baton.ActionNone {
				t.Fatalf("%d replies, decisions %+v", len(r), ds)
			}
		})
		t.Run(sc.Name+"/the cost guard defers a turn over budget", func(t *testing.T) {
			f := newTurnsFixture(t, sc.Open(t, nil), baton.StateBot)
			left, asked := 2, 0
			f.turns.Budget = func(id int64) time.Duration {
				asked++
				if left == 0 {
					return 7 * time.Second
				}
				left--
				return 0
			}
			for i, text := range []string{"one question here", "two questions here"} {
				if err := f.turn(f.write(baton.TypeText, text)); err != nil {
					t.Fatalf("turn %d: %v", i, err)
				}
			}
			err := f.turn(f.write(baton.TypeText, "three questions here"))
			var later *baton.RetryLater
			if !errors.As(err, &later) || later.After != 7*time.Second || baton.ErrorCode(err) != baton.ERATELIMITED {
				t.Fatalf("third turn: %v, want a deferral of 7s", err)
			}
			if r := f.replies(); len(r) != 2 || asked != 3 {
				t.Fatalf("%d replies (want 2), budget asked %d times (want 3)", len(r), asked)
			}
		})
		t.Run(sc.Name+"/silence after \"did this help?\" is an assumed resolution", func(t *testing.T) {
			st := sc.Open(t, nil)
			f := newTurnsFixture(t, st, baton.StateBot)
			m := f.write(baton.TypeText, "how do returns work")
			asked := &baton.Decision{ConversationID: f.conv.ID, MessageID: m.ID, Action: baton.ActionAnswer,
				State: json.RawMessage(`{"help":{"answer":"Within 30 days."},"bot_turns":1}`)}
			if err := st.InsertDecision(ctx, asked); err != nil {
				t.Fatal(err)
			}
			fu := &bots.FollowUps{Store: st}
			job := func(id int64) *baton.Job {
				p, _ := json.Marshal(bots.FollowUpPayload{DecisionID: id})
				return &baton.Job{ID: 99, Kind: baton.JobFollowUp, ConversationID: f.conv.ID, Payload: p}
			}
			if err := fu.HandleJob(ctx, job(asked.ID+1000)); err != nil {
				t.Fatal(err)
			}
			if c, _ := st.GetConversation(ctx, f.conv.ID); c.State != baton.StateBot {
				t.Fatalf("a stale follow-up moved the conversation to %s", c.State)
			}
			for run := 0; run < 2; run++ {
				if err := fu.HandleJob(ctx, job(asked.ID)); err != nil {
					t.Fatal(err)
				}
			}
			c, _ := st.GetConversation(ctx, f.conv.ID)
			evs, _ := st.ListEvents(ctx, f.conv.ID)
			if c.State != baton.StateResolved || len(evs) != 1 || evs[0].Data["resolution"] != bots.ResolvedAssumed {
				t.Fatalf("state %s, events %+v", c.State, evs)
			}
			if ds := f.decisions(); len(ds) != 2 || ds[1].Action != baton.ActionNone {
				t.Fatalf("decisions %+v", ds)
			}
		})
	}
	t.Run("a payload without a message id", func(t *testing.T) {
		if err := (&bots.Turns{}).HandleJob(ctx, &baton.Job{Payload: []byte(`{}`)}); baton.ErrorCode(err) != baton.EINVALID {
			t.Fatalf("empty payload: %v", err)
		}
	})
}
