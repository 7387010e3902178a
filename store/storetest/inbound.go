package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// appendStates are the states whose conversations take a message as they
// are (the ingester's choice; the store just applies the list).
var appendStates = []baton.State{baton.StateBot, baton.StateQueued, baton.StateAssigned}

func appendOf(address, providerID string, at time.Time) *baton.InboundAppend {
	return &baton.InboundAppend{
		Identity:    baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: address},
		ProfileName: "Mara",
		States:      appendStates,
		Message:     &baton.Message{ProviderID: providerID, Type: baton.TypeText, Text: "where is my order?", Metadata: []byte(`{"raw_type":"text"}`)},
		InboundAt:   at,
		Turn:        true,
	}
}

func (s *suite) testAppendInbound(t *testing.T) {
	// snapshot is everything AppendInbound may write, to check that a call
	// that must write nothing did not.
	type snapshot struct {
		messages, jobs int
		conv           baton.Conversation
		cust           baton.Customer
	}
	take := func(t *testing.T, st baton.Store, conv *baton.Conversation) snapshot {
		t.Helper()
		ctx := t.Context()
		ms, err := st.ListMessages(ctx, conv.ID, 0, 0)
		must(t, err, "ListMessages")
		js, err := st.ListJobs(ctx, baton.JobFilter{})
		must(t, err, "ListJobs")
		c, err := st.GetConversation(ctx, conv.ID)
		must(t, err, "GetConversation")
		cu, err := st.GetCustomer(ctx, conv.CustomerID)
		must(t, err, "GetCustomer")
		return snapshot{len(ms), len(js), *c, *cu}
	}
	same := func(t *testing.T, what string, before, after snapshot) {
		t.Helper()
		if before.messages != after.messages || before.jobs != after.jobs || before.conv.Version != after.conv.Version ||
			before.cust.Name != after.cust.Name || !before.cust.UpdatedAt.Equal(after.cust.UpdatedAt) {
			t.Fatalf("%s wrote something: before %+v, after %+v", what, before, after)
		}
	}

	t.Run("appends to the current conversation with its turn job", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+6000")
		at := clock.Now().Add(-time.Minute) // the provider's timestamp
		clock.Advance(time.Second)
		a := appendOf("+6000", "wamid.AP1", at)
		res, err := st.AppendInbound(ctx, a)
		must(t, err, "AppendInbound")
		if !res.Appended || res.Duplicate || res.ConversationID != conv.ID || res.CustomerID != conv.CustomerID || res.TurnJobID == 0 {
			t.Fatalf("result = %+v, want appended to conversation %d of customer %d with a turn job", res, conv.ID, conv.CustomerID)
		}
		m, err := st.GetMessage(ctx, a.Message.ID)
		must(t, err, "GetMessage")
		if m.ConversationID != conv.ID || m.Direction != baton.DirectionIn || m.Author != baton.AuthorCustomer || m.Status != baton.StatusReceived ||
			m.ProviderID != "wamid.AP1" || m.Text != "where is my order?" || m.BotID != "shop" || m.Channel != baton.ChannelWhatsApp {
			t.Fatalf("stored message = %+v", m)
		}
		wantJSON(t, "metadata", m.Metadata, []byte(`{"raw_type":"text"}`))
		wantTime(t, "message CreatedAt", m.CreatedAt, clock.Now())
		c, err := st.GetConversation(ctx, conv.ID)
		must(t, err, "GetConversation")
		wantTimePtr(t, "LastInboundAt", c.LastInboundAt, &at)
		if c.Version != conv.Version+1 {
			t.Fatalf("version = %d, want %d", c.Version, conv.Version+1)
		}
		wantTime(t, "conversation UpdatedAt", c.UpdatedAt, clock.Now())
		cu, err := st.GetCustomer(ctx, conv.CustomerID)
		must(t, err, "GetCustomer")
		if cu.Name != "Mara" {
			t.Fatalf("customer name = %q, want the empty name filled", cu.Name)
		}
		j, err := st.GetJob(ctx, res.TurnJobID)
		must(t, err, "GetJob")
		want := baton.TurnJob(conv.ID, m.ID, clock.Now())
		if j.Kind != want.Kind || j.ConversationID != conv.ID || j.Key != want.Key || string(j.Payload) != string(want.Payload) ||
			j.Status != baton.JobPending || j.MaxAttempts != baton.DefaultMaxAttempts || j.Attempts != 0 {
			t.Fatalf("turn job = %+v, want %+v (pending)", j, want)
		}
		wantTime(t, "turn RunAt", j.RunAt, clock.Now())

		// An older message (a provider's late retry of another one) keeps
		// LastInboundAt; a name is never overwritten; no turn when not asked.
		clock.Advance(time.Second)
		older := appendOf("+6000", "wamid.AP0", at.Add(-time.Hour))
		older.ProfileName, older.Turn = "Someone Else", false
		res, err = st.AppendInbound(ctx, older)
		must(t, err, "AppendInbound older")
		if !res.Appended || res.TurnJobID != 0 {
			t.Fatalf("older result = %+v, want appended without a turn job", res)
		}
		c2, err := st.GetConversation(ctx, conv.ID)
		must(t, err, "GetConversation")
		wantTimePtr(t, "LastInboundAt after an older message", c2.LastInboundAt, &at)
		if c2.Version != c.Version {
			t.Fatalf("version = %d after an older message, want %d unchanged", c2.Version, c.Version)
		}
		cu, err = st.GetCustomer(ctx, conv.CustomerID)
		must(t, err, "GetCustomer")
		if cu.Name != "Mara" {
			t.Fatalf("customer name = %q, want Mara kept", cu.Name)
		}
		js, err := st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobTurn})
		must(t, err, "ListJobs")
		if len(js) != 1 {
			t.Fatalf("%d turn jobs, want 1", len(js))
		}
	})

	t.Run("duplicate writes nothing and names the stored message", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+6001")
		first := appendOf("+6001", "wamid.DUP", clock.Now())
		_, err := st.AppendInbound(ctx, first)
		must(t, err, "AppendInbound")
		clock.Advance(time.Minute)
		before := take(t, st, conv)
		again := appendOf("+6001", "wamid.DUP", clock.Now())
		res, err := st.AppendInbound(ctx, again)
		must(t, err, "AppendInbound duplicate")
		if res.Appended || !res.Duplicate || again.Message.ID != first.Message.ID || res.TurnJobID != 0 {
			t.Fatalf("duplicate result = %+v, message id %d; want duplicate of %d", res, again.Message.ID, first.Message.ID)
		}
		same(t, "a duplicate", before, take(t, st, conv))
	})

	t.Run("nothing to append to", func(t *testing.T) {
		tests := []struct {
			name string
			prep func(t *testing.T, st baton.Store, clock *baton.ManualClock, conv *baton.Conversation)
			a    func(a *baton.InboundAppend)
		}{
			{"unknown sender", nil, func(a *baton.InboundAppend) { a.Identity.Address = "+6999" }},
			{"other bot", nil, func(a *baton.InboundAppend) { a.Identity.BotID = "other" }},
			{"snoozed", func(t *testing.T, st baton.Store, clock *baton.ManualClock, conv *baton.Conversation) {
				transition(t, st, conv.ID, baton.Transition{To: baton.StateAssigned, Actor: "agent:ann", AgentID: ptr("ann")})
				transition(t, st, conv.ID, baton.Transition{To: baton.StateSnoozed, Actor: "agent:ann", SnoozedUntil: ptr(clock.Now().Add(time.Hour))})
			}, nil},
			{"resolved", func(t *testing.T, st baton.Store, _ *baton.ManualClock, conv *baton.Conversation) {
				transition(t, st, conv.ID, baton.Transition{To: baton.StateResolved, Actor: "bot"})
			}, nil},
			{"archived", func(t *testing.T, st baton.Store, _ *baton.ManualClock, conv *baton.Conversation) {
				transition(t, st, conv.ID, baton.Transition{To: baton.StateArchived, Actor: "system"})
			}, nil},
			{"not verified with that id", nil, func(a *baton.InboundAppend) { a.ExternalID = "user-42" }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, clock, ctx := s.fresh(t)
				conv := seedConversation(t, ctx, st, "shop", "+6002")
				if tc.prep != nil {
					tc.prep(t, st, clock, conv)
				}
				before := take(t, st, conv)
				a := appendOf("+6002", "wamid.NO", clock.Now())
				if tc.a != nil {
					tc.a(a)
				}
				res, err := st.AppendInbound(ctx, a)
				must(t, err, "AppendInbound")
				if res.Appended || res.Duplicate {
					t.Fatalf("result = %+v, want nothing appended", res)
				}
				same(t, tc.name, before, take(t, st, conv))
				_, err = st.GetMessageByProviderID(ctx, baton.ChannelWhatsApp, "wamid.NO")
				wantCode(t, err, baton.ENOTFOUND, "the message")
			})
		}
	})

	t.Run("verified customer with the same id", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+6003")
		cu, err := st.GetCustomer(ctx, conv.CustomerID)
		must(t, err, "GetCustomer")
		cu.Verified, cu.ExternalID = true, "user-42"
		must(t, st.UpdateCustomer(ctx, cu), "UpdateCustomer")
		a := appendOf("+6003", "wamid.V", clock.Now())
		a.ExternalID = "user-42"
		res, err := st.AppendInbound(ctx, a)
		must(t, err, "AppendInbound")
		if !res.Appended {
			t.Fatalf("result = %+v, want appended", res)
		}
	})

	t.Run("the latest conversation takes it", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		old := seedConversation(t, ctx, st, "shop", "+6004")
		transition(t, st, old.ID, baton.Transition{To: baton.StateResolved, Actor: "bot"})
		latest := &baton.Conversation{BotID: "shop", CustomerID: old.CustomerID, Channel: baton.ChannelWhatsApp, Address: "+6004"}
		must(t, st.CreateConversation(ctx, latest), "CreateConversation")
		res, err := st.AppendInbound(ctx, appendOf("+6004", "wamid.L", clock.Now()))
		must(t, err, "AppendInbound")
		if !res.Appended || res.ConversationID != latest.ID {
			t.Fatalf("result = %+v, want appended to conversation %d", res, latest.ID)
		}
	})

	t.Run("invalid input writes nothing", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+6005")
		before := take(t, st, conv)
		for _, mod := range []func(a *baton.InboundAppend){
			func(a *baton.InboundAppend) { a.Identity.Address = "" },
			func(a *baton.InboundAppend) { a.Identity.Channel = "fax" },
			func(a *baton.InboundAppend) { a.Message = nil },
		} {
			a := appendOf("+6005", "wamid.BAD", clock.Now())
			mod(a)
			_, err := st.AppendInbound(ctx, a)
			wantCode(t, err, baton.EINVALID, "AppendInbound invalid")
		}
		same(t, "invalid input", before, take(t, st, conv))
	})

	t.Run("concurrent duplicates store one message and one turn", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+6006")
		const n = 8
		results := make([]baton.AppendResult, n)
		ids := make([]int64, n)
		errs := race(n, func(i int) error {
			a := appendOf("+6006", "wamid.RACE", clock.Now())
			var err error
			results[i], err = st.AppendInbound(ctx, a)
			ids[i] = a.Message.ID
			return err
		})
		appended := 0
		for i, err := range errs {
			must(t, err, fmt.Sprintf("AppendInbound %d", i))
			if results[i].Appended {
				appended++
			} else if !results[i].Duplicate {
				t.Fatalf("result %d = %+v, want appended or duplicate", i, results[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("message ids = %v, want one message", ids)
			}
		}
		if appended != 1 {
			t.Fatalf("%d appended, want exactly 1", appended)
		}
		after := take(t, st, conv)
		if after.messages != 1 || after.jobs != 1 || after.conv.Version != conv.Version+1 {
			t.Fatalf("after the race: %d messages, %d jobs, version %d; want 1, 1, %d", after.messages, after.jobs, after.conv.Version, conv.Version+1)
		}
	})

	t.Run("concurrent messages of one conversation all land", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+6007")
		const n = 8
		errs := race(n, func(i int) error {
			res, err := st.AppendInbound(ctx, appendOf("+6007", fmt.Sprintf("wamid.M%d", i), clock.Now().Add(time.Duration(i)*time.Second)))
			if err == nil && !res.Appended {
				err = fmt.Errorf("message %d not appended: %+v", i, res)
			}
			return err
		})
		for i, err := range errs {
			must(t, err, fmt.Sprintf("AppendInbound %d", i))
		}
		after := take(t, st, conv)
		if after.messages != n || after.jobs != n {
			t.Fatalf("%d messages and %d jobs, want %d each", after.messages, after.jobs, n)
		}
		want := clock.Now().Add((n - 1) * time.Second)
		wantTimePtr(t, "LastInboundAt", after.conv.LastInboundAt, &want)
	})
}

func transition(t *testing.T, st baton.Store, id int64, tr baton.Transition) {
	t.Helper()
	_, _, err := st.TransitionConversation(t.Context(), id, tr)
	must(t, err, "TransitionConversation to "+string(tr.To))
}
