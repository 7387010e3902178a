package handoff_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/store/storecase"
)

func TestParseRating(t *testing.T) {
	tests := []struct {
		payload, text string
		want          int // 0 = not a rating
	}{
		{"csat:5", "5 – Excellent", 5},
		{"csat:1", "", 1},
		{"csat:0", "", 0},
		{"csat:6", "", 0},
		{"csat:x", "5", 0},
		{"csat:", "", 0},
		{"baton:help:yes", "5", 0}, // another button: its title is not read
		{"4", "Four", 4},           // a template's quick reply with a bare payload
		{"", "5", 5},
		{"", " 3 ", 3},
		{"", "5/5", 5},
		{"", "4 / 5", 4},
		{"", "2 out of 5", 2},
		{"", "5 stars", 5},
		{"", "1 star", 1},
		{"", "5!", 5},
		{"", "3.", 3},
		{"", "5⭐", 5},
		{"", "5️⃣", 5},
		{"", "⭐⭐⭐⭐⭐", 5},
		{"", "⭐️⭐️⭐️", 3},
		{"", "★★★★☆", 4},
		{"", "⭐⭐⭐⭐⭐⭐", 0},
		{"", "five", 5},
		{"", "Two", 2},
		{"", "beş", 5},
		{"", "BEŞ", 5},
		{"", "dört", 4},
		{"", "üç", 3},
		{"", "5 yıldız", 5},
		{"", "пять", 5},
		{"", "Четыре", 4},
		{"", "пятёрка", 5},
		{"", "4 из 5", 4},
		{"", "5 звёзд", 5},
		{"", "0", 0},
		{"", "6", 0},
		{"", "10", 0},
		{"", "15", 0},
		{"", "55", 0},
		{"", "5 pizzas", 0},
		{"", "I'd give it 5", 0},
		{"", "order 12345", 0},
		{"", "", 0},
		{"", "thanks", 0},
	}
	for _, tc := range tests {
		t.Run(tc.payload+"|"+tc.text, func(t *testing.T) {
			got, ok := handoff.ParseRating(tc.payload, tc.text)
			if tc.want == 0 {
				if ok {
					t.Fatalf("ParseRating(%q, %q) = %d, want no rating", tc.payload, tc.text, got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Fatalf("ParseRating(%q, %q) = %d, %v; want %d", tc.payload, tc.text, got, ok, tc.want)
			}
		})
	}
}

// day0 is when the survey tests start.
var day0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// surveyEnv is a store with a bot "shop" (en, tr) and agent maya.
type surveyEnv struct {
	t       *testing.T
	ctx     context.Context
	st      baton.Store
	clock   *baton.ManualClock
	surveys *handoff.Surveys
	obs     *countingObserver
	people  int // customers created
}

func newSurveyEnv(t *testing.T, sc storecase.Case, policy handoff.SurveyPolicy) *surveyEnv {
	t.Helper()
	clk := baton.NewManualClock(day0)
	st := sc.Open(t, clk)
	if policy.Languages == nil {
		policy.Languages = []string{"en", "tr"}
	}
	obs := &countingObserver{}
	s, err := handoff.NewSurveys(handoff.SurveysConfig{Bots: map[string]handoff.SurveyPolicy{"shop": policy}, Clock: clk, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.UpsertAgent(ctx, &baton.Agent{ID: "maya", Name: "Maya", Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 3}}); err != nil {
		t.Fatal(err)
	}
	return &surveyEnv{t: t, ctx: ctx, st: st, clock: clk, surveys: s, obs: obs}
}

// conversation creates a conversation of a new customer on ch, in lang,
// whose customer last wrote lastInbound ago.
func (e *surveyEnv) conversation(ch baton.ChannelKind, lang string, lastInbound time.Duration) *baton.Conversation {
	e.t.Helper()
	e.people++
	addr := "+1555000" + strconv.Itoa(1000+e.people)
	cust, err := e.st.UpsertCustomerByIdentity(e.ctx, baton.ChannelIdentity{BotID: "shop", Channel: ch, Address: addr}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	in := e.clock.Now().Add(-lastInbound)
	c := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: ch, Address: addr, State: baton.StateBot, Language: lang, LastInboundAt: &in}
	if err := e.st.CreateConversation(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *surveyEnv) move(id int64, tr baton.Transition) *baton.Conversation {
	e.t.Helper()
	if tr.Actor == "" {
		tr.Actor = "system"
	}
	c, _, err := e.st.TransitionConversation(e.ctx, id, tr)
	if err != nil {
		e.t.Fatalf("move conversation %d to %s: %v", id, tr.To, err)
	}
	return c
}

// agentResolved takes c through the queue to maya, who resolves it, and
// asks inside the resolving transaction, as the desk does.
func (e *surveyEnv) agentResolved(c *baton.Conversation) *baton.Conversation {
	e.t.Helper()
	q, maya := "general", "maya"
	if c.State == baton.StateBot {
		e.move(c.ID, baton.Transition{To: baton.StateQueued, QueueID: &q})
	}
	e.move(c.ID, baton.Transition{To: baton.StateAssigned, AgentID: &maya})
	return e.resolve(c.ID, "agent:maya")
}

func (e *surveyEnv) resolve(id int64, by string) *baton.Conversation {
	e.t.Helper()
	var out *baton.Conversation
	err := e.st.Tx(e.ctx, func(tx baton.Store) error {
		c, _, err := tx.TransitionConversation(e.ctx, id, baton.Transition{To: baton.StateResolved, Actor: "agent:maya"})
		if err != nil {
			return err
		}
		out = c
		return e.surveys.Ask(e.ctx, tx, c, by)
	})
	if err != nil {
		e.t.Fatalf("resolve %d: %v", id, err)
	}
	return out
}

// answer is the customer writing text (or tapping payload) to c.
func (e *surveyEnv) answer(c *baton.Conversation, payload, text string) bool {
	e.t.Helper()
	var answered bool
	// As ingestion does: the policy first, then the message is stored,
	// in one transaction; the survey's follow-up runs as a job after.
	err := e.st.Tx(e.ctx, func(tx baton.Store) error {
		cur, err := tx.GetConversation(e.ctx, c.ID)
		if err != nil {
			return err
		}
		msg := &baton.Message{ConversationID: c.ID, BotID: cur.BotID, Channel: cur.Channel, Direction: baton.DirectionIn,
			Author: baton.AuthorCustomer, Type: baton.TypeText, Text: text, Payload: payload}
		if answered, err = e.surveys.Answer(e.ctx, tx, cur, msg); err != nil {
			return err
		}
		_, err = tx.InsertMessage(e.ctx, msg)
		return err
	})
	if err != nil {
		e.t.Fatalf("answer %q on %d: %v", text, c.ID, err)
	}
	e.runFollowUps(c.ID)
	return answered
}

// runFollowUps runs the survey's pending follow-up jobs twice each, as a
// worker that crashed before completing one would: the second run must
// send nothing. They stay pending, so later calls run them again too.
func (e *surveyEnv) runFollowUps(id int64) {
	e.t.Helper()
	jobs, err := e.st.ListJobs(e.ctx, baton.JobFilter{Kind: baton.JobCSAT, ConversationID: id, Status: baton.JobPending})
	if err != nil {
		e.t.Fatal(err)
	}
	h := e.surveys.Jobs(e.st)[baton.JobCSAT]
	for _, j := range jobs {
		for range 2 {
			if err := h.HandleJob(e.ctx, j); err != nil {
				e.t.Fatalf("csat job %d: %v", j.ID, err)
			}
		}
	}
}

// surveys are the conversation's surveys (the store's filter by
// conversation is applied here too).
func (e *surveyEnv) surveysOf(id int64) []*baton.CSAT {
	e.t.Helper()
	list, err := e.st.ListCSAT(e.ctx, baton.CSATFilter{ConversationID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*baton.CSAT
	for _, c := range list {
		if c.ConversationID == id {
			out = append(out, c)
		}
	}
	return out
}

// sent are the outbound messages of a conversation, each with its deliver
// job.
func (e *surveyEnv) sent(id int64) []*baton.Message {
	e.t.Helper()
	msgs, err := e.st.ListMessages(e.ctx, id, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	jobs, err := e.st.ListJobs(e.ctx, baton.JobFilter{Kind: baton.JobDeliver, ConversationID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*baton.Message
	for _, m := range msgs {
		if m.Direction != baton.DirectionOut {
			continue
		}
		found := false
		for _, j := range jobs {
			found = found || j.Key == "deliver:"+strconv.FormatInt(m.ID, 10)
		}
		if !found {
			e.t.Errorf("message %d %q has no deliver job", m.ID, m.Text)
		}
		out = append(out, m)
	}
	return out
}

func outbound(t *testing.T, m *baton.Message) baton.Outbound {
	t.Helper()
	o, err := baton.OutboundOf(m)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func ratingIDs(ids []string) string { return strings.Join(ids, ",") }

const allRatings = "csat:1,csat:2,csat:3,csat:4,csat:5"

func TestSurveyAskShapes(t *testing.T) {
	template := &baton.Template{Name: "csat_rating", Language: "en_US"}
	tests := []struct {
		name        string
		channel     baton.ChannelKind
		lang        string
		lastInbound time.Duration
		template    *baton.Template
		check       func(t *testing.T, m *baton.Message, o baton.Outbound)
		none        bool // nothing asked, nothing recorded
	}{
		{name: "whatsapp in the window: a list of five", channel: baton.ChannelWhatsApp, lang: "en", lastInbound: time.Hour,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				if o.List == nil || len(o.Buttons) != 0 || o.Template != nil || len(o.List.Sections) != 1 {
					t.Fatalf("outbound %+v, want one list section and nothing else", o)
				}
				var ids, titles []string
				for _, r := range o.List.Sections[0].Rows {
					ids, titles = append(ids, r.ID), append(titles, r.Title)
				}
				if ratingIDs(ids) != allRatings || titles[4] != "5 – Excellent" || o.List.Button != "Rate" {
					t.Fatalf("rows %v %v, button %q", ids, titles, o.List.Button)
				}
				if m.Type != baton.TypeText || !strings.HasPrefix(m.Text, "How did we do?") {
					t.Fatalf("message %s %q", m.Type, m.Text)
				}
			}},
		{name: "whatsapp in the window, in Turkish", channel: baton.ChannelWhatsApp, lang: "tr", lastInbound: 23 * time.Hour,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				if !strings.HasPrefix(m.Text, "Nasıldık?") || o.List == nil || o.List.Sections[0].Rows[0].Title != "1 – Çok kötü" {
					t.Fatalf("message %q, outbound %+v", m.Text, o)
				}
			}},
		{name: "whatsapp outside the window: the template", channel: baton.ChannelWhatsApp, lang: "en", lastInbound: 25 * time.Hour, template: template,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				if m.Type != baton.TypeTemplate || o.Template == nil || o.Template.Name != template.Name || o.Template.Language != template.Language || o.List != nil || len(o.Buttons) != 0 {
					t.Fatalf("message %s, outbound %+v; want the template alone", m.Type, o)
				}
			}},
		{name: "whatsapp outside the window without a template: not asked", channel: baton.ChannelWhatsApp, lang: "en", lastInbound: 25 * time.Hour, none: true},
		{name: "messenger: five quick replies", channel: baton.ChannelMessenger, lang: "en", lastInbound: time.Minute,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				var ids []string
				for _, b := range o.Buttons {
					ids = append(ids, b.ID)
					if len([]rune(b.Title)) > 20 {
						t.Errorf("quick reply title %q is over 20 characters", b.Title)
					}
				}
				if ratingIDs(ids) != allRatings || o.List != nil {
					t.Fatalf("outbound %+v", o)
				}
			}},
		{name: "web chat: five buttons", channel: baton.ChannelWebChat, lang: "en", lastInbound: 48 * time.Hour,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				if len(o.Buttons) != 5 || o.Buttons[2].ID != "csat:3" || o.Buttons[2].Title != "3 – OK" {
					t.Fatalf("outbound %+v", o)
				}
			}},
		{name: "sms: reply 1 to 5 in the text", channel: baton.ChannelSMS, lang: "en", lastInbound: 48 * time.Hour,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				if !strings.HasSuffix(m.Text, "Reply with a number from 1 to 5.") || len(o.Buttons) != 0 || o.List != nil || o.Template != nil {
					t.Fatalf("message %q, outbound %+v", m.Text, o)
				}
			}},
		{name: "a language the bot does not speak: its default", channel: baton.ChannelSMS, lang: "de", lastInbound: time.Hour,
			check: func(t *testing.T, m *baton.Message, o baton.Outbound) {
				if !strings.HasPrefix(m.Text, "How did we do?") {
					t.Fatalf("message %q", m.Text)
				}
			}},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				e := newSurveyEnv(t, sc, handoff.SurveyPolicy{Template: tc.template})
				c := e.agentResolved(e.conversation(tc.channel, tc.lang, tc.lastInbound))
				surveys, sent := e.surveysOf(c.ID), e.sent(c.ID)
				if tc.none {
					if len(surveys) != 0 || len(sent) != 0 {
						t.Fatalf("surveys %+v, sent %d; want none", surveys, len(sent))
					}
					return
				}
				if len(surveys) != 1 || len(sent) != 1 {
					t.Fatalf("%d surveys, %d messages; want one each", len(surveys), len(sent))
				}
				s := surveys[0]
				if s.Resolution != 1 || s.QueueID != "general" || s.AgentID != "maya" || s.BotResolved || s.Channel != tc.channel ||
					s.AnsweredAt != nil || !s.RequestedAt.Equal(day0) {
					t.Errorf("survey %+v", s)
				}
				m := sent[0]
				if m.Author != baton.AuthorSystem || m.Status != baton.StatusQueued || m.IsAgentReply() {
					t.Errorf("message author %s status %s", m.Author, m.Status)
				}
				tc.check(t, m, outbound(t, m))
			})
		}
	}
}

func TestSurveyAskWho(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			tests := []struct {
				name        string
				policy      handoff.SurveyPolicy
				by          string
				botResolved bool
				asked       bool
				agent       string
			}{
				{"agent", handoff.SurveyPolicy{}, "agent:maya", false, true, "maya"},
				{"bare agent id", handoff.SurveyPolicy{}, "maya", false, true, "maya"},
				{"admin for an agent", handoff.SurveyPolicy{}, "admin:maya", false, true, "maya"},
				{"admin as the system: the last agent", handoff.SurveyPolicy{}, "admin", false, true, "maya"},
				{"the bot, not configured", handoff.SurveyPolicy{}, "bot", true, false, ""},
				{"the bot, configured", handoff.SurveyPolicy{BotResolved: true}, "bot", true, true, ""},
				{"the bot as empty, configured", handoff.SurveyPolicy{BotResolved: true}, "", true, true, ""},
				{"off", handoff.SurveyPolicy{Off: true, BotResolved: true}, "agent:maya", false, false, ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					e := newSurveyEnv(t, sc, tc.policy)
					c := e.conversation(baton.ChannelWebChat, "en", time.Minute)
					if tc.botResolved {
						c = e.resolve(c.ID, tc.by)
					} else {
						c = e.agentResolved(c)
					}
					surveys := e.surveysOf(c.ID)
					if !tc.asked {
						if len(surveys) != 0 || len(e.sent(c.ID)) != 0 {
							t.Fatalf("asked: %+v", surveys)
						}
						return
					}
					if len(surveys) != 1 || surveys[0].BotResolved != tc.botResolved || surveys[0].AgentID != tc.agent || len(e.sent(c.ID)) != 1 {
						t.Fatalf("surveys %+v", surveys)
					}
				})
			}
		})
	}
}

