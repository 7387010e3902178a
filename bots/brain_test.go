package bots

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu"
)

// scripted is an analyzer that knows the analysis of each text; anything
// else is an English message it cannot place.
type scripted map[string]baton.Analysis

func (s scripted) Analyze(_ context.Context, text string, hist nlu.History) (baton.Analysis, error) {
	if a, ok := s[text]; ok {
		return a, nil
	}
	lang := hist.Language
	if lang == "" {
		lang = "en"
	}
	return baton.Analysis{Language: lang, OutOfScope: true}, nil
}

// fakeKB answers the questions it has answers for, and nothing else.
type fakeKB map[string]kb.Answer

func (f fakeKB) Answer(_ context.Context, req kb.AnswerRequest) (kb.Answer, error) {
	key := req.Question
	if req.Article != "" {
		// A chosen article's answer is keyed "question#slug".
		key += "#" + req.Article
	}
	if a, ok := f[key]; ok {
		return a, nil
	}
	return kb.Answer{Reason: "nothing close"}, nil
}

func answered(slug, title, lang, text string, score float64) kb.Answer {
	return kb.Answer{
		Text: text, Answered: true, Grounded: 0.8,
		Citations: []kb.Citation{{Slug: slug, Title: title, URL: "https://help.example/" + slug}},
		Results:   []kb.Result{{Chunk: baton.Chunk{Slug: slug, Language: lang}, Title: title, Fused: score, Language: lang}},
	}
}

