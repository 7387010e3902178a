package handoff

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// Item is one conversation waiting for an agent, as the store's queue read
// gives it.
type Item struct {
	ConversationID int64
	BotID          string
	// QueueID is where the conversation waits. Routing gates on Skills,
	// which already hold the queue's skills; the id travels to the Offer.
	QueueID string
	// Skills are every skill an agent needs: the queue's skills and the
	// customer's language, as the handoff packet carries them
	// (baton.HandoffPacket.Skills).
	Skills   []string
	Channel  baton.ChannelKind
	Priority int // baton.PriorityLow … baton.PriorityUrgent; the conversation's current priority
	// QueuedAt is when the conversation started waiting (the store's queue
	// clock); earlier is served first within a priority.
	QueuedAt time.Time
	// Preferred is the agent who had the conversation before it was
	// reopened, or "". See the package documentation.
	Preferred string
}

// ItemOf is the waiting item for a queued conversation: bot, channel, queue
// and priority from the conversation (transfers and SLA breaches change
// them there), the skills from its handoff packet, and when it started
// waiting.
func ItemOf(c *baton.Conversation, p *baton.HandoffPacket, queuedAt time.Time) Item {
	it := Item{ConversationID: c.ID, BotID: c.BotID, QueueID: c.QueueID, Channel: c.Channel, Priority: c.Priority, QueuedAt: queuedAt}
	if p != nil {
		it.Skills = p.Skills
	}
	return it
}

// AgentState is one agent at the time of the store read. Routing reads it
// and never changes it (its maps included).
type AgentState struct {
	ID     string
	BotID  string // "" = works for every bot
	Skills []string
	Status baton.AgentStatus
	// Capacity is how many open conversations of each channel kind the agent
	// may carry at once (baton.Agent.Capacity). No entry, or zero, for a
	// kind: the agent takes none of that kind.
	Capacity map[baton.ChannelKind]int
	// Load is how many open conversations of each kind the agent carries
	// now: the store's loads query (the conversations the agent owns that
	// count against capacity). Kinds the agent has no capacity for still
	// count towards how loaded the agent is.
	Load map[baton.ChannelKind]int
	// LastAssignedAt is when the agent was last given a conversation; zero
	// means never, which counts as the longest wait.
	LastAssignedAt time.Time
}

// AgentStateOf is the routing snapshot of a: its definition and status from
// the agent store, with the loads and last assignment the store reads
// alongside.
func AgentStateOf(a *baton.Agent, load map[baton.ChannelKind]int, lastAssignedAt time.Time) AgentState {
	return AgentState{ID: a.ID, BotID: a.BotID, Skills: a.Skills, Status: a.Status, Capacity: a.Capacity, Load: load, LastAssignedAt: lastAssignedAt}
}

// Offer is one routing decision: give Item to the agent AgentID. The caller
// assigns it with the store's atomic assign-if-under-capacity; offers come
// in the order they were decided, which is the order to assign them in.
type Offer struct {
	Item
	AgentID string
}

// Plan serves the waiting conversations, most urgent and longest waiting
// first, each to the least loaded eligible agent, counting its own offers
// as it goes. Conversations no eligible agent has room for get no offer.
// Conversation ids are unique in a snapshot; a repeated one is offered at
// most once. Agent ids are unique too; a repeated one keeps its first state.
func Plan(waiting []Item, agents []AgentState) []Offer {
	return newIndex(agents).plan(waiting)
}

// ForItem is the agent for one conversation that has just been queued: the
// least loaded eligible agent with room, or false when there is none (the
// conversation waits for ForAgent or the next Plan).
//
// It is one pass over the agents with no index built: it runs for every
// conversation queued, and what it does not allocate the collector does
// not have to chase.
func ForItem(it Item, agents []AgentState) (Offer, bool) {
	if it.Preferred != "" {
		if p := firstIndex(agents, it.Preferred); p >= 0 {
			if a := &agents[p]; a.Status == baton.AgentOnline && serves(a, it.BotID) && hasRoom(a, it.Channel) {
				return Offer{Item: it, AgentID: a.ID}, true
			}
		}
	}
	best := -1
	var bestLoad, bestCap int64
	for i := range agents {
		a := &agents[i]
		if a.Status != baton.AgentOnline || !serves(a, it.BotID) || !hasRoom(a, it.Channel) || !hasSkills(a.Skills, it.Skills) {
			continue
		}
		load, capacity := totals(a)
		if best >= 0 {
			b := &agents[best]
			// The order of agent.less: share of capacity, the longer wait
			// since the last assignment, the lower id.
			l, r := load*bestCap, bestLoad*capacity
			if l > r || (l == r && (a.LastAssignedAt.After(b.LastAssignedAt) ||
				(a.LastAssignedAt.Equal(b.LastAssignedAt) && a.ID >= b.ID))) {
				continue
			}
		}
		if firstIndex(agents, a.ID) != i {
			continue // a repeated id keeps its first state
		}
		best, bestLoad, bestCap = i, load, capacity
	}
	if best < 0 {
		return Offer{}, false
	}
	return Offer{Item: it, AgentID: agents[best].ID}, true
}

