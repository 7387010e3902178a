package handoff_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/store/storecase"
)

// history builds, on a clock it moves, the conversations the summary test
// reads. Times are minutes after day0.
type history struct {
	t     *testing.T
	ctx   context.Context
	st    baton.Store
	clock *baton.ManualClock
	ids   map[string]int64 // conversation name → id
}

func (h *history) at(min int) { h.clock.Set(day0.Add(time.Duration(min) * time.Minute)) }

func (h *history) create(name, bot string, customer string, ch baton.ChannelKind, min int) {
	h.t.Helper()
	h.at(min)
	cust, err := h.st.UpsertCustomerByIdentity(h.ctx, baton.ChannelIdentity{BotID: bot, Channel: baton.ChannelWebChat, Address: customer}, "")
	if err != nil {
		h.t.Fatal(err)
	}
	c := &baton.Conversation{BotID: bot, CustomerID: cust.ID, Channel: ch, Address: customer, State: baton.StateBot, Language: "en"}
	if err := h.st.CreateConversation(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
	h.ids[name] = c.ID
}

func (h *history) move(name string, min int, tr baton.Transition) {
	h.t.Helper()
	h.at(min)
	if tr.Actor == "" {
		tr.Actor = "system"
	}
	if _, _, err := h.st.TransitionConversation(h.ctx, h.ids[name], tr); err != nil {
		h.t.Fatalf("%s to %s at %d: %v", name, tr.To, min, err)
	}
}

func (h *history) escalate(name string, min int, queue string, prio int, due int) {
	h.t.Helper()
	d := day0.Add(time.Duration(due) * time.Minute)
	h.move(name, min, baton.Transition{To: baton.StateQueued, QueueID: &queue, Priority: &prio, FirstResponseDue: &d})
}

func (h *history) assign(name string, min int, agent string) {
	h.t.Helper()
	h.move(name, min, baton.Transition{To: baton.StateAssigned, AgentID: &agent})
}

func (h *history) reply(name string, min int, agent string) {
	h.t.Helper()
	h.at(min)
	m := &baton.Message{ConversationID: h.ids[name], BotID: "shop", Channel: baton.ChannelWebChat, Direction: baton.DirectionOut,
		Author: baton.AuthorAgent, AuthorID: agent, Type: baton.TypeText, Text: "Hello, I'm on it.", CreatedAt: h.clock.Now()}
	if _, err := h.st.InsertMessage(h.ctx, m); err != nil {
		h.t.Fatal(err)
	}
}

func (h *history) packet(name string, prio int, fired ...string) {
	h.t.Helper()
	p := &baton.HandoffPacket{ConversationID: h.ids[name], Priority: prio, QueueID: "general",
		Reasons: []baton.TriggerResult{{Trigger: baton.TriggerSentimentTrend, Value: -0.1, Threshold: -0.4}}}
	for _, f := range fired {
		p.Reasons = append(p.Reasons, baton.TriggerResult{Trigger: f, Fired: true})
	}
	if err := h.st.SavePacket(h.ctx, p); err != nil {
		h.t.Fatal(err)
	}
}

func (h *history) survey(name, bot, queue, agent string, botResolved bool, min int, rating int) {
	h.t.Helper()
	c := &baton.CSAT{ConversationID: h.ids[name], Resolution: 1, BotID: bot, QueueID: queue, AgentID: agent,
		Channel: baton.ChannelWebChat, BotResolved: botResolved, RequestedAt: day0.Add(time.Duration(min) * time.Minute)}
	if _, err := h.st.RequestCSAT(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
	if rating > 0 {
		at := c.RequestedAt.Add(time.Minute)
		if _, err := h.st.AnswerCSAT(h.ctx, baton.CSATAnswer{ConversationID: c.ConversationID, Resolution: 1, Rating: rating, At: at}); err != nil {
			h.t.Fatal(err)
		}
	}
}

// build writes the history the figures of TestSummarize are computed
// from by hand (minutes after day0; the period is the first day):
//
//	A  shop, escalated at 1 (general, normal, due 11; wants_human), maya
//	   at 3, her first reply at 6, resolved at 31; rated 5, with a comment.
//	B  shop, created at 60, escalated at 60 (billing, high, due 65;
//	   negative_sentiment and wants_human), maya at 64, first reply at 70
//	   (late), transferred to general at 80 and raised to urgent, sam at
//	   86, resolved at 120; surveyed, no answer.
//	C  shop, created at 120, resolved by the bot at 125, its customer back
//	   only a minute after 72 h (C2): contained; rated 4.
//	D  shop, created at 180, resolved by the bot at 185; E, the same
//	   customer, at 185+24h (after the period): re-contacted.
//	F  shop, created at 240, escalated at 241 (general, low, due 271) with
//	   no packet, the bot's decision fired loop; never answered.
//	G  shop, created at 1380, still with the bot.
//	I  shop, created at 1200, resolved by the bot on day 4: within 72 h
//	   of the summary's now (day 5), pending.
//	L  shop, created the day before, still with maya (her load).
//	N  shop, created at 1300, escalated at 1301 by a person (general,
//	   urgent, due on day 6): not answered yet, not due at the summary's now.
//	M  bank, created at 300, resolved by the bot at 301.
func (h *history) build() {
	const day = 24 * 60
	h.create("L", "shop", "cust-l", baton.ChannelWebChat, -120)
	h.escalate("L", -119, "general", baton.PriorityNormal, -100)
	h.assign("L", -118, "maya")

	h.create("A", "shop", "cust-a", baton.ChannelWebChat, 0)
	h.escalate("A", 1, "general", baton.PriorityNormal, 11)
	h.packet("A", baton.PriorityNormal, baton.TriggerWantsHuman)
	h.assign("A", 3, "maya")
	h.reply("A", 6, "maya")
	h.move("A", 31, baton.Transition{To: baton.StateResolved})
	h.survey("A", "shop", "general", "maya", false, 31, 5)
	if _, err := h.st.CommentCSAT(h.ctx, h.ids["A"], 0, "Quick and kind."); err != nil {
		h.t.Fatal(err)
	}

	h.create("B", "shop", "cust-b", baton.ChannelWebChat, 60)
	h.escalate("B", 60, "billing", baton.PriorityHigh, 65)
	h.packet("B", baton.PriorityHigh, baton.TriggerWantsHuman, baton.TriggerNegativeSentiment)
	h.assign("B", 64, "maya")
	h.reply("B", 70, "maya")
	general := "general"
	urgent := baton.PriorityUrgent
	h.move("B", 80, baton.Transition{To: baton.StateQueued, QueueID: &general, Priority: &urgent})
	h.assign("B", 86, "sam")
	h.move("B", 120, baton.Transition{To: baton.StateResolved})
	h.survey("B", "shop", "general", "sam", false, 120, 0)

	h.create("C", "shop", "cust-c", baton.ChannelSMS, 120)
	h.move("C", 125, baton.Transition{To: baton.StateResolved, Actor: "bot"})
	h.survey("C", "shop", "", "", true, 125, 4)
	h.create("C2", "shop", "cust-c", baton.ChannelSMS, 125+3*day+1)

	h.create("D", "shop", "cust-d", baton.ChannelWebChat, 180)
	h.move("D", 185, baton.Transition{To: baton.StateResolved, Actor: "bot"})
	h.create("E", "shop", "cust-d", baton.ChannelWebChat, 185+day)

	h.create("F", "shop", "cust-f", baton.ChannelWebChat, 240)
	h.at(240)
	if err := h.st.InsertDecision(h.ctx, &baton.Decision{ConversationID: h.ids["F"], Action: baton.ActionEscalate,
		Triggers: []baton.TriggerResult{{Trigger: baton.TriggerLoop, Value: 0.9, Threshold: 0.75, Fired: true},
			{Trigger: baton.TriggerWantsHuman}}}); err != nil {
		h.t.Fatal(err)
	}
	h.escalate("F", 241, "general", baton.PriorityLow, 271)

	h.create("G", "shop", "cust-g", baton.ChannelWebChat, 1380)
	h.create("I", "shop", "cust-i", baton.ChannelWebChat, 1200)
	h.move("I", 4*day, baton.Transition{To: baton.StateResolved, Actor: "bot"})

	h.create("N", "shop", "cust-n", baton.ChannelWebChat, 1300)
	h.escalate("N", 1301, "general", baton.PriorityUrgent, 6*day)

	h.create("M", "bank", "cust-m", baton.ChannelWebChat, 300)
	h.move("M", 301, baton.Transition{To: baton.StateResolved, Actor: "bot"})
}

func newHistory(t *testing.T, sc storecase.Case) *history {
	t.Helper()
	clk := baton.NewManualClock(day0)
	st := sc.Open(t, clk)
	ctx := context.Background()
	for _, a := range []*baton.Agent{
		{ID: "maya", BotID: "shop", Name: "Maya", Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 3, baton.ChannelWhatsApp: 2}},
		{ID: "sam", BotID: "shop", Name: "Sam", Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 4}},
		{ID: "lee", BotID: "bank", Name: "Lee", Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 2}},
	} {
		if err := st.UpsertAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetAgentStatus(ctx, "maya", baton.AgentOnline); err != nil {
		t.Fatal(err)
	}
	h := &history{t: t, ctx: ctx, st: st, clock: clk, ids: map[string]int64{}}
	h.build()
	return h
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSummarize(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			h := newHistory(t, sc)
			q := baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), BotID: "shop", Now: day0.Add(5 * 24 * time.Hour)}
			s, err := handoff.Summarize(h.ctx, h.st, q)
			if err != nil {
				t.Fatal(err)
			}
			// A, B, C, D, F, G, I, N; not L (before), E (after), M (bank).
			if s.Conversations != 8 || s.Escalated != 4 {
				t.Errorf("conversations %d, escalated %d; want 8 and 4", s.Conversations, s.Escalated)
			}
			stats := []struct {
				name string
				got  baton.DurationStats
				want baton.DurationStats
			}{
				// A 5 min, B 10 min.
				{"first response", s.FirstResponse, baton.DurationStats{Count: 2, Median: 450, P90: 570, Mean: 450}},
				// A 30 min, B 60 min.
				{"resolution", s.Resolution, baton.DurationStats{Count: 2, Median: 2700, P90: 3420, Mean: 2700}},
				// A 2 min, B 4 and 6 min; F still waits.
				{"time in queue", s.TimeInQueue, baton.DurationStats{Count: 3, Median: 240, P90: 336, Mean: 240}},
			}
			for _, st := range stats {
				g, w := st.got, st.want
				if g.Count != w.Count || !near(g.Median, w.Median) || !near(g.P90, w.P90) || !near(g.Mean, w.Mean) {
					t.Errorf("%s: %+v, want %+v", st.name, g, w)
				}
			}
			wantSLA := []baton.SLAAttainment{
				{QueueID: "general", Priority: "low", Breached: 1},        // F: no answer, due long past
				{QueueID: "general", Priority: "normal", Met: 1, Rate: 1}, // A
				{QueueID: "general", Priority: "high", Breached: 1},       // B: late, escalated high to billing, now in general
				{QueueID: "general", Priority: "urgent", Pending: 1},      // N: not due yet
			}
			if len(s.SLA) != len(wantSLA) {
				t.Fatalf("SLA %+v, want %+v", s.SLA, wantSLA)
			}
			for i, w := range wantSLA {
				if s.SLA[i] != w {
					t.Errorf("SLA[%d] = %+v, want %+v", i, s.SLA[i], w)
				}
			}
			wantCt := baton.Containment{WindowSeconds: 72 * 3600, Handled: 8, BotResolved: 3, ReContacted: 1, Pending: 1, Contained: 1, Rate: 1.0 / 7}
			if ct := s.Containment; ct.Handled != wantCt.Handled || ct.BotResolved != wantCt.BotResolved || ct.ReContacted != wantCt.ReContacted ||
				ct.Pending != wantCt.Pending || ct.Contained != wantCt.Contained || !near(ct.Rate, wantCt.Rate) || ct.WindowSeconds != wantCt.WindowSeconds {
				t.Errorf("containment %+v, want %+v", ct, wantCt)
			}
			wantEsc := []baton.TriggerRate{{Trigger: "loop", Count: 1, Rate: 1.0 / 8}, {Trigger: "manual", Count: 1, Rate: 1.0 / 8},
				{Trigger: "negative_sentiment", Count: 1, Rate: 1.0 / 8}, {Trigger: "wants_human", Count: 2, Rate: 2.0 / 8}}
			if len(s.Escalations) != len(wantEsc) {
				t.Fatalf("escalations %+v, want %+v", s.Escalations, wantEsc)
			}
			for i, w := range wantEsc {
				if g := s.Escalations[i]; g.Trigger != w.Trigger || g.Count != w.Count || !near(g.Rate, w.Rate) {
					t.Errorf("escalations[%d] = %+v, want %+v", i, g, w)
				}
			}
			checkCSAT(t, s.CSAT)
			wantLoad := []baton.AgentLoadMetric{
				{AgentID: "maya", Status: baton.AgentOnline, Open: 1, Capacity: 5, Utilisation: 0.2}, // L
				{AgentID: "sam", Status: baton.AgentOffline, Open: 0, Capacity: 4},
			}
			if len(s.AgentLoad) != 2 || s.AgentLoad[0] != wantLoad[0] || s.AgentLoad[1] != wantLoad[1] {
				t.Errorf("agent load %+v, want %+v", s.AgentLoad, wantLoad)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func checkCSAT(t *testing.T, c baton.CSATSummary) {
	t.Helper()
	fig := func(req, ans, commented int, avg float64, ratings ...int) baton.CSATFigures {
		f := baton.CSATFigures{Requested: req, Answered: ans, Commented: commented, Average: avg}
		if req > 0 {
			f.ResponseRate = float64(ans) / float64(req)
		}
		for _, r := range ratings {
			f.Ratings[r-1]++
		}
		return f
	}
	same := func(what string, got, want baton.CSATFigures) {
		if got.Requested != want.Requested || got.Answered != want.Answered || got.Commented != want.Commented || !near(got.Average, want.Average) ||
			!near(got.ResponseRate, want.ResponseRate) || got.Ratings != want.Ratings {
			t.Errorf("CSAT %s: %+v, want %+v", what, got, want)
		}
	}
	// A 5 with a comment, B unanswered, C 4 (bot); M is bank's.
	same("overall", c.CSATFigures, fig(3, 2, 1, 4.5, 5, 4))
	groups := []struct {
		name string
		got  []baton.CSATGroup
		want map[string]baton.CSATFigures
	}{
		{"by bot", c.ByBot, map[string]baton.CSATFigures{"shop": fig(3, 2, 1, 4.5, 5, 4)}},
		{"by queue", c.ByQueue, map[string]baton.CSATFigures{"general": fig(2, 1, 1, 5, 5)}},
		{"by agent", c.ByAgent, map[string]baton.CSATFigures{"maya": fig(1, 1, 1, 5, 5), "sam": fig(1, 0, 0, 0)}},
		{"by trigger", c.ByTrigger, map[string]baton.CSATFigures{"wants_human": fig(2, 1, 1, 5, 5), "negative_sentiment": fig(1, 0, 0, 0), "none": fig(1, 1, 0, 4, 4)}},
		{"by resolver", c.ByResolver, map[string]baton.CSATFigures{"agent": fig(2, 1, 1, 5, 5), "bot": fig(1, 1, 0, 4, 4)}},
	}
	for _, g := range groups {
		if len(g.got) != len(g.want) {
			t.Errorf("CSAT %s: %+v, want %d groups", g.name, g.got, len(g.want))
			continue
		}
		for i, grp := range g.got {
			if i > 0 && g.got[i-1].Key >= grp.Key {
				t.Errorf("CSAT %s: not sorted by key", g.name)
			}
			same(g.name+" "+grp.Key, grp.CSATFigures, g.want[grp.Key])
		}
	}
}

func TestSummarizeFilters(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			h := newHistory(t, sc)
			now := day0.Add(5 * 24 * time.Hour)
			tests := []struct {
				name  string
				q     baton.MetricsQuery
				check func(t *testing.T, s *baton.MetricsSummary)
			}{
				{"every bot", baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), Now: now}, func(t *testing.T, s *baton.MetricsSummary) {
					if s.Conversations != 9 || s.Containment.Contained != 2 || len(s.AgentLoad) != 3 {
						t.Errorf("conversations %d, contained %d, agents %d; want 9, 2 (C, M), 3", s.Conversations, s.Containment.Contained, len(s.AgentLoad))
					}
				}},
				{"one bot", baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), BotID: "bank", Now: now}, func(t *testing.T, s *baton.MetricsSummary) {
					if s.Conversations != 1 || s.Containment.Contained != 1 || s.Containment.Rate != 1 || s.Escalated != 0 || len(s.AgentLoad) != 1 {
						t.Errorf("bank: %+v", s)
					}
				}},
				{"one queue", baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), BotID: "shop", QueueID: "general", Now: now}, func(t *testing.T, s *baton.MetricsSummary) {
					// A, B (transferred to general), F, N.
					if s.Conversations != 4 || s.Escalated != 4 || s.Containment.BotResolved != 0 || s.CSAT.Requested != 2 || s.FirstResponse.Count != 2 {
						t.Errorf("general: %+v", s)
					}
				}},
				{"a queue nothing went to", baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), QueueID: "billing", Now: now}, func(t *testing.T, s *baton.MetricsSummary) {
					if s.Conversations != 0 || s.FirstResponse.Count != 0 || s.CSAT.Requested != 0 {
						t.Errorf("billing: %+v", s)
					}
				}},
				{"the first hour: A only", baton.MetricsQuery{From: day0, To: day0.Add(time.Hour), BotID: "shop", Now: now}, func(t *testing.T, s *baton.MetricsSummary) {
					if s.Conversations != 1 || s.FirstResponse.Count != 1 || s.FirstResponse.Median != 300 || s.Resolution.Mean != 1800 {
						t.Errorf("first hour: %+v", s)
					}
				}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s, err := handoff.Summarize(h.ctx, h.st, tc.q)
					if err != nil {
						t.Fatal(err)
					}
					tc.check(t, s)
				})
			}
		})
	}
}