func TestSurveyAskOncePerEpisode(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newSurveyEnv(t, sc, handoff.SurveyPolicy{})
			c := e.agentResolved(e.conversation(baton.ChannelWebChat, "en", time.Minute))
			// Asked again for the same episode (a retried resolve): nothing new.
			if err := e.st.Tx(e.ctx, func(tx baton.Store) error { return e.surveys.Ask(e.ctx, tx, c, "agent:maya") }); err != nil {
				t.Fatal(err)
			}
			if n, m := len(e.surveysOf(c.ID)), len(e.sent(c.ID)); n != 1 || m != 1 {
				t.Fatalf("%d surveys, %d messages after asking twice; want 1 and 1", n, m)
			}
			// Reopened and resolved again: a new episode, a new survey.
			maya := "maya"
			e.move(c.ID, baton.Transition{To: baton.StateAssigned, AgentID: &maya, Actor: "customer"})
			c = e.resolve(c.ID, "agent:maya")
			surveys := e.surveysOf(c.ID)
			if len(surveys) != 2 || surveys[1].Resolution != 2 || len(e.sent(c.ID)) != 2 {
				t.Fatalf("surveys %+v after the second resolution", surveys)
			}
		})
	}
}

func TestSurveyAskOptedOut(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newSurveyEnv(t, sc, handoff.SurveyPolicy{})
			c := e.conversation(baton.ChannelSMS, "en", time.Minute)
			if err := e.st.SetOptOut(e.ctx, "shop", baton.ChannelSMS, c.Address, true, day0); err != nil {
				t.Fatal(err)
			}
			c = e.agentResolved(c)
			if n, m := len(e.surveysOf(c.ID)), len(e.sent(c.ID)); n != 0 || m != 0 {
				t.Fatalf("%d surveys, %d messages to a customer who opted out", n, m)
			}
		})
	}
}

