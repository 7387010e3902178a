package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// cachedSkills are a queued conversation's routing skills as its packet
// said at a version of the conversation. A packet changes only together
// with a transition (an escalation, a transfer, a reroute), which bumps
// the version: an entry at the current version is the packet's.
type cachedSkills struct {
	version int
	skills  []string
}

// maxCachedSkills bounds the skills cache.
const maxCachedSkills = 100_000

// itemOf is the routing item of queued conv: the skills from its packet
// (the queue's and the customer's language), or, for a conversation queued
// without one, the queue's skills and its language.
func (d *Desk) itemOf(ctx context.Context, st baton.Store, conv *baton.Conversation) (Item, error) {
	queuedAt := conv.CreatedAt
	if conv.QueuedAt != nil {
		queuedAt = *conv.QueuedAt
	}
	d.mu.Lock()
	c, ok := d.skills[conv.ID]
	d.mu.Unlock()
	if !ok || c.version != conv.Version {
		p, err := st.GetPacket(ctx, conv.ID)
		switch {
		case err == nil:
			c = cachedSkills{version: conv.Version, skills: p.Skills}
		case baton.ErrorCode(err) == baton.ENOTFOUND:
			c = cachedSkills{version: conv.Version, skills: skillsFor(d.queueOf(conv), conv.Language)}
		default:
			return Item{}, fmt.Errorf("route conversation %d: read its packet: %w", conv.ID, err)
		}
		d.mu.Lock()
		if len(d.skills) >= maxCachedSkills {
			// The sweep prunes it only when someone has room: a queue
			// nobody serves for a long time must not grow it for ever.
			clear(d.skills)
		}
		d.skills[conv.ID] = c
		d.mu.Unlock()
	}
	it := ItemOf(conv, nil, queuedAt)
	it.Skills = c.skills
	return it, nil
}

// skillsFor are what an agent needs for a conversation in q in lang: the
// queue's skills and the language, as an escalation's packet has them.
func skillsFor(q baton.Queue, lang string) []string {
	out := append([]string{}, q.Skills...)
	if lang != "" && !slices.Contains(out, lang) {
		out = append(out, lang)
	}
	return out
}

// agentStates are the routing snapshot of loads, without the agents in
// skip.
func agentStates(loads []*baton.AgentLoad, skip map[string]bool) []AgentState {
	out := make([]AgentState, 0, len(loads))
	for _, l := range loads {
		if skip[l.ID] {
			continue
		}
		var last time.Time
		if l.LastAssignedAt != nil {
			last = *l.LastAssignedAt
		}
		out = append(out, AgentStateOf(&l.Agent, l.Open, last))
	}
	return out
}

// assign gives an offer to its agent with the store's atomic
// assign-if-under-capacity. A refusal (another process won the race, the
// agent filled up or went away) is not an error: assigned is false.
func (d *Desk) assign(ctx context.Context, o Offer, reason string) (conv *baton.Conversation, refused *baton.AssignRefused, err error) {
	c, _, err := d.st.AssignConversation(ctx, o.ConversationID, o.AgentID, baton.Assignment{Actor: "system", Reason: reason,
		Data: map[string]any{"queue": o.QueueID}})
	if r, ok := baton.AsAssignRefused(err); ok {
		return nil, r, nil
	}
	if err != nil {
		return nil, nil, err
	}
	d.assigned(ctx, c)
	d.observeAssigned(c)
	return c, nil, nil
}

// assigned tells the agent a conversation is theirs.
func (d *Desk) assigned(ctx context.Context, c *baton.Conversation) {
	d.send(ctx, []baton.Notification{{Kind: "assigned", ConversationID: c.ID, QueueID: c.QueueID, AgentID: c.AgentID,
		Text: fmt.Sprintf("Conversation %d is yours.", c.ID)}})
}

// routeConversation offers queued conversation id to the least loaded
// eligible agent with room (not exclude), reading afresh after a refusal.
func (d *Desk) routeConversation(ctx context.Context, id int64, exclude string) (bool, error) {
	skip := map[string]bool{}
	if exclude != "" {
		skip[exclude] = true
	}
	for range 4 {
		conv, err := d.st.GetConversation(ctx, id)
		if err != nil {
			return false, notFoundIs(err)
		}
		if conv.State != baton.StateQueued {
			return false, nil
		}
		it, err := d.itemOf(ctx, d.st, conv)
		if err != nil {
			return false, err
		}
		loads, err := d.st.AgentLoads(ctx, conv.BotID)
		if err != nil {
			return false, fmt.Errorf("route conversation %d: %w", id, err)
		}
		o, ok := ForItem(it, agentStates(loads, skip))
		if !ok {
			return false, nil
		}
		c, r, err := d.assign(ctx, o, "routed")
		switch {
		case err != nil:
			return false, fmt.Errorf("route conversation %d: %w", id, err)
		case c != nil:
			return true, nil
		case r.Reason == baton.AssignTaken || r.Reason == baton.AssignMoved:
			return false, nil // someone else has it
		}
		skip[o.AgentID] = true // full or away by now; the next best may have room
	}
	return false, nil
}

