package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/jobs"
)

// deliverPool runs only deliver jobs, with d (the app's outbox with a
// fault put in), on a worker pool of its own.
func deliverPool(t *testing.T, e *env, d *channels.Deliverer) *jobs.Pool {
	t.Helper()
	pool := jobs.New(e.st, jobs.Options{
		Workers: 2, Lease: 5 * time.Second, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		IdleMin: 2 * time.Millisecond, IdleMax: 10 * time.Millisecond, Clock: e.clock, CancelWait: 5 * time.Second,
	})
	if err := pool.Register(baton.JobDeliver, d); err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(); err != nil {
		t.Fatal(err)
	}
	return pool
}

// drainDeliveries runs the app's jobs until no deliver job is pending or
// running.
func drainDeliveries(t *testing.T, e *env) {
	t.Helper()
	e.runJobs(func() bool { return deliveriesIdle(t, e) })
}

// deliveriesIdle reports whether no deliver job is pending or running (the
// turn jobs of these tests never run).
func deliveriesIdle(t *testing.T, e *env) bool {
	t.Helper()
	for _, j := range e.jobs(baton.JobDeliver) {
		if j.Status == baton.JobPending || j.Status == baton.JobRunning {
			return false
		}
	}
	return true
}

// customerConversation opens a WhatsApp conversation with a customer who
// just wrote (so that the messaging window is open); no turn job is
// enqueued, so the conversation's deliveries run at once.
func customerConversation(t *testing.T, e *env, from string) *baton.Conversation {
	t.Helper()
	ctx := context.Background()
	cust, err := e.st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: botID, Channel: baton.ChannelWhatsApp, Address: from}, "")
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	c := &baton.Conversation{BotID: botID, CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: from, LastInboundAt: &now}
	if err := e.st.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// diesAfterTheProvider is the database as a process sees it when it dies
// right after the provider accepted a message: the provider's id never
// reaches it.
type diesAfterTheProvider struct {
	baton.Store
}

func (diesAfterTheProvider) SetProviderID(context.Context, int64, string, time.Time) error {
	return baton.Errorf(baton.EUNAVAILABLE, "the process died")
}

// dieAfterTheProvider claims the next deliver job under lease and runs it as
// a worker that dies once the provider accepted the message: the job stays
// running under a lease nobody renews.
func dieAfterTheProvider(t *testing.T, e *env, lease time.Duration) {
	t.Helper()
	ctx := context.Background()
	j, err := e.st.ClaimJob(ctx, "dead-worker", []string{baton.JobDeliver}, lease)
	if err != nil || j == nil {
		t.Fatalf("claim = %v, %v", j, err)
	}
	dying := *e.deliverer()
	dying.Store = diesAfterTheProvider{e.st}
	if err := dying.HandleJob(ctx, j); err == nil {
		t.Fatal("the dying attempt recorded its result")
	}
}

func TestSendInDoubtAfterACrashIsCountedLoggedOnceAndSentAgain(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			const secret = "Your order 4711 ships to Elm Street"
			conv := customerConversation(t, e, "16505551234")
			e.reply(conv, &baton.Message{Text: secret})

			// The first worker claims the job, the provider accepts the
			// message, and the worker dies before recording it.
			const lease = 30 * time.Second
			dieAfterTheProvider(t, e, lease)
			if n := len(e.graph.Requests()); n != 1 {
				t.Fatalf("%d sends by the dying attempt, want 1", n)
			}
			if e.inDoubt(baton.ChannelWhatsApp) != 0 {
				t.Fatal("the first attempt was counted in doubt")
			}

			e.clock.Advance(lease + time.Second)
			drainDeliveries(t, e)

			out := e.outbound(conv.ID)
			if len(out) != 1 || out[0].Status != baton.StatusSent {
				t.Fatalf("outbound = %+v, want one sent message", out)
			}
			reqs := e.graph.Requests()
			if len(reqs) != 2 || string(reqs[0].Body) != string(reqs[1].Body) {
				t.Fatalf("%d sends, want the same message twice (at least once for an in-doubt send)", len(reqs))
			}
			if got := e.inDoubt(baton.ChannelWhatsApp); got != 1 {
				t.Fatalf("in doubt = %d, want 1", got)
			}
			warn := e.logLines("delivery in doubt")
			if len(warn) != 1 {
				t.Fatalf("%d in-doubt warnings, want 1: %v", len(warn), warn)
			}
			for _, pii := range []string{secret, "16505551234", "Elm Street"} {
				if strings.Contains(warn[0], pii) {
					t.Fatalf("the in-doubt warning carries personal data %q: %s", pii, warn[0])
				}
			}
			if !strings.Contains(warn[0], fmt.Sprintf(`"message":%d`, out[0].ID)) {
				t.Fatalf("the in-doubt warning does not name message %d: %s", out[0].ID, warn[0])
			}
		})
	}
}