func testBrain(t *testing.T, an scripted, k fakeKB) *Brain {
	t.Helper()
	texts, err := NewTexts([]string{"en", "tr", "ru"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy("general")
	p.Topics = []TopicRule{{Intent: "report_fraud", Route: &Route{Queue: "fraud", Priority: baton.PriorityUrgent}}}
	p.Attributes = []AttributeRule{{Key: "vip", Values: []string{"true"}, Route: &Route{Queue: "vip", Priority: baton.PriorityHigh}}}
	p.Spam = SpamRule{Patterns: []*regexp.Regexp{regexp.MustCompile(`(?i)free crypto`)}}
	return &Brain{
		Bot:      baton.Bot{ID: "shop", Languages: []string{"en", "tr", "ru"}},
		Policy:   p,
		Texts:    texts,
		Analyzer: an,
		KB:       k,
		Queues: map[string]baton.Queue{
			"general": {ID: "general", Skills: []string{"support"}},
			"fraud":   {ID: "fraud", Skills: []string{"fraud"}},
		},
		SmallTalk: map[string]TextKey{"greeting": TextGreeting},
		Mask:      func(s string) string { return strings.ReplaceAll(s, "4111111111111111", "•••• 1111") },
	}
}

func conv(ch baton.ChannelKind) *baton.Conversation {
	return &baton.Conversation{ID: 7, BotID: "shop", CustomerID: 3, Channel: ch, Address: "visitor:abc", State: baton.StateBot,
		Language: "en", Attributes: map[string]string{"url": "https://shop.example/p/1"}}
}

func firedNames(o Outcome) []string {
	var out []string
	for _, t := range o.Triggers {
		if t.Fired {
			out = append(out, t.Trigger)
		}
	}
	return out
}

func TestDecideAnswersFromTheKB(t *testing.T) {
	returns := answered("returns", "Returns policy", "en", "You can return unworn items within 30 days.", 0.9)
	b := testBrain(t, scripted{
		"how do I return shoes":    {Language: "en", Intent: "returns", IntentConfidence: 0.9},
		"iade nasıl yapılır":       {Language: "tr", Intent: "returns", IntentConfidence: 0.8},
		"yes":                      {Language: "en", OutOfScope: true},
		"no":                       {Language: "en", OutOfScope: true},
		"how do I return shoes!!!": {Language: "en", Intent: "returns", IntentConfidence: 0.9},
	}, fakeKB{"how do I return shoes": returns, "iade nasıl yapılır": returns, "how do I return shoes!!!": returns})
	ctx := context.Background()

	out, err := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "how do I return shoes"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != baton.ActionAnswer || len(out.Replies) != 2 || !out.AskedHelp {
		t.Fatalf("outcome %+v", out)
	}
	if !strings.Contains(out.Replies[0].Text, "within 30 days") || !strings.Contains(out.Replies[0].Text, "Source: Returns policy (https://help.example/returns)") {
		t.Errorf("answer %q lacks the text or its citation", out.Replies[0].Text)
	}
	if len(out.Citations) != 1 || out.Citations[0].Slug != "returns" || out.Citations[0].Score != 0.8 {
		t.Errorf("citations %+v", out.Citations)
	}
	help, _ := baton.OutboundOf(out.Replies[1])
	if out.Replies[1].Text != "Did this help?" || len(help.Buttons) != 2 || help.Buttons[0].ID != PayloadHelpYes {
		t.Errorf("help question %q %+v", out.Replies[1].Text, help)
	}
	if out.Memory.Help == nil || out.Memory.BotTurns != 1 {
		t.Errorf("memory %+v", out.Memory)
	}

	t.Run("yes resolves it as bot-resolved", func(t *testing.T) {
		o, err := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "yes", Payload: PayloadHelpYes, Memory: out.Memory})
		if err != nil {
			t.Fatal(err)
		}
		if o.Transition == nil || o.Transition.To != baton.StateResolved || o.Transition.Data["resolution"] != ResolvedByBot {
			t.Fatalf("transition %+v", o.Transition)
		}
		if o.Memory.Help != nil {
			t.Error("the question is still pending")
		}
	})
	t.Run("no escalates with not_helped and the answer that did not help", func(t *testing.T) {
		o, err := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "no", Previous: []string{"how do I return shoes"}, Memory: out.Memory})
		if err != nil {
			t.Fatal(err)
		}
		if o.Action != baton.ActionEscalate || strings.Join(firedNames(o), ",") != baton.TriggerNotHelped {
			t.Fatalf("action %s, fired %v", o.Action, firedNames(o))
		}
		if o.Packet == nil || len(o.Packet.FailedAnswers) != 1 || !strings.Contains(o.Packet.FailedAnswers[0], "30 days") {
			t.Fatalf("packet %+v", o.Packet)
		}
		if len(o.Replies) != 2 || o.Replies[0].Text != "Sorry that didn't help." {
			t.Errorf("replies %q", texts(o.Replies))
		}
	})
	t.Run("SMS asks for 1 or 2", func(t *testing.T) {
		o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelSMS), Text: "how do I return shoes"})
		if got := o.Replies[1].Text; got != "Did this help? Reply 1 for Yes or 2 for No." || len(o.Replies[1].Metadata) != 0 {
			t.Errorf("SMS help question %q %s", got, o.Replies[1].Metadata)
		}
	})
	t.Run("an answer from another language's article says so", func(t *testing.T) {
		c := conv(baton.ChannelWhatsApp)
		c.Language = "tr"
		o, _ := b.Decide(ctx, Turn{Conversation: c, Text: "iade nasıl yapılır"})
		if !strings.HasPrefix(o.Replies[0].Text, "(Bu yanıt yalnızca İngilizce olarak mevcut.)\n") {
			t.Errorf("answer %q", o.Replies[0].Text)
		}
		if o.Replies[1].Text != "Bu yardımcı oldu mu?" {
			t.Errorf("help question %q", o.Replies[1].Text)
		}
	})
}