func firstIndex(agents []AgentState, id string) int {
	for i := range agents {
		if agents[i].ID == id {
			return i
		}
	}
	return -1
}

func serves(a *AgentState, bot string) bool { return a.BotID == "" || a.BotID == bot }

func hasRoom(a *AgentState, kind baton.ChannelKind) bool {
	c := a.Capacity[kind]
	return c > 0 && max(a.Load[kind], 0) < c
}

func hasSkills(have, need []string) bool {
	for _, n := range need {
		if !slices.Contains(have, n) {
			return false
		}
	}
	return true
}

// totals are an agent's open conversations and capacity over every kind,
// as the index counts them.
func totals(a *AgentState) (load, capacity int64) {
	for _, n := range a.Load {
		if n > 0 {
			load += int64(n)
		}
	}
	for _, n := range a.Capacity {
		if n > 0 {
			capacity += int64(n)
		}
	}
	return load, capacity
}

// ForAgent is what one agent who has just gained room takes from the
// waiting conversations: on each channel kind, as many as the agent has
// room for, the most urgent and longest waiting first among those the
// agent is eligible for. Offers come in serving order.
func ForAgent(a AgentState, waiting []Item) []Offer {
	ix := newIndex([]AgentState{a})
	ag := &ix.agents[0]
	if !ag.online {
		return nil
	}
	room := make([]int, len(ix.kinds))
	free := false
	for k := range room {
		room[k] = int(ag.cap[k] - ag.load[k])
		free = free || room[k] > 0
	}
	if !free {
		return nil
	}
	// best[k] holds the best room[k] eligible items of kind k so far, in
	// serving order. Most items lose to the last of a full list on priority
	// and waiting time alone, so eligibility is checked only for the few
	// that would make it.
	best := make([][]int32, len(ix.kinds))
	for i := range waiting {
		it := &waiting[i]
		k := ix.kindOf(it.Channel)
		if k < 0 || room[k] <= 0 || !ag.serves(it.BotID) {
			continue
		}
		b := best[k]
		if len(b) == room[k] && !before(it, &waiting[b[len(b)-1]]) {
			continue
		}
		if it.Preferred != ag.id && !ix.knowsAll(it.Skills) {
			continue
		}
		at, _ := slices.BinarySearchFunc(b, it, func(j int32, it *Item) int {
			if before(&waiting[j], it) {
				return -1
			}
			return 1
		})
		b = slices.Insert(b, at, int32(i))
		if len(b) > room[k] {
			b = b[:room[k]]
		}
		best[k] = b
	}
	var picked []int32
	for _, b := range best {
		picked = append(picked, b...)
	}
	slices.SortFunc(picked, func(x, y int32) int { return order(&waiting[x], &waiting[y]) })
	offers := make([]Offer, 0, len(picked))
	for _, i := range picked {
		id := waiting[i].ConversationID
		if slices.ContainsFunc(offers, func(o Offer) bool { return o.ConversationID == id }) {
			continue
		}
		offers = append(offers, Offer{Item: waiting[i], AgentID: ag.id})
	}
	return offers
}

// order is the serving order: higher priority, then queued earlier, then
// the lower conversation id.
func order(a, b *Item) int {
	if a.Priority != b.Priority {
		if a.Priority > b.Priority {
			return -1
		}
		return 1
	}
	if c := a.QueuedAt.Compare(b.QueuedAt); c != 0 {
		return c
	}
	switch {
	case a.ConversationID < b.ConversationID:
		return -1
	case a.ConversationID > b.ConversationID:
		return 1
	}
	return 0
}

func before(a, b *Item) bool { return order(a, b) < 0 }

// agent is an AgentState indexed for routing: skills as a bitset over the
// index's skill ids, capacity and load by kind index.
type agent struct {
	id, bot   string
	online    bool
	skills    []uint64
	cap, load []int32
	// totalCap and totalLoad are the sums over every kind: load is their
	// ratio.
	totalCap, totalLoad int64
	last                time.Time
	// seq is 0 while the last assignment is the snapshot's, n when the
	// agent took the pass's n-th offer: later than any snapshot time.
	seq int
}

