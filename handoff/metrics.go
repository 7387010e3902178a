package handoff

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// Observer is told about the human side as it happens, for the
// Prometheus series (app implements it). Calls come from inside the
// transaction that records the event, so a rolled-back transaction may
// have been counted: the series are for watching trends and alerting,
// Summarize is the record.
type Observer interface {
	// FirstResponse: an agent answered an escalated conversation for the
	// first time, d after the escalation.
	FirstResponse(queue string, priority int, d time.Duration)
	// Resolved: a person resolved a conversation, d after the escalation.
	Resolved(queue string, d time.Duration)
	// Assigned: a conversation left the queue for an agent after waiting
	// d there.
	Assigned(queue string, waited time.Duration)
	// Escalated: the bot handed a conversation to a person for these
	// triggers (none: a person moved it).
	Escalated(queue string, triggers []string)
	// CSATAnswered: a customer rated a conversation of bot.
	CSATAnswered(bot string, rating int)
}

// ContainmentWindow is how long after the bot resolves a conversation the
// customer must stay away for the resolution to count as contained.
const ContainmentWindow = 72 * time.Hour

// DefaultMetricsSpan is the period a summary covers when the query gives
// no start.
const DefaultMetricsSpan = 7 * 24 * time.Hour

// Metrics is the baton.MetricsSource over a store: Summarize with the
// query's defaults taken from the clock.
type Metrics struct {
	Store baton.Store
	Clock baton.Clock // [baton.SystemClock]
}

var _ baton.MetricsSource = (*Metrics)(nil)

// Summary implements baton.MetricsSource: a zero To is now, a zero From
// DefaultMetricsSpan before To, a zero Now the clock's.
func (m *Metrics) Summary(ctx context.Context, q baton.MetricsQuery) (*baton.MetricsSummary, error) {
	var clock baton.Clock = baton.SystemClock{}
	if m.Clock != nil {
		clock = m.Clock
	}
	now := clock.Now()
	if q.Now.IsZero() {
		q.Now = now
	}
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultMetricsSpan)
	}
	return Summarize(ctx, m.Store, q)
}

