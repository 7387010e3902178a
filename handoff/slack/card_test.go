package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// escalatedView is a WhatsApp conversation just escalated, with every
// packet field set.
func escalatedView() *baton.ConversationView {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	due := at.Add(15 * time.Minute)
	conv := &baton.Conversation{ID: 42, BotID: "shop", CustomerID: 7, Channel: baton.ChannelWhatsApp, Address: "+16505550123",
		State: baton.StateQueued, QueueID: "billing", Priority: 2, Language: "de", QueuedAt: &at, FirstResponseDue: &due}
	return &baton.ConversationView{
		Conversation: conv,
		Customer:     &baton.Customer{ID: 7, Name: "Jana Novák"},
		Packet: &baton.HandoffPacket{ConversationID: 42, Summary: "Charged twice for order 1234 <!channel>; wants a refund.",
			Reasons: []baton.TriggerResult{
				{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true, Detail: "asked for a person"},
				{Trigger: baton.TriggerNegativeSentiment, Value: -0.72, Threshold: -0.5, Fired: true},
			},
			Customer: baton.CustomerProfile{ID: 7, Name: "Jana Novák", Verified: true, Address: "+16505550123",
				Attributes: map[string]string{"plan": "pro", "account": "acme"}},
			Channel: baton.ChannelWhatsApp, Attributes: map[string]string{"page": "https://shop.example/orders/1234", "order": "1234"},
			Language: "de", Intent: "billing.refund", IntentScore: 0.91, Sentiment: -0.72, SentimentTrend: -0.3,
			ArticlesTried: []baton.ArticleRef{{Slug: "refunds", Title: "Refunds & returns", URL: "https://help.example/refunds", Score: 0.62}},
			QueueID:       "billing", Priority: 2, CreatedAt: at, UpdatedAt: at},
		Messages: []*baton.Message{
			{ID: 1, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "Hallo"},
			{ID: 2, Direction: baton.DirectionOut, Author: baton.AuthorBot, Type: baton.TypeText, Text: "Hallo! Wie kann ich helfen?"},
			{ID: 3, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "Ich wurde doppelt belastet"},
			{ID: 4, Direction: baton.DirectionOut, Author: baton.AuthorBot, Type: baton.TypeText, Text: "Hier ist unser Artikel zu Erstattungen."},
			{ID: 5, Direction: baton.DirectionNote, Author: baton.AuthorSystem, Type: baton.TypeText, Text: "internal: escalated"},
			{ID: 6, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeImage},
			{ID: 7, Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "Ich will mit einem Menschen sprechen"},
		},
		SLA: baton.SLAClock{FirstResponseDue: &due, QueuedAt: &at},
	}
}

func golden(t *testing.T, name string, m CardMessage) {
	t.Helper()
	got := cardJSON(t, m, "  ")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the card built:\n%s", path, got)
	}
}

// cardJSON is m as Slack receives it, without Go's HTML escaping so that
// the golden files read as the markup they are.
func cardJSON(t *testing.T, m CardMessage, indent string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(map[string]any{"text": m.Text, "blocks": m.Blocks}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCardGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		change func(v *baton.ConversationView)
		notice string
	}{
		{"escalated", "card_escalated.golden.json", func(*baton.ConversationView) {}, ""},
		{"claimed with SLA breach", "card_assigned_breached.golden.json", func(v *baton.ConversationView) {
			v.Conversation.State, v.Conversation.AgentID = baton.StateAssigned, "zeynep"
			v.SLA.Breached = true
		}, "SLA breach: first reply is overdue"},
		{"resolved", "card_resolved.golden.json", func(v *baton.ConversationView) {
			v.Conversation.State = baton.StateResolved
			v.SLA = baton.SLAClock{}
		}, "Resolved by zeynep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := escalatedView()
			tc.change(v)
			golden(t, tc.file, Card(v, tc.notice))
		})
	}
}

// TestCardContent checks what the golden files hold in the terms of the
// card's purpose, so that an -update cannot bless a card that lost them.
func TestCardContent(t *testing.T) {
	m := Card(escalatedView(), "")
	all := string(cardJSON(t, m, ""))
	for _, want := range []string{
		"Jana Novák", "WhatsApp", "billing", "*Language*\\nde", "wants_human", "value 1 (threshold 1)", "value -0.72 (threshold -0.5)",
		"asked for a person", "-0.72 (trend -0.30)", "Charged twice", "verified by the host app", "plan: pro",
		"*Page context*", "order: 1234", "Refunds &amp; returns", "score 0.62", "first reply due <!date^1772444700^",
		"Ich will mit einem Menschen sprechen", "[image]",
		ActionClaim, ActionTransfer, ActionSnooze, ActionResolve, ActionToBot, ActionKBDraft, `"value":"42"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	for _, never := range []string{"internal: escalated", "<!channel>", "Hallo\"", "+16505550123"} {
		if strings.Contains(all, never) {
			t.Errorf("card shows %q", never)
		}
	}
	if len(m.Blocks) > 50 {
		t.Errorf("%d blocks, Slack takes 50", len(m.Blocks))
	}
}
