package storetest

import (
	"errors"
	"testing"

	"github.com/batonhq/baton"
)

func (s *suite) testTx(t *testing.T) {
	st, _, ctx := s.fresh(t)
	id := func(addr string) baton.ChannelIdentity {
		return baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWebChat, Address: addr}
	}
	visible := func(t *testing.T, addr string) bool {
		t.Helper()
		_, err := st.GetIdentity(ctx, "shop", baton.ChannelWebChat, addr)
		if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("GetIdentity: %v", err)
		}
		return err == nil
	}
	boom := errors.New("boom")

	t.Run("commit on nil", func(t *testing.T) {
		var convID, jobID int64
		err := st.Tx(ctx, func(tx baton.Store) error {
			c, err := tx.UpsertCustomerByIdentity(ctx, id("v-commit"), "")
			if err != nil {
				return err
			}
			conv := &baton.Conversation{BotID: "shop", CustomerID: c.ID, Channel: baton.ChannelWebChat, Address: "v-commit"}
			if err := tx.CreateConversation(ctx, conv); err != nil {
				return err
			}
			// Reads inside the transaction see its own writes.
			if _, err := tx.GetConversation(ctx, conv.ID); err != nil {
				return err
			}
			if _, err := tx.InsertMessage(ctx, inbound(conv, "w-commit", "hi")); err != nil {
				return err
			}
			j := &baton.Job{Kind: baton.JobTurn, ConversationID: conv.ID}
			if _, err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
			convID, jobID = conv.ID, j.ID
			return nil
		})
		must(t, err, "Tx")
		if !visible(t, "v-commit") {
			t.Fatal("committed identity not visible")
		}
		if _, err := st.GetConversation(ctx, convID); err != nil {
			t.Fatalf("committed conversation: %v", err)
		}
		if _, err := st.GetJob(ctx, jobID); err != nil {
			t.Fatalf("committed job: %v", err)
		}
	})

	t.Run("rollback on error", func(t *testing.T) {
		var jobID int64
		err := st.Tx(ctx, func(tx baton.Store) error {
			if _, err := tx.UpsertCustomerByIdentity(ctx, id("v-rollback"), ""); err != nil {
				return err
			}
			j := &baton.Job{Kind: baton.JobTurn, Key: "rollback-key"}
			if _, err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
			jobID = j.ID
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx error = %v, want the function's error", err)
		}
		if visible(t, "v-rollback") {
			t.Fatal("rolled back identity is visible")
		}
		_, err = st.GetJob(ctx, jobID)
		wantCode(t, err, baton.ENOTFOUND, "rolled back job")
		j := &baton.Job{Kind: baton.JobTurn, Key: "rollback-key"}
		created, err := st.Enqueue(ctx, j)
		must(t, err, "enqueue after rollback")
		if !created {
			t.Fatal("key of a rolled back job still taken")
		}
	})

	t.Run("nested joins the outer transaction", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			err := tx.Tx(ctx, func(inner baton.Store) error {
				_, err := inner.UpsertCustomerByIdentity(ctx, id("v-nested"), "")
				return err
			})
			if err != nil {
				return err
			}
			// The inner transaction's write is visible to the outer one...
			if _, err := tx.GetIdentity(ctx, "shop", baton.ChannelWebChat, "v-nested"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx error = %v, want boom", err)
		}
		// ...and goes with it when the outer one rolls back.
		if visible(t, "v-nested") {
			t.Fatal("inner write survived the outer rollback")
		}
	})

	t.Run("inner error reaches the outer function", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			if _, err := tx.UpsertCustomerByIdentity(ctx, id("v-inner"), ""); err != nil {
				return err
			}
			return tx.Tx(ctx, func(inner baton.Store) error { return boom })
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx error = %v, want boom", err)
		}
		if visible(t, "v-inner") {
			t.Fatal("write survived a failed transaction")
		}
	})

	t.Run("domain errors pass through unchanged", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			_, err := tx.GetConversation(ctx, 999999)
			return err
		})
		wantCode(t, err, baton.ENOTFOUND, "Tx returning ENOTFOUND")
	})
}

func (s *suite) testPing(t *testing.T) {
	st, _, ctx := s.fresh(t)
	must(t, st.Ping(ctx), "Ping")
	must(t, st.Migrate(ctx), "Migrate again")
	must(t, st.Ping(ctx), "Ping after Migrate")
}
