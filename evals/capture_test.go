package evals

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
)

// The personal data the stored conversation holds; none may reach the
// captured case.
const (
	custPhone   = "+905321234567"
	custEmail   = "ayse.yilmaz@example.com"
	typedPhone  = "0532 765 43 21"
	typedEmail  = "ayse@example.org"
	typedCard   = "4111 1111 1111 1111"
	custName    = "Ayşe Yılmaz"
	attrEmail   = "billing@example.net"
	pageWithPII = "https://stride.example/account?email=a.b%40example.com"
)

// storedConversation stores, in a real SQLite database, a conversation on
// channel ch that the bot answered from the KB, then escalated on a
// request for a person to the turkish queue at high priority, where an
// agent replied. It returns the store and the conversation's id.
func storedConversation(t *testing.T, ch baton.ChannelKind) (*sqlite.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "sportshop", Channel: ch, Address: custPhone}, custName)
	if err != nil {
		t.Fatal(err)
	}
	cust.Attributes = map[string]string{"vip": "true", "plan": "gold", "contact": attrEmail}
	if err := st.UpdateCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := &baton.Conversation{
		BotID: "sportshop", CustomerID: cust.ID, Channel: ch, Address: custPhone, Language: "tr",
		Attributes: map[string]string{"product": "trail-runner", "url": pageWithPII},
	}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	msg := func(dir baton.Direction, author baton.Author, typ baton.MessageType, text string) *baton.Message {
		t.Helper()
		at = at.Add(time.Minute)
		m := &baton.Message{ConversationID: conv.ID, BotID: "sportshop", Channel: ch, Direction: dir, Author: author, Type: typ, Text: text, CreatedAt: at}
		if author == baton.AuthorAgent {
			m.AuthorID = "emre"
		}
		if _, err := st.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	decide := func(m *baton.Message, d baton.Decision) {
		t.Helper()
		d.ConversationID, d.MessageID = conv.ID, m.ID
		if err := st.InsertDecision(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	m1 := msg(baton.DirectionIn, baton.AuthorCustomer, baton.TypeText, "İade süresi ne kadar? Mailim "+typedEmail)
	decide(m1, baton.Decision{Action: baton.ActionAnswer,
		Analysis:  &baton.DecisionAnalysis{Language: "tr", Intent: "returns", IntentConfidence: 0.83},
		Citations: []baton.Citation{{Slug: "returns-policy", Title: "Returns", Score: 0.7}, {Slug: "refunds", Title: "Refunds", Score: 0.5}}})
	msg(baton.DirectionOut, baton.AuthorBot, baton.TypeText, "30 gün içinde iade edebilirsiniz.")
	m2 := msg(baton.DirectionIn, baton.AuthorCustomer, baton.TypeButton, "Hayır")
	decide(m2, baton.Decision{Action: baton.ActionClarify, Analysis: &baton.DecisionAnalysis{Language: "tr", OutOfScope: true}})
	// A burst of two: the decision answers the newest.
	msg(baton.DirectionIn, baton.AuthorCustomer, baton.TypeText, "Beni "+typedPhone+" numarasından arayın")
	m4 := msg(baton.DirectionIn, baton.AuthorCustomer, baton.TypeText, "Bir insanla konuşmak istiyorum, kartım "+typedCard)
	decide(m4, baton.Decision{Action: baton.ActionEscalate, Detail: "to turkish",
		Analysis: &baton.DecisionAnalysis{Language: "tr", Intent: "human", IntentConfidence: 0.91, WantsHuman: true},
		Triggers: []baton.TriggerResult{{Trigger: baton.TriggerNegativeSentiment, Value: -0.1, Threshold: -0.5}, {Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true}}})
	msg(baton.DirectionIn, baton.AuthorCustomer, baton.TypeImage, "")
	msg(baton.DirectionOut, baton.AuthorAgent, baton.TypeText, "Merhaba, ben Emre. Size yardımcı olayım.")
	queue, prio := "turkish", baton.PriorityHigh
	if _, _, err := st.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "wants_human", QueueID: &queue, Priority: &prio}); err != nil {
		t.Fatal(err)
	}
	if err := st.SavePacket(ctx, &baton.HandoffPacket{ConversationID: conv.ID, QueueID: "turkish", Priority: baton.PriorityHigh, Channel: ch, Language: "tr",
		Reasons: []baton.TriggerResult{{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true}}}); err != nil {
		t.Fatal(err)
	}
	return st, conv.ID
}

