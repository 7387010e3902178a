package handoff_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

var (
	scenarioKinds  = []baton.ChannelKind{baton.ChannelWebChat, baton.ChannelWhatsApp, baton.ChannelSMS, baton.ChannelMessenger}
	scenarioLangs  = []string{"en", "es", "fr", "de"}
	scenarioTopics = []string{"billing", "tech", "returns"}
)

// scenario is a random snapshot: agents of one bot or every bot, online or
// not, with one or two languages and a few topics, capacity on some kinds
// (zero included) and loads up to one over it, last assignments on a coarse
// clock so that ties happen; items with a language and topics, every kind
// and priority, queued on a coarse clock too, some reopened to a known or
// unknown agent.
func scenario(rng *rand.Rand, nAgents, nItems int) ([]handoff.AgentState, []handoff.Item) {
	bots := []string{"shop", "bank"}
	pick := func(from []string, n int) []string {
		p := rng.Perm(len(from))[:n]
		out := make([]string, n)
		for i, j := range p {
			out[i] = from[j]
		}
		return out
	}
	agents := make([]handoff.AgentState, nAgents)
	for i := range agents {
		a := handoff.AgentState{ID: fmt.Sprintf("a%03d", i), Status: baton.AgentOnline,
			Capacity: map[baton.ChannelKind]int{}, Load: map[baton.ChannelKind]int{}}
		switch r := rng.IntN(20); {
		case r < 3:
			a.BotID = "shop"
		case r < 6:
			a.BotID = "bank"
		}
		switch r := rng.IntN(20); {
		case r < 3:
			a.Status = baton.AgentAway
		case r < 5:
			a.Status = baton.AgentOffline
		}
		a.Skills = append(pick(scenarioLangs, 1+rng.IntN(2)), pick(scenarioTopics, rng.IntN(4))...)
		for _, k := range scenarioKinds {
			if rng.IntN(10) < 6 {
				a.Capacity[k] = rng.IntN(5)
			}
			if n := rng.IntN(a.Capacity[k] + 2); n > 0 {
				a.Load[k] = n
			}
		}
		if rng.IntN(10) < 7 {
			a.LastAssignedAt = at(-rng.IntN(20))
		}
		agents[i] = a
	}
	items := make([]handoff.Item, nItems)
	ids := rng.Perm(nItems)
	for i := range items {
		it := handoff.Item{ConversationID: int64(ids[i] + 1), BotID: bots[rng.IntN(2)], QueueID: "q",
			Skills:   append(pick(scenarioTopics, rng.IntN(3)), pick(scenarioLangs, 1)...),
			Channel:  scenarioKinds[rng.IntN(len(scenarioKinds))],
			Priority: rng.IntN(4), QueuedAt: at(rng.IntN(10))}
		if rng.IntN(10) == 0 && nAgents > 0 {
			it.Preferred = agents[rng.IntN(nAgents)].ID
			if rng.IntN(4) == 0 {
				it.Preferred = "gone"
			}
		}
		items[i] = it
	}
	return agents, items
}

// serveOrder is the documented serving order, written out again.
func serveOrder(a, b handoff.Item) int {
	return cmp.Or(-cmp.Compare(a.Priority, b.Priority), a.QueuedAt.Compare(b.QueuedAt), cmp.Compare(a.ConversationID, b.ConversationID))
}

// canTake is the documented eligibility, room aside: online, works for the
// bot, has capacity on the kind, and has every skill or is the agent the
// conversation was reopened to.
func canTake(a *handoff.AgentState, it handoff.Item) bool {
	if a.Status != baton.AgentOnline || (a.BotID != "" && a.BotID != it.BotID) || a.Capacity[it.Channel] <= 0 {
		return false
	}
	if it.Preferred == a.ID {
		return true
	}
	for _, s := range it.Skills {
		if !slices.Contains(a.Skills, s) {
			return false
		}
	}
	return true
}

func sum(m map[baton.ChannelKind]int) int {
	n := 0
	for _, v := range m {
		n += max(v, 0)
	}
	return n
}

// reference plans the slow, obvious way: sort, then for each conversation
// look at every agent.
func reference(items []handoff.Item, agents []handoff.AgentState) []handoff.Offer {
	type state struct {
		a          *handoff.AgentState
		load       map[baton.ChannelKind]int
		total, cap int
		seq        int
	}
	var all []*state
	for i := range agents {
		if !slices.ContainsFunc(all, func(s *state) bool { return s.a.ID == agents[i].ID }) {
			all = append(all, &state{a: &agents[i], load: maps(agents[i].Load), total: sum(agents[i].Load), cap: sum(agents[i].Capacity)})
		}
	}
	lessLoaded := func(x, y *state) bool {
		if l, r := x.total*y.cap, y.total*x.cap; l != r {
			return l < r
		}
		if x.seq != y.seq {
			return x.seq < y.seq
		}
		if c := x.a.LastAssignedAt.Compare(y.a.LastAssignedAt); c != 0 {
			return c < 0
		}
		return x.a.ID < y.a.ID
	}
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, serveOrder)
	var offers []handoff.Offer
	seq := 0
	for _, it := range sorted {
		if slices.ContainsFunc(offers, func(o handoff.Offer) bool { return o.ConversationID == it.ConversationID }) {
			continue
		}
		var best *state
		for _, s := range all {
			if s.a.ID == it.Preferred && canTake(s.a, it) && s.load[it.Channel] < s.a.Capacity[it.Channel] {
				best = s
			}
		}
		if best == nil {
			normal := it
			normal.Preferred = ""
			for _, s := range all {
				if canTake(s.a, normal) && s.load[it.Channel] < s.a.Capacity[it.Channel] && (best == nil || lessLoaded(s, best)) {
					best = s
				}
			}
		}
		if best != nil {
			offers = append(offers, handoff.Offer{Item: it, AgentID: best.a.ID})
			best.load[it.Channel]++
			best.total++
			seq++
			best.seq = seq
		}
	}
	return offers
}

