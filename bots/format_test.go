package bots

import (
	"testing"

	"github.com/batonhq/baton"
)

func TestForChannel(t *testing.T) {
	md := "Return within **30 days** of delivery, *unworn*.\n- Print the label\n- See [our policy](https://shop.example/returns) and `RMA-1`"
	tests := []struct {
		ch   baton.ChannelKind
		want string
	}{
		{baton.ChannelWhatsApp, "Return within *30 days* of delivery, _unworn_.\n• Print the label\n• See our policy (https://shop.example/returns) and RMA-1"},
		{baton.ChannelWebChat, "Return within 30 days of delivery, unworn.\n• Print the label\n• See our policy (https://shop.example/returns) and RMA-1"},
		{baton.ChannelSMS, "Return within 30 days of delivery, unworn.\n• Print the label\n• See our policy (https://shop.example/returns) and RMA-1"},
	}
	for _, tc := range tests {
		t.Run(string(tc.ch), func(t *testing.T) {
			if got := ForChannel(tc.ch, md); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