// index is one snapshot of agents, indexed once for all the decisions a
// call makes. A plan changes the loads as it offers; an index serves one
// call.
type index struct {
	agents  []agent
	byID    map[string]int32
	kinds   []baton.ChannelKind
	byKind  [][]int32 // online agents with capacity on the kind
	skillID map[string]int
	words   int
	seq     int
	scratch []uint64
}

func newIndex(states []AgentState) *index {
	ix := &index{byID: make(map[string]int32, len(states)), skillID: map[string]int{}}
	src := make([]*AgentState, 0, len(states)) // the state of each indexed agent
	for i := range states {
		s := &states[i]
		if _, dup := ix.byID[s.ID]; dup {
			continue
		}
		ix.byID[s.ID] = int32(len(ix.agents))
		src = append(src, s)
		ix.agents = append(ix.agents, agent{id: s.ID, bot: s.BotID, online: s.Status == baton.AgentOnline, last: s.LastAssignedAt})
		for _, sk := range s.Skills {
			if _, ok := ix.skillID[sk]; !ok {
				ix.skillID[sk] = len(ix.skillID)
			}
		}
		for k, n := range s.Capacity {
			if n > 0 && ix.kindOf(k) < 0 {
				ix.kinds = append(ix.kinds, k)
			}
		}
	}
	ix.words = (len(ix.skillID) + 63) / 64
	nk := len(ix.kinds)
	bits := make([]uint64, ix.words*len(ix.agents))
	counts := make([]int32, 2*nk*len(ix.agents))
	ix.byKind = make([][]int32, nk)
	ix.scratch = make([]uint64, ix.words)
	for i := range ix.agents {
		a, s := &ix.agents[i], src[i]
		a.skills = bits[i*ix.words : (i+1)*ix.words : (i+1)*ix.words]
		for _, sk := range s.Skills {
			id := ix.skillID[sk]
			a.skills[id/64] |= 1 << (id % 64)
		}
		a.cap = counts[2*i*nk : (2*i+1)*nk : (2*i+1)*nk]
		a.load = counts[(2*i+1)*nk : (2*i+2)*nk : (2*i+2)*nk]
		for k, kind := range ix.kinds {
			if n := s.Capacity[kind]; n > 0 {
				a.cap[k] = int32(n)
				a.totalCap += int64(n)
				if a.online {
					ix.byKind[k] = append(ix.byKind[k], int32(i))
				}
			}
		}
		for kind, n := range s.Load {
			if n <= 0 {
				continue
			}
			a.totalLoad += int64(n)
			if k := ix.kindOf(kind); k >= 0 {
				a.load[k] = int32(n)
			}
		}
	}
	return ix
}

// kindOf is the index of kind, or -1 when no agent has capacity for it.
// There are a handful of kinds: a scan beats a map.
func (ix *index) kindOf(kind baton.ChannelKind) int {
	for i, k := range ix.kinds {
		if k == kind {
			return i
		}
	}
	return -1
}

// need is the bitset of skills in ix.scratch, or false when some skill is
// one no agent has.
func (ix *index) need(skills []string) ([]uint64, bool) {
	clear(ix.scratch)
	for _, sk := range skills {
		id, ok := ix.skillID[sk]
		if !ok {
			return nil, false
		}
		ix.scratch[id/64] |= 1 << (id % 64)
	}
	return ix.scratch, true
}

// knowsAll reports whether some indexed agent has each of skills; on a
// one-agent index, whether that agent has them all.
func (ix *index) knowsAll(skills []string) bool {
	for _, sk := range skills {
		if _, ok := ix.skillID[sk]; !ok {
			return false
		}
	}
	return true
}

func hasAll(have, need []uint64) bool {
	for i, w := range need {
		if w&^have[i] != 0 {
			return false
		}
	}
	return true
}

func (a *agent) serves(bot string) bool { return a.bot == "" || a.bot == bot }

func (a *agent) hasRoom(k int) bool { return a.load[k] < a.cap[k] }

