package handoff_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

// at is t0 plus m minutes.
func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

const (
	web = baton.ChannelWebChat
	wa  = baton.ChannelWhatsApp
	sms = baton.ChannelSMS
)

// online is an agent of every bot with the given skills and web chat
// capacity, carrying load web chats.
func online(id string, webCap, webLoad int, skills ...string) handoff.AgentState {
	return handoff.AgentState{ID: id, Skills: skills, Status: baton.AgentOnline,
		Capacity: map[baton.ChannelKind]int{web: webCap}, Load: map[baton.ChannelKind]int{web: webLoad}}
}

func with(a handoff.AgentState, f func(*handoff.AgentState)) handoff.AgentState {
	f(&a)
	return a
}

// waiting is a normal-priority web chat of bot "shop" in English queued at
// minute m.
func waiting(id int64, m int, skills ...string) handoff.Item {
	if len(skills) == 0 {
		skills = []string{"en"}
	}
	return handoff.Item{ConversationID: id, BotID: "shop", QueueID: "support", Skills: skills, Channel: web,
		Priority: baton.PriorityNormal, QueuedAt: at(m)}
}

func item(it handoff.Item, f func(*handoff.Item)) handoff.Item {
	f(&it)
	return it
}

// plan renders offers as "conversation>agent" in offer order.
func plan(offers []handoff.Offer) string {
	var parts []string
	for _, o := range offers {
		parts = append(parts, fmt.Sprintf("%d>%s", o.ConversationID, o.AgentID))
	}
	return strings.Join(parts, " ")
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name    string
		agents  []handoff.AgentState
		waiting []handoff.Item
		want    string
	}{
		{
			name:    "the customer's language is a required skill",
			agents:  []handoff.AgentState{online("ana", 4, 0, "billing", "en"), online("bea", 4, 3, "billing", "es")},
			waiting: []handoff.Item{waiting(1, 0, "billing", "es")},
			want:    "1>bea",
		},
		{
			name:    "every skill is required",
			agents:  []handoff.AgentState{online("ana", 4, 0, "billing", "en"), online("bea", 5, 3, "billing", "tech", "en")},
			waiting: []handoff.Item{waiting(1, 0, "billing", "tech", "en"), waiting(2, 1, "tech")},
			want:    "1>bea 2>bea",
		},
		{
			name:    "a skill no agent has: the conversation waits",
			agents:  []handoff.AgentState{online("ana", 4, 0, "en")},
			waiting: []handoff.Item{waiting(1, 0, "fr"), waiting(2, 1, "en")},
			want:    "2>ana",
		},
		{
			name:    "no skills needed: any eligible agent",
			agents:  []handoff.AgentState{online("ana", 1, 0)},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.Skills = nil })},
			want:    "1>ana",
		},
		{
			name: "capacity is per channel kind",
			agents: []handoff.AgentState{with(online("ana", 2, 2, "en"), func(a *handoff.AgentState) {
				a.Capacity[wa] = 1
			})},
			waiting: []handoff.Item{waiting(1, 0), item(waiting(2, 1), func(it *handoff.Item) { it.Channel = wa }),
				item(waiting(3, 2), func(it *handoff.Item) { it.Channel = wa })},
			want: "2>ana",
		},
		{
			name:   "no capacity entry for a kind: none of that kind",
			agents: []handoff.AgentState{online("ana", 5, 0, "en"), with(online("bea", 0, 0, "en"), func(a *handoff.AgentState) { a.Capacity = map[baton.ChannelKind]int{sms: 1} })},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.Channel = sms }),
				item(waiting(2, 1), func(it *handoff.Item) { it.Channel = sms }), item(waiting(3, 2), func(it *handoff.Item) { it.Channel = wa })},
			want: "1>bea",
		},
		{
			name:    "zero or negative capacity is no capacity",
			agents:  []handoff.AgentState{online("ana", 0, 0, "en"), with(online("bea", 0, 0, "en"), func(a *handoff.AgentState) { a.Capacity[web] = -3 })},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "",
		},
		{
			name:    "a nil capacity map takes nothing",
			agents:  []handoff.AgentState{with(online("ana", 0, 0, "en"), func(a *handoff.AgentState) { a.Capacity, a.Load = nil, nil })},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "",
		},
		{
			name: "away and offline agents get nothing",
			agents: []handoff.AgentState{
				with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.Status = baton.AgentAway }),
				with(online("bea", 4, 0, "en"), func(a *handoff.AgentState) { a.Status = baton.AgentOffline }),
				with(online("cat", 4, 0, "en"), func(a *handoff.AgentState) { a.Status = "" }),
				online("dan", 4, 3, "en"),
			},
			waiting: []handoff.Item{waiting(1, 0), waiting(2, 1)},
			want:    "1>dan",
		},
		{
			name:   "priority first: urgent, high, normal, low",
			agents: []handoff.AgentState{online("ana", 3, 0, "en")},
			waiting: []handoff.Item{
				item(waiting(1, 0), func(it *handoff.Item) { it.Priority = baton.PriorityLow }),
				waiting(2, 1),
				item(waiting(3, 2), func(it *handoff.Item) { it.Priority = baton.PriorityUrgent }),
				item(waiting(4, 3), func(it *handoff.Item) { it.Priority = baton.PriorityHigh }),
			},
			want: "3>ana 4>ana 2>ana",
		},
		{
			name:    "then the longest waiting",
			agents:  []handoff.AgentState{online("ana", 2, 0, "en")},
			waiting: []handoff.Item{waiting(1, 30), waiting(2, 10), waiting(3, 20)},
			want:    "2>ana 3>ana",
		},
		{
			name:    "equal waits: the lower conversation id",
			agents:  []handoff.AgentState{online("ana", 1, 0, "en")},
			waiting: []handoff.Item{waiting(9, 5), waiting(4, 5), waiting(7, 5)},
			want:    "4>ana",
		},
		{
			name:   "an urgent conversation takes the only agent a later one could have had",
			agents: []handoff.AgentState{online("ana", 1, 0, "en", "billing"), online("bea", 1, 0, "en")},
			waiting: []handoff.Item{item(waiting(1, 5), func(it *handoff.Item) { it.Priority = baton.PriorityUrgent }),
				waiting(2, 0, "en", "billing")},
			want: "1>ana",
		},
		{
			name:    "least loaded is the smaller share of capacity in use",
			agents:  []handoff.AgentState{online("junior", 2, 1, "en"), online("senior", 6, 2, "en")},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "1>senior",
		},
		{
			name: "the share counts every kind: busy on web chat is busy for WhatsApp",
			agents: []handoff.AgentState{
				with(online("ana", 4, 4, "en"), func(a *handoff.AgentState) { a.Capacity[wa] = 3 }),
				with(online("bea", 4, 0, "en"), func(a *handoff.AgentState) { a.Capacity[wa] = 3; a.Load[wa] = 1 }),
			},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.Channel = wa })},
			want:    "1>bea",
		},
		{
			name: "conversations of a kind without capacity still count as load",
			agents: []handoff.AgentState{
				with(online("ana", 0, 0, "en"), func(a *handoff.AgentState) {
					a.Capacity = map[baton.ChannelKind]int{wa: 2}
					a.Load = map[baton.ChannelKind]int{sms: 2}
				}),
				with(online("bea", 0, 0, "en"), func(a *handoff.AgentState) {
					a.Capacity = map[baton.ChannelKind]int{wa: 2}
					a.Load = map[baton.ChannelKind]int{wa: 1}
				}),
			},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.Channel = wa })},
			want:    "1>bea",
		},
		{
			name: "equal load: the longest since the last assignment",
			agents: []handoff.AgentState{
				with(online("ana", 4, 1, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-10) }),
				with(online("bea", 4, 1, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-30) }),
				with(online("cat", 4, 2, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-90) }),
			},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "1>bea",
		},
		{
			name: "never assigned counts as the longest",
			agents: []handoff.AgentState{
				with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-600) }),
				online("bea", 4, 0, "en"),
			},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "1>bea",
		},
		{
			name:    "equal load and wait: the lower agent id",
			agents:  []handoff.AgentState{online("bea", 4, 0, "en"), online("ana", 4, 0, "en")},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "1>ana",
		},
		{
			name: "the plan counts its own offers: loads grow and the last assignment is now",
			agents: []handoff.AgentState{
				with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-5) }),
				with(online("bea", 4, 0, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-50) }),
				online("cat", 8, 0, "en"),
			},
			// cat has never been assigned, then bea waited longer than ana;
			// at equal shares the one assigned earliest in the pass is next.
			waiting: []handoff.Item{waiting(1, 0), waiting(2, 1), waiting(3, 2), waiting(4, 3), waiting(5, 4), waiting(6, 5)},
			want:    "1>cat 2>bea 3>ana 4>cat 5>bea 6>ana",
		},
		{
			name:   "an agent's bot: only that bot's conversations; no bot: every bot",
			agents: []handoff.AgentState{with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.BotID = "shop" }), online("bea", 4, 3, "en")},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.BotID = "bank" }),
				item(waiting(2, 1), func(it *handoff.Item) { it.BotID = "shop" })},
			want: "1>bea 2>ana",
		},
		{
			name:    "many conversations, few agents: nobody over capacity",
			agents:  []handoff.AgentState{online("ana", 2, 0, "en"), online("bea", 3, 2, "en")},
			waiting: []handoff.Item{waiting(1, 0), waiting(2, 1), waiting(3, 2), waiting(4, 3), waiting(5, 4), waiting(6, 5)},
			want:    "1>ana 2>ana 3>bea",
		},
		{
			name:    "an agent already over capacity takes nothing",
			agents:  []handoff.AgentState{online("ana", 2, 5, "en")},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "",
		},
		{
			name:   "a reopened conversation goes back to its agent, skills not asked again",
			agents: []handoff.AgentState{online("ana", 4, 0, "en", "billing"), online("bea", 4, 3, "en")},
			waiting: []handoff.Item{item(waiting(1, 0, "en", "billing"), func(it *handoff.Item) { it.Preferred = "bea" }),
				item(waiting(2, 1, "en", "billing"), func(it *handoff.Item) { it.Preferred = "bea" })},
			want: "1>bea 2>ana",
		},
		{
			name:   "a reopened conversation whose agent is away is routed as usual",
			agents: []handoff.AgentState{online("ana", 4, 0, "en"), with(online("bea", 4, 0, "en"), func(a *handoff.AgentState) { a.Status = baton.AgentAway })},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.Preferred = "bea" }),
				item(waiting(2, 0), func(it *handoff.Item) { it.Preferred = "gone" })},
			want: "1>ana 2>ana",
		},
		{
			name:    "the preferred agent must still work for the bot",
			agents:  []handoff.AgentState{with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.BotID = "bank" })},
			waiting: []handoff.Item{item(waiting(1, 0), func(it *handoff.Item) { it.Preferred = "ana" })},
			want:    "",
		},
		{
			name:    "a repeated conversation is offered once",
			agents:  []handoff.AgentState{online("ana", 4, 0, "en")},
			waiting: []handoff.Item{waiting(1, 0), waiting(1, 0), item(waiting(1, 3), func(it *handoff.Item) { it.Priority = baton.PriorityLow })},
			want:    "1>ana",
		},
		{
			name:    "a repeated agent keeps its first state",
			agents:  []handoff.AgentState{online("ana", 1, 1, "en"), online("ana", 4, 0, "en")},
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "",
		},
		{
			name:    "nothing waiting, no agents",
			agents:  nil,
			waiting: []handoff.Item{waiting(1, 0)},
			want:    "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := plan(handoff.Plan(tc.waiting, tc.agents)); got != tc.want {
				t.Errorf("plan = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	agents, items := scenario(rng, 30, 400)
	want := plan(handoff.Plan(items, agents))
	if want == "" {
		t.Fatal("the scenario made no offers: it tests nothing")
	}
	for i := 0; i < 20; i++ {
		rng.Shuffle(len(agents), func(i, j int) { agents[i], agents[j] = agents[j], agents[i] })
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		if got := plan(handoff.Plan(items, agents)); got != want {
			t.Fatalf("shuffled input %d planned\n%s\nwant\n%s", i, got, want)
		}
	}
}

func TestPlanLeavesSnapshotAlone(t *testing.T) {
	agents := []handoff.AgentState{online("ana", 3, 1, "en")}
	items := []handoff.Item{waiting(1, 0), waiting(2, 1)}
	if got := plan(handoff.Plan(items, agents)); got != "1>ana 2>ana" {
		t.Fatalf("plan = %q", got)
	}
	if agents[0].Load[web] != 1 || agents[0].Capacity[web] != 3 || !agents[0].LastAssignedAt.IsZero() {
		t.Errorf("the plan changed the agent's snapshot: %+v", agents[0])
	}
	// The same snapshot plans the same again.
	if got := plan(handoff.Plan(items, agents)); got != "1>ana 2>ana" {
		t.Errorf("second plan = %q", got)
	}
}

func TestForItem(t *testing.T) {
	tests := []struct {
		name   string
		agents []handoff.AgentState
		item   handoff.Item
		want   string // "" for none
	}{
		{"least loaded eligible", []handoff.AgentState{online("ana", 4, 2, "en"), online("bea", 4, 1, "en"), online("cat", 4, 0, "es")}, waiting(1, 0), "bea"},
		{"none with room", []handoff.AgentState{online("ana", 2, 2, "en")}, waiting(1, 0), ""},
		{"none with the skill", []handoff.AgentState{online("ana", 2, 0, "en")}, waiting(1, 0, "es"), ""},
		{"no capacity on the kind", []handoff.AgentState{online("ana", 2, 0, "en")}, item(waiting(1, 0), func(it *handoff.Item) { it.Channel = sms }), ""},
		{"away", []handoff.AgentState{with(online("ana", 2, 0, "en"), func(a *handoff.AgentState) { a.Status = baton.AgentAway })}, waiting(1, 0), ""},
		{"other bot", []handoff.AgentState{with(online("ana", 2, 0, "en"), func(a *handoff.AgentState) { a.BotID = "bank" })}, waiting(1, 0), ""},
		{"preferred", []handoff.AgentState{online("ana", 4, 0, "en"), online("bea", 4, 3)}, item(waiting(1, 0), func(it *handoff.Item) { it.Preferred = "bea" }), "bea"},
		{"tie to the longest wait", []handoff.AgentState{with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-1) }),
			with(online("bea", 4, 0, "en"), func(a *handoff.AgentState) { a.LastAssignedAt = at(-2) })}, waiting(1, 0), "bea"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := handoff.ForItem(tc.item, tc.agents)
			if got := map[bool]string{true: o.AgentID}[ok]; got != tc.want || (ok && o.ConversationID != tc.item.ConversationID) {
				t.Errorf("ForItem = %+v, %v; want agent %q", o, ok, tc.want)
			}
		})
	}
}