func TestDecideEscalates(t *testing.T) {
	returns := answered("returns", "Returns policy", "en", "You can return unworn items within 30 days.", 0.9)
	b := testBrain(t, scripted{
		"return shoes, I want a human":               {Language: "en", Intent: "returns", IntentConfidence: 0.9, WantsHuman: true, WantsHumanEvidence: "human"},
		"Berbat bir hizmet, siparişim hâlâ gelmedi!": {Language: "tr", Intent: "order_status", IntentConfidence: 0.7, Sentiment: -0.8},
		"someone stole my card 4111111111111111":     {Language: "en", Intent: "report_fraud", IntentConfidence: 0.9},
		"FREE CRYPTO click here":                     {Language: "en", OutOfScope: true},
		"my order is late and I want someone to call me": {Language: "en", Intent: "order_status", IntentConfidence: 0.8, WantsHuman: true,
			Summary: "Order late; customer asks for a call back."},
	}, fakeKB{"return shoes, I want a human": returns})
	ctx := context.Background()
	tests := []struct {
		name     string
		turn     Turn
		want     string
		queue    string
		priority int
		skills   string
		reply    string
	}{
		{name: "wants a human even with a confident answer", turn: Turn{Text: "return shoes, I want a human"},
			want: baton.TriggerWantsHuman, queue: "general", priority: baton.PriorityNormal, skills: "support,en", reply: "I'm passing you to a person"},
		{name: "an angry Turkish message", turn: Turn{Text: "Berbat bir hizmet, siparişim hâlâ gelmedi!"},
			want: baton.TriggerNegativeSentiment, queue: "general", priority: baton.PriorityNormal, skills: "support,tr", reply: "Sizi ekibimizden bir temsilciye aktarıyorum"},
		{name: "an always-human topic", turn: Turn{Text: "someone stole my card 4111111111111111"},
			want: baton.TriggerTopic, queue: "fraud", priority: baton.PriorityUrgent, skills: "fraud,en", reply: "I'm passing you to a person"},
		{name: "a trusted VIP", turn: Turn{Text: "hello there, what are you", Customer: &baton.Customer{ID: 3, Attributes: map[string]string{"vip": "true"}}},
			want: baton.TriggerAttribute, queue: "vip", priority: baton.PriorityHigh, skills: "en", reply: "I'm passing you to a person"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.turn.Conversation = conv(baton.ChannelWebChat)
			o, err := b.Decide(ctx, tc.turn)
			if err != nil {
				t.Fatal(err)
			}
			if o.Action != baton.ActionEscalate || strings.Join(firedNames(o), ",") != tc.want {
				t.Fatalf("action %s fired %v, want escalate on %s", o.Action, firedNames(o), tc.want)
			}
			tr := o.Transition
			if tr == nil || tr.To != baton.StateQueued || *tr.QueueID != tc.queue || *tr.Priority != tc.priority {
				t.Fatalf("transition %+v", tr)
			}
			p := o.Packet
			if p == nil || p.QueueID != tc.queue || strings.Join(p.Skills, ",") != tc.skills || p.Priority != tc.priority ||
				len(p.Reasons) != 1 || p.Reasons[0].Trigger != tc.want || p.Summary == "" || p.Attributes["url"] == "" {
				t.Fatalf("packet %+v", p)
			}
			if strings.Contains(p.Summary, "4111111111111111") {
				t.Errorf("the packet quotes a card number: %q", p.Summary)
			}
			if len(o.Replies) != 1 || !strings.HasPrefix(o.Replies[0].Text, tc.reply) {
				t.Errorf("replies %q", texts(o.Replies))
			}
		})
	}
	t.Run("a closed queue: the customer hears when it opens", func(t *testing.T) {
		hours, err := baton.ParseHours("Europe/Istanbul", map[string]string{"mon-fri": "09:00-18:00"})
		if err != nil {
			t.Fatal(err)
		}
		q := b.Queues["general"]
		q.Hours = hours
		b.Queues["general"] = q
		defer func() { q.Hours = baton.Hours{}; b.Queues["general"] = q }()
		for _, tc := range []struct {
			now   time.Time
			reply string
		}{
			{time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), "Our team is away right now. A person will pick this up here from Monday 09:00 (Europe/Istanbul)"},
			{time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC), "I'm passing you to a person"},
		} {
			o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "return shoes, I want a human", Now: tc.now})
			if o.Action != baton.ActionEscalate || len(o.Replies) != 1 || !strings.HasPrefix(o.Replies[0].Text, tc.reply) {
				t.Errorf("at %s: %s, replies %q; want %q", tc.now, o.Action, texts(o.Replies), tc.reply)
			}
		}
	})
	t.Run("the language model's summary when there is one", func(t *testing.T) {
		o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "my order is late and I want someone to call me"})
		if o.Packet == nil || o.Packet.Summary != "Order late; customer asks for a call back." {
			t.Fatalf("packet %+v", o.Packet)
		}
	})
	t.Run("spam is archived without a word", func(t *testing.T) {
		o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "FREE CRYPTO click here"})
		if o.Action != baton.ActionArchive || o.Transition == nil || o.Transition.To != baton.StateArchived || len(o.Replies) != 0 {
			t.Fatalf("outcome %+v", o)
		}
	})
}