// Summarize computes the summary of the conversations created in
// [q.From, q.To) (of q.BotID and in q.QueueID, the queue a conversation is
// in or was in last, when set), as they stand at q.Now: a cohort, followed
// to now however late things happened to it. The surveys are those of the
// cohort; agent load is now.
//
//   - escalation: the conversation's first move from the bot to a queue or
//     an agent;
//   - first response: escalation → the first agent reply;
//   - resolution: escalation → the first resolution after it;
//   - time in queue: each wait from entering a queue to the assignment
//     that ended it (a wait that ended otherwise, or has not, is left out);
//   - SLA: answered by FirstResponseDue is met; answered later, or not
//     answered with the due time past at q.Now, is breached; else pending.
//     By the queue it is in and the priority it was escalated with (the
//     packet's; a breach may raise the conversation's own);
//   - containment: resolved by the bot before any escalation, with no
//     re-contact (a new conversation of the same customer and bot, or this
//     one reopened) within ContainmentWindow; pending while that window is
//     open at q.Now;
//   - escalations by trigger: the triggers that fired for the escalation
//     (the packet's, else the escalating decision's), "manual" for none.
func Summarize(ctx context.Context, st baton.Store, q baton.MetricsQuery) (*baton.MetricsSummary, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	now := q.Now
	if now.IsZero() {
		now = q.To
	}
	// The period's conversations, their events in one read, and then only
	// the later conversations a re-contact can be among.
	period, err := st.ListConversations(ctx, baton.ConversationFilter{BotID: q.BotID, CreatedFrom: q.From, CreatedTo: q.To})
	if err != nil {
		return nil, fmt.Errorf("metrics: list conversations: %w", err)
	}
	var ids []int64
	for _, c := range period {
		if q.QueueID == "" || c.QueueID == q.QueueID {
			ids = append(ids, c.ID)
		}
	}
	evs, err := st.ListEventsFor(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("metrics: events of %d conversations: %w", len(ids), err)
	}
	eventsOf := map[int64][]*baton.Event{}
	for _, e := range evs {
		eventsOf[e.ConversationID] = append(eventsOf[e.ConversationID], e)
	}
	facts := make(map[int64]*convFacts, len(ids))
	var lastWindowEnd time.Time
	for _, c := range period {
		if q.QueueID != "" && c.QueueID != q.QueueID {
			continue
		}
		f := factsOf(eventsOf[c.ID])
		facts[c.ID] = f
		if f.botResolvedAt != nil && f.botResolvedAt.Add(ContainmentWindow).After(lastWindowEnd) {
			lastWindowEnd = f.botResolvedAt.Add(ContainmentWindow)
		}
	}
	all := period
	if !lastWindowEnd.Before(q.To) {
		// Containment windows reach past the period: a customer may be
		// back in a conversation created after it. The bound is inclusive.
		later, err := st.ListConversations(ctx, baton.ConversationFilter{BotID: q.BotID, CreatedFrom: q.To, CreatedTo: lastWindowEnd.Add(time.Microsecond)})
		if err != nil {
			return nil, fmt.Errorf("metrics: list conversations: %w", err)
		}
		all = append(slices.Clip(period), later...)
	}
	type customer struct {
		bot string
		id  int64
	}
	byCustomer := map[customer][]*baton.Conversation{}
	for _, c := range all {
		k := customer{c.BotID, c.CustomerID}
		byCustomer[k] = append(byCustomer[k], c)
	}
	sum := &baton.MetricsSummary{From: q.From.UTC(), To: q.To.UTC(), QueueID: q.QueueID, BotID: q.BotID, Now: now.UTC(),
		SLA: []baton.SLAAttainment{}, Escalations: []baton.TriggerRate{}, AgentLoad: []baton.AgentLoadMetric{},
		Containment: baton.Containment{WindowSeconds: ContainmentWindow.Seconds()}}
	var (
		firstResp, resolution, inQueue []time.Duration
		triggers                       = map[string]int{}
		sla                            = map[slaKey]*baton.SLAAttainment{}
		cohort                         = map[int64]*convFacts{}
	)
	for _, c := range period {
		f := facts[c.ID]
		if f == nil {
			continue // another queue's
		}
		if err := readEscalation(ctx, st, c, f); err != nil {
			return nil, err
		}
		cohort[c.ID] = f
		sum.Conversations++
		inQueue = append(inQueue, f.waits...)
		if f.botResolvedAt != nil {
			sum.Containment.BotResolved++
			switch {
			case recontacted(c, f, byCustomer[customer{c.BotID, c.CustomerID}]):
				sum.Containment.ReContacted++
			case now.Before(f.botResolvedAt.Add(ContainmentWindow)):
				sum.Containment.Pending++
			default:
				sum.Containment.Contained++
			}
		}
		if f.escalatedAt == nil {
			continue
		}
		sum.Escalated++
		for _, t := range f.triggers {
			triggers[t]++
		}
		if r := c.FirstAgentReplyAt; r != nil && !r.Before(*f.escalatedAt) {
			firstResp = append(firstResp, r.Sub(*f.escalatedAt))
		}
		if f.resolvedAt != nil {
			resolution = append(resolution, f.resolvedAt.Sub(*f.escalatedAt))
		}
		if due := c.FirstResponseDue; due != nil {
			k := slaKey{c.QueueID, f.priority}
			a := sla[k]
			if a == nil {
				a = &baton.SLAAttainment{QueueID: c.QueueID, Priority: baton.PriorityName(f.priority)}
				sla[k] = a
			}
			switch r := c.FirstAgentReplyAt; {
			case r != nil && !r.After(*due):
				a.Met++
			case r != nil || now.After(*due):
				a.Breached++
			default:
				a.Pending++
			}
		}
	}
	sum.FirstResponse = durationStats(firstResp)
	sum.Resolution = durationStats(resolution)
	sum.TimeInQueue = durationStats(inQueue)
	ct := &sum.Containment
	ct.Handled = sum.Conversations
	ct.Rate = ratio(ct.Contained, ct.Handled-ct.Pending)
	keys := make([]slaKey, 0, len(sla))
	for k := range sla {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b slaKey) int {
		return cmp.Or(cmp.Compare(a.queue, b.queue), cmp.Compare(a.priority, b.priority))
	})
	for _, k := range keys {
		a := sla[k]
		a.Rate = ratio(a.Met, a.Met+a.Breached)
		sum.SLA = append(sum.SLA, *a)
	}
	for _, t := range sortedKeys(triggers) {
		sum.Escalations = append(sum.Escalations, baton.TriggerRate{Trigger: t, Count: triggers[t], Rate: ratio(triggers[t], sum.Conversations)})
	}
	if sum.CSAT, err = csatSummary(ctx, st, q, cohort); err != nil {
		return nil, err
	}
	if sum.AgentLoad, err = agentLoad(ctx, st, q.BotID); err != nil {
		return nil, err
	}
	return sum, nil
}