// capturedCase is the case format's part a capture writes.
type capturedCase struct {
	ID          string            `yaml:"id"`
	Description string            `yaml:"description"`
	Tags        []string          `yaml:"tags"`
	Bot         string            `yaml:"bot"`
	Channel     string            `yaml:"channel"`
	Language    string            `yaml:"language"`
	Attributes  map[string]string `yaml:"attributes"`
	Page        map[string]string `yaml:"page"`
	Steps       []struct {
		Customer string         `yaml:"customer"`
		Press    string         `yaml:"press"`
		Expect   map[string]any `yaml:"expect"`
	} `yaml:"steps"`
	Expect map[string]any `yaml:"expect"`
}

func TestCapture(t *testing.T) {
	for _, ch := range []baton.ChannelKind{baton.ChannelWebChat, baton.ChannelWhatsApp} {
		t.Run(string(ch), func(t *testing.T) { testCapture(t, ch) })
	}
}

func testCapture(t *testing.T, ch baton.ChannelKind) {
	st, id := storedConversation(t, ch)
	out, err := Capture(context.Background(), st, id, CaptureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)

	t.Run("nothing personal", func(t *testing.T) {
		for _, pii := range []string{custPhone, "5321234567", custEmail, typedPhone, "765 43 21", typedEmail, typedCard, "1111 1111", custName, "Ayşe", attrEmail, "example.com"} {
			if strings.Contains(page, pii) {
				t.Errorf("the case holds %q:\n%s", pii, page)
			}
		}
	})

	var file struct {
		Cases []capturedCase `yaml:"cases"`
	}
	dec := yaml.NewDecoder(strings.NewReader(page))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("not a case file: %v\n%s", err, page)
	}
	if len(file.Cases) != 1 {
		t.Fatalf("%d cases", len(file.Cases))
	}
	c := file.Cases[0]

	t.Run("the conversation", func(t *testing.T) {
		if c.ID != "captured-1" || c.Bot != "sportshop" || c.Channel != string(ch) || c.Language != "tr" {
			t.Errorf("case %+v", c)
		}
		if ch != baton.ChannelWebChat {
			// Only the web chat carries attributes and page context.
			if c.Attributes != nil || c.Page != nil {
				t.Errorf("attributes %v, page %v on a %s case", c.Attributes, c.Page, ch)
			}
			if !strings.Contains(page, "the customer's attributes and page context are not replayed: a whatsapp case cannot carry them") {
				t.Errorf("the reviewer is not told the attributes were left out:\n%s", page)
			}
		} else {
			if len(c.Attributes) != 2 || c.Attributes["vip"] != "true" || c.Attributes["plan"] != "gold" {
				t.Errorf("attributes %v, want vip and plan without the one holding an email", c.Attributes)
			}
			if len(c.Page) != 1 || c.Page["product"] != "trail-runner" {
				t.Errorf("page %v, want the product without the URL holding an email", c.Page)
			}
			if !strings.Contains(page, "attributes contact held personal data and are left out") || !strings.Contains(page, "page url held personal data") {
				t.Errorf("the reviewer is not told what was left out:\n%s", page)
			}
		}
		if !strings.Contains(page, "1 agent message(s) are not replayed") || !strings.Contains(page, "1 customer message(s) without text") {
			t.Errorf("the reviewer is not told about the agent's and the image's messages:\n%s", page)
		}
	})

	t.Run("the turns", func(t *testing.T) {
		if len(c.Steps) != 4 {
			t.Fatalf("%d steps, want 4 (text, button, a burst of two)", len(c.Steps))
		}
		s := c.Steps
		if s[0].Customer != "İade süresi ne kadar? Mailim [EMAIL]" || s[1].Press != "Hayır" ||
			s[2].Customer != "Beni [PHONE] numarasından arayın" || !strings.HasPrefix(s[3].Customer, "Bir insanla konuşmak istiyorum, kartım [CARD") {
			t.Errorf("steps %+v", s)
		}
		want := []map[string]any{
			{"language": "tr", "intent": "returns", "action": "answer", "cites": []any{"returns-policy", "refunds"}},
			{"language": "tr", "intent": "out_of_scope", "action": "clarify"},
			nil, // the first of the burst: the decision answered the second
			{"language": "tr", "intent": "human", "action": "escalate", "escalated": true, "trigger": "wants_human"},
		}
		for i, w := range want {
			if got := s[i].Expect; !sameMap(got, w) {
				t.Errorf("step %d expect %v, want %v", i+1, got, w)
			}
		}
	})

	t.Run("the conversation's outcome", func(t *testing.T) {
		want := map[string]any{"outcome": "escalated", "escalated": true, "trigger": "wants_human", "queue": "turkish", "priority": "high"}
		if !sameMap(c.Expect, want) {
			t.Errorf("expect %v, want %v", c.Expect, want)
		}
	})

	t.Run("every expectation marked for review", func(t *testing.T) {
		var node yaml.Node
		if err := yaml.Unmarshal(out, &node); err != nil {
			t.Fatal(err)
		}
		n := 0
		var visit func(*yaml.Node)
		visit = func(m *yaml.Node) {
			if m.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(m.Content); i += 2 {
					k, v := m.Content[i], m.Content[i+1]
					if k.Value == "expect" {
						for j := 0; j+1 < len(v.Content); j += 2 {
							n++
							c := v.Content[j].LineComment + v.Content[j+1].LineComment
							if !strings.HasPrefix(c, "# review: ") {
								t.Errorf("expectation %s: %s without a review mark (%q)", v.Content[j].Value, v.Content[j+1].Value, c)
							}
						}
					}
				}
			}
			for _, ch := range m.Content {
				visit(ch)
			}
		}
		visit(&node)
		if n != 17 {
			t.Errorf("%d expectations seen, want 17", n)
		}
	})

	again, err := Capture(context.Background(), st, id, CaptureOptions{CaseID: "refund-tr"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Replace(string(again), "id: refund-tr", "id: captured-1", 1) != page {
		t.Error("two captures of the same conversation differ beyond the id")
	}
}

func TestCaptureUnknown(t *testing.T) {
	st, _ := storedConversation(t, baton.ChannelSMS)
	_, err := Capture(context.Background(), st, 999, CaptureOptions{})
	if baton.ErrorCode(err) != baton.ENOTFOUND || !strings.Contains(err.Error(), "conversation 999: no such conversation") {
		t.Errorf("got %v", err)
	}
}

// sameMap compares decoded YAML maps, nil and empty alike.
func sameMap(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if gl, ok := g.([]any); ok {
			wl, _ := w.([]any)
			if len(gl) != len(wl) {
				return false
			}
			for i := range gl {
				if gl[i] != wl[i] {
					return false
				}
			}
			continue
		}
		if g != w {
			return false
		}
	}
	return true
}

