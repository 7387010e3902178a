package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/storecase"
)

// threadSlack is the recording fake with what the thread needs besides
// the card: reactions, conversations.open, and the thread_ts of posts.
type threadSlack struct {
	*fakeSlack
	mu    sync.Mutex
	posts []threadPost
}

type threadPost struct{ Channel, ThreadTS, Text, Blocks string }

func newThreadSlack(t *testing.T) *threadSlack {
	s := &threadSlack{fakeSlack: &fakeSlack{limited: map[string]int{}, fail: map[string]string{}, lost: map[string]int{}, channels: map[string][]fakeMessage{}}}
	f := s.fakeSlack
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		method := strings.TrimPrefix(r.URL.Path, "/")
		if method == "chat.postMessage" || method == "chat.postEphemeral" {
			s.mu.Lock()
			s.posts = append(s.posts, threadPost{Channel: r.PostForm.Get("channel"), ThreadTS: r.PostForm.Get("thread_ts"), Text: r.PostForm.Get("text"), Blocks: r.PostForm.Get("blocks")})
			s.mu.Unlock()
		}
		var answer map[string]any
		c := apiCall{Method: method, Channel: r.PostForm.Get("channel"), TS: r.PostForm.Get("timestamp"), Text: r.PostForm.Get("name"), Status: http.StatusOK}
		switch method {
		case "reactions.add", "reactions.remove":
			answer = map[string]any{"ok": true}
		case "conversations.open":
			c.User = r.PostForm.Get("users")
			answer = map[string]any{"ok": true, "channel": map[string]any{"id": "D0" + c.User}}
		default:
			f.serve(w, r)
			return
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(f.srv.Close)
	return s
}

func (s *threadSlack) takePosts() []threadPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.posts
	s.posts = nil
	return out
}

// threadRig is consoleRig with an intake taking Slack's events. The
// outbox's deliver jobs are left pending: the console reads the status
// they record, which the tests set (the app's tests deliver through a
// fake WhatsApp).
type threadRig struct {
	*consoleRig
	slack  *threadSlack
	in     *Intake
	mu     sync.Mutex
	window baton.Window
	events int
}

func newThreadRig(t *testing.T, sc storecase.Case) *threadRig {
	t.Helper()
	ts := newThreadSlack(t)
	r := &threadRig{slack: ts, window: baton.Window{Open: true}}
	r.consoleRig = newConsoleRigOn(t, sc, ts.fakeSlack, func(context.Context, *baton.Conversation, time.Time) baton.Window {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.window
	}, nil)
	r.in = &Intake{SigningSecret: testSecret, Store: r.st}
	r.online(append(claimers(), &baton.Agent{ID: "ana", Name: "Ana", Skills: []string{"fr"}, Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}})...)
	return r
}

// say is user writing text in the thread of th, delivered by Slack's
// Events API to the intake, and the jobs it causes run.
func (r *threadRig) say(th *baton.SlackThread, user, text string) {
	r.t.Helper()
	var env map[string]any
	if err := json.Unmarshal(fixture(r.t, "CONSTRUCTED_event_callback_thread_reply.json"), &env); err != nil {
		r.t.Fatal(err)
	}
	r.events++
	ev := env["event"].(map[string]any)
	ev["channel"], ev["user"], ev["text"], ev["thread_ts"] = th.ChannelID, user, text, th.Root()
	ev["ts"] = "1700000100.00000" + string(rune('0'+r.events))
	env["event_id"] = "Ev0REPLY" + string(rune('A'+r.events))
	b, _ := json.Marshal(env)
	if _, err := r.in.Events().ServeWebhook(r.ctx, signed(testSecret, time.Now(), b)); err != nil {
		r.t.Fatal(err)
	}
	r.run()
}

func (r *threadRig) lastTS() string { return "1700000100.00000" + string(rune('0'+r.events)) }

