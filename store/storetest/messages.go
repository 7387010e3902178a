package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func inbound(conv *baton.Conversation, providerID, text string) *baton.Message {
	return &baton.Message{
		ConversationID: conv.ID, BotID: conv.BotID, Channel: conv.Channel, ProviderID: providerID,
		Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: text,
	}
}

func (s *suite) testMessages(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	conv := seedConversation(t, ctx, st, "shop", "+1999")

	t.Run("insert and get round trip", func(t *testing.T) {
		m := &baton.Message{
			ConversationID: conv.ID, BotID: "shop", Channel: baton.ChannelWhatsApp, ProviderID: "wamid.A",
			Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeImage, Text: "look",
			Payload: "BTN_1", ReplyTo: "wamid.0",
			Attachments: []baton.Attachment{{Kind: baton.TypeImage, MediaID: "m1", MIMEType: "image/jpeg", Caption: "look", Data: map[string]string{"sha256": "abc"}}},
			Metadata:    json.RawMessage(`{"profile":{"name":"Bo"},"n":3}`),
		}
		created, err := st.InsertMessage(ctx, m)
		must(t, err, "InsertMessage")
		if !created || m.ID == 0 {
			t.Fatalf("created = %v id = %d, want a new row", created, m.ID)
		}
		got, err := st.GetMessage(ctx, m.ID)
		must(t, err, "GetMessage")
		if got.ConversationID != conv.ID || got.BotID != "shop" || got.Channel != baton.ChannelWhatsApp || got.ProviderID != "wamid.A" ||
			got.Direction != baton.DirectionIn || got.Author != baton.AuthorCustomer || got.Type != baton.TypeImage ||
			got.Text != "look" || got.Payload != "BTN_1" || got.ReplyTo != "wamid.0" || got.Status != baton.StatusReceived {
			t.Fatalf("got %+v, want %+v with status received", got, m)
		}
		if !reflect.DeepEqual(got.Attachments, m.Attachments) {
			t.Errorf("attachments = %+v, want %+v", got.Attachments, m.Attachments)
		}
		wantJSON(t, "metadata", got.Metadata, m.Metadata)
		wantTime(t, "CreatedAt", got.CreatedAt, clock.Now())
		byProvider, err := st.GetMessageByProviderID(ctx, baton.ChannelWhatsApp, "wamid.A")
		must(t, err, "GetMessageByProviderID")
		if byProvider.ID != m.ID {
			t.Fatalf("by provider id = %d, want %d", byProvider.ID, m.ID)
		}
	})

	t.Run("unknown and invalid", func(t *testing.T) {
		_, err := st.GetMessage(ctx, 99999)
		wantCode(t, err, baton.ENOTFOUND, "GetMessage unknown")
		_, err = st.GetMessageByProviderID(ctx, baton.ChannelSMS, "wamid.A")
		wantCode(t, err, baton.ENOTFOUND, "GetMessageByProviderID other channel")
		_, err = st.InsertMessage(ctx, inbound(&baton.Conversation{ID: 99999, BotID: "shop", Channel: baton.ChannelWhatsApp}, "", "x"))
		wantCode(t, err, baton.ENOTFOUND, "InsertMessage unknown conversation")
		bad := inbound(conv, "", "x")
		bad.Direction = "sideways"
		_, err = st.InsertMessage(ctx, bad)
		wantCode(t, err, baton.EINVALID, "InsertMessage bad direction")
		bad = inbound(conv, "", "x")
		bad.Metadata = json.RawMessage(`{not json`)
		_, err = st.InsertMessage(ctx, bad)
		wantCode(t, err, baton.EINVALID, "InsertMessage bad metadata")
	})

	t.Run("idempotent by channel and provider id", func(t *testing.T) {
		first := inbound(conv, "wamid.DUP", "hello")
		created, err := st.InsertMessage(ctx, first)
		must(t, err, "first insert")
		if !created {
			t.Fatal("first insert not created")
		}
		second := inbound(conv, "wamid.DUP", "hello again")
		created, err = st.InsertMessage(ctx, second)
		must(t, err, "second insert")
		if created || second.ID != first.ID {
			t.Fatalf("second insert created=%v id=%d, want false and %d", created, second.ID, first.ID)
		}
		got, err := st.GetMessage(ctx, first.ID)
		must(t, err, "get")
		if got.Text != "hello" {
			t.Fatalf("duplicate overwrote the text: %q", got.Text)
		}
		sms := inbound(conv, "wamid.DUP", "same id other channel")
		sms.Channel = baton.ChannelSMS
		created, err = st.InsertMessage(ctx, sms)
		must(t, err, "other channel insert")
		if !created || sms.ID == first.ID {
			t.Fatalf("same provider id on another channel: created=%v id=%d", created, sms.ID)
		}
		// Messages without a provider id are never duplicates of each other.
		a, b := inbound(conv, "", "x"), inbound(conv, "", "x")
		ca, err := st.InsertMessage(ctx, a)
		must(t, err, "no provider id a")
		cb, err := st.InsertMessage(ctx, b)
		must(t, err, "no provider id b")
		if !ca || !cb || a.ID == b.ID {
			t.Fatalf("messages without provider ids collided: %v %v %d %d", ca, cb, a.ID, b.ID)
		}
	})

	t.Run("concurrent duplicates create one row", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		ids := make([]int64, n)
		createdCount := make([]bool, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				m := inbound(conv, "wamid.RACE", fmt.Sprintf("copy %d", i))
				createdCount[i], errs[i] = st.InsertMessage(ctx, m)
				ids[i] = m.ID
			}(i)
		}
		wg.Wait()
		created := 0
		for i := 0; i < n; i++ {
			must(t, errs[i], "concurrent insert")
			if createdCount[i] {
				created++
			}
			if ids[i] != ids[0] || ids[i] == 0 {
				t.Fatalf("ids = %v, want all equal", ids)
			}
		}
		if created != 1 {
			t.Fatalf("%d inserts created a row, want exactly 1", created)
		}
		all, err := st.ListMessages(ctx, conv.ID, 0, 0)
		must(t, err, "ListMessages")
		count := 0
		for _, m := range all {
			if m.ProviderID == "wamid.RACE" {
				count++
			}
		}
		if count != 1 {
			t.Fatalf("%d rows with the raced provider id, want 1", count)
		}
	})

	t.Run("duplicate inside a transaction does not abort it", func(t *testing.T) {
		var jobID int64
		err := st.Tx(ctx, func(tx baton.Store) error {
			dup := inbound(conv, "wamid.DUP", "retry")
			created, err := tx.InsertMessage(ctx, dup)
			if err != nil {
				return err
			}
			if created {
				return fmt.Errorf("duplicate created inside a transaction")
			}
			j := &baton.Job{Kind: baton.JobTurn, ConversationID: conv.ID}
			if _, err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
			jobID = j.ID
			return nil
		})
		must(t, err, "Tx")
		if _, err := st.GetJob(ctx, jobID); err != nil {
			t.Fatalf("job enqueued after a duplicate insert is missing: %v", err)
		}
	})

	t.Run("transcript order and paging", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		conv := seedConversation(t, ctx, st, "shop", "+2000")
		other := seedConversation(t, ctx, st, "shop", "+2001")
		var want []int64
		for i := 0; i < 7; i++ {
			clock.Advance(time.Second)
			m := inbound(conv, fmt.Sprintf("p%d", i), fmt.Sprintf("msg %d", i))
			if i%2 == 1 {
				m = &baton.Message{ConversationID: conv.ID, BotID: "shop", Channel: baton.ChannelWhatsApp, Direction: baton.DirectionOut, Author: baton.AuthorBot, Type: baton.TypeText, Text: fmt.Sprintf("reply %d", i)}
			}
			_, err := st.InsertMessage(ctx, m)
			must(t, err, "insert")
			want = append(want, m.ID)
			_, err = st.InsertMessage(ctx, inbound(other, fmt.Sprintf("o%d", i), "noise"))
			must(t, err, "insert other")
		}
		cases := []struct {
			name    string
			after   int64
			limit   int
			wantIDs []int64
		}{
			{"all", 0, 0, want},
			{"first page", 0, 3, want[:3]},
			{"second page", want[2], 3, want[3:6]},
			{"last page", want[5], 3, want[6:]},
			{"past the end", want[6], 3, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListMessages(ctx, conv.ID, tc.after, tc.limit)
				must(t, err, "ListMessages")
				var ids []int64
				for _, m := range got {
					ids = append(ids, m.ID)
					if m.ConversationID != conv.ID {
						t.Fatalf("message of conversation %d in transcript of %d", m.ConversationID, conv.ID)
					}
				}
				if !reflect.DeepEqual(ids, tc.wantIDs) {
					t.Fatalf("ids = %v, want %v", ids, tc.wantIDs)
				}
			})
		}
		recent := []struct {
			name    string
			limit   int
			wantIDs []int64
		}{
			{"recent: all", 0, want},
			{"recent: last three, oldest first", 3, want[4:]},
			{"recent: last one", 1, want[6:]},
			{"recent: exactly all", 7, want},
			{"recent: more than there are", 50, want},
		}
		for _, tc := range recent {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListRecentMessages(ctx, conv.ID, tc.limit)
				must(t, err, "ListRecentMessages")
				var ids []int64
				for _, m := range got {
					ids = append(ids, m.ID)
				}
				if !reflect.DeepEqual(ids, tc.wantIDs) {
					t.Fatalf("ids = %v, want %v", ids, tc.wantIDs)
				}
			})
		}
		t.Run("recent: same rows as the transcript", func(t *testing.T) {
			all, err := st.ListMessages(ctx, conv.ID, 0, 0)
			must(t, err, "ListMessages")
			last, err := st.ListRecentMessages(ctx, conv.ID, 2)
			must(t, err, "ListRecentMessages")
			if !reflect.DeepEqual(last, all[len(all)-2:]) {
				t.Fatalf("recent = %+v, want %+v", last, all[len(all)-2:])
			}
		})
		t.Run("recent: negative limit and unknown conversation", func(t *testing.T) {
			_, err := st.ListRecentMessages(ctx, conv.ID, -1)
			wantCode(t, err, baton.EINVALID, "ListRecentMessages limit -1")
			none, err := st.ListRecentMessages(ctx, 123456, 5)
			must(t, err, "ListRecentMessages unknown")
			if len(none) != 0 {
				t.Fatalf("unknown conversation has %d recent messages", len(none))
			}
		})
		got, err := st.ListMessages(ctx, conv.ID, 0, 0)
		must(t, err, "ListMessages")
		if got[1].Status != baton.StatusQueued || got[1].Direction != baton.DirectionOut {
			t.Errorf("outbound default status = %q, want queued", got[1].Status)
		}
		none, err := st.ListMessages(ctx, 123456, 0, 0)
		must(t, err, "ListMessages unknown")
		if len(none) != 0 {
			t.Fatalf("unknown conversation has %d messages", len(none))
		}
	})
}