func TestSurveyAnswer(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newSurveyEnv(t, sc, handoff.SurveyPolicy{})
			c := e.agentResolved(e.conversation(baton.ChannelWhatsApp, "en", time.Minute))
			before, err := e.st.GetConversation(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}

			if e.answer(c, "", "where is my order?") {
				t.Fatal("a question was taken as a rating")
			}
			rated := e.clock.Advance(2 * time.Minute)
			if !e.answer(c, "", "5") {
				t.Fatal(`"5" was not taken as the answer`)
			}
			s := e.surveysOf(c.ID)[0]
			if s.Rating != 5 || s.AnsweredAt == nil || !s.AnsweredAt.Equal(rated) {
				t.Fatalf("survey %+v, want rating 5 answered at %s", s, rated)
			}
			sent := e.sent(c.ID)
			if len(sent) != 2 || !strings.HasPrefix(sent[1].Text, "Thank you! Is there anything you would like to add?") {
				t.Fatalf("sent %d messages, last %q; want the comment prompt", len(sent), sent[len(sent)-1].Text)
			}
			// The prompt follows the rating in the transcript.
			all, err := e.st.ListMessages(e.ctx, c.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if last := all[len(all)-1]; last.ID != sent[1].ID || all[len(all)-2].Text != "5" {
				t.Fatalf("the transcript ends %q, %q; want the rating, then the prompt", all[len(all)-2].Text, last.Text)
			}
			if e.obs.csat["shop/5"] != 1 {
				t.Errorf("observer saw %v", e.obs.csat)
			}

			// Answering twice: the first answer stands, nothing is sent.
			e.clock.Advance(time.Minute)
			if !e.answer(c, "csat:2", "2 – Poor") {
				t.Fatal("a second tap on the list reopened the conversation")
			}
			if !e.answer(c, "", "1") {
				t.Fatal(`a second "1" was not taken as a second answer`)
			}
			if s := e.surveysOf(c.ID)[0]; s.Rating != 5 || len(e.sent(c.ID)) != 2 {
				t.Fatalf("survey %+v after a second answer; want rating 5 and no message", s)
			}

			// The next text within the comment window is the comment.
			e.clock.Advance(10 * time.Minute)
			if !e.answer(c, "", "  Maya was quick and kind. ") {
				t.Fatal("the comment was not taken")
			}
			// Stored with the survey, its rating untouched; the log says
			// that the customer commented, not what.
			if s := e.surveysOf(c.ID)[0]; s.Comment != "Maya was quick and kind." || s.Rating != 5 || !s.AnsweredAt.Equal(rated) {
				t.Fatalf("survey %+v, want the comment with rating 5 answered at %s", s, rated)
			}
			evs, err := e.st.ListEvents(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			commented := 0
			for _, ev := range evs {
				if ev.Type == handoff.EventCSATComment {
					commented++
					if _, ok := ev.Data["comment"]; ok {
						t.Errorf("the event keeps the comment's text: %+v", ev.Data)
					}
				}
			}
			if commented != 1 {
				t.Fatalf("%d comment events, want 1", commented)
			}
			sent = e.sent(c.ID)
			if len(sent) != 3 || sent[2].Text != "Thank you for your feedback!" {
				t.Fatalf("sent %d, last %q; want the thanks", len(sent), sent[len(sent)-1].Text)
			}
			// A second text is a new message, not a second comment.
			if e.answer(c, "", "one more thing") {
				t.Fatal("a second comment was taken")
			}
			if s := e.surveysOf(c.ID)[0]; s.Comment != "Maya was quick and kind." {
				t.Fatalf("comment %q after a second text, want the first", s.Comment)
			}

			after, err := e.st.GetConversation(e.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.State != baton.StateResolved || after.Version != before.Version || after.AgentID != before.AgentID ||
				after.QueueID != before.QueueID || after.Resolutions != before.Resolutions {
				t.Fatalf("the conversation changed: %+v → %+v", before, after)
			}
		})
	}
}

