package storetest

import (
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// testSending is the in-flight mark of outbound messages that makes a send
// whose outcome was lost (a crash between the provider's call and recording
// its answer) visible as in doubt on the next attempt.
func (s *suite) testSending(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	conv := seedConversation(t, ctx, st, "shop", "+5000")
	outbound := func(t *testing.T) *baton.Message {
		t.Helper()
		m := &baton.Message{ConversationID: conv.ID, BotID: "shop", Channel: baton.ChannelWhatsApp, Direction: baton.DirectionOut, Author: baton.AuthorBot, Type: baton.TypeText, Text: "hi"}
		_, err := st.InsertMessage(ctx, m)
		must(t, err, "insert outbound")
		return m
	}
	status := func(t *testing.T, id int64) *baton.Message {
		t.Helper()
		m, err := st.GetMessage(ctx, id)
		must(t, err, "GetMessage")
		return m
	}
	begin := func(t *testing.T, id int64, want bool) {
		t.Helper()
		at := clock.Advance(time.Second)
		inDoubt, err := st.BeginSend(ctx, id, at)
		must(t, err, "BeginSend")
		if inDoubt != want {
			t.Fatalf("BeginSend in doubt = %v, want %v", inDoubt, want)
		}
		m := status(t, id)
		if m.Status != baton.StatusSending {
			t.Fatalf("status after BeginSend = %q, want sending", m.Status)
		}
		wantTime(t, "UpdatedAt after BeginSend", m.UpdatedAt, at)
	}

	t.Run("first attempt is not in doubt, a second one before the answer is", func(t *testing.T) {
		m := outbound(t)
		begin(t, m.ID, false)
		// The attempt died here: the provider may have the message.
		begin(t, m.ID, true)
		must(t, st.SetProviderID(ctx, m.ID, "wamid.SEND1", clock.Now()), "SetProviderID")
		if got := status(t, m.ID); got.Status != baton.StatusSent {
			t.Fatalf("status after the provider's id = %q, want sent", got.Status)
		}
		_, err := st.BeginSend(ctx, m.ID, clock.Now())
		wantCode(t, err, baton.ECONFLICT, "BeginSend of a sent message")
		if got := status(t, m.ID); got.Status != baton.StatusSent || got.ProviderID != "wamid.SEND1" {
			t.Fatalf("refused BeginSend changed the message: %q %q", got.Status, got.ProviderID)
		}
	})

	t.Run("a refused send is put back and its retry is not in doubt", func(t *testing.T) {
		m := outbound(t)
		begin(t, m.ID, false)
		at := clock.Advance(time.Second)
		must(t, st.AbortSend(ctx, m.ID, at), "AbortSend")
		got := status(t, m.ID)
		if got.Status != baton.StatusQueued {
			t.Fatalf("status after AbortSend = %q, want queued", got.Status)
		}
		wantTime(t, "UpdatedAt after AbortSend", got.UpdatedAt, at)
		begin(t, m.ID, false)
	})

	t.Run("abort leaves a message that is not in flight alone", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			prep func(t *testing.T, m *baton.Message)
			want baton.DeliveryStatus
		}{
			{"queued", func(*testing.T, *baton.Message) {}, baton.StatusQueued},
			{"sent", func(t *testing.T, m *baton.Message) {
				must(t, st.SetProviderID(ctx, m.ID, "wamid.ABORT-SENT", clock.Now()), "SetProviderID")
			}, baton.StatusSent},
			{"failed", func(t *testing.T, m *baton.Message) {
				_, err := st.SetMessageStatus(ctx, m.ID, baton.StatusFailed, "131026", "undeliverable", clock.Now())
				must(t, err, "SetMessageStatus")
			}, baton.StatusFailed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m := outbound(t)
				tc.prep(t, m)
				must(t, st.AbortSend(ctx, m.ID, clock.Advance(time.Second)), "AbortSend")
				if got := status(t, m.ID); got.Status != tc.want {
					t.Fatalf("status = %q, want %q", got.Status, tc.want)
				}
			})
		}
	})

	t.Run("only queued messages begin a send", func(t *testing.T) {
		failed := outbound(t)
		_, err := st.SetMessageStatus(ctx, failed.ID, baton.StatusFailed, "opted_out", "STOP", clock.Now())
		must(t, err, "SetMessageStatus")
		_, err = st.BeginSend(ctx, failed.ID, clock.Now())
		wantCode(t, err, baton.ECONFLICT, "BeginSend of a failed message")
		if got := status(t, failed.ID); got.Status != baton.StatusFailed {
			t.Fatalf("status = %q, want failed", got.Status)
		}
		in := inbound(conv, "wamid.IN-SEND", "hello")
		_, err = st.InsertMessage(ctx, in)
		must(t, err, "insert inbound")
		_, err = st.BeginSend(ctx, in.ID, clock.Now())
		wantCode(t, err, baton.ECONFLICT, "BeginSend of an inbound message")
		_, err = st.BeginSend(ctx, 987654, clock.Now())
		wantCode(t, err, baton.ENOTFOUND, "BeginSend of an unknown message")
		wantCode(t, st.AbortSend(ctx, 987654, clock.Now()), baton.ENOTFOUND, "AbortSend of an unknown message")
	})

	t.Run("a failed attempt's mark rolls back with its transaction", func(t *testing.T) {
		m := outbound(t)
		err := st.Tx(ctx, func(tx baton.Store) error {
			if _, err := tx.BeginSend(ctx, m.ID, clock.Now()); err != nil {
				return err
			}
			return baton.Errorf(baton.EUNAVAILABLE, "connection lost")
		})
		wantCode(t, err, baton.EUNAVAILABLE, "Tx")
		begin(t, m.ID, false)
	})
}