// less reports whether a is less loaded than b, ties going to the longer
// wait since the last assignment, then to the lower id.
func (a *agent) less(b *agent) bool {
	// a.totalLoad/a.totalCap < b.totalLoad/b.totalCap without division:
	// capacities are positive for any agent with room.
	l, r := a.totalLoad*b.totalCap, b.totalLoad*a.totalCap
	if l != r {
		return l < r
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	if c := a.last.Compare(b.last); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// take counts an offer of a conversation of kind k to agent i.
func (ix *index) take(i int32, k int) {
	a := &ix.agents[i]
	a.load[k]++
	a.totalLoad++
	ix.seq++
	a.seq = ix.seq
}

// class is a set of waiting items that route alike: same bot, channel kind,
// skills and preferred agent. Eligibility is worked out once per class, and
// a class that finds no agent with room stays that way for the rest of a
// plan, since loads only grow: its items are passed over without a look.
type class struct {
	bot  string
	kind int
	pref int32 // the preferred agent, eligible and with room; -1 for none
	// cands are the agents eligible for the class that had room when last
	// looked at; one found full is dropped.
	cands []int32
	items []int32 // a heap in serving order
}

// newClass is the class of it with its candidates, or nil when no agent
// can take it now.
func (ix *index) newClass(it *Item) *class {
	k := ix.kindOf(it.Channel)
	if k < 0 {
		return nil
	}
	c := &class{bot: it.BotID, kind: k, pref: -1}
	if it.Preferred != "" {
		if p, ok := ix.byID[it.Preferred]; ok {
			if a := &ix.agents[p]; a.online && a.serves(it.BotID) && a.hasRoom(k) {
				c.pref = p
			}
		}
	}
	if need, ok := ix.need(it.Skills); ok {
		for _, i := range ix.byKind[k] {
			if a := &ix.agents[i]; a.serves(it.BotID) && a.hasRoom(k) && hasAll(a.skills, need) {
				c.cands = append(c.cands, i)
			}
		}
	}
	if c.pref < 0 && len(c.cands) == 0 {
		return nil
	}
	return c
}

// pick is the agent for the class's next item, or -1 when none has room.
func (ix *index) pick(c *class) int32 {
	if c.pref >= 0 {
		if ix.agents[c.pref].hasRoom(c.kind) {
			return c.pref
		}
		c.pref = -1
	}
	best := int32(-1)
	for j := 0; j < len(c.cands); {
		i := c.cands[j]
		a := &ix.agents[i]
		if !a.hasRoom(c.kind) {
			c.cands[j] = c.cands[len(c.cands)-1]
			c.cands = c.cands[:len(c.cands)-1]
			continue
		}
		if best < 0 || a.less(&ix.agents[best]) {
			best = i
		}
		j++
	}
	return best
}

func (ix *index) plan(waiting []Item) []Offer {
	var (
		classes []*class
		byKey   = map[string]int{}
		key     []byte
	)
	for i := range waiting {
		it := &waiting[i]
		key = classKey(key[:0], it)
		ci, ok := byKey[string(key)]
		if !ok {
			ci = len(classes)
			byKey[string(key)] = ci
			classes = append(classes, ix.newClass(it))
		}
		if c := classes[ci]; c != nil {
			c.items = append(c.items, int32(i))
		}
	}
	itemLess := func(x, y int32) bool { return before(&waiting[x], &waiting[y]) }
	var live []int32
	for i, c := range classes {
		if c != nil {
			heapInit(c.items, itemLess)
			live = append(live, int32(i))
		}
	}
	classLess := func(x, y int32) bool { return before(&waiting[classes[x].items[0]], &waiting[classes[y].items[0]]) }
	heapInit(live, classLess)
	var offers []Offer
	offered := map[int64]bool{}
	for len(live) > 0 {
		c := classes[live[0]]
		it := &waiting[c.items[0]]
		if !offered[it.ConversationID] {
			a := ix.pick(c)
			if a < 0 {
				live = heapPop(live, classLess)
				continue
			}
			offers = append(offers, Offer{Item: *it, AgentID: ix.agents[a].id})
			offered[it.ConversationID] = true
			ix.take(a, c.kind)
		}
		if c.items = heapPop(c.items, itemLess); len(c.items) == 0 {
			live = heapPop(live, classLess)
		} else {
			heapDown(live, 0, classLess)
		}
	}
	return offers
}

// classKey writes the fields that decide where it may go, each prefixed
// with its length so that no two different items share a key.
func classKey(b []byte, it *Item) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(it.BotID)
	str(string(it.Channel))
	str(it.Preferred)
	b = binary.AppendUvarint(b, uint64(len(it.Skills)))
	for _, s := range it.Skills {
		str(s)
	}
	return b
}

// heapInit, heapDown and heapPop keep a binary min-heap of indices under
// less; typed, they spare the interface calls of container/heap in the
// plan's inner loop.
func heapInit(h []int32, less func(x, y int32) bool) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		heapDown(h, i, less)
	}
}

func heapDown(h []int32, i int, less func(x, y int32) bool) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// heapPop removes the smallest and returns the shorter heap.
func heapPop(h []int32, less func(x, y int32) bool) []int32 {
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	heapDown(h, 0, less)
	return h
}