type slaKey struct {
	queue    string
	priority int
}

// convFacts is what one conversation's history says.
type convFacts struct {
	escalatedAt   *time.Time
	resolvedAt    *time.Time // the first resolution after the escalation
	botResolvedAt *time.Time // the bot's resolution, before any escalation
	reopenedAt    []time.Time
	waits         []time.Duration
	triggers      []string // of the escalation
	priority      int      // of the escalation
}

// factsOf reads what a conversation's events (in order) say.
func factsOf(evs []*baton.Event) *convFacts {
	f := &convFacts{}
	var queuedAt *time.Time
	for _, e := range evs {
		if e.Type != "transition" {
			continue
		}
		at := e.At
		switch {
		case f.escalatedAt == nil && f.botResolvedAt == nil && e.From == baton.StateBot &&
			(e.To == baton.StateQueued || e.To == baton.StateAssigned):
			f.escalatedAt = &at
		case f.escalatedAt == nil && f.botResolvedAt == nil && e.From == baton.StateBot && e.To == baton.StateResolved:
			f.botResolvedAt = &at
		case f.escalatedAt != nil && f.resolvedAt == nil && e.To == baton.StateResolved:
			f.resolvedAt = &at
		}
		if e.From == baton.StateResolved {
			f.reopenedAt = append(f.reopenedAt, at)
		}
		// A wait starts on entering a queue (a transfer between queues
		// goes on waiting) and counts when an assignment ends it.
		switch {
		case e.To == baton.StateQueued && e.From != baton.StateQueued:
			queuedAt = &at
		case e.From == baton.StateQueued && e.To == baton.StateAssigned && queuedAt != nil:
			f.waits = append(f.waits, at.Sub(*queuedAt))
		}
	}
	return f
}

// readEscalation adds to f what escalated c, from its packet, else its
// escalating decision: the triggers and the priority.
func readEscalation(ctx context.Context, st baton.Store, c *baton.Conversation, f *convFacts) error {
	if f.escalatedAt == nil {
		return nil
	}
	f.priority = c.Priority
	p, err := st.GetPacket(ctx, c.ID)
	switch {
	case err == nil:
		f.priority = p.Priority
		for _, r := range p.Reasons {
			if r.Fired {
				f.triggers = append(f.triggers, r.Trigger)
			}
		}
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		p = nil
	default:
		return fmt.Errorf("metrics: packet of conversation %d: %w", c.ID, err)
	}
	if p == nil {
		// No packet: the escalating decision says why.
		ds, err := st.ListDecisions(ctx, c.ID, 0)
		if err != nil {
			return fmt.Errorf("metrics: decisions of conversation %d: %w", c.ID, err)
		}
		for _, d := range ds {
			if d.Action != baton.ActionEscalate {
				continue
			}
			for _, t := range d.Triggers {
				if t.Fired {
					f.triggers = append(f.triggers, t.Trigger)
				}
			}
			break
		}
	}
	if len(f.triggers) == 0 {
		f.triggers = []string{"manual"}
	}
	slices.Sort(f.triggers)
	f.triggers = slices.Compact(f.triggers)
	return nil
}

// recontacted reports whether the customer came back within the
// containment window after the bot resolved c: a conversation of theirs
// created in that window, or c reopened in it.
func recontacted(c *baton.Conversation, f *convFacts, theirs []*baton.Conversation) bool {
	end := f.botResolvedAt.Add(ContainmentWindow)
	within := func(t time.Time) bool { return t.After(*f.botResolvedAt) && !t.After(end) }
	for _, at := range f.reopenedAt {
		if within(at) {
			return true
		}
	}
	for _, o := range theirs {
		if o.ID != c.ID && within(o.CreatedAt) {
			return true
		}
	}
	return false
}