// waiting reads the queued conversations of bot ("" = every bot) as
// routing items, only those on a channel kind in kinds (nil = every kind).
func (d *Desk) waiting(ctx context.Context, bot string, kinds map[baton.ChannelKind]bool) ([]Item, error) {
	convs, err := d.st.ListConversations(ctx, baton.ConversationFilter{BotID: bot, States: []baton.State{baton.StateQueued}})
	if err != nil {
		return nil, fmt.Errorf("route: list waiting conversations: %w", err)
	}
	items := make([]Item, 0, len(convs))
	for _, c := range convs {
		if kinds != nil && !kinds[c.Channel] {
			continue
		}
		it, err := d.itemOf(ctx, d.st, c)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if bot == "" && kinds == nil {
		d.forget(convs)
	}
	return items, nil
}

// forget drops the cached skills of conversations that no longer wait.
func (d *Desk) forget(waiting []*baton.Conversation) {
	keep := make(map[int64]bool, len(waiting))
	for _, c := range waiting {
		keep[c.ID] = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.skills {
		if !keep[id] {
			delete(d.skills, id)
		}
	}
}

// roomKinds are the channel kinds on which some online agent has room, nil
// when none has.
func roomKinds(loads []*baton.AgentLoad) map[baton.ChannelKind]bool {
	var kinds map[baton.ChannelKind]bool
	for _, l := range loads {
		if l.Status != baton.AgentOnline {
			continue
		}
		for k := range l.Capacity {
			if l.Free(k) > 0 {
				if kinds == nil {
					kinds = map[baton.ChannelKind]bool{}
				}
				kinds[k] = true
			}
		}
	}
	return kinds
}

// routeAgent gives agent id, who just gained room, what they can take.
func (d *Desk) routeAgent(ctx context.Context, id string) (int, error) {
	a, err := d.st.GetAgent(ctx, id)
	if err != nil {
		return 0, notFoundIs(err)
	}
	if a.Status != baton.AgentOnline {
		return 0, nil
	}
	loads, err := d.st.AgentLoads(ctx, a.BotID)
	if err != nil {
		return 0, fmt.Errorf("route to %s: %w", id, err)
	}
	i := slices.IndexFunc(loads, func(l *baton.AgentLoad) bool { return l.ID == id })
	if i < 0 {
		return 0, nil
	}
	kinds := roomKinds(loads[i : i+1])
	if kinds == nil {
		return 0, nil
	}
	items, err := d.waiting(ctx, a.BotID, kinds)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range ForAgent(agentStates(loads[i:i+1], nil)[0], items) {
		c, r, err := d.assign(ctx, o, "routed: the agent has room")
		if err != nil {
			return n, err
		}
		if c != nil {
			n++
		} else if r.Reason == baton.AssignFull || r.Reason == baton.AssignUnavailable {
			break
		}
	}
	return n, nil
}

// Route implements baton.Desk: one pass over every waiting conversation,
// most urgent and longest waiting first, each offered to the least loaded
// eligible agent with room and assigned atomically; a refused offer is
// left for the next pass. It returns how many it assigned.
func (d *Desk) Route(ctx context.Context) (int, error) {
	loads, err := d.st.AgentLoads(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("route: %w", err)
	}
	kinds := roomKinds(loads)
	if kinds == nil {
		return 0, nil
	}
	items, err := d.waiting(ctx, "", nil)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range Plan(items, agentStates(loads, nil)) {
		c, _, err := d.assign(ctx, o, "routed")
		if err != nil {
			return n, err
		}
		if c != nil {
			n++
		}
	}
	return n, nil
}

// handleRoute runs a routing job. The sweep schedules itself again while
// conversations wait.
func (d *Desk) handleRoute(ctx context.Context, j *baton.Job) error {
	var p routePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return baton.Errorf(baton.EINVALID, "route job %d: payload: %v", j.ID, err)
	}
	switch {
	case p.ConversationID != 0:
		routed, err := d.routeConversation(ctx, p.ConversationID, p.Exclude)
		if err != nil || routed {
			return err
		}
		// It waits: the sweep offers it again while it does. Arming the
		// sweep here rather than in the transaction that queued it keeps
		// escalations from queuing up on the sweep's one row.
		return d.sweepSoon(ctx, d.st)
	case p.Agent != "":
		_, err := d.routeAgent(ctx, p.Agent)
		return err
	}
	n, err := d.Route(ctx)
	if err != nil {
		return err
	}
	convs, err := d.st.ListConversations(ctx, baton.ConversationFilter{States: []baton.State{baton.StateQueued}, Limit: 1})
	if err != nil {
		return err
	}
	if n > 0 {
		d.log.LogAttrs(ctx, slog.LevelDebug, "routing sweep", slog.Int("assigned", n))
	}
	if len(convs) == 0 {
		return nil
	}
	return d.sweepSoon(ctx, d.st)
}
