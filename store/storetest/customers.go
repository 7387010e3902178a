package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testCustomers(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	wa := baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: "+15550001"}

	first, err := st.UpsertCustomerByIdentity(ctx, wa, "")
	must(t, err, "first upsert")
	if first.ID == 0 || first.BotID != "shop" || first.Name != "" {
		t.Fatalf("first upsert = %+v, want a new customer of bot shop with no name", first)
	}
	wantTime(t, "CreatedAt", first.CreatedAt, clock.Now())

	clock.Advance(time.Minute)
	t.Run("same identity gives the same customer and fills an empty name", func(t *testing.T) {
		again, err := st.UpsertCustomerByIdentity(ctx, wa, "Ana")
		must(t, err, "second upsert")
		if again.ID != first.ID || again.Name != "Ana" {
			t.Fatalf("second upsert = id %d name %q, want id %d name Ana", again.ID, again.Name, first.ID)
		}
		third, err := st.UpsertCustomerByIdentity(ctx, wa, "Someone Else")
		must(t, err, "third upsert")
		if third.ID != first.ID || third.Name != "Ana" {
			t.Fatalf("third upsert = id %d name %q, want the name set before (Ana) kept", third.ID, third.Name)
		}
	})

	t.Run("other identities give other customers", func(t *testing.T) {
		cases := []baton.ChannelIdentity{
			{BotID: "shop", Channel: baton.ChannelSMS, Address: "+15550001"},
			{BotID: "other", Channel: baton.ChannelWhatsApp, Address: "+15550001"},
			{BotID: "shop", Channel: baton.ChannelWhatsApp, Address: "+15550002"},
		}
		seen := map[int64]bool{first.ID: true}
		for _, id := range cases {
			c, err := st.UpsertCustomerByIdentity(ctx, id, "")
			must(t, err, "upsert")
			if seen[c.ID] {
				t.Fatalf("identity %+v reused customer %d", id, c.ID)
			}
			seen[c.ID] = true
			if c.BotID != id.BotID {
				t.Errorf("customer bot = %q, want %q", c.BotID, id.BotID)
			}
		}
	})

	t.Run("identity lookup", func(t *testing.T) {
		got, err := st.GetIdentity(ctx, "shop", baton.ChannelWhatsApp, "+15550001")
		must(t, err, "GetIdentity")
		if got.CustomerID != first.ID || got.OptedOut || got.OptedOutAt != nil {
			t.Fatalf("identity = %+v, want customer %d, not opted out", got, first.ID)
		}
		wantTime(t, "identity CreatedAt", got.CreatedAt, suiteStart())
		_, err = st.GetIdentity(ctx, "shop", baton.ChannelWhatsApp, "+19999999")
		wantCode(t, err, baton.ENOTFOUND, "GetIdentity unknown")
	})

	t.Run("invalid identities", func(t *testing.T) {
		for name, id := range map[string]baton.ChannelIdentity{
			"no address": {BotID: "shop", Channel: baton.ChannelWhatsApp},
			"no bot":     {Channel: baton.ChannelWhatsApp, Address: "x"},
			"bad kind":   {BotID: "shop", Channel: "pigeon", Address: "x"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := st.UpsertCustomerByIdentity(ctx, id, "")
				wantCode(t, err, baton.EINVALID, "upsert")
			})
		}
	})

	t.Run("update", func(t *testing.T) {
		c, err := st.GetCustomer(ctx, first.ID)
		must(t, err, "GetCustomer")
		now := clock.Advance(time.Hour)
		erased := now.Add(-time.Second)
		c.Name = "Ana María"
		c.Verified = true
		c.ExternalID = "u-42"
		c.Attributes = map[string]string{"plan": "pro", "vip": "true"}
		c.ErasedAt = &erased
		must(t, st.UpdateCustomer(ctx, c), "UpdateCustomer")
		got, err := st.GetCustomer(ctx, first.ID)
		must(t, err, "GetCustomer")
		if got.Name != "Ana María" || !got.Verified || got.ExternalID != "u-42" || !reflect.DeepEqual(got.Attributes, c.Attributes) {
			t.Fatalf("after update = %+v, want %+v", got, c)
		}
		wantTimePtr(t, "ErasedAt", got.ErasedAt, &erased)
		wantTime(t, "UpdatedAt", got.UpdatedAt, now)
		wantTime(t, "CreatedAt", got.CreatedAt, suiteStart())

		_, err = st.GetCustomer(ctx, 987654)
		wantCode(t, err, baton.ENOTFOUND, "GetCustomer unknown")
		wantCode(t, st.UpdateCustomer(ctx, &baton.Customer{ID: 987654, BotID: "shop"}), baton.ENOTFOUND, "UpdateCustomer unknown")
	})

	t.Run("opt out and back in", func(t *testing.T) {
		at := clock.Advance(time.Minute)
		must(t, st.SetOptOut(ctx, "shop", baton.ChannelWhatsApp, "+15550001", true, at), "SetOptOut true")
		got, err := st.GetIdentity(ctx, "shop", baton.ChannelWhatsApp, "+15550001")
		must(t, err, "GetIdentity")
		if !got.OptedOut {
			t.Fatal("identity not opted out")
		}
		wantTimePtr(t, "OptedOutAt", got.OptedOutAt, &at)

		must(t, st.SetOptOut(ctx, "shop", baton.ChannelWhatsApp, "+15550001", false, clock.Advance(time.Minute)), "SetOptOut false")
		got, err = st.GetIdentity(ctx, "shop", baton.ChannelWhatsApp, "+15550001")
		must(t, err, "GetIdentity")
		if got.OptedOut || got.OptedOutAt != nil {
			t.Fatalf("after opt-in = %+v, want not opted out", got)
		}
		wantCode(t, st.SetOptOut(ctx, "shop", baton.ChannelWhatsApp, "+10000000", true, at), baton.ENOTFOUND, "SetOptOut unknown")
	})
}