func TestWebChatSendsAreNeverInDoubt(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			ctx := context.Background()
			cust, err := e.st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: botID, Channel: baton.ChannelWebChat, Address: "visitor-1"}, "")
			if err != nil {
				t.Fatal(err)
			}
			conv := &baton.Conversation{BotID: botID, CustomerID: cust.ID, Channel: baton.ChannelWebChat, Address: "visitor-1"}
			if err := e.st.CreateConversation(ctx, conv); err != nil {
				t.Fatal(err)
			}
			e.reply(conv, &baton.Message{Text: "hello"})
			dieAfterTheProvider(t, e, time.Second)
			e.clock.Advance(2 * time.Second)
			drainDeliveries(t, e)
			if out := e.outbound(conv.ID); len(out) != 1 || out[0].Status != baton.StatusSent {
				t.Fatalf("outbound = %+v, want one sent message", out)
			}
			if got := e.inDoubt(baton.ChannelWebChat); got != 0 {
				t.Fatalf("web chat in doubt = %d, want 0: its sends are keyed by the message id", got)
			}
		})
	}
}

func TestRetriesThatAreNotInDoubt(t *testing.T) {
	tests := []struct {
		name        string
		first       channeltest.Reply
		wantInDoubt int
	}{
		{"provider error 500", channeltest.Reply{Status: 500, Body: `{"error":{"message":"An unknown error occurred","code":1}}`}, 0},
		{"rate limited", channeltest.Reply{Status: 429, Header: map[string]string{"Retry-After": "0"}, Body: `{"error":{"message":"Too many messages","code":130429}}`}, 0},
		// No answer at all: the provider may have taken it.
		{"no answer in time", channeltest.Reply{Delay: 2 * time.Second, Body: `{"messaging_product":"whatsapp","messages":[{"id":"wamid.late"}]}`}, 1},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, sc, envOptions{graphScript: []channeltest.Reply{tc.first}})
				e.deliverer().Timeout = 200 * time.Millisecond
				conv := customerConversation(t, e, "16505551234")
				e.reply(conv, &baton.Message{Text: "On its way"})
				drainDeliveries(t, e)
				out := e.outbound(conv.ID)
				if len(out) != 1 || out[0].Status != baton.StatusSent {
					t.Fatalf("outbound = %+v, want one sent message", out)
				}
				if n := len(e.graph.Requests()); n != 2 {
					t.Fatalf("%d sends, want 2", n)
				}
				if got := e.inDoubt(baton.ChannelWhatsApp); got != tc.wantInDoubt {
					t.Fatalf("in doubt = %d, want %d", got, tc.wantInDoubt)
				}
				if got := len(e.logLines("delivery in doubt")); got != tc.wantInDoubt {
					t.Fatalf("%d in-doubt warnings, want %d", got, tc.wantInDoubt)
				}
			})
		}
	}
}

// slowAccept is a provider that takes a while to accept every message.
func slowAccept(d time.Duration) func(channeltest.Request) channeltest.Reply {
	return func(r channeltest.Request) channeltest.Reply {
		rep := graphOK(r)
		rep.Delay = d
		return rep
	}
}

