package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

const lease = 30 * time.Second

func enqueue(t *testing.T, ctx context.Context, st baton.Store, j *baton.Job) *baton.Job {
	t.Helper()
	created, err := st.Enqueue(ctx, j)
	must(t, err, "Enqueue "+j.Kind)
	if !created || j.ID == 0 {
		t.Fatalf("Enqueue %s: created=%v id=%d", j.Kind, created, j.ID)
	}
	return j
}

// claim claims the next job and checks it is want (0 = nothing runnable).
func claim(t *testing.T, ctx context.Context, st baton.Store, owner string, kinds []string, want int64) *baton.Job {
	t.Helper()
	j, err := st.ClaimJob(ctx, owner, kinds, lease)
	must(t, err, "ClaimJob")
	switch {
	case want == 0 && j != nil:
		t.Fatalf("claimed job %d (%s, conversation %d), want nothing runnable", j.ID, j.Kind, j.ConversationID)
	case want != 0 && j == nil:
		t.Fatalf("nothing claimed, want job %d", want)
	case want != 0 && j.ID != want:
		t.Fatalf("claimed job %d, want %d", j.ID, want)
	}
	return j
}

func (s *suite) testJobs(t *testing.T) {
	st, clock, ctx := s.fresh(t)

	t.Run("enqueue defaults and round trip", func(t *testing.T) {
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 7, Payload: json.RawMessage(`{"message_id": 12, "to": ["a","b"]}`)})
		if j.Status != baton.JobPending || j.MaxAttempts != baton.DefaultMaxAttempts || j.Attempts != 0 {
			t.Fatalf("enqueued = %+v, want pending, %d max attempts", j, baton.DefaultMaxAttempts)
		}
		wantTime(t, "RunAt defaults to now", j.RunAt, clock.Now())
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if got.Kind != baton.JobDeliver || got.ConversationID != 7 || got.Status != baton.JobPending || got.MaxAttempts != 10 ||
			got.LeaseOwner != "" || got.LeaseUntil != nil || got.Key != "" {
			t.Fatalf("got %+v", got)
		}
		wantJSON(t, "payload", got.Payload, j.Payload)
		wantTime(t, "RunAt", got.RunAt, clock.Now())
		wantTime(t, "CreatedAt", got.CreatedAt, clock.Now())
		_, err = st.GetJob(ctx, 987654)
		wantCode(t, err, baton.ENOTFOUND, "GetJob unknown")
		// Drain it so that later subtests start from an empty queue.
		c := claim(t, ctx, st, "w", nil, j.ID)
		must(t, st.CompleteJob(ctx, c.ID, "w"), "complete")
	})

	t.Run("key idempotency", func(t *testing.T) {
		a := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobCSAT, Key: "csat:conv-1", MaxAttempts: 3, RunAt: clock.Now().Add(time.Hour)})
		if a.MaxAttempts != 3 {
			t.Fatalf("MaxAttempts = %d, want 3", a.MaxAttempts)
		}
		b := &baton.Job{Kind: baton.JobCSAT, Key: "csat:conv-1", Payload: json.RawMessage(`{"other":true}`)}
		created, err := st.Enqueue(ctx, b)
		must(t, err, "second enqueue")
		if created || b.ID != a.ID {
			t.Fatalf("second enqueue created=%v id=%d, want false and %d", created, b.ID, a.ID)
		}
		got, err := st.GetJob(ctx, a.ID)
		must(t, err, "GetJob")
		if len(got.Payload) != 0 && string(got.Payload) != "null" {
			t.Fatalf("duplicate overwrote the payload: %s", got.Payload)
		}
		list, err := st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobCSAT})
		must(t, err, "ListJobs")
		if len(list) != 1 {
			t.Fatalf("%d csat jobs, want 1", len(list))
		}
	})

	t.Run("invalid enqueues", func(t *testing.T) {
		for name, j := range map[string]*baton.Job{
			"no kind":      {},
			"bad payload":  {Kind: "x", Payload: json.RawMessage(`{nope`)},
			"negative max": {Kind: "x", MaxAttempts: -1},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := st.Enqueue(ctx, j)
				wantCode(t, err, baton.EINVALID, "Enqueue")
			})
		}
	})

	t.Run("claim complete", func(t *testing.T) {
		claim(t, ctx, st, "w1", nil, 0)
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn})
		other := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack})
		got := claim(t, ctx, st, "w1", []string{baton.JobSlack, "nothing"}, other.ID)
		must(t, st.CompleteJob(ctx, got.ID, "w1"), "complete slack")
		got = claim(t, ctx, st, "w1", []string{baton.JobTurn}, j.ID)
		if got.Status != baton.JobRunning || got.LeaseOwner != "w1" || got.Attempts != 1 || got.LeaseUntil == nil {
			t.Fatalf("claimed = %+v, want running, owner w1, attempt 1", got)
		}
		wantTimePtr(t, "LeaseUntil", got.LeaseUntil, ptr(clock.Now().Add(lease)))
		claim(t, ctx, st, "w2", nil, 0)

		wantCode(t, st.CompleteJob(ctx, j.ID, "w2"), baton.ECONFLICT, "complete by another owner")
		must(t, st.CompleteJob(ctx, j.ID, "w1"), "complete")
		wantCode(t, st.CompleteJob(ctx, j.ID, "w1"), baton.ECONFLICT, "complete twice")
		wantCode(t, st.CompleteJob(ctx, 999999, "w1"), baton.ENOTFOUND, "complete unknown")
		done, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if done.Status != baton.JobDone {
			t.Fatalf("status = %q, want done", done.Status)
		}
		clock.Advance(2 * lease)
		claim(t, ctx, st, "w2", nil, 0)
	})

	t.Run("invalid claims", func(t *testing.T) {
		_, err := st.ClaimJob(ctx, "", nil, lease)
		wantCode(t, err, baton.EINVALID, "claim without owner")
		_, err = st.ClaimJob(ctx, "w", nil, 0)
		wantCode(t, err, baton.EINVALID, "claim without lease")
	})

	t.Run("retry with a later run_at", func(t *testing.T) {
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver})
		claim(t, ctx, st, "w1", nil, j.ID)
		wantCode(t, st.RetryJob(ctx, j.ID, "w2", "x", clock.Now()), baton.ECONFLICT, "retry by another owner")
		must(t, st.RetryJob(ctx, j.ID, "w1", "provider 503", clock.Now().Add(time.Minute)), "RetryJob")
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if got.Status != baton.JobPending || got.LastError != "provider 503" || got.Attempts != 1 || got.LeaseOwner != "" || got.LeaseUntil != nil {
			t.Fatalf("after retry = %+v, want pending, last error kept, lease cleared", got)
		}
		wantTime(t, "RunAt", got.RunAt, clock.Now().Add(time.Minute))
		wantCode(t, st.RetryJob(ctx, j.ID, "w1", "again", clock.Now()), baton.ECONFLICT, "retry a pending job")
		claim(t, ctx, st, "w1", nil, 0)
		clock.Advance(time.Minute - time.Microsecond)
		claim(t, ctx, st, "w1", nil, 0)
		clock.Advance(time.Microsecond)
		again := claim(t, ctx, st, "w3", nil, j.ID)
		if again.Attempts != 2 || again.LastError != "provider 503" {
			t.Fatalf("second claim = attempts %d last error %q", again.Attempts, again.LastError)
		}
		must(t, st.CompleteJob(ctx, j.ID, "w3"), "complete")
		wantCode(t, st.RetryJob(ctx, 999999, "w1", "x", clock.Now()), baton.ENOTFOUND, "retry unknown")
	})

	t.Run("dead letter keeps the last error", func(t *testing.T) {
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, MaxAttempts: 2})
		claim(t, ctx, st, "w1", nil, j.ID)
		must(t, st.RetryJob(ctx, j.ID, "w1", "first failure", clock.Now()), "retry")
		second := claim(t, ctx, st, "w1", nil, j.ID)
		if second.Attempts != second.MaxAttempts {
			t.Fatalf("attempts = %d of %d", second.Attempts, second.MaxAttempts)
		}
		wantCode(t, st.KillJob(ctx, j.ID, "w2", "x"), baton.ECONFLICT, "kill by another owner")
		must(t, st.KillJob(ctx, j.ID, "w1", "permanent: number blocked"), "KillJob")
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if got.Status != baton.JobDead || got.LastError != "permanent: number blocked" || got.Attempts != 2 {
			t.Fatalf("dead job = %+v", got)
		}
		clock.Advance(2 * lease)
		claim(t, ctx, st, "w1", nil, 0)
		wantCode(t, st.KillJob(ctx, j.ID, "w1", "x"), baton.ECONFLICT, "kill a dead job")
		wantCode(t, st.KillJob(ctx, 999999, "w1", "x"), baton.ENOTFOUND, "kill unknown")
	})

	t.Run("lease expiry and extension", func(t *testing.T) {
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn})
		claim(t, ctx, st, "w1", nil, j.ID)
		clock.Advance(lease - time.Second)
		must(t, st.ExtendLease(ctx, j.ID, "w1", lease), "ExtendLease")
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		wantTimePtr(t, "extended LeaseUntil", got.LeaseUntil, ptr(clock.Now().Add(lease)))
		wantCode(t, st.ExtendLease(ctx, j.ID, "w2", lease), baton.ECONFLICT, "extend by another owner")
		clock.Advance(lease - time.Second)
		claim(t, ctx, st, "w2", nil, 0)
		clock.Advance(time.Second)
		stolen := claim(t, ctx, st, "w2", nil, j.ID)
		if stolen.LeaseOwner != "w2" || stolen.Attempts != 2 {
			t.Fatalf("reclaimed = owner %q attempts %d, want w2, 2", stolen.LeaseOwner, stolen.Attempts)
		}
		wantCode(t, st.ExtendLease(ctx, j.ID, "w1", lease), baton.ECONFLICT, "extend a lost lease")
		wantCode(t, st.CompleteJob(ctx, j.ID, "w1"), baton.ECONFLICT, "complete a lost lease")
		must(t, st.CompleteJob(ctx, j.ID, "w2"), "complete")
		wantCode(t, st.ExtendLease(ctx, j.ID, "w2", lease), baton.ECONFLICT, "extend a done job")
		wantCode(t, st.ExtendLease(ctx, 999999, "w2", lease), baton.ENOTFOUND, "extend unknown")
	})

	t.Run("list", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		a := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 1})
		b := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 1})
		c := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 2})
		claim(t, ctx, st, "w", []string{baton.JobTurn}, a.ID)
		cases := []struct {
			name string
			f    baton.JobFilter
			want []int64
		}{
			{"all", baton.JobFilter{}, []int64{a.ID, b.ID, c.ID}},
			{"kind", baton.JobFilter{Kind: baton.JobTurn}, []int64{a.ID, c.ID}},
			{"conversation", baton.JobFilter{ConversationID: 1}, []int64{a.ID, b.ID}},
			{"status", baton.JobFilter{Status: baton.JobPending}, []int64{b.ID, c.ID}},
			{"limit", baton.JobFilter{Limit: 2}, []int64{a.ID, b.ID}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.ListJobs(ctx, tc.f)
				must(t, err, "ListJobs")
				var ids []int64
				for _, j := range got {
					ids = append(ids, j.ID)
				}
				if !reflect.DeepEqual(ids, tc.want) {
					t.Fatalf("ids = %v, want %v", ids, tc.want)
				}
			})
		}
	})
}