func maps(m map[baton.ChannelKind]int) map[baton.ChannelKind]int {
	out := map[baton.ChannelKind]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkPlan asserts what must hold of any plan: each conversation at most
// once, to an agent that may take it, nobody over capacity, nothing left
// waiting that an agent with room may take, and no conversation passed over
// for a later one that its agent could have had.
func checkPlan(t *testing.T, items []handoff.Item, agents []handoff.AgentState, offers []handoff.Offer) {
	t.Helper()
	byID := map[string]*handoff.AgentState{}
	for i := range agents {
		byID[agents[i].ID] = &agents[i]
	}
	offered := map[int64]handoff.Offer{}
	given := map[string]map[baton.ChannelKind]int{}
	for _, o := range offers {
		if _, dup := offered[o.ConversationID]; dup {
			t.Fatalf("conversation %d offered twice", o.ConversationID)
		}
		offered[o.ConversationID] = o
		a := byID[o.AgentID]
		if a == nil || !canTake(a, o.Item) {
			t.Fatalf("conversation %+v offered to %+v, who may not take it", o.Item, a)
		}
		if given[a.ID] == nil {
			given[a.ID] = map[baton.ChannelKind]int{}
		}
		given[a.ID][o.Channel]++
		if a.Load[o.Channel]+given[a.ID][o.Channel] > a.Capacity[o.Channel] {
			t.Fatalf("agent %s offered %d of %s on top of %d, capacity %d", a.ID, given[a.ID][o.Channel], o.Channel, a.Load[o.Channel], a.Capacity[o.Channel])
		}
	}
	for _, it := range items {
		if _, ok := offered[it.ConversationID]; ok {
			continue
		}
		for i := range agents {
			a := &agents[i]
			if canTake(a, it) && a.Load[it.Channel]+given[a.ID][it.Channel] < a.Capacity[it.Channel] {
				t.Fatalf("conversation %+v left waiting while %s has room for it", it, a.ID)
			}
		}
		for _, o := range offers {
			if serveOrder(it, o.Item) < 0 && it.Channel == o.Channel && canTake(byID[o.AgentID], it) {
				t.Fatalf("conversation %+v left waiting while the later %+v went to %s, who could take it", it, o.Item, o.AgentID)
			}
		}
	}
}

// after is the snapshot once offers are assigned: loads grown, last
// assignments now, the offered conversations gone from the queue.
func after(items []handoff.Item, agents []handoff.AgentState, offers []handoff.Offer, now time.Time) ([]handoff.Item, []handoff.AgentState) {
	next := make([]handoff.AgentState, len(agents))
	for i, a := range agents {
		a.Load = maps(a.Load)
		a.Capacity = maps(a.Capacity)
		for _, o := range offers {
			if o.AgentID == a.ID {
				a.Load[o.Channel]++
				a.LastAssignedAt = now
			}
		}
		next[i] = a
	}
	var rest []handoff.Item
	for _, it := range items {
		if !slices.ContainsFunc(offers, func(o handoff.Offer) bool { return o.ConversationID == it.ConversationID }) {
			rest = append(rest, it)
		}
	}
	return rest, next
}

func TestRoutingProperties(t *testing.T) {
	for seed := uint64(0); seed < 600; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		agents, items := scenario(rng, rng.IntN(16), rng.IntN(90))
		offers := handoff.Plan(items, agents)
		checkPlan(t, items, agents, offers)
		if got, want := plan(offers), plan(reference(items, agents)); got != want {
			t.Fatalf("seed %d: plan\n%s\ndiffers from the reference\n%s", seed, got, want)
		}

		// The queue is planned: a conversation queued now gets from ForItem
		// what a whole plan would give it.
		rest, agents := after(items, agents, offers, at(30))
		_, one := scenario(rng, 0, 1)
		fresh := one[0]
		fresh.ConversationID, fresh.QueuedAt = 10_000, at(rng.IntN(40))
		if rng.IntN(8) == 0 && len(agents) > 0 {
			fresh.Preferred = agents[rng.IntN(len(agents))].ID
		}
		whole := handoff.Plan(append(slices.Clone(rest), fresh), agents)
		o, ok := handoff.ForItem(fresh, agents)
		if single := plan(map[bool][]handoff.Offer{true: {o}}[ok]); single != plan(whole) {
			t.Fatalf("seed %d: ForItem(%+v) = %q, a whole plan gives %q", seed, fresh, single, plan(whole))
		}

		// An agent gains room (resolves one, or comes online): ForAgent
		// gives what a whole plan would.
		if len(agents) == 0 {
			continue
		}
		i := rng.IntN(len(agents))
		freed := agents[i]
		freed.Load = maps(freed.Load)
		if rng.IntN(3) == 0 {
			freed.Status = baton.AgentOnline
		}
		for _, k := range scenarioKinds {
			if freed.Load[k] > 0 && rng.IntN(2) == 0 {
				freed.Load[k] -= 1 + rng.IntN(freed.Load[k])
			}
		}
		agents = slices.Clone(agents)
		agents[i] = freed
		whole = handoff.Plan(rest, agents)
		checkPlan(t, rest, agents, whole)
		if single := plan(handoff.ForAgent(freed, rest)); single != plan(whole) {
			t.Fatalf("seed %d: ForAgent(%+v) = %q, a whole plan gives %q", seed, freed, single, plan(whole))
		}
	}
}