func TestDecideFailuresAndClarifying(t *testing.T) {
	close := kb.Answer{Grounded: 0.45, Reason: "below the threshold", Results: []kb.Result{
		{Chunk: baton.Chunk{Slug: "exchange", Language: "en"}, Title: "Exchanges", Fused: 0.030},
		{Chunk: baton.Chunk{Slug: "returns", Language: "en"}, Title: "Returns policy", Fused: 0.029},
	}}
	b := testBrain(t, scripted{
		"swap my shoes":                     {Language: "en", Intent: "returns", IntentConfidence: 0.4},
		"what is the meaning of life":       {Language: "en", OutOfScope: true},
		"hi":                                {Language: "en", Intent: "greeting", IntentConfidence: 0.95},
		"where is the refund for my jacket": {Language: "en", Intent: "returns", IntentConfidence: 0.5},
	}, fakeKB{"swap my shoes": close})
	ctx := context.Background()

	o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "swap my shoes"})
	opts, _ := baton.OutboundOf(o.Replies[0])
	if o.Action != baton.ActionClarify || len(opts.Buttons) != 2 || opts.Buttons[0].Title != "Exchanges" || o.Memory.Failures != 1 {
		t.Fatalf("close call: action %s, buttons %+v, memory %+v", o.Action, opts, o.Memory)
	}
	o2, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "what is the meaning of life", Memory: Memory{}})
	if o2.Action != baton.ActionClarify || o2.Detail != "out of scope" || o2.Replies[0].Text != b.Texts.Say("en", TextOutOfScope) {
		t.Fatalf("out of scope: %+v", o2)
	}
	// A second failed turn in a row escalates.
	o3, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "where is the refund for my jacket", Memory: o2.Memory,
		Previous: []string{"what is the meaning of life"}})
	if o3.Action != baton.ActionEscalate || strings.Join(firedNames(o3), ",") != baton.TriggerRepeatedFailure {
		t.Fatalf("second failure: action %s fired %v", o3.Action, firedNames(o3))
	}
	// Small talk is not a failure.
	o4, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "hi", Memory: o2.Memory})
	if o4.Action != baton.ActionAnswer || o4.Memory.Failures != 0 || o4.Replies[0].Text != b.Texts.Say("en", TextGreeting) {
		t.Fatalf("small talk: %+v", o4)
	}
}