// TestSummarizeQueueWaits: a wait counts only when an assignment ends it.
func TestSummarizeQueueWaits(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			clk := baton.NewManualClock(day0)
			h := &history{t: t, ctx: context.Background(), st: sc.Open(t, clk), clock: clk, ids: map[string]int64{}}
			for _, id := range []string{"maya"} {
				if err := h.st.UpsertAgent(h.ctx, &baton.Agent{ID: id, Name: id}); err != nil {
					t.Fatal(err)
				}
			}
			// P waits 10 min and is resolved from the queue, then reopens
			// to maya: no wait ended in an assignment.
			h.create("P", "shop", "cust-p", baton.ChannelWebChat, 0)
			h.escalate("P", 0, "general", baton.PriorityNormal, 30)
			h.move("P", 10, baton.Transition{To: baton.StateResolved})
			h.assign("P", 60, "maya")
			// Q waits 5 min, goes back to the bot, is queued again at 20
			// and assigned at 23: one wait of 3 min.
			h.create("Q", "shop", "cust-q", baton.ChannelWebChat, 0)
			h.escalate("Q", 0, "general", baton.PriorityNormal, 30)
			h.move("Q", 5, baton.Transition{To: baton.StateBot})
			h.escalate("Q", 20, "general", baton.PriorityNormal, 50)
			h.assign("Q", 23, "maya")
			s, err := handoff.Summarize(h.ctx, h.st, baton.MetricsQuery{From: day0, To: day0.Add(time.Hour), Now: day0.Add(2 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if w := s.TimeInQueue; w.Count != 1 || w.Median != 180 || w.Mean != 180 {
				t.Fatalf("time in queue %+v, want one wait of 180 s", w)
			}
		})
	}
}

