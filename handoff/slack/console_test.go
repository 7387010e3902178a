package slack

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/store/storecase"
)

// monday is a Monday morning.
var monday = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const bot = "shop"

func consoleQueues() map[string]baton.Queue {
	sla := baton.SLAPolicy{FirstResponse: map[int]time.Duration{baton.PriorityNormal: time.Hour}, WarnRatio: 0.5, BreachAction: handoff.BreachNotify}
	return map[string]baton.Queue{
		"billing": {ID: "billing", BotID: bot, Skills: []string{"en"}, Priority: baton.PriorityNormal, SlackChannel: "C0BILLING", SLA: sla},
		"general": {ID: "general", BotID: bot, Skills: []string{"en"}, Priority: baton.PriorityNormal, SlackChannel: "C0GENERAL", SLA: sla},
		"quiet":   {ID: "quiet", BotID: bot, Skills: []string{"en"}, Priority: baton.PriorityNormal, SLA: sla},
	}
}

// consoleRig is the real desk on a real store, its jobs and the
// console's run by the real pool, Slack played by the fake.
type consoleRig struct {
	t     *testing.T
	ctx   context.Context
	st    baton.Store
	clock *baton.ManualClock
	desk  *handoff.Desk
	pool  *jobs.Pool
	slack *fakeSlack
	tell  *Notifier
	seq   int
}

func newConsoleRig(t *testing.T, sc storecase.Case) *consoleRig {
	t.Helper()
	return newConsoleRigWith(t, sc, nil)
}

// newConsoleRigWith is newConsoleRig with the console changed by tune
// before it is registered.
func newConsoleRigWith(t *testing.T, sc storecase.Case, tune func(*Console)) *consoleRig {
	t.Helper()
	return newConsoleRigOn(t, sc, newFakeSlack(t), func(context.Context, *baton.Conversation, time.Time) baton.Window {
		return baton.Window{Open: true}
	}, tune)
}