// customerWrites stores the customer's messages and notifies as the
// bots' turn does for a conversation a person owns: once, for the last.
func (r *threadRig) customerWrites(id int64, ms ...*baton.Message) {
	r.t.Helper()
	r.clock.Advance(time.Minute)
	c, err := r.st.GetConversation(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, m := range ms {
		m.ConversationID, m.BotID, m.Channel, m.Direction, m.Author = id, bot, c.Channel, baton.DirectionIn, baton.AuthorCustomer
		if m.Type == "" {
			m.Type = baton.TypeText
		}
		if _, err := r.st.InsertMessage(r.ctx, m); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := r.tell.Notify(r.ctx, baton.Notification{Kind: "message", ConversationID: id, QueueID: c.QueueID, AgentID: c.Owner(), Text: ms[len(ms)-1].Text}); err != nil {
		r.t.Fatal(err)
	}
	r.run()
}

func (r *threadRig) transcript(id int64) []*baton.Message {
	r.t.Helper()
	ms, err := r.st.ListMessages(r.ctx, id, 0, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	return ms
}

func (r *threadRig) noDead() {
	r.t.Helper()
	for _, kind := range []string{baton.JobSlack} {
		js, err := r.st.ListJobs(r.ctx, baton.JobFilter{Kind: kind, Status: baton.JobDead})
		if err != nil {
			r.t.Fatal(err)
		}
		if len(js) != 0 {
			for _, m := range r.transcript(js[0].ConversationID) {
				r.t.Logf("%d %s %s %q %s", m.ID, m.Direction, m.ProviderID, m.Text, m.Status)
			}
			r.t.Fatalf("dead %s job: %s", kind, js[0].LastError)
		}
	}
}

// handOver plays the outbox's side through the store: its pending
// deliver jobs are taken and done (the status the provider reports is
// set by the test), so that they no longer hold the conversation's later
// jobs back.
func (r *threadRig) handOver() {
	r.t.Helper()
	for {
		j, err := r.st.ClaimJob(r.ctx, "outbox", []string{baton.JobDeliver}, time.Minute)
		if err != nil {
			r.t.Fatal(err)
		}
		if j == nil {
			return
		}
		if err := r.st.CompleteJob(r.ctx, j.ID, "outbox"); err != nil {
			r.t.Fatal(err)
		}
	}
}

// outbound is what the outbox holds for the customer: the conversation's
// outgoing messages and the deliver jobs that send them.
func (r *threadRig) outbound(id int64) (msgs []*baton.Message, deliveries int) {
	r.t.Helper()
	for _, m := range r.transcript(id) {
		if m.Direction == baton.DirectionOut {
			msgs = append(msgs, m)
		}
	}
	js, err := r.st.ListJobs(r.ctx, baton.JobFilter{Kind: baton.JobDeliver, ConversationID: id})
	if err != nil {
		r.t.Fatal(err)
	}
	return msgs, len(js)
}

func lastNote(ms []*baton.Message) *baton.Message {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Direction == baton.DirectionNote {
			return ms[i]
		}
	}
	return nil
}

func TestThreadConversation(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newThreadRig(t, sc)
			id := r.escalate("billing")
			r.run()
			th := r.thread(id)
			if _, err := r.desk.Claim(r.ctx, id, baton.Actor{AgentID: "zeynep"}); err != nil {
				t.Fatal(err)
			}
			r.run()
			r.slack.take()
			r.slack.takePosts()

			// The owner's reply goes to the outbox for the customer; its
			// Slack message shows it sent, then delivered.
			// Slack escapes &, < and > and wraps links: the customer reads
			// the text as the agent typed it.
			r.say(th, "U0AGENT01", "Refunding the second charge &amp; the fee now: <https://stride.example/refunds|refunds>")
			out, deliveries := r.outbound(id)
			if len(out) != 1 || deliveries != 1 || out[0].AuthorID != "zeynep" || out[0].Author != baton.AuthorAgent || out[0].Text != "Refunding the second charge & the fee now: refunds (https://stride.example/refunds)" {
				t.Fatalf("outbox %+v, %d deliver jobs", out, deliveries)
			}
			reply := out[0]
			if calls := r.slack.take(); len(calls) != 0 {
				t.Fatalf("status shown before any: %+v", calls)
			}
			setStatus := func(id int64, s baton.DeliveryStatus) {
				t.Helper()
				r.handOver()
				if _, err := r.st.SetMessageStatus(r.ctx, id, s, "", "", r.clock.Now()); err != nil {
					t.Fatal(err)
				}
				r.clock.Advance(time.Minute)
				r.run()
			}
			setStatus(reply.ID, baton.StatusSending)
			setStatus(reply.ID, baton.StatusSent)
			calls := r.slack.take()
			if methods(calls) != "reactions.add" || calls[0].Text != "outbox_tray" || calls[0].Channel != "C0BILLING" || calls[0].TS != r.lastTS() {
				t.Fatalf("after sending: %+v", calls)
			}
			setStatus(reply.ID, baton.StatusDelivered)
			calls = r.slack.take()
			if methods(calls) != "reactions.add reactions.remove" || calls[0].Text != "white_check_mark" || calls[1].Text != "outbox_tray" || calls[0].TS != r.lastTS() {
				t.Fatalf("after delivery: %+v", calls)
			}
			r.clock.Advance(time.Hour)
			r.run()
			if calls := r.slack.take(); len(calls) != 0 {
				t.Fatalf("still watching a delivered reply: %+v", calls)
			}

			// A failed reply shows x.
			r.say(th, "U0AGENT01", "One more thing.")
			out, _ = r.outbound(id)
			r.slack.take()
			setStatus(out[len(out)-1].ID, baton.StatusFailed)
			if calls := r.slack.take(); methods(calls) != "reactions.add reactions.remove" || calls[0].Text != "x" {
				t.Fatalf("after failure: %+v", calls)
			}
			sentSoFar, _ := r.outbound(id)

			// Bob is not the owner: his reply stays internal, and he is
			// offered Claim, in the thread, privately.
			r.slack.takePosts()
			r.say(th, "U0BOB", "I think it was refunded yesterday")
			if out, _ := r.outbound(id); len(out) != len(sentSoFar) {
				t.Fatalf("a non-owner's reply went to the customer: %+v", out)
			}
			if n := lastNote(r.transcript(id)); n == nil || n.AuthorID != "bob" || n.Text != "I think it was refunded yesterday" {
				t.Fatalf("bob's note %+v", n)
			}
			calls = r.slack.take()
			posts := r.slack.takePosts()
			if methods(calls) != "chat.postEphemeral" || calls[0].User != "U0BOB" || len(posts) != 1 || posts[0].ThreadTS != th.Root() ||
				!strings.Contains(posts[0].Blocks, ActionClaim) || !strings.Contains(posts[0].Text, "internal note") {
				t.Fatalf("bob's Claim offer: %+v %+v", calls, posts)
			}

			// Someone not linked to an agent: a note naming them.
			r.say(th, "U0STRANGER", "who is on this?")
			if n := lastNote(r.transcript(id)); n == nil || n.Author != baton.AuthorSystem || !strings.Contains(n.Text, "U0STRANGER") {
				t.Fatalf("stranger's note %+v", n)
			}
			if calls := r.slack.take(); methods(calls) != "chat.postEphemeral" || calls[0].User != "U0STRANGER" {
				t.Fatalf("stranger told: %+v", calls)
			}

			// The owner's note, by its prefix.
			r.say(th, "U0AGENT01", "Note: refund ref R-42 &lt;internal&gt;")
			if out, _ := r.outbound(id); len(out) != len(sentSoFar) {
				t.Fatalf("a note went to the customer: %+v", out)
			}
			if n := lastNote(r.transcript(id)); n == nil || n.AuthorID != "zeynep" || n.Text != "refund ref R-42 <internal>" {
				t.Fatalf("owner's note %+v", n)
			}
			if calls := r.slack.take(); len(calls) != 0 {
				t.Fatalf("after a note: %+v", calls)
			}

			// The customer writes twice (one turn, one notification): both
			// appear in the thread, in order, the photo as a link; the
			// owner gets a DM.
			r.slack.takePosts()
			r.customerWrites(id, &baton.Message{Text: "thanks <!channel>", ProviderID: "wamid.n1"},
				&baton.Message{Type: baton.TypeImage, Text: "receipt", ProviderID: "wamid.n2",
					Attachments: []baton.Attachment{{Kind: baton.TypeImage, URL: "https://cdn.example/r.jpg", Filename: "receipt.jpg"}}})
			calls = r.slack.take()
			posts = r.slack.takePosts()
			if methods(calls) != "chat.postMessage chat.postMessage conversations.open chat.postMessage" || len(posts) != 3 {
				t.Fatalf("after the customer wrote: %q %+v", methods(calls), posts)
			}
			if posts[0].Channel != "C0BILLING" || posts[0].ThreadTS != th.Root() || posts[0].Text != "*Kim*: thanks &lt;!channel&gt;" {
				t.Fatalf("first post %+v", posts[0])
			}
			if posts[1].ThreadTS != th.Root() || !strings.Contains(posts[1].Text, "receipt") || !strings.Contains(posts[1].Text, "<https://cdn.example/r.jpg|receipt.jpg>") {
				t.Fatalf("second post %+v", posts[1])
			}
			if calls[2].User != "U0AGENT01" || posts[2].Channel != "D0U0AGENT01" || posts[2].ThreadTS != "" || !strings.Contains(posts[2].Text, "wrote again") {
				t.Fatalf("DM %+v %+v", calls[2], posts[2])
			}
			// The next message is posted alone: none twice.
			r.customerWrites(id, &baton.Message{Text: "still there?", ProviderID: "wamid.n3"})
			if posts := r.slack.takePosts(); len(posts) != 2 || !strings.Contains(posts[0].Text, "still there?") {
				t.Fatalf("third message: %+v", posts)
			}

			// The window closed: the owner is told and shown the
			// templates; nothing is sent.
			r.mu.Lock()
			r.window = baton.Window{Open: false, Templates: []baton.Template{{Name: "order_update", Language: "en"}}}
			r.mu.Unlock()
			r.slack.take()
			before := len(r.transcript(id))
			r.say(th, "U0AGENT01", "Are you still there?")
			if out, _ := r.outbound(id); len(out) != len(sentSoFar) {
				t.Fatalf("sent with the window closed: %+v", out)
			}
			if after := len(r.transcript(id)); after != before {
				t.Fatalf("transcript grew from %d to %d", before, after)
			}
			posts = r.slack.takePosts()
			if calls := r.slack.take(); methods(calls) != "chat.postEphemeral" || calls[0].User != "U0AGENT01" || len(posts) != 1 ||
				!strings.Contains(posts[0].Text, "window is closed") || !strings.Contains(posts[0].Text, "order_update (en)") {
				t.Fatalf("closed window: %+v %+v", calls, posts)
			}
			r.noDead()
		})
	}
}