// TestSummarizeRecontactWindow: Summarize reads the conversations created
// after the period only as far as the last containment window reaches, and
// a customer back at its very end (or in the period) has re-contacted.
func TestSummarizeRecontactWindow(t *testing.T) {
	const window = 72 * 60 // minutes
	tests := []struct {
		name        string
		back        int // minutes after the bot resolved; 0 = never
		recontacted bool
	}{
		{"back within the period", 30, true},
		{"back after the period, within the window", 2 * 24 * 60, true},
		{"back at the end of the window", window, true},
		{"back a minute after it", window + 1, false},
		{"never back", 0, false},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				clk := baton.NewManualClock(day0)
				h := &history{t: t, ctx: context.Background(), st: sc.Open(t, clk), clock: clk, ids: map[string]int64{}}
				// R is resolved by the bot at 600 (the period is the
				// first day); another customer's S comes at the very end of
				// the window, and is no re-contact of R's.
				h.create("R", "shop", "cust-r", baton.ChannelWebChat, 590)
				h.move("R", 600, baton.Transition{To: baton.StateResolved, Actor: "bot"})
				h.create("S", "shop", "cust-s", baton.ChannelWebChat, 600+window)
				if tc.back > 0 {
					h.create("R2", "shop", "cust-r", baton.ChannelWebChat, 600+tc.back)
				}
				s, err := handoff.Summarize(h.ctx, h.st, baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), BotID: "shop",
					Now: day0.Add(10 * 24 * time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				want := baton.Containment{BotResolved: 1, Contained: 1}
				if tc.recontacted {
					want = baton.Containment{BotResolved: 1, ReContacted: 1}
				}
				if ct := s.Containment; ct.BotResolved != want.BotResolved || ct.ReContacted != want.ReContacted || ct.Contained != want.Contained || ct.Pending != 0 {
					t.Fatalf("containment %+v, want %+v", ct, want)
				}
			})
		}
	}
}