// newConsoleRigOn builds the rig over fake, with windows as the desk's
// channel windows and the console changed by tune (nil: as it is).
func newConsoleRigOn(t *testing.T, sc storecase.Case, fake *fakeSlack, windows func(context.Context, *baton.Conversation, time.Time) baton.Window,
	tune func(*Console)) *consoleRig {
	t.Helper()
	r := &consoleRig{t: t, ctx: context.Background(), clock: baton.NewManualClock(monday), slack: fake}
	r.st = sc.Open(t, r.clock)
	r.tell = &Notifier{Store: r.st, Clock: r.clock}
	queues := consoleQueues()
	d, err := handoff.New(handoff.Config{Store: r.st, Queues: queues, Bots: map[string]baton.Bot{bot: {ID: bot}}, Clock: r.clock, Notifier: r.tell,
		Windows: windows})
	if err != nil {
		t.Fatal(err)
	}
	r.desk = d
	channels := map[string]string{}
	for id, q := range queues {
		channels[id] = q.SlackChannel
	}
	r.pool = jobs.New(r.st, jobs.Options{Clock: r.clock, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	handlers := d.Jobs()
	console := &Console{API: fake.client(), Desk: d, Store: r.st, Channels: channels, Clock: r.clock, PostInterval: time.Millisecond}
	if tune != nil {
		tune(console)
	}
	r.tell.Channels, r.tell.Console = channels, console
	handlers[baton.JobSlack] = console
	for kind, h := range handlers {
		if err := r.pool.Register(kind, h); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// claimers are two agents linked to Slack users whose skills match no
// queue, so that routing leaves a conversation waiting for a claim.
func claimers() []*baton.Agent {
	return []*baton.Agent{
		{ID: "zeynep", Name: "Zeynep", Skills: []string{"fr"}, SlackUserID: "U0AGENT01", Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}},
		{ID: "bob", Name: "Bob", Skills: []string{"fr"}, SlackUserID: "U0BOB", Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}},
	}
}

// online saves agents and brings them online.
func (r *consoleRig) online(agents ...*baton.Agent) {
	r.t.Helper()
	for _, a := range agents {
		if err := r.st.UpsertAgent(r.ctx, a); err != nil {
			r.t.Fatal(err)
		}
		if err := r.st.SetAgentStatus(r.ctx, a.ID, baton.AgentOnline); err != nil {
			r.t.Fatal(err)
		}
	}
}

// escalate queues a new WhatsApp conversation in queue with its packet,
// as the bot does, and tells the console as the bot's turn does after
// its commit.
func (r *consoleRig) escalate(queue string) int64 {
	r.t.Helper()
	return r.escalateNoting(queue, true)
}

// escalateNoting is escalate, telling the console only when note.
func (r *consoleRig) escalateNoting(queue string, note bool) int64 {
	r.t.Helper()
	r.seq++
	addr := "+155500000" + string(rune('0'+r.seq))
	cust, err := r.st.UpsertCustomerByIdentity(r.ctx, baton.ChannelIdentity{BotID: bot, Channel: baton.ChannelWhatsApp, Address: addr}, "Kim")
	if err != nil {
		r.t.Fatal(err)
	}
	now := r.clock.Now()
	c := &baton.Conversation{BotID: bot, CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: addr, Language: "en", LastInboundAt: &now}
	if err := r.st.CreateConversation(r.ctx, c); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.st.InsertMessage(r.ctx, &baton.Message{ConversationID: c.ID, BotID: bot, Channel: c.Channel, Direction: baton.DirectionIn,
		Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "I was charged twice", ProviderID: "wamid." + addr}); err != nil {
		r.t.Fatal(err)
	}
	prio := baton.PriorityNormal
	p := &baton.HandoffPacket{ConversationID: c.ID, Summary: "double charge", Channel: baton.ChannelWhatsApp, Language: "en", QueueID: queue,
		Skills: []string{"en"}, Priority: prio, Sentiment: -0.6,
		Reasons: []baton.TriggerResult{{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true}}}
	err = r.st.Tx(r.ctx, func(tx baton.Store) error {
		if err := tx.SavePacket(r.ctx, p); err != nil {
			return err
		}
		conv, _, err := tx.TransitionConversation(r.ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "escalated", QueueID: &queue, Priority: &prio})
		if err != nil {
			return err
		}
		return r.desk.Queued(r.ctx, tx, conv)
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if !note {
		return c.ID
	}
	if err := r.tell.Notify(r.ctx, baton.Notification{Kind: "escalated", ConversationID: c.ID, QueueID: queue, Packet: p}); err != nil {
		r.t.Fatal(err)
	}
	return c.ID
}

func (r *consoleRig) run() {
	r.t.Helper()
	if _, err := r.pool.RunDue(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

func (r *consoleRig) thread(id int64) *baton.SlackThread {
	r.t.Helper()
	th, err := r.st.GetSlackThread(r.ctx, "T0TEAM", id)
	if err != nil {
		r.t.Fatalf("thread of %d: %v", id, err)
	}
	return th
}

func (r *consoleRig) slackJobs(status baton.JobStatus) []*baton.Job {
	r.t.Helper()
	js, err := r.st.ListJobs(r.ctx, baton.JobFilter{Kind: baton.JobSlack, Status: status})
	if err != nil {
		r.t.Fatal(err)
	}
	return js
}

func methods(calls []apiCall) string {
	var s []string
	for _, c := range calls {
		s = append(s, c.Method)
	}
	return strings.Join(s, " ")
}

func TestConsoleCardLifecycle(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			id := r.escalate("billing")
			r.run()
			calls := r.slack.take()
			if methods(calls) != "auth.test chat.postMessage" {
				t.Fatalf("calls %q, want auth.test then one post", methods(calls))
			}
			post := calls[1]
			if post.Channel != "C0BILLING" || !strings.Contains(post.Blocks, ActionClaim) || !strings.Contains(post.Blocks, "double charge") ||
				!strings.Contains(post.Blocks, "wants_human") || !strings.Contains(post.Text, "Kim") {
				t.Fatalf("post %+v", post)
			}
			th := r.thread(id)
			if th.ChannelID != "C0BILLING" || th.MessageTS != "1700000000.000001" || th.Root() != th.MessageTS {
				t.Fatalf("thread %+v", th)
			}

			// Assigned: the same card is updated, not posted again.
			if err := r.st.UpsertAgent(r.ctx, &baton.Agent{ID: "zeynep", Name: "Zeynep", Skills: []string{"en"},
				Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}}); err != nil {
				t.Fatal(err)
			}
			if err := r.st.SetAgentStatus(r.ctx, "zeynep", baton.AgentOnline); err != nil {
				t.Fatal(err)
			}
			if _, err := r.desk.Assign(r.ctx, id, "zeynep", baton.Actor{Admin: true}); err != nil {
				t.Fatal(err)
			}
			r.run()
			calls = r.slack.take()
			if methods(calls) != "chat.update" || calls[0].Channel != "C0BILLING" || calls[0].TS != th.MessageTS ||
				!strings.Contains(calls[0].Blocks, "Assigned to zeynep") || !strings.Contains(calls[0].Blocks, "with zeynep") ||
				strings.Contains(calls[0].Blocks, ActionClaim) {
				t.Fatalf("after assign: %+v", calls)
			}

			// SLA warning and breach update the card as the clock runs.
			r.clock.Advance(31 * time.Minute)
			r.run()
			calls = r.slack.take()
			if methods(calls) != "chat.update" || !strings.Contains(calls[0].Blocks, "SLA warning") {
				t.Fatalf("after warning: %+v", calls)
			}
			r.clock.Advance(30 * time.Minute)
			r.run()
			calls = r.slack.take()
			if len(calls) == 0 || calls[0].Method != "chat.update" || !strings.Contains(calls[0].Blocks, "SLA breach") || !strings.Contains(calls[0].Blocks, "breached") {
				t.Fatalf("after breach: %+v", calls)
			}

			// A transfer to a queue in another channel posts a card there
			// and marks the old one as moved, without its buttons.
			if _, err := r.desk.Transfer(r.ctx, id, baton.TransferTo{Queue: "general", Note: "billing is general's"}, baton.Actor{Admin: true}); err != nil {
				t.Fatal(err)
			}
			r.run()
			calls = r.slack.take()
			if len(calls) < 2 || calls[0].Method != "chat.update" || calls[0].Channel != "C0BILLING" || !strings.Contains(calls[0].Blocks, "Moved to queue general") ||
				strings.Contains(calls[0].Blocks, `"actions"`) || calls[1].Method != "chat.postMessage" || calls[1].Channel != "C0GENERAL" {
				t.Fatalf("after transfer: %+v", calls)
			}
			if th := r.thread(id); th.ChannelID != "C0GENERAL" || th.MessageTS != "1700000000.000002" {
				t.Fatalf("thread after transfer %+v", th)
			}

			// Resolved outside Slack (the agent API, the web inbox): the
			// card says so all the same.
			if _, err := r.desk.Resolve(r.ctx, id, baton.Actor{Admin: true}); err != nil {
				t.Fatal(err)
			}
			r.run()
			calls = r.slack.take()
			if methods(calls) != "chat.update" || calls[0].Channel != "C0GENERAL" || !strings.Contains(calls[0].Blocks, "Resolved") {
				t.Fatalf("after resolve through the desk: %+v", calls)
			}
			if js := r.slackJobs(baton.JobDead); len(js) != 0 {
				t.Fatalf("dead Slack jobs: %s", js[0].LastError)
			}
		})
	}
}

func TestConsoleRateLimited(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			r.slack.limit("chat.postMessage", 1)
			id := r.escalate("billing")
			r.run()
			if calls := r.slack.take(); methods(calls) != "auth.test chat.postMessage" || calls[1].Status != 429 {
				t.Fatalf("calls %+v, want one 429", calls)
			}
			pending := r.slackJobs(baton.JobPending)
			if len(pending) != 1 || !pending[0].RunAt.Equal(r.clock.Now().Add(3*time.Second)) || !strings.Contains(pending[0].LastError, "rate limit") {
				t.Fatalf("after a 429: %+v, want the job again at now+Retry-After (3s)", pending)
			}
			r.clock.Advance(2 * time.Second)
			r.run()
			if calls := r.slack.take(); len(calls) != 0 {
				t.Fatalf("called Slack before Retry-After: %+v", calls)
			}
			r.clock.Advance(time.Second)
			r.run()
			// A retry looks for the card an earlier try may have posted
			// before it posts.
			if calls := r.slack.take(); methods(calls) != "conversations.history chat.postMessage" || calls[1].Status != 200 {
				t.Fatalf("after Retry-After: %+v", calls)
			}
			r.thread(id)
			if js := r.slackJobs(baton.JobDone); len(js) != 1 {
				t.Fatalf("%d done Slack jobs, want 1", len(js))
			}
		})
	}
}