func (s *suite) testMessageStatus(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	conv := seedConversation(t, ctx, st, "shop", "+3000")
	outbound := func(t *testing.T) *baton.Message {
		m := &baton.Message{ConversationID: conv.ID, BotID: "shop", Channel: baton.ChannelWhatsApp, Direction: baton.DirectionOut, Author: baton.AuthorBot, Type: baton.TypeText, Text: "hi"}
		_, err := st.InsertMessage(ctx, m)
		must(t, err, "insert outbound")
		return m
	}

	t.Run("provider id marks sent", func(t *testing.T) {
		m := outbound(t)
		must(t, st.SetProviderID(ctx, m.ID, "wamid.OUT1", clock.Advance(time.Second)), "SetProviderID")
		got, err := st.GetMessageByProviderID(ctx, baton.ChannelWhatsApp, "wamid.OUT1")
		must(t, err, "GetMessageByProviderID")
		if got.ID != m.ID || got.Status != baton.StatusSent {
			t.Fatalf("got id %d status %q, want %d sent", got.ID, got.Status, m.ID)
		}
		wantCode(t, st.SetProviderID(ctx, 88888, "wamid.X", clock.Now()), baton.ENOTFOUND, "SetProviderID unknown")
		other := outbound(t)
		wantCode(t, st.SetProviderID(ctx, other.ID, "wamid.OUT1", clock.Now()), baton.ECONFLICT, "SetProviderID taken")
	})

	type update struct {
		status      baton.DeliveryStatus
		code        string
		wantChanged bool
		wantStatus  baton.DeliveryStatus
		wantCode    string
	}
	sequences := []struct {
		name    string
		updates []update
	}{
		{"in order", []update{
			{baton.StatusDelivered, "", true, baton.StatusDelivered, ""},
			{baton.StatusRead, "", true, baton.StatusRead, ""},
		}},
		{"late delivered never overwrites read", []update{
			{baton.StatusRead, "", true, baton.StatusRead, ""},
			{baton.StatusDelivered, "", false, baton.StatusRead, ""},
			{baton.StatusSent, "", false, baton.StatusRead, ""},
			{baton.StatusFailed, "131047", false, baton.StatusRead, ""},
		}},
		{"failed keeps code and reason", []update{
			{baton.StatusFailed, "131026", true, baton.StatusFailed, "131026"},
			{baton.StatusDelivered, "", false, baton.StatusFailed, "131026"},
			{baton.StatusFailed, "999", false, baton.StatusFailed, "131026"},
		}},
		{"repeat is no change", []update{
			{baton.StatusDelivered, "", true, baton.StatusDelivered, ""},
			{baton.StatusDelivered, "", false, baton.StatusDelivered, ""},
		}},
	}
	for i, seq := range sequences {
		t.Run("by provider id/"+seq.name, func(t *testing.T) {
			m := outbound(t)
			pid := fmt.Sprintf("wamid.SEQ%d", i)
			must(t, st.SetProviderID(ctx, m.ID, pid, clock.Now()), "SetProviderID")
			for _, u := range seq.updates {
				changed, err := st.UpdateMessageStatus(ctx, baton.StatusUpdate{Channel: baton.ChannelWhatsApp, ProviderID: pid, Status: u.status, Code: u.code, Reason: "reason " + u.code, At: clock.Advance(time.Second)})
				must(t, err, "UpdateMessageStatus")
				checkStatus(t, st, ctx, m.ID, changed, u.wantChanged, u.wantStatus, u.wantCode)
			}
		})
		t.Run("by id/"+seq.name, func(t *testing.T) {
			m := outbound(t)
			for _, u := range seq.updates {
				changed, err := st.SetMessageStatus(ctx, m.ID, u.status, u.code, "reason "+u.code, clock.Advance(time.Second))
				must(t, err, "SetMessageStatus")
				checkStatus(t, st, ctx, m.ID, changed, u.wantChanged, u.wantStatus, u.wantCode)
			}
		})
	}

	t.Run("unknown and invalid", func(t *testing.T) {
		_, err := st.UpdateMessageStatus(ctx, baton.StatusUpdate{Channel: baton.ChannelWhatsApp, ProviderID: "wamid.NOPE", Status: baton.StatusRead, At: clock.Now()})
		wantCode(t, err, baton.ENOTFOUND, "UpdateMessageStatus unknown")
		_, err = st.SetMessageStatus(ctx, 77777, baton.StatusRead, "", "", clock.Now())
		wantCode(t, err, baton.ENOTFOUND, "SetMessageStatus unknown")
		m := outbound(t)
		_, err = st.SetMessageStatus(ctx, m.ID, "teleported", "", "", clock.Now())
		wantCode(t, err, baton.EINVALID, "SetMessageStatus bad status")
		got, err := st.GetMessage(ctx, m.ID)
		must(t, err, "get")
		if got.Status != baton.StatusQueued {
			t.Fatalf("invalid status changed the message to %q", got.Status)
		}
	})
}

func checkStatus(t *testing.T, st baton.Store, ctx context.Context, id int64, changed, wantChanged bool, wantStatus baton.DeliveryStatus, wantCode string) {
	t.Helper()
	if changed != wantChanged {
		t.Fatalf("changed = %v, want %v (moving to %s)", changed, wantChanged, wantStatus)
	}
	got, err := st.GetMessage(ctx, id)
	must(t, err, "GetMessage")
	if got.Status != wantStatus || got.StatusCode != wantCode {
		t.Fatalf("status = %q code %q, want %q code %q", got.Status, got.StatusCode, wantStatus, wantCode)
	}
	if wantCode != "" && got.StatusReason != "reason "+wantCode {
		t.Fatalf("reason = %q, want %q", got.StatusReason, "reason "+wantCode)
	}
}