// TestCaptureOutcome: the outcome expected of the replayed conversation,
// read as the runner reads one where no agent acts.
func TestCaptureOutcome(t *testing.T) {
	d := func(actions ...string) []*baton.Decision {
		var out []*baton.Decision
		for _, a := range actions {
			out = append(out, &baton.Decision{Action: a})
		}
		return out
	}
	tests := []struct {
		name    string
		state   baton.State
		decs    []*baton.Decision
		packet  bool
		outcome string
	}{
		{"answered", baton.StateBot, d("answer", "none"), false, "bot_resolved"},
		{"resolved", baton.StateResolved, d("clarify"), false, "bot_resolved"},
		{"clarified last", baton.StateBot, d("answer", "clarify", "wait"), false, "clarified"},
		{"escalated", baton.StateQueued, d("answer", "escalate", "wait"), false, "escalated"},
		{"escalated by a packet", baton.StateAssigned, d("answer"), true, "escalated"},
		{"archived as spam", baton.StateArchived, d("archive"), false, "archived"},
		{"nothing said", baton.StateBot, d("none"), false, "open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := capture{conv: &baton.Conversation{ID: 1, State: tc.state}}
			if tc.packet {
				c.packet = &baton.HandoffPacket{QueueID: "general", Priority: baton.PriorityNormal}
			}
			e := c.conversationExpect(tc.decs)
			if e.Content[0].Value != "outcome" || e.Content[1].Value != tc.outcome {
				t.Errorf("outcome %s, want %s", e.Content[1].Value, tc.outcome)
			}
			escalated := tc.outcome == "escalated"
			if e.Content[3].Value != strconv.FormatBool(escalated) {
				t.Errorf("escalated %s, want %v", e.Content[3].Value, escalated)
			}
		})
	}
}