func TestSurveyAnswerWindows(t *testing.T) {
	policy := handoff.SurveyPolicy{AnswerWindow: 24 * time.Hour, CommentWindow: 30 * time.Minute}
	tests := []struct {
		name  string
		steps func(e *surveyEnv, c *baton.Conversation) (bool, string)
	}{
		{"a rating after the answer window is a new message", func(e *surveyEnv, c *baton.Conversation) (bool, string) {
			e.clock.Advance(24*time.Hour + time.Second)
			return !e.answer(c, "", "5"), "rating taken after the window"
		}},
		{"a rating at the end of the answer window counts", func(e *surveyEnv, c *baton.Conversation) (bool, string) {
			e.clock.Advance(24 * time.Hour)
			return e.answer(c, "", "4"), "rating refused inside the window"
		}},
		{"a comment after the comment window is a new message", func(e *surveyEnv, c *baton.Conversation) (bool, string) {
			if !e.answer(c, "csat:4", "4 – Good") {
				return false, "rating refused"
			}
			e.clock.Advance(30*time.Minute + time.Second)
			return !e.answer(c, "", "late words"), "comment taken after the window"
		}},
		{"a button of another question is not a comment", func(e *surveyEnv, c *baton.Conversation) (bool, string) {
			if !e.answer(c, "csat:4", "4 – Good") {
				return false, "rating refused"
			}
			return !e.answer(c, "baton:help:yes", "Yes"), "a button taken as the comment"
		}},
		{"a stale tap after the answer window is a new message", func(e *surveyEnv, c *baton.Conversation) (bool, string) {
			if !e.answer(c, "csat:4", "4 – Good") {
				return false, "rating refused"
			}
			e.clock.Advance(25 * time.Hour)
			return !e.answer(c, "csat:5", "5 – Excellent"), "stale tap swallowed"
		}},
		{"an open conversation takes no answer", func(e *surveyEnv, c *baton.Conversation) (bool, string) {
			maya := "maya"
			c = e.move(c.ID, baton.Transition{To: baton.StateAssigned, AgentID: &maya, Actor: "customer"})
			return !e.answer(c, "", "5"), "rating taken on an assigned conversation"
		}},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				e := newSurveyEnv(t, sc, policy)
				c := e.agentResolved(e.conversation(baton.ChannelWebChat, "en", time.Minute))
				if ok, why := tc.steps(e, c); !ok {
					t.Fatal(why)
				}
			})
		}
	}
}

