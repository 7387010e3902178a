package slack

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// saveFails is a store whose next SaveSlackThread calls fail as a crash
// between the post and the save would leave things: the post made, no
// record of it.
type saveFails struct {
	baton.Store
	n *int
}

func (s saveFails) SaveSlackThread(ctx context.Context, t *baton.SlackThread) error {
	if *s.n > 0 {
		*s.n--
		return baton.Errorf(baton.EUNAVAILABLE, "save Slack thread: the process stopped")
	}
	return s.Store.SaveSlackThread(ctx, t)
}

// TestPostedOnceWhenTheOutcomeIsLost: a post that reached Slack but whose
// answer was lost (a timeout, a 5xx after the fact) or whose thread was
// not saved (a crash in between) is found by its marker on the retry and
// not posted again: one card per conversation, one thread message per
// customer message.
func TestPostedOnceWhenTheOutcomeIsLost(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				// arm makes the next card post's outcome unknown.
				arm func(r *consoleRig, failSaves *int)
			}{
				{"answer lost", func(r *consoleRig, _ *int) { r.slack.lose("chat.postMessage", 1) }},
				{"thread not saved", func(_ *consoleRig, failSaves *int) { *failSaves = 1 }},
			} {
				t.Run("card/"+tc.name, func(t *testing.T) {
					failSaves := 0
					r := newConsoleRigWith(t, sc, func(c *Console) { c.Store = saveFails{c.Store, &failSaves} })
					tc.arm(r, &failSaves)
					id := r.escalate("billing")
					r.drain()
					if got := r.slack.messages("C0BILLING"); len(got) != 1 {
						t.Fatalf("%d messages in the channel, want the one card: %+v", len(got), got)
					}
					if th := r.thread(id); th.MessageTS != r.slack.messages("C0BILLING")[0].TS {
						t.Fatalf("thread %+v is not the card posted", th)
					}
				})
			}
			t.Run("thread message/answer lost", func(t *testing.T) {
				r := newConsoleRig(t, sc)
				id := r.escalate("billing")
				r.drain()
				r.slack.lose("chat.postMessage", 1)
				r.clock.Advance(time.Minute)
				c, err := r.st.GetConversation(r.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.st.InsertMessage(r.ctx, &baton.Message{ConversationID: id, BotID: bot, Channel: c.Channel, Direction: baton.DirectionIn,
					Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "still there?", ProviderID: "wamid.again"}); err != nil {
					t.Fatal(err)
				}
				if err := r.tell.Notify(r.ctx, baton.Notification{Kind: "message", ConversationID: id, QueueID: c.QueueID, Text: "still there?"}); err != nil {
					t.Fatal(err)
				}
				r.drain()
				var inThread []fakeMessage
				for _, m := range r.slack.messages("C0BILLING") {
					if m.Thread == r.thread(id).Root() {
						inThread = append(inThread, m)
					}
				}
				if len(inThread) != 1 {
					t.Fatalf("%d thread messages, want the customer's once: %+v", len(inThread), inThread)
				}
			})
		})
	}
}

// drain runs the jobs, moving the clock on until none is left pending, so
// that retries come due.
func (r *consoleRig) drain() {
	r.t.Helper()
	for i := 0; i < 100; i++ {
		r.run()
		if len(r.slackJobs(baton.JobPending)) == 0 && len(r.slackJobs(baton.JobRunning)) == 0 {
			return
		}
		r.clock.Advance(time.Minute)
	}
	r.t.Fatalf("Slack jobs still pending: %+v", r.slackJobs(baton.JobPending))
}

// messages are the messages the fake keeps in channel, oldest first.
func (f *fakeSlack) messages(channel string) []fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMessage(nil), f.channels[channel]...)
}