func TestThreadDMs(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			cases := []struct {
				name, agent, dm string
				resolved        bool // before the DM's job ran
			}{
				{"assigned to an agent in Slack", "bob", "is yours now", false},
				{"assigned to an agent without Slack", "ana", "", false},
				{"resolved before the DM went", "bob", "", true},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					r := newThreadRig(t, sc)
					id := r.escalate("billing")
					r.run()
					r.slack.take()
					r.slack.takePosts()
					if _, err := r.desk.Assign(r.ctx, id, tc.agent, baton.Actor{Admin: true}); err != nil {
						t.Fatal(err)
					}
					if tc.resolved {
						if _, err := r.desk.Resolve(r.ctx, id, baton.Actor{Admin: true}); err != nil {
							t.Fatal(err)
						}
					}
					r.run()
					dms := func() []threadPost {
						var out []threadPost
						for _, p := range r.slack.takePosts() {
							if strings.HasPrefix(p.Channel, "D0") {
								out = append(out, p)
							}
						}
						return out
					}
					got := dms()
					if tc.dm == "" {
						if len(got) != 0 {
							t.Fatalf("a DM that should not go: %+v", got)
						}
						return
					}
					if len(got) != 1 || got[0].Channel != "D0U0BOB" || !strings.Contains(got[0].Text, tc.dm) {
						t.Fatalf("assignment DM %+v", got)
					}
					// The SLA warning: the owner's copy is a DM.
					r.clock.Advance(31 * time.Minute)
					r.run()
					if got := dms(); len(got) != 1 || !strings.Contains(got[0].Text, "SLA warning") {
						t.Fatalf("SLA warning DM %+v", got)
					}
					r.noDead()
				})
			}
		})
	}
}