func TestSurveyAnswerWithoutSurvey(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newSurveyEnv(t, sc, handoff.SurveyPolicy{})
			// Resolved by the bot, which this bot does not survey.
			c := e.resolve(e.conversation(baton.ChannelWebChat, "en", time.Minute).ID, "bot")
			if e.answer(c, "", "5") {
				t.Fatal("a rating without a survey was taken")
			}
		})
	}
}

func TestNewSurveysChecksTexts(t *testing.T) {
	tests := []struct {
		name   string
		policy handoff.SurveyPolicy
		want   string // "" = valid
	}{
		{"built-in languages", handoff.SurveyPolicy{Languages: []string{"en", "tr", "ru"}}, ""},
		{"an override", handoff.SurveyPolicy{Languages: []string{"en"}, Texts: map[string]map[string]string{"en": {"ask": "Rate us 1-5"}}}, ""},
		{"a language without built-in texts", handoff.SurveyPolicy{Languages: []string{"en", "de"}}, "bot shop: texts.de.ask: missing: de has no built-in survey texts"},
		{"an unknown text", handoff.SurveyPolicy{Languages: []string{"en"}, Texts: map[string]map[string]string{"en": {"asks": "x"}}}, "texts.en.asks: unknown text"},
		{"texts of another language", handoff.SurveyPolicy{Languages: []string{"en"}, Texts: map[string]map[string]string{"ru": {"ask": "x"}}}, "not one of the bot's languages"},
		{"a title too long", handoff.SurveyPolicy{Languages: []string{"en"}, Texts: map[string]map[string]string{"en": {"rating_5": "5 – Absolutely wonderful"}}}, "texts.en.rating_5: over 20 characters"},
		{"a template without a language", handoff.SurveyPolicy{Languages: []string{"en"}, Template: &baton.Template{Name: "csat"}}, "template: needs a name and a language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := handoff.NewSurveys(handoff.SurveysConfig{Bots: map[string]handoff.SurveyPolicy{"shop": tc.policy}})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("NewSurveys: %v", err)
			case tc.want != "" && (baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("NewSurveys: %v; want EINVALID with %q", err, tc.want)
			}
		})
	}
}