// TestDecideClarificationChoice: the customer's pick among the articles a
// clarification offered is answered from that article, however the
// channel carried the pick; anything else is a new message.
func TestDecideClarificationChoice(t *testing.T) {
	close := kb.Answer{Grounded: 0.45, Reason: "below the threshold", Results: []kb.Result{
		{Chunk: baton.Chunk{Slug: "lost-parcel", Language: "en"}, Title: "My parcel is lost or damaged in transit", Fused: 0.030},
		{Chunk: baton.Chunk{Slug: "order-tracking", Language: "en"}, Title: "Where is my order?", Fused: 0.029},
	}}
	k := fakeKB{
		"my parcel never came":                close,
		"my parcel never came#lost-parcel":    answered("lost-parcel", "My parcel is lost or damaged in transit", "en", "We send a replacement or refund.", 1),
		"my parcel never came#order-tracking": answered("order-tracking", "Where is my order?", "en", "Track it from your account.", 1),
	}
	an := scripted{
		"my parcel never came":   {Language: "en", Intent: "order_status", IntentConfidence: 0.4},
		"what sizes do you have": {Language: "en", Intent: "sizes", IntentConfidence: 0.9},
	}
	for _, c := range []struct {
		name, text, payload string
		ch                  baton.ChannelKind
		want                string // the cited slug; "" = not read as a choice
	}{
		{"web chat button", "My parcel is lost or damaged in transit", PayloadClarify + "lost-parcel", baton.ChannelWebChat, "lost-parcel"},
		{"the other button", "Where is my order?", PayloadClarify + "order-tracking", baton.ChannelWebChat, "order-tracking"},
		{"WhatsApp's cut title", "My parcel is lost o…", PayloadClarify + "lost-parcel", baton.ChannelWhatsApp, "lost-parcel"},
		{"cut title without payload", "My parcel is lost o…", "", baton.ChannelWhatsApp, "lost-parcel"},
		{"SMS number", "2", "", baton.ChannelSMS, "order-tracking"},
		{"title typed", "where is my order", "", baton.ChannelSMS, "order-tracking"},
		{"a payload not offered", "x", PayloadClarify + "returns", baton.ChannelWebChat, ""},
		{"a number out of range", "3", "", baton.ChannelSMS, ""},
		{"a new question", "what sizes do you have", "", baton.ChannelWebChat, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			an := maps.Clone(an)
			if _, ok := an[c.text]; !ok {
				an[c.text] = baton.Analysis{Language: "en", Intent: "returns", IntentConfidence: 0.3}
			}
			b := testBrain(t, an, k)
			ctx := context.Background()
			o, err := b.Decide(ctx, Turn{Conversation: conv(c.ch), Text: "my parcel never came"})
			if err != nil || o.Action != baton.ActionClarify || o.Memory.Clarify == nil || len(o.Memory.Clarify.Options) != 2 {
				t.Fatalf("clarification: %v %+v", err, o)
			}
			o2, err := b.Decide(ctx, Turn{Conversation: conv(c.ch), Text: c.text, Payload: c.payload, Memory: o.Memory})
			if err != nil {
				t.Fatal(err)
			}
			if o2.Memory.Clarify != nil {
				t.Errorf("the clarification is still waiting after an answer to it: %+v", o2.Memory.Clarify)
			}
			if c.want == "" {
				if len(o2.Citations) > 0 && strings.HasPrefix(o2.Detail, "the customer chose") {
					t.Fatalf("read as a choice: %+v", o2)
				}
				return
			}
			if o2.Action != baton.ActionAnswer || len(o2.Citations) != 1 || o2.Citations[0].Slug != c.want || o2.Memory.Failures != 0 || !o2.AskedHelp {
				t.Fatalf("choice %q: action %s detail %q citations %+v memory %+v", c.text, o2.Action, o2.Detail, o2.Citations, o2.Memory)
			}
			if len(o2.Triggers) != 0 {
				t.Errorf("the policy read a pick: %+v", o2.Triggers)
			}
		})
	}
}