func TestConsoleFailures(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Run("unknown channel is dead-lettered with Slack's reason", func(t *testing.T) {
				r := newConsoleRig(t, sc)
				r.slack.failWith("chat.postMessage", "channel_not_found")
				id := r.escalate("billing")
				r.run()
				dead := r.slackJobs(baton.JobDead)
				if len(dead) != 1 || !strings.Contains(dead[0].LastError, "channel_not_found") {
					t.Fatalf("dead jobs %+v", dead)
				}
				if calls := r.slack.take(); methods(calls) != "auth.test chat.postMessage" {
					t.Fatalf("retried a permanent error: %q", methods(calls))
				}
				if _, err := r.st.GetSlackThread(r.ctx, "T0TEAM", id); baton.ErrorCode(err) != baton.ENOTFOUND {
					t.Fatalf("thread saved for a failed post: %v", err)
				}
			})
			t.Run("queue without a channel gets no card", func(t *testing.T) {
				r := newConsoleRig(t, sc)
				r.escalate("quiet")
				r.run()
				if calls := r.slack.take(); len(calls) != 0 {
					t.Fatalf("calls %+v", calls)
				}
				if js := r.slackJobs(baton.JobDone); len(js) != 1 {
					t.Fatalf("%d done jobs, want 1", len(js))
				}
			})
			t.Run("notifications that change no card enqueue nothing", func(t *testing.T) {
				r := newConsoleRig(t, sc)
				if err := r.tell.Notify(r.ctx, baton.Notification{Kind: "typing", ConversationID: 1, Text: "hi"}); err != nil {
					t.Fatal(err)
				}
				if js := r.slackJobs(""); len(js) != 0 {
					t.Fatalf("%d jobs", len(js))
				}
			})
		})
	}
}

