package slack

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// submission is a signed view_submission of a Baton modal by user on
// conversation id, with the inputs' state as Slack sends it.
func submission(t *testing.T, user, callback string, id int64, values map[string]map[string]any) *baton.WebhookRequest {
	t.Helper()
	var cb map[string]any
	if err := json.Unmarshal(fixture(t, "CONSTRUCTED_view_submission.json"), &cb); err != nil {
		t.Fatal(err)
	}
	cb["user"].(map[string]any)["id"] = user
	cb["trigger_id"] = "view." + user + "." + callback
	v := cb["view"].(map[string]any)
	v["callback_id"], v["private_metadata"] = callback, strconv.FormatInt(id, 10)
	v["state"] = map[string]any{"values": values}
	b, _ := json.Marshal(cb)
	return signed(testSecret, time.Now(), []byte(url.Values{"payload": {string(b)}}.Encode()))
}

func selected(value string) map[string]any {
	return map[string]any{"type": "static_select", "selected_option": map[string]any{"value": value}}
}

func TestModals(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			ny, err := time.LoadLocation("America/New_York")
			if err != nil {
				t.Fatal(err)
			}
			in := &Intake{SigningSecret: testSecret, Store: r.st, Modals: &Modals{API: r.slack.client(), Desk: r.desk, Store: r.st,
				Queues: consoleQueues(), Zones: map[string]*time.Location{"general": ny}, Clock: r.clock}}
			r.online(claimers()...)
			id := r.escalate("billing")
			r.run()
			if _, err := r.desk.Claim(r.ctx, id, baton.Actor{AgentID: "zeynep"}); err != nil {
				t.Fatal(err)
			}
			r.run()
			r.slack.take()
			state := func() *baton.Conversation {
				c, err := r.st.GetConversation(r.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}

			jobsBefore := len(r.slackJobs(""))
			t.Run("a press opens its modal at once with the trigger id", func(t *testing.T) {
				for _, tc := range []struct {
					action, trigger string
					want, not       []string
				}{
					{ActionTransfer, "trig.transfer", []string{`"callback_id":"baton_transfer"`, `"private_metadata":"` + strconv.FormatInt(id, 10) + `"`,
						`"value":"general"`, `"value":"bob"`, BlockNote}, []string{`"value":"billing"`, `"value":"zeynep"`}},
					{ActionSnooze, "trig.snooze", []string{`"callback_id":"baton_snooze"`, `"value":"30m"`, `"value":"2h"`, `"value":"tomorrow"`, "datetimepicker"}, nil},
				} {
					t.Run(tc.action, func(t *testing.T) {
						resp, err := in.Interactions().ServeWebhook(r.ctx, press(t, "U0AGENT01", tc.action, id, tc.trigger))
						if err != nil || resp.Status != 200 || len(resp.Body) != 0 {
							t.Fatalf("press: %v %+v", err, resp)
						}
						calls := r.slack.take()
						if methods(calls) != "views.open" || calls[0].Trigger != tc.trigger {
							t.Fatalf("calls %+v, want views.open with %s before any job runs", calls, tc.trigger)
						}
						for _, w := range tc.want {
							if !strings.Contains(calls[0].View, w) {
								t.Errorf("view lacks %s: %s", w, calls[0].View)
							}
						}
						for _, w := range tc.not {
							if strings.Contains(calls[0].View, w) {
								t.Errorf("view offers %s: %s", w, calls[0].View)
							}
						}
						if js := r.slackJobs(""); len(js) != jobsBefore {
							t.Fatalf("%d Slack jobs, %d before: the press enqueued one", len(js), jobsBefore)
						}
					})
				}
			})

			submit := func(user, callback string, values map[string]map[string]any) *slack.ViewSubmissionResponse {
				t.Helper()
				resp, err := in.Interactions().ServeWebhook(r.ctx, submission(t, user, callback, id, values))
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Body) == 0 {
					return nil
				}
				var v slack.ViewSubmissionResponse
				if err := json.Unmarshal(resp.Body, &v); err != nil {
					t.Fatalf("answer %s: %v", resp.Body, err)
				}
				return &v
			}

			t.Run("refusals change nothing and show under the field", func(t *testing.T) {
				for _, tc := range []struct {
					name, user, callback, block, says string
					values                            map[string]map[string]any
				}{
					{"not the owner", "U0BOB", CallbackTransfer, BlockQueue, "Not done", map[string]map[string]any{BlockQueue: {actionQueue: selected("general")}}},
					{"unknown queue", "U0AGENT01", CallbackTransfer, BlockQueue, "Not done", map[string]map[string]any{BlockQueue: {actionQueue: selected("nowhere")}}},
					{"nothing picked", "U0AGENT01", CallbackTransfer, BlockQueue, "Pick a queue or an agent", map[string]map[string]any{BlockQueue: {actionQueue: map[string]any{"type": "static_select"}}}},
					{"both picked", "U0AGENT01", CallbackTransfer, BlockAgent, "not both", map[string]map[string]any{BlockQueue: {actionQueue: selected("general")}, BlockAgent: {actionAgent: selected("bob")}}},
					{"not linked", "U0STRANGER", CallbackTransfer, BlockQueue, "not linked", map[string]map[string]any{BlockQueue: {actionQueue: selected("general")}}},
					{"snooze by another", "U0BOB", CallbackSnooze, BlockUntil, "Not done", map[string]map[string]any{BlockUntil: {actionUntil: map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": "2h"}}}}},
					{"snooze choice and date", "U0AGENT01", CallbackSnooze, BlockAt, "not both", map[string]map[string]any{
						BlockUntil: {actionUntil: map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": "2h"}}},
						BlockAt:    {actionAt: map[string]any{"type": "datetimepicker", "selected_date_time": 1772600000}}}},
					{"snooze unpicked", "U0AGENT01", CallbackSnooze, BlockUntil, "pick how long", map[string]map[string]any{}},
				} {
					t.Run(tc.name, func(t *testing.T) {
						v := submit(tc.user, tc.callback, tc.values)
						if v == nil || v.ResponseAction != slack.RAErrors || !strings.Contains(v.Errors[tc.block], tc.says) {
							t.Fatalf("answer %+v, want errors under %s saying %q", v, tc.block, tc.says)
						}
						if c := state(); c.State != baton.StateAssigned || c.AgentID != "zeynep" || c.QueueID != "billing" {
							t.Fatalf("a refusal changed the conversation: %s %q %q", c.State, c.AgentID, c.QueueID)
						}
						r.run()
						if calls := r.slack.take(); len(calls) != 0 {
							t.Fatalf("a refusal called Slack: %+v", calls)
						}
					})
				}
			})

			t.Run("transfer to a queue, then snooze until tomorrow 09:00 in its zone", func(t *testing.T) {
				if v := submit("U0AGENT01", CallbackTransfer, map[string]map[string]any{
					BlockQueue: {actionQueue: selected("general")},
					BlockNote:  {actionNote: map[string]any{"type": "plain_text_input", "value": " card was refunded once "}},
				}); v != nil {
					t.Fatalf("transfer answered %+v, want an empty answer that closes the modal", v)
				}
				if c := state(); c.State != baton.StateQueued || c.QueueID != "general" {
					t.Fatalf("after transfer: %s in %q", c.State, c.QueueID)
				}
				r.run()
				if calls := r.slack.take(); !strings.Contains(methods(calls), "chat.postMessage") {
					t.Fatalf("no card in the new queue's channel: %+v", calls)
				}
				if _, err := r.desk.Claim(r.ctx, id, baton.Actor{AgentID: "bob"}); err != nil {
					t.Fatal(err)
				}
				if v := submit("U0BOB", CallbackSnooze, map[string]map[string]any{
					BlockUntil: {actionUntil: map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": "tomorrow"}}},
				}); v != nil {
					t.Fatalf("snooze answered %+v", v)
				}
				// Monday 09:00 UTC is 04:00 in New York: tomorrow 09:00
				// there is Tuesday 14:00 UTC.
				want := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
				if c := state(); c.State != baton.StateSnoozed || c.AgentID != "bob" || c.SnoozedUntil == nil || !c.SnoozedUntil.Equal(want) {
					t.Fatalf("after snooze: %s %q until %v, want %v", c.State, c.AgentID, c.SnoozedUntil, want)
				}
				r.run()
				if js := r.slackJobs(baton.JobDead); len(js) != 0 {
					t.Fatalf("dead Slack jobs: %s", js[0].LastError)
				}
			})
		})
	}
}