// A customer's message in a conversation whose card never made it to
// Slack brings the card first, then the message under it.
func TestThreadCardFirst(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newThreadRig(t, sc)
			r.slack.failWith("chat.postMessage", "channel_not_found")
			id := r.escalate("billing")
			r.run()
			if _, err := r.st.GetSlackThread(r.ctx, "T0TEAM", id); baton.ErrorCode(err) != baton.ENOTFOUND {
				t.Fatalf("card saved although its post failed: %v", err)
			}
			r.slack.failWith("chat.postMessage", "")
			r.slack.take()
			r.slack.takePosts()
			r.customerWrites(id, &baton.Message{Text: "hello?", ProviderID: "wamid.h1"})
			posts := r.slack.takePosts()
			th := r.thread(id)
			if len(posts) != 2 || posts[0].ThreadTS != "" || !strings.Contains(posts[0].Blocks, ActionClaim) ||
				posts[1].ThreadTS != th.Root() || posts[1].Text != "*Kim*: hello?" {
				t.Fatalf("posts %+v", posts)
			}
		})
	}
}

// pickerPress is a signed block_actions request from the template
// picker's ephemeral message: user pressed action with picked chosen in
// the select ("" = nothing chosen).
func pickerPress(t *testing.T, user, action string, id int64, trigger, picked string) *baton.WebhookRequest {
	t.Helper()
	var cb map[string]any
	if err := json.Unmarshal(fixture(t, "CONSTRUCTED_block_actions_button.json"), &cb); err != nil {
		t.Fatal(err)
	}
	cb["user"].(map[string]any)["id"] = user
	cb["trigger_id"] = trigger
	cb["container"] = map[string]any{"type": "message", "message_ts": "1700000099.000001", "channel_id": "C0BILLING", "is_ephemeral": true}
	cb["channel"] = map[string]any{"id": "C0BILLING"}
	a := cb["actions"].([]any)[0].(map[string]any)
	a["action_id"], a["block_id"], a["value"] = action, BlockTemplatePicker, strconv.FormatInt(id, 10)
	sel := map[string]any{"type": "static_select"}
	if picked != "" {
		sel["selected_option"] = map[string]any{"value": picked}
	}
	cb["state"] = map[string]any{"values": map[string]any{BlockTemplatePicker: map[string]any{ActionTemplatePick: sel}}}
	b, _ := json.Marshal(cb)
	return signed(testSecret, time.Now(), []byte(url.Values{"payload": {string(b)}}.Encode()))
}