// answeredAsTheDeadlinePasses returns the provider's answer only once the
// job's context is cancelled: the shutdown deadline passes between the
// provider accepting the message and the process recording it.
type answeredAsTheDeadlinePasses struct {
	baton.Sender
	started chan struct{}
	once    sync.Once
}

func (s *answeredAsTheDeadlinePasses) Send(ctx context.Context, conv *baton.Conversation, m *baton.Message) (string, error) {
	id, err := s.Sender.Send(context.WithoutCancel(ctx), conv, m)
	s.once.Do(func() { close(s.started) })
	<-ctx.Done()
	return id, err
}

func TestGracefulStopSendsNothingTwice(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name+"/sends in progress finish", func(t *testing.T) {
			e := newEnv(t, sc, envOptions{graph: slowAccept(300 * time.Millisecond)})
			const n = 6
			for i := 0; i < n; i++ {
				conv := customerConversation(t, e, fmt.Sprintf("1650555%04d", i))
				e.reply(conv, &baton.Message{Text: fmt.Sprintf("reply %d", i)})
			}
			// The app's own workers, as in a server.
			if err := e.app.Start(); err != nil {
				t.Fatal(err)
			}
			for waited := 0; len(e.graph.Requests()) == 0; waited++ {
				if waited > 10000 {
					t.Fatal("no send started in 10 s")
				}
				time.Sleep(time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := e.app.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			sentBefore := len(e.graph.Requests())
			for _, c := range e.conversations() {
				for _, m := range e.outbound(c.ID) {
					if m.Status == baton.StatusSending {
						t.Errorf("message %d still in flight after a graceful stop", m.ID)
					}
				}
			}
			if sentBefore == 0 || sentBefore > n {
				t.Fatalf("%d sends before the stop", sentBefore)
			}
			drainDeliveries(t, e)
			assertSentOnce(t, e, n)
			if got := e.inDoubt(baton.ChannelWhatsApp); got != 0 {
				t.Fatalf("in doubt = %d after a graceful stop, want 0", got)
			}
		})

		t.Run(sc.Name+"/the deadline passes as the provider accepts", func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			slow := &answeredAsTheDeadlinePasses{Sender: e.deliverer().Senders[baton.ChannelWhatsApp], started: make(chan struct{})}
			stopping := *e.deliverer()
			stopping.Senders = map[baton.ChannelKind]baton.Sender{baton.ChannelWhatsApp: slow}
			conv := customerConversation(t, e, "16505551234")
			e.reply(conv, &baton.Message{Text: "reply"})
			pool := deliverPool(t, e, &stopping)
			select {
			case <-slow.started:
			case <-time.After(10 * time.Second):
				t.Fatal("no send started in 10 s")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_ = pool.Shutdown(ctx) // cancels the job: the deadline passed
			if out := e.outbound(conv.ID); len(out) != 1 || out[0].Status != baton.StatusSent {
				t.Fatalf("outbound after the stop = %+v, want the accepted message recorded sent", out)
			}
			drainDeliveries(t, e)
			assertSentOnce(t, e, 1)
			if got := e.inDoubt(baton.ChannelWhatsApp); got != 0 {
				t.Fatalf("in doubt = %d, want 0", got)
			}
		})
	}
}

// assertSentOnce checks that the provider got each of n replies exactly
// once and that every one is recorded sent.
func assertSentOnce(t *testing.T, e *env, n int) {
	t.Helper()
	reqs := e.graph.Requests()
	seen := map[string]int{}
	for _, r := range reqs {
		seen[string(r.Body)]++
	}
	if len(reqs) != n || len(seen) != n {
		t.Fatalf("%d sends of %d distinct messages, want %d each once", len(reqs), len(seen), n)
	}
	for _, c := range e.conversations() {
		for _, m := range e.outbound(c.ID) {
			if m.Status != baton.StatusSent {
				t.Errorf("message %d is %s, want sent", m.ID, m.Status)
			}
		}
	}
}