func TestDecideRunsActions(t *testing.T) {
	var (
		mu    sync.Mutex
		calls []string
		delay time.Duration
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.URL.Path)
		d := delay
		mu.Unlock()
		if d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
		}
		json.NewEncoder(w).Encode(map[string]string{"status": "shipped"})
	}))
	defer api.Close()
	tm := func(s string) *template.Template {
		t.Helper()
		x, err := ParseTemplate("t", s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	order := &Action{
		Name: "order_status", Intent: "order_status",
		Slots: []Slot{{Name: "order_id", Entity: "order_number", Pattern: regexp.MustCompile(`^SS-\d{5}$`),
			Prompt: map[string]string{"en": "What is your order number? (like SS-12345)", "tr": "Sipariş numaranız nedir? (SS-12345 gibi)"}}},
		URL:     tm(api.URL + "/orders/{{.slots.order_id}}"),
		Timeout: 200 * time.Millisecond,
		Reply:   map[string]*template.Template{"en": tm("Order {{.slots.order_id}} is {{.result.status}}."), "tr": tm("{{.slots.order_id}} siparişi: {{.result.status}}.")},
	}
	b := testBrain(t, scripted{
		"where is my order":       {Language: "en", Intent: "order_status", IntentConfidence: 0.9},
		"siparişim nerede":        {Language: "tr", Intent: "order_status", IntentConfidence: 0.9},
		"it is SS-12345":          {Language: "en", OutOfScope: true},
		"SS-12345":                {Language: "tr", OutOfScope: true},
		"where is order SS-12345": {Language: "en", Intent: "order_status", IntentConfidence: 0.9, Entities: []baton.Entity{{Type: "order_number", Value: "SS-12345"}}},
		"I don't know":            {Language: "en", OutOfScope: true},
		"no idea":                 {Language: "en", OutOfScope: true},
		"still no idea":           {Language: "en", OutOfScope: true},
	}, nil)
	b.Actions = map[string]*Action{"order_status": order}
	b.Policy.RepeatedFailure.Off = true
	ctx := context.Background()

	for _, lang := range []struct{ lang, ask, value, prompt, reply string }{
		{"en", "where is my order", "it is SS-12345", "What is your order number? (like SS-12345)", "Order SS-12345 is shipped."},
		{"tr", "siparişim nerede", "SS-12345", "Sipariş numaranız nedir? (SS-12345 gibi)", "SS-12345 siparişi: shipped."},
	} {
		t.Run("slot prompt and success in "+lang.lang, func(t *testing.T) {
			c := conv(baton.ChannelWebChat)
			c.Language = lang.lang
			o, _ := b.Decide(ctx, Turn{Conversation: c, Text: lang.ask})
			if o.Action != baton.ActionAction || o.Replies[0].Text != lang.prompt || o.Memory.Slots == nil {
				t.Fatalf("ask: %s %q %+v", o.Action, texts(o.Replies), o.Memory)
			}
			// The next turn reads the memory back from the decision
			// Turns stored, as it does in production.
			o, _ = b.Decide(ctx, Turn{Conversation: c, Text: lang.value, Memory: stored(t, o.Memory)})
			if o.Action != baton.ActionAction || o.Replies[0].Text != lang.reply || !o.AskedHelp || o.Memory.Slots != nil {
				t.Fatalf("run: %s %q", o.Action, texts(o.Replies))
			}
			// The turn's record says what was called, with which values;
			// the next turn's does not repeat it.
			if r := stored(t, o.Memory).Ran; r == nil || r.Action != "order_status" || r.Values["order_id"] != "SS-12345" {
				t.Errorf("ran %+v", r)
			}
			o, _ = b.Decide(ctx, Turn{Conversation: c, Text: "I don't know", Memory: stored(t, o.Memory)})
			if o.Memory.Ran != nil {
				t.Errorf("the next turn still says %+v ran", o.Memory.Ran)
			}
		})
	}
	t.Run("a message with the value runs at once", func(t *testing.T) {
		mu.Lock()
		n := len(calls)
		mu.Unlock()
		o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "where is order SS-12345"})
		mu.Lock()
		defer mu.Unlock()
		if o.Replies[0].Text != "Order SS-12345 is shipped." || len(calls) != n+1 || calls[n] != "/orders/SS-12345" {
			t.Fatalf("%q, calls %v", texts(o.Replies), calls)
		}
	})
	t.Run("a bad value is asked again, twice at most, then action_failed", func(t *testing.T) {
		o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "where is my order"})
		for i, text := range []string{"I don't know", "no idea"} {
			o, _ = b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: text, Memory: o.Memory})
			if o.Action != baton.ActionAction || !strings.HasPrefix(o.Replies[0].Text, "That doesn't look right. What is your order number?") {
				t.Fatalf("retry %d: %s %q", i+1, o.Action, texts(o.Replies))
			}
		}
		o, _ = b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "still no idea", Memory: o.Memory})
		if o.Action != baton.ActionEscalate || strings.Join(firedNames(o), ",") != baton.TriggerActionFailed {
			t.Fatalf("third bad value: %s fired %v", o.Action, firedNames(o))
		}
	})
	t.Run("a timeout escalates with the reason", func(t *testing.T) {
		mu.Lock()
		delay = time.Second
		mu.Unlock()
		defer func() { mu.Lock(); delay = 0; mu.Unlock() }()
		o, _ := b.Decide(ctx, Turn{Conversation: conv(baton.ChannelWebChat), Text: "where is order SS-12345"})
		if o.Action != baton.ActionEscalate || strings.Join(firedNames(o), ",") != baton.TriggerActionFailed ||
			!strings.Contains(o.Detail, "no answer within") || o.Replies[0].Text != b.Texts.Say("en", TextActionFailed) {
			t.Fatalf("%s %q fired %v %q", o.Action, o.Detail, firedNames(o), texts(o.Replies))
		}
	})
}

// stored is m as the next turn reads it from the decision that kept it.
func stored(t *testing.T, m Memory) Memory {
	t.Helper()
	back, err := MemoryOf(&baton.Decision{State: m.encode()})
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func texts(ms []*baton.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}