// press is a signed block_actions request: the button fixture pressed by
// user on conversation id.
func press(t *testing.T, user, action string, id int64, trigger string) *baton.WebhookRequest {
	t.Helper()
	var cb map[string]any
	if err := json.Unmarshal(fixture(t, "CONSTRUCTED_block_actions_button.json"), &cb); err != nil {
		t.Fatal(err)
	}
	cb["user"].(map[string]any)["id"] = user
	cb["trigger_id"] = trigger
	a := cb["actions"].([]any)[0].(map[string]any)
	a["action_id"], a["value"] = action, strconv.FormatInt(id, 10)
	b, _ := json.Marshal(cb)
	return signed(testSecret, time.Now(), []byte(url.Values{"payload": {string(b)}}.Encode()))
}

func TestConsoleButtons(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			in := &Intake{SigningSecret: testSecret, Store: r.st}
			// Their skills match no queue, so routing leaves the
			// conversation waiting for a claim.
			r.online(claimers()...)
			id := r.escalate("billing")
			r.run()
			th := r.thread(id)
			r.slack.take()
			click := func(user, action, trigger string) []apiCall {
				t.Helper()
				if _, err := in.Interactions().ServeWebhook(r.ctx, press(t, user, action, id, trigger)); err != nil {
					t.Fatal(err)
				}
				r.run()
				return r.slack.take()
			}
			state := func() *baton.Conversation {
				c, err := r.st.GetConversation(r.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}

			calls := click("U0AGENT01", ActionClaim, "trig.1")
			if c := state(); c.State != baton.StateAssigned || c.AgentID != "zeynep" {
				t.Fatalf("after Claim: %s with %q", c.State, c.AgentID)
			}
			if methods(calls) != "chat.update" || calls[0].TS != th.MessageTS || !strings.Contains(calls[0].Blocks, "Claimed by zeynep") ||
				strings.Contains(calls[0].Blocks, ActionClaim) {
				t.Fatalf("after Claim: %+v", calls)
			}

			// Bob is too late: told so, privately; nothing changes.
			calls = click("U0BOB", ActionClaim, "trig.2")
			if methods(calls) != "chat.postEphemeral" || calls[0].User != "U0BOB" || calls[0].Channel != "C0ESCALATE" || !strings.Contains(calls[0].Text, "zeynep has it") {
				t.Fatalf("late Claim: %+v", calls)
			}
			// Someone not linked to an agent.
			calls = click("U0STRANGER", ActionResolve, "trig.3")
			if methods(calls) != "chat.postEphemeral" || !strings.Contains(calls[0].Text, "not linked") {
				t.Fatalf("unlinked user: %+v", calls)
			}
			// Bob may not resolve Zeynep's conversation.
			calls = click("U0BOB", ActionResolve, "trig.4")
			if methods(calls) != "chat.postEphemeral" || !strings.Contains(calls[0].Text, "Not done") {
				t.Fatalf("bob resolving: %+v", calls)
			}
			// Transfer needs a modal, which this console (no intake modals) cannot open.
			calls = click("U0AGENT01", ActionTransfer, "trig.5")
			if methods(calls) != "chat.postEphemeral" || !strings.Contains(calls[0].Text, "does not open that button's form") {
				t.Fatalf("transfer: %+v", calls)
			}
			if c := state(); c.State != baton.StateAssigned || c.AgentID != "zeynep" {
				t.Fatalf("refusals changed the conversation: %s with %q", c.State, c.AgentID)
			}

			// The same press delivered twice acts once.
			calls = click("U0AGENT01", ActionResolve, "trig.6")
			if c := state(); c.State != baton.StateResolved {
				t.Fatalf("after Resolve: %s", c.State)
			}
			if methods(calls) != "chat.update" || !strings.Contains(calls[0].Blocks, "Resolved by zeynep") || strings.Contains(calls[0].Blocks, ActionResolve) {
				t.Fatalf("after Resolve: %+v", calls)
			}
			if calls := click("U0AGENT01", ActionResolve, "trig.6"); len(calls) != 0 {
				t.Fatalf("a replayed press acted again: %+v", calls)
			}
			if js := r.slackJobs(baton.JobDead); len(js) != 0 {
				t.Fatalf("dead Slack jobs: %s", js[0].LastError)
			}
		})
	}
}
