package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

func typed(v string) map[string]any { return map[string]any{"type": "plain_text_input", "value": v} }

// TestKBDraftModal: Save reply as KB draft opens its modal at once,
// prefilled with the agent's reply, the customer's question and a slug;
// refusals stay in the modal under their field and save nothing; a saved
// draft closes it and the agent is told, alone, the slug and how to
// publish.
func TestKBDraftModal(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			in := &Intake{SigningSecret: testSecret, Store: r.st, Modals: &Modals{API: r.slack.client(), Desk: r.desk, Store: r.st,
				Queues: consoleQueues(), Clock: r.clock}}
			r.online(claimers()...)
			id := r.escalate("billing")
			r.run()
			if _, err := r.desk.Claim(r.ctx, id, baton.Actor{AgentID: "zeynep"}); err != nil {
				t.Fatal(err)
			}
			const reply = "We refunded the second charge: it shows in 3 days."
			if _, err := r.desk.Reply(r.ctx, id, baton.AgentReply{Text: reply}, baton.Actor{AgentID: "zeynep"}); err != nil {
				t.Fatal(err)
			}
			r.run()
			r.slack.take()
			jobs := len(r.slackJobs(""))
			articles := func() []*baton.Article {
				arts, err := r.st.ListArticles(r.ctx, baton.ArticleFilter{BotID: bot})
				if err != nil {
					t.Fatal(err)
				}
				return arts
			}

			resp, err := in.Interactions().ServeWebhook(r.ctx, press(t, "U0AGENT01", ActionKBDraft, id, "trig.kb"))
			if err != nil || resp.Status != 200 || len(resp.Body) != 0 {
				t.Fatalf("press: %v %+v", err, resp)
			}
			calls := r.slack.take()
			if methods(calls) != "views.open" || calls[0].Trigger != "trig.kb" {
				t.Fatalf("calls %+v, want views.open with the press's trigger", calls)
			}
			for _, w := range []string{`"callback_id":"baton_kb_draft"`, `"initial_value":"I was charged twice"`, `"initial_value":"i-was-charged-twice"`,
				`"initial_value":"` + reply + `"`, BlockDraftTitle, BlockDraftSlug, BlockDraftBody} {
				if !strings.Contains(calls[0].View, w) {
					t.Errorf("view lacks %s: %s", w, calls[0].View)
				}
			}
			if n := len(r.slackJobs("")); n != jobs {
				t.Fatalf("the press enqueued a job (%d, %d before)", n, jobs)
			}

			submit := func(user string, values map[string]map[string]any) *slack.ViewSubmissionResponse {
				t.Helper()
				resp, err := in.Interactions().ServeWebhook(r.ctx, submission(t, user, CallbackKBDraft, id, values))
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
			for _, tc := range []struct {
				name, user, block, says string
				values                  map[string]map[string]any
			}{
				{"not the owner", "U0BOB", BlockDraftBody, "zeynep's", nil},
				{"not linked", "U0STRANGER", BlockDraftBody, "not linked", nil},
				{"bad slug", "U0AGENT01", BlockDraftSlug, "bad slug", map[string]map[string]any{BlockDraftSlug: {actionDraftSlug: typed("Refund Policy")}}},
				{"title on two lines", "U0AGENT01", BlockDraftTitle, "title must be one line", map[string]map[string]any{BlockDraftTitle: {actionDraftTitle: typed("Refunds\nand more")}}},
				{"unclosed code block", "U0AGENT01", BlockDraftBody, "never closed", map[string]map[string]any{BlockDraftBody: {actionDraftBody: typed("Run:\n```\nrefund\n")}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					v := submit(tc.user, tc.values)
					if v == nil || v.ResponseAction != slack.RAErrors || !strings.Contains(v.Errors[tc.block], tc.says) {
						t.Fatalf("answer %+v, want errors under %s saying %q", v, tc.block, tc.says)
					}
					if arts := articles(); len(arts) != 0 {
						t.Fatalf("a refusal saved %+v", arts[0])
					}
					if calls := r.slack.take(); len(calls) != 0 {
						t.Fatalf("a refusal called Slack: %+v", calls)
					}
				})
			}

			if v := submit("U0AGENT01", map[string]map[string]any{BlockDraftBody: {actionDraftBody: typed("")}}); v != nil {
				t.Fatalf("save answered %+v, want an empty answer that closes the modal", v)
			}
			arts := articles()
			if len(arts) != 1 || arts[0].Slug != "i-was-charged-twice" || arts[0].Status != baton.ArticleDraft || arts[0].Body != reply+"\n" || arts[0].Author != "agent:zeynep" {
				t.Fatalf("articles %+v", arts)
			}
			calls = r.slack.take()
			if methods(calls) != "chat.postEphemeral" || calls[0].User != "U0AGENT01" || calls[0].Channel != "C0BILLING" ||
				!strings.Contains(calls[0].Text, "i-was-charged-twice") || !strings.Contains(calls[0].Text, "/publish") {
				t.Fatalf("calls %+v, want the agent told the slug and how to publish", calls)
			}
		})
	}
}
