package bots

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func TestCustomerTexts(t *testing.T) {
	in := func(id int64, text string) *baton.Message {
		return &baton.Message{ID: id, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: text}
	}
	out := func(id int64, text string) *baton.Message {
		return &baton.Message{ID: id, Direction: baton.DirectionOut, Author: baton.AuthorBot, Type: baton.TypeText, Text: text}
	}
	recent := []*baton.Message{
		in(1, "hi"), out(2, "Hi! How can I help?"), in(3, "where is my order"), out(4, "What is your order number?"),
		in(5, "  SS-12345 "), {ID: 6, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeReaction, Text: "👍"},
		in(7, "and can I change the address?"), in(8, "later message"),
	}
	tests := []struct {
		name          string
		last          *baton.Decision
		id            int64
		burst, before string
		later         bool
	}{
		{"the first turn reads what came after the last reply", nil, 3, "where is my order", "hi", true},
		{"a burst after the last decision, reactions left out", &baton.Decision{MessageID: 3}, 7, "SS-12345|and can I change the address?", "hi|where is my order", true},
		{"the newest message", &baton.Decision{MessageID: 7}, 8, "later message", "hi|where is my order|SS-12345|and can I change the address?", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			burst, before := customerTexts(recent, tc.last, tc.id)
			if strings.Join(burst, "|") != tc.burst || strings.Join(before, "|") != tc.before {
				t.Fatalf("burst %q, before %q", burst, before)
			}
			if got := laterCustomerMessage(recent, tc.id); got != tc.later {
				t.Fatalf("later customer message %v, want %v", got, tc.later)
			}
		})
	}
}