// TestTemplatePicker: free text from the owner with the window closed
// sends nothing and offers the window's templates in a picker; Send sends
// the chosen one through the desk as the owner, and its delivery shows on
// the thread line that says it went. Others are refused as for replies;
// choosing alone sends nothing.
func TestTemplatePicker(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newThreadRig(t, sc)
			id := r.escalate("billing")
			r.run()
			th := r.thread(id)
			if _, err := r.desk.Claim(r.ctx, id, baton.Actor{AgentID: "zeynep"}); err != nil {
				t.Fatal(err)
			}
			r.run()
			r.mu.Lock()
			r.window = baton.Window{Open: false, Templates: []baton.Template{{Name: "order_update", Language: "en", BodyParams: []string{"Kim"}}, {Name: "order_update", Language: "tr"}}}
			r.mu.Unlock()
			r.slack.take()
			r.slack.takePosts()

			r.say(th, "U0AGENT01", "Are you still there?")
			posts := r.slack.takePosts()
			if len(posts) != 1 || !strings.Contains(posts[0].Text, "window is closed") {
				t.Fatalf("posts %+v", posts)
			}
			for _, w := range []string{`"action_id":"pick_template"`, `"action_id":"send_template"`, `"value":"order_update|en"`, `"value":"order_update|tr"`,
				`"value":"` + strconv.FormatInt(id, 10) + `"`, "order_update (tr)"} {
				if !strings.Contains(posts[0].Blocks, w) {
					t.Errorf("picker lacks %s: %s", w, posts[0].Blocks)
				}
			}
			r.slack.take()

			n := 0
			push := func(user, action, picked string) {
				t.Helper()
				n++
				if _, err := r.in.Interactions().ServeWebhook(r.ctx, pickerPress(t, user, action, id, "trig.pick."+strconv.Itoa(n), picked)); err != nil {
					t.Fatal(err)
				}
				r.run()
			}
			for _, tc := range []struct{ name, user, action, picked, says string }{
				{"choosing sends nothing", "U0AGENT01", ActionTemplatePick, "order_update|en", ""},
				{"another agent", "U0BOB", ActionTemplateSend, "order_update|en", "Not sent: reply to conversation"},
				{"nothing chosen", "U0AGENT01", ActionTemplateSend, "", "choose a template first"},
				{"a template the window does not have", "U0AGENT01", ActionTemplateSend, "welcome|en", "not one this channel may send"},
				{"not linked", "U0STRANGER", ActionTemplateSend, "order_update|en", "not linked"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					push(tc.user, tc.action, tc.picked)
					if out, deliveries := r.outbound(id); len(out) != 0 || deliveries != 0 {
						t.Fatalf("sent %+v", out)
					}
					posts := r.slack.takePosts()
					calls := r.slack.take()
					if tc.says == "" {
						if len(calls) != 0 {
							t.Fatalf("choosing called Slack: %+v", calls)
						}
						return
					}
					if methods(calls) != "chat.postEphemeral" || calls[0].User != tc.user || !strings.Contains(posts[0].Text, tc.says) {
						t.Fatalf("calls %+v %+v, want %s told %q", calls, posts, tc.user, tc.says)
					}
				})
			}

			push("U0AGENT01", ActionTemplateSend, "order_update|en")
			out, deliveries := r.outbound(id)
			if len(out) != 1 || deliveries != 1 || out[0].AuthorID != "zeynep" {
				t.Fatalf("outbox %+v, %d deliveries", out, deliveries)
			}
			if o, err := baton.OutboundOf(out[0]); err != nil || o.Template == nil || o.Template.Name != "order_update" || o.Template.Language != "en" ||
				len(o.Template.BodyParams) != 1 {
				t.Fatalf("sent %+v (%v), want the en order_update template as configured", o, err)
			}
			posts = r.slack.takePosts()
			if len(posts) != 1 || posts[0].ThreadTS != th.Root() || !strings.Contains(posts[0].Text, "order_update") || !strings.Contains(posts[0].Text, "<@U0AGENT01>") {
				t.Fatalf("thread line %+v", posts)
			}
			r.slack.take()
			r.handOver()
			if _, err := r.st.SetMessageStatus(r.ctx, out[0].ID, baton.StatusDelivered, "", "", r.clock.Now()); err != nil {
				t.Fatal(err)
			}
			r.clock.Advance(time.Minute)
			r.run()
			calls := r.slack.take()
			if !strings.HasPrefix(methods(calls), "reactions.add") || calls[0].Text != "white_check_mark" || calls[0].Channel != "C0BILLING" ||
				!strings.HasPrefix(calls[0].TS, "1700000000.") {
				t.Fatalf("delivery shown as %+v, want a check on the thread line", calls)
			}
			r.noDead()
		})
	}
}