func (s *suite) testJobOrdering(t *testing.T) {
	t.Run("one at a time per conversation, in order", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		a1 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 1})
		a2 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 1})
		b1 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 2})
		free := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack})
		claim(t, ctx, st, "w1", nil, a1.ID)
		claim(t, ctx, st, "w2", nil, b1.ID)
		claim(t, ctx, st, "w3", nil, free.ID)
		claim(t, ctx, st, "w4", nil, 0)
		// A kind filter does not let a later job of a busy conversation jump ahead.
		claim(t, ctx, st, "w4", []string{baton.JobDeliver}, 0)
		must(t, st.CompleteJob(ctx, a1.ID, "w1"), "complete a1")
		claim(t, ctx, st, "w4", nil, a2.ID)
	})

	t.Run("earliest run_at first", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		late := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack})
		early := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, RunAt: clock.Now().Add(-time.Minute)})
		claim(t, ctx, st, "w", nil, early.ID)
		claim(t, ctx, st, "w", nil, late.ID)
	})

	t.Run("a future timer does not block later jobs", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		timer := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSLA, ConversationID: 5, RunAt: clock.Now().Add(time.Hour)})
		turn := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 5})
		claim(t, ctx, st, "w1", nil, turn.ID)
		must(t, st.CompleteJob(ctx, turn.ID, "w1"), "complete turn")
		claim(t, ctx, st, "w1", nil, 0)
		clock.Advance(time.Hour)
		claim(t, ctx, st, "w1", nil, timer.ID)
	})

	t.Run("a due timer runs before later jobs", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		timer := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSLA, ConversationID: 5, RunAt: clock.Now().Add(time.Minute)})
		clock.Advance(time.Minute)
		turn := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 5})
		claim(t, ctx, st, "w1", nil, timer.ID)
		claim(t, ctx, st, "w2", nil, 0)
		must(t, st.CompleteJob(ctx, timer.ID, "w1"), "complete timer")
		claim(t, ctx, st, "w2", nil, turn.ID)
	})

	t.Run("a job waiting for a retry blocks later jobs", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		first := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 9})
		second := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 9})
		other := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 10})
		claim(t, ctx, st, "w1", nil, first.ID)
		must(t, st.RetryJob(ctx, first.ID, "w1", "429", clock.Now().Add(time.Minute)), "retry")
		claim(t, ctx, st, "w2", nil, other.ID)
		must(t, st.CompleteJob(ctx, other.ID, "w2"), "complete other")
		claim(t, ctx, st, "w2", nil, 0)
		clock.Advance(time.Minute)
		claim(t, ctx, st, "w2", nil, first.ID)
		must(t, st.CompleteJob(ctx, first.ID, "w2"), "complete first")
		claim(t, ctx, st, "w2", nil, second.ID)
	})

	t.Run("a dead job no longer blocks", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		first := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 3})
		second := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver, ConversationID: 3})
		claim(t, ctx, st, "w1", nil, first.ID)
		must(t, st.KillJob(ctx, first.ID, "w1", "bad number"), "kill")
		claim(t, ctx, st, "w1", nil, second.ID)
	})

	t.Run("an expired lease blocks later jobs until reclaimed and done", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		first := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 4})
		second := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 4})
		claim(t, ctx, st, "dead-worker", nil, first.ID)
		clock.Advance(lease)
		claim(t, ctx, st, "w2", nil, first.ID)
		claim(t, ctx, st, "w3", nil, 0)
		must(t, st.CompleteJob(ctx, first.ID, "w2"), "complete")
		claim(t, ctx, st, "w3", nil, second.ID)
	})

	t.Run("enqueue rolled back with its transaction", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		_ = st.Tx(ctx, func(tx baton.Store) error {
			_, err := tx.Enqueue(ctx, &baton.Job{Kind: baton.JobTurn, ConversationID: 1})
			if err != nil {
				return err
			}
			return context.Canceled
		})
		claim(t, ctx, st, "w", nil, 0)
	})
}