func TestForAgent(t *testing.T) {
	items := []handoff.Item{
		waiting(1, 0, "en", "billing"),
		waiting(2, 1),
		item(waiting(3, 2), func(it *handoff.Item) { it.Priority = baton.PriorityHigh }),
		item(waiting(4, 3), func(it *handoff.Item) { it.Channel = wa }),
		item(waiting(5, 4), func(it *handoff.Item) { it.BotID = "bank" }),
		waiting(6, 5, "es"),
		item(waiting(7, 6, "es"), func(it *handoff.Item) { it.Preferred = "ana" }),
		item(waiting(8, 0), func(it *handoff.Item) { it.Channel = wa; it.Priority = baton.PriorityLow }),
		waiting(9, 2),
	}
	tests := []struct {
		name  string
		agent handoff.AgentState
		want  string
	}{
		{"one slot: the most urgent it can take", online("ana", 3, 2, "en"), "3>ana"},
		{"fills its room in serving order, its own reopened one and other bots' included", online("ana", 5, 0, "en"), "3>ana 2>ana 9>ana 5>ana 7>ana"},
		{"every skill", online("ana", 2, 0, "en", "billing"), "3>ana 1>ana"},
		{"room per kind", with(online("ana", 1, 0, "en"), func(a *handoff.AgentState) { a.Capacity[wa] = 5 }), "3>ana 4>ana 8>ana"},
		{"another bot's agent", with(online("bob", 9, 0, "en"), func(a *handoff.AgentState) { a.BotID = "bank" }), "5>bob"},
		{"full", online("ana", 2, 2, "en"), ""},
		{"away", with(online("ana", 4, 0, "en"), func(a *handoff.AgentState) { a.Status = baton.AgentAway }), ""},
		{"no skills", online("ana", 4, 0), "7>ana"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := plan(handoff.ForAgent(tc.agent, items)); got != tc.want {
				t.Errorf("ForAgent = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestItemOf(t *testing.T) {
	c := &baton.Conversation{ID: 7, BotID: "shop", Channel: wa, QueueID: "billing", Priority: baton.PriorityHigh}
	p := &baton.HandoffPacket{ConversationID: 7, QueueID: "billing", Skills: []string{"billing", "de"}, Priority: baton.PriorityNormal}
	it := handoff.ItemOf(c, p, at(3))
	want := handoff.Item{ConversationID: 7, BotID: "shop", QueueID: "billing", Skills: []string{"billing", "de"}, Channel: wa, Priority: baton.PriorityHigh, QueuedAt: at(3)}
	if fmt.Sprint(it) != fmt.Sprint(want) {
		t.Errorf("ItemOf = %+v, want %+v", it, want)
	}
	a := &baton.Agent{ID: "ana", BotID: "shop", Skills: []string{"de"}, Capacity: map[baton.ChannelKind]int{wa: 2}, Status: baton.AgentOnline}
	st := handoff.AgentStateOf(a, map[baton.ChannelKind]int{wa: 1}, at(-4))
	if o, ok := handoff.ForItem(handoff.Item{ConversationID: 8, BotID: "shop", Skills: []string{"de"}, Channel: wa}, []handoff.AgentState{st}); !ok || o.AgentID != "ana" {
		t.Errorf("an agent state from baton.Agent was not offered a conversation it can take: %+v %v", o, ok)
	}
	if st.LastAssignedAt != at(-4) || st.Load[wa] != 1 || !slices.Equal(st.Skills, a.Skills) {
		t.Errorf("AgentStateOf = %+v", st)
	}
}