// countingObserver counts what handoff observes.
type countingObserver struct {
	csat map[string]int
}

func (o *countingObserver) FirstResponse(string, int, time.Duration) {}
func (o *countingObserver) Resolved(string, time.Duration)           {}
func (o *countingObserver) Assigned(string, time.Duration)           {}
func (o *countingObserver) Escalated(string, []string)               {}
func (o *countingObserver) CSATAnswered(bot string, rating int) {
	if o.csat == nil {
		o.csat = map[string]int{}
	}
	o.csat[bot+"/"+strconv.Itoa(rating)]++
}

// TestSurveyTextNamesAreConfigs keeps the names configuration checks
// (config cannot import handoff) the survey's own.
func TestSurveyTextNamesAreConfigs(t *testing.T) {
	if got, want := strings.Join(config.CSATTextNames(), ","), strings.Join(handoff.SurveyTextNames(), ","); got != want {
		t.Fatalf("config knows the csat texts %s, the survey has %s", got, want)
	}
}

// TestSurveyAnswerOnlyFromTheCustomer: an outbound message or a note that
// reads "5" answers nothing; a message not stored yet (no direction) does.
func TestSurveyAnswerOnlyFromTheCustomer(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newSurveyEnv(t, sc, handoff.SurveyPolicy{})
			c := e.agentResolved(e.conversation(baton.ChannelWebChat, "en", time.Minute))
			for _, d := range []baton.Direction{baton.DirectionOut, baton.DirectionNote, ""} {
				var answered bool
				err := e.st.Tx(e.ctx, func(tx baton.Store) error {
					var err error
					answered, err = e.surveys.Answer(e.ctx, tx, c, &baton.Message{Direction: d, Text: "5"})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if answered != (d == "") {
					t.Errorf("direction %q: answered %v", d, answered)
				}
			}
		})
	}
}