func TestSummarizeRefusesBadQueries(t *testing.T) {
	st := stores()[0].Open(t, baton.NewManualClock(day0))
	tests := []struct {
		name string
		q    baton.MetricsQuery
		want string
	}{
		{"no from", baton.MetricsQuery{To: day0}, "from is required"},
		{"no to", baton.MetricsQuery{From: day0}, "to is required"},
		{"from after to", baton.MetricsQuery{From: day0.Add(time.Hour), To: day0}, "must be before to"},
		{"an empty period", baton.MetricsQuery{From: day0, To: day0}, "must be before to"},
		{"over a year", baton.MetricsQuery{From: day0, To: day0.Add(367 * 24 * time.Hour)}, "longer than 366 days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := handoff.Summarize(context.Background(), st, tc.q)
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Summarize: %v; want EINVALID saying %q", err, tc.want)
			}
		})
	}
}

func TestMetricsDefaults(t *testing.T) {
	clk := baton.NewManualClock(day0.Add(5 * 24 * time.Hour))
	st := stores()[0].Open(t, clk)
	m := &handoff.Metrics{Store: st, Clock: clk}
	s, err := m.Summary(context.Background(), baton.MetricsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.To.Equal(clk.Now()) || !s.From.Equal(clk.Now().Add(-7*24*time.Hour)) || !s.Now.Equal(clk.Now()) {
		t.Fatalf("period %s – %s at %s; want the week to now", s.From, s.To, s.Now)
	}
	if _, err := m.Summary(context.Background(), baton.MetricsQuery{From: clk.Now().Add(time.Hour)}); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("a start after now: %v; want EINVALID", err)
	}
}
