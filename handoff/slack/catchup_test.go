package slack

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestCatchUpPostsMissingCards: escalations whose card job was never made
// (the store failed after the escalation) or gave up get their cards from
// the catch-up, oldest escalation first, each once; a conversation with a
// card or with a card job still waiting is left alone.
func TestCatchUpPostsMissingCards(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			// One with its card posted.
			withCard := r.escalate("general")
			r.run()
			r.slack.take()
			// Two whose notification was lost, a minute apart.
			r.clock.Advance(time.Minute)
			first := r.escalateSilently("general")
			r.clock.Advance(time.Minute)
			second := r.escalateSilently("billing")
			// One whose card job is waiting (Slack said 429 for an hour).
			r.slack.limit("chat.postMessage", 1)
			waiting := r.escalate("general")
			r.run()
			r.slack.take()
			c := &CatchUp{Store: r.st, Notifier: r.tell, Console: r.tell.Console}
			// Within a minute of its escalation a conversation's card may
			// be on its way: left alone.
			if n, err := c.Run(r.ctx); err != nil || n != 1 {
				t.Fatalf("catch-up a minute after the first: %d card jobs (%v), want 1", n, err)
			}
			r.clock.Advance(time.Minute)
			n, err := c.Run(r.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("catch-up made %d card jobs, want 1 more", n)
			}
			// A second round finds the jobs waiting and makes no more.
			if n, err := c.Run(r.ctx); err != nil || n != 0 {
				t.Fatalf("second round: %d, %v", n, err)
			}
			r.clock.Advance(time.Hour)
			r.drain()
			// In each channel in the order of the jobs: the one that was
			// waiting, then the catch-up's, oldest escalation first.
			cards := map[string][]string{}
			for _, call := range r.slack.take() {
				if call.Method == "chat.postMessage" {
					cards[call.Channel] = append(cards[call.Channel], call.Meta)
				}
			}
			want := map[string][]string{"C0GENERAL": {cardMeta(waiting), cardMeta(first)}, "C0BILLING": {cardMeta(second)}}
			for ch, metas := range want {
				if strings.Join(cards[ch], "\n") != strings.Join(metas, "\n") {
					t.Fatalf("cards posted in %s:\n%s\nwant:\n%s", ch, strings.Join(cards[ch], "\n"), strings.Join(metas, "\n"))
				}
			}
			for _, id := range []int64{withCard, first, second, waiting} {
				r.thread(id)
			}
			if n, err := c.Run(r.ctx); err != nil || n != 0 {
				t.Fatalf("round after catching up: %d, %v", n, err)
			}
		})
	}
}

// TestCatchUpService: started, the service runs a round at once and then
// every Every; stopped, it runs no more.
func TestCatchUpService(t *testing.T) {
	sc := stores()[0]
	r := newConsoleRig(t, sc)
	missing := r.escalateSilently("general")
	r.clock.Advance(2 * time.Minute)
	woke := make(chan struct{}, 10)
	c := &CatchUp{Store: r.st, Notifier: r.tell, Console: r.tell.Console, Every: 20 * time.Millisecond, Wake: func() { woke <- struct{}{} }}
	if err := c.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("no round at start")
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	js, err := r.st.ListJobs(r.ctx, baton.JobFilter{Kind: baton.JobSlack, ConversationID: missing})
	if err != nil || len(js) != 1 || js[0].Lane != "slack:C0GENERAL" {
		t.Fatalf("jobs %+v, %v: want one card job in the channel's lane", js, err)
	}
	if err := (&CatchUp{}).Start(r.ctx); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("start without parts: %v", err)
	}
}

// escalateSilently is escalate without the notification, as when the
// store failed right after the escalation committed.
func (r *consoleRig) escalateSilently(queue string) int64 {
	r.t.Helper()
	return r.escalateNoting(queue, false)
}

func cardMeta(id int64) string {
	return `{"event_type":"baton_card","event_payload":{"conversation_id":"` + strconv.FormatInt(id, 10) + `"}}`
}