func csatSummary(ctx context.Context, st baton.Store, q baton.MetricsQuery, cohort map[int64]*convFacts) (baton.CSATSummary, error) {
	out := baton.CSATSummary{ByBot: []baton.CSATGroup{}, ByQueue: []baton.CSATGroup{}, ByAgent: []baton.CSATGroup{}, ByTrigger: []baton.CSATGroup{}, ByResolver: []baton.CSATGroup{}}
	// A survey follows its conversation's creation.
	list, err := st.ListCSAT(ctx, baton.CSATFilter{BotID: q.BotID, Since: q.From})
	if err != nil {
		return out, fmt.Errorf("metrics: list CSAT: %w", err)
	}
	groups := map[string]map[string]*baton.CSATFigures{"bot": {}, "queue": {}, "agent": {}, "trigger": {}, "resolver": {}}
	add := func(kind, key string, c *baton.CSAT) {
		g := groups[kind][key]
		if g == nil {
			g = &baton.CSATFigures{}
			groups[kind][key] = g
		}
		count(g, c)
	}
	for _, c := range list {
		f, ok := cohort[c.ConversationID]
		if !ok {
			continue
		}
		count(&out.CSATFigures, c)
		add("bot", c.BotID, c)
		if c.QueueID != "" {
			add("queue", c.QueueID, c)
		}
		if c.AgentID != "" {
			add("agent", c.AgentID, c)
		}
		resolver := "agent"
		if c.BotResolved {
			resolver = "bot"
		}
		add("resolver", resolver, c)
		if len(f.triggers) == 0 {
			add("trigger", "none", c)
		}
		for _, t := range f.triggers {
			add("trigger", t, c)
		}
	}
	finish(&out.CSATFigures)
	for kind, dst := range map[string]*[]baton.CSATGroup{"bot": &out.ByBot, "queue": &out.ByQueue, "agent": &out.ByAgent, "trigger": &out.ByTrigger, "resolver": &out.ByResolver} {
		for _, k := range sortedKeys(groups[kind]) {
			g := groups[kind][k]
			finish(g)
			*dst = append(*dst, baton.CSATGroup{Key: k, CSATFigures: *g})
		}
	}
	return out, nil
}

// count adds one survey to g; finish computes g's average and rate.
func count(g *baton.CSATFigures, c *baton.CSAT) {
	g.Requested++
	if c.AnsweredAt != nil && c.Rating >= baton.MinCSATRating && c.Rating <= baton.MaxCSATRating {
		g.Answered++
		g.Ratings[c.Rating-1]++
		if c.Comment != "" {
			g.Commented++
		}
	}
}

func finish(g *baton.CSATFigures) {
	total := 0
	for i, n := range g.Ratings {
		total += (i + 1) * n
	}
	g.Average = ratio(total, g.Answered)
	g.ResponseRate = ratio(g.Answered, g.Requested)
}

func agentLoad(ctx context.Context, st baton.Store, bot string) ([]baton.AgentLoadMetric, error) {
	loads, err := st.AgentLoads(ctx, bot)
	if err != nil {
		return nil, fmt.Errorf("metrics: agent loads: %w", err)
	}
	out := make([]baton.AgentLoadMetric, 0, len(loads))
	for _, l := range loads {
		m := baton.AgentLoadMetric{AgentID: l.ID, Status: l.Status}
		for _, n := range l.Open {
			m.Open += n
		}
		for _, n := range l.Capacity {
			m.Capacity += n
		}
		m.Utilisation = ratio(m.Open, m.Capacity)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b baton.AgentLoadMetric) int { return cmp.Compare(a.AgentID, b.AgentID) })
	return out, nil
}

// durationStats summarises ds: the median and 90th percentile interpolate
// linearly between the closest ranks (the median of 1, 2, 3, 4 is 2.5).
func durationStats(ds []time.Duration) baton.DurationStats {
	if len(ds) == 0 {
		return baton.DurationStats{}
	}
	s := make([]float64, len(ds))
	total := 0.0
	for i, d := range ds {
		s[i] = d.Seconds()
		total += s[i]
	}
	slices.Sort(s)
	return baton.DurationStats{Count: len(s), Median: percentile(s, 0.5), P90: percentile(s, 0.9), Mean: total / float64(len(s))}
}

// percentile of sorted s at p in [0, 1], by linear interpolation between
// the closest ranks: rank p·(n−1).
func percentile(s []float64, p float64) float64 {
	rank := p * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return s[lo] + (s[hi]-s[lo])*(rank-float64(lo))
}

func ratio(a, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
