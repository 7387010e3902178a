package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const jobCols = `id, kind, conversation_id, lane, coalesce(key, ''), payload, status, run_at, attempts, max_attempts,
	lease_owner, lease_until, last_error, created_at, updated_at`

func scanJob(row pgx.Row) (*baton.Job, error) {
	j := &baton.Job{}
	var payload []byte
	err := row.Scan(&j.ID, &j.Kind, &j.ConversationID, &j.Lane, &j.Key, &payload, &j.Status, &j.RunAt, &j.Attempts, &j.MaxAttempts,
		&j.LeaseOwner, &j.LeaseUntil, &j.LastError, &j.CreatedAt, &j.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if payload != nil {
		j.Payload = json.RawMessage(payload)
	}
	j.RunAt, j.CreatedAt, j.UpdatedAt = j.RunAt.UTC(), j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	j.LeaseUntil = utcPtr(j.LeaseUntil)
	return j, nil
}

// Enqueue stores j. With a key, ON CONFLICT DO NOTHING makes a second
// enqueue a no-op that returns the first job, without aborting the caller's
// transaction.
func (s *Store) Enqueue(ctx context.Context, j *baton.Job) (bool, error) {
	switch {
	case j.Kind == "":
		return false, baton.Errorf(baton.EINVALID, "job: kind is empty")
	case j.ConversationID < 0:
		return false, baton.Errorf(baton.EINVALID, "job %s: negative conversation id", j.Kind)
	case j.MaxAttempts < 0:
		return false, baton.Errorf(baton.EINVALID, "job %s: negative max attempts", j.Kind)
	case len(j.Payload) > 0 && !json.Valid(j.Payload):
		return false, baton.Errorf(baton.EINVALID, "job %s: payload is not valid JSON", j.Kind)
	}
	if err := baton.ValidateLane("job "+j.Kind, j.Lane); err != nil {
		return false, err
	}
	now := s.now()
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	runAt = runAt.UTC().Truncate(time.Microsecond)
	maxAttempts := j.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = baton.DefaultMaxAttempts
	}
	err := s.q().QueryRow(ctx, `
		INSERT INTO jobs (kind, conversation_id, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at, lane)
		VALUES ($1, $2, $3, $4::json, 'pending', $5, 0, $6, $7, $7, $8)
		ON CONFLICT (key) DO NOTHING
		RETURNING id`,
		j.Kind, j.ConversationID, nullString(j.Key), rawJSON(j.Payload), runAt, maxAttempts, now, j.Lane).Scan(&j.ID)
	if err == nil {
		j.Status, j.RunAt, j.MaxAttempts, j.Attempts = baton.JobPending, runAt, maxAttempts, 0
		j.LeaseOwner, j.LeaseUntil, j.LastError = "", nil, ""
		j.CreatedAt, j.UpdatedAt = now, now
		return true, nil
	}
	if err != pgx.ErrNoRows {
		return false, wrapErr(err, "enqueue job")
	}
	existing, err := scanJob(s.q().QueryRow(ctx, `SELECT `+jobCols+` FROM jobs WHERE key = $1`, j.Key))
	if err != nil {
		return false, wrapErr(err, "enqueue job: find the existing job")
	}
	*j = *existing
	return false, nil
}

// runnableSQL is the claiming rule for job j at $1 (now), as in
// baton_next_job (see the migration 0011); the claim re-checks it by id
// under the conversation's and the lane's locks.
const runnableSQL = `
	j.status IN ('pending', 'running')
	AND ((j.status = 'pending' AND j.run_at <= $1) OR (j.status = 'running' AND j.lease_until <= $1))
	AND (j.conversation_id = 0 OR (
		NOT EXISTS (SELECT 1 FROM jobs k
			WHERE k.conversation_id = j.conversation_id AND k.conversation_id <> 0
				AND k.status = 'running' AND k.lease_until > $1)
		AND NOT EXISTS (SELECT 1 FROM jobs k
			WHERE k.conversation_id = j.conversation_id AND k.conversation_id <> 0 AND k.id < j.id
				AND k.status IN ('pending', 'running') AND (k.attempts > 0 OR k.run_at <= $1))))
	AND (j.lane = '' OR (
		NOT EXISTS (SELECT 1 FROM jobs k
			WHERE k.lane = j.lane AND k.lane <> ''
				AND k.status = 'running' AND k.lease_until > $1)
		AND NOT EXISTS (SELECT 1 FROM jobs k
			WHERE k.lane = j.lane AND k.lane <> '' AND k.id < j.id
				AND k.status IN ('pending', 'running') AND (k.attempts > 0 OR k.run_at <= $1))))`

// lockSQL try-locks a job's conversation ($1, 0 = none) and lane ($2, "" =
// none) for the rest of the transaction, and says which it got. Each
// lock is tried only when needed; a claimer that misses one skips that
// conversation or lane rather than wait.
const lockSQL = `SELECT
	CASE WHEN $1::bigint = 0 THEN true ELSE pg_try_advisory_xact_lock($3::int, hashint8($1::bigint)) END,
	CASE WHEN $2::text = '' THEN true ELSE pg_try_advisory_xact_lock($4::int, hashtext($2::text)) END`

// skipList is what one claim passes over: conversations and lanes another
// claimer holds, and jobs another claimer got first.
type skipList struct {
	convs []int64
	lanes []string
	jobs  []int64
}

func newSkipList() *skipList { return &skipList{convs: []int64{}, lanes: []string{}, jobs: []int64{}} }

// missed records the locks a claimer did not get.
func (sk *skipList) missed(conv int64, lane string, gotConv, gotLane bool) {
	if !gotConv {
		sk.convs = append(sk.convs, conv)
	}
	if !gotLane {
		sk.lanes = append(sk.lanes, lane)
	}
}

// lost records a job whose re-check failed: its conversation or lane
// moved on under another claimer.
func (sk *skipList) lost(id, conv int64, lane string) {
	if conv != 0 {
		sk.convs = append(sk.convs, conv)
	}
	if lane != "" {
		sk.lanes = append(sk.lanes, lane)
	}
	sk.jobs = append(sk.jobs, id)
}

// maxClaimTries bounds how many conversations one claim skips because
// another claimer holds them.
const maxClaimTries = 8

// ClaimJob leases the next runnable job. baton_next_job finds it with FOR
// UPDATE SKIP LOCKED, so replicas never wait for each other; a job of no
// conversation is claimed in that same statement. For a conversation's job
// the claimer then takes the conversation's advisory lock and re-checks the
// ordering rule in a new statement: under READ COMMITTED the first
// statement's snapshot may miss a job of the same conversation being claimed
// at that moment, the lock plus a snapshot taken after it cannot, so two
// jobs of one conversation never run at once. A claimer that finds the lock
// taken skips that conversation rather than wait.
func (s *Store) ClaimJob(ctx context.Context, owner string, kinds []string, lease time.Duration) (*baton.Job, error) {
	if owner == "" {
		return nil, baton.Errorf(baton.EINVALID, "claim job: owner is empty")
	}
	if lease <= 0 {
		return nil, baton.Errorf(baton.EINVALID, "claim job: lease must be positive, got %v", lease)
	}
	if kinds == nil {
		kinds = []string{}
	}
	if s.tx == nil {
		return s.claimPooled(ctx, owner, kinds, lease)
	}
	return s.claimInTx(ctx, s.tx, owner, kinds, lease)
}

// claimInTx claims inside the caller's transaction; the conversation's and
// the lane's locks are then held until that transaction ends.
func (s *Store) claimInTx(ctx context.Context, q querier, owner string, kinds []string, lease time.Duration) (*baton.Job, error) {
	now := s.now()
	skip := newSkipList()
	for try := 0; try < maxClaimTries; try++ {
		var (
			id, conv int64
			lane     string
		)
		err := q.QueryRow(ctx, `SELECT job_id, job_conversation_id, job_lane FROM baton_next_job($1, $2, $3, $4, $5)`,
			now, kinds, skip.convs, skip.jobs, skip.lanes).Scan(&id, &conv, &lane)
		if err == pgx.ErrNoRows {
			return nil, nil
		}
		if err != nil {
			return nil, wrapErr(err, "claim job")
		}
		at := now
		if conv != 0 || lane != "" {
			var gotConv, gotLane bool
			if err := q.QueryRow(ctx, lockSQL, conv, lane, lockAreaConv, lockAreaLane).Scan(&gotConv, &gotLane); err != nil {
				return nil, wrapErr(err, "claim job: lock conversation and lane")
			}
			if !gotConv || !gotLane {
				skip.missed(conv, lane, gotConv, gotLane)
				continue
			}
			// Read the clock again under the locks: every earlier claim of
			// this conversation and lane has committed with an earlier
			// time, so the re-check and the new lease start after them.
			if later := s.now(); later.After(now) {
				at = later
			}
		}
		j, err := scanJob(q.QueryRow(ctx, `
			UPDATE jobs j SET status = 'running', lease_owner = $2, lease_until = $3, attempts = attempts + 1, updated_at = $1
			WHERE j.id = $4 AND `+runnableSQL+`
			RETURNING `+jobColsPrefixed, at, owner, at.Add(lease).Truncate(time.Microsecond), id))
		if err == pgx.ErrNoRows {
			// Another claimer got a job of this conversation or lane first.
			skip.lost(id, conv, lane)
			continue
		}
		if err != nil {
			return nil, wrapErr(err, "claim job")
		}
		return j, nil
	}
	return nil, nil
}

// claimFastSQL finds the next runnable job and, when it belongs to no
// conversation and no lane, claims it in the same autocommit statement. A
// job of a conversation or a lane is only reported: claiming it needs
// their locks.
const claimFastSQL = `
	WITH cand AS (
		SELECT job_id AS id, job_conversation_id AS conversation_id, job_lane AS lane FROM baton_next_job($1, $2, $3, '{}', $6)
	), claimed AS (
		UPDATE jobs j SET status = 'running', lease_owner = $4, lease_until = $5, attempts = j.attempts + 1, updated_at = $1
		FROM cand WHERE j.id = cand.id AND cand.conversation_id = 0 AND cand.lane = ''
		RETURNING j.*
	)
	SELECT cand.id, cand.conversation_id, cand.lane, claimed.id IS NOT NULL,
		coalesce(claimed.id, 0), coalesce(claimed.kind, ''), coalesce(claimed.conversation_id, 0), coalesce(claimed.lane, ''), coalesce(claimed.key, ''),
		claimed.payload, coalesce(claimed.status, ''), coalesce(claimed.run_at, 'epoch'), coalesce(claimed.attempts, 0),
		coalesce(claimed.max_attempts, 0), coalesce(claimed.lease_owner, ''), claimed.lease_until,
		coalesce(claimed.last_error, ''), coalesce(claimed.created_at, 'epoch'), coalesce(claimed.updated_at, 'epoch')
	FROM cand LEFT JOIN claimed ON true`

// claimPooled claims outside a transaction in as few round trips as the
// ordering rule allows: one for a job of no conversation and no lane; for
// any other two more, on one connection: BEGIN with the try-locks of its
// conversation and lane, then the re-check and claim with COMMIT, the
// re-check reading a snapshot taken after the locks were granted.
func (s *Store) claimPooled(ctx context.Context, owner string, kinds []string, lease time.Duration) (*baton.Job, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrapErr(err, "claim job: acquire a connection")
	}
	// A connection released inside a transaction (after an error) is
	// closed by the pool, never reused half-way.
	defer conn.Release()
	skip := newSkipList()
	for try := 0; try < maxClaimTries; try++ {
		now := s.now()
		var (
			id, conv int64
			lane     string
			ok       bool
		)
		extra := []any{&id, &conv, &lane, &ok}
		j, err := scanJob(prefixRow{conn.QueryRow(ctx, claimFastSQL, now, kinds, skip.convs, owner, now.Add(lease).Truncate(time.Microsecond), skip.lanes), extra})
		if err == pgx.ErrNoRows {
			return nil, nil
		}
		if err != nil {
			return nil, wrapErr(err, "claim job")
		}
		if ok {
			return j, nil
		}
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(lockSQL, conv, lane, lockAreaConv, lockAreaLane)
		br := conn.SendBatch(ctx, b)
		var gotConv, gotLane bool
		_, err = br.Exec()
		if err == nil {
			err = br.QueryRow().Scan(&gotConv, &gotLane)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, wrapErr(err, "claim job: lock conversation and lane")
		}
		if !gotConv || !gotLane {
			if _, err := conn.Exec(ctx, `ROLLBACK`); err != nil {
				return nil, wrapErr(err, "claim job")
			}
			skip.missed(conv, lane, gotConv, gotLane)
			continue
		}
		// Read the clock under the locks: every earlier claim of this
		// conversation and lane committed with an earlier time, so the
		// re-check and the new lease start after them.
		at := s.now()
		if at.Before(now) {
			at = now
		}
		b = &pgx.Batch{}
		b.Queue(`UPDATE jobs j SET status = 'running', lease_owner = $2, lease_until = $3, attempts = attempts + 1, updated_at = $1
				WHERE j.id = $4 AND `+runnableSQL+`
				RETURNING `+jobColsPrefixed, at, owner, at.Add(lease).Truncate(time.Microsecond), id)
		b.Queue(`COMMIT`)
		br = conn.SendBatch(ctx, b)
		j, err = scanJob(br.QueryRow())
		_, cerr := br.Exec()
		if err == nil || err == pgx.ErrNoRows {
			if cerr2 := br.Close(); cerr == nil {
				cerr = cerr2
			}
			if cerr != nil {
				return nil, wrapErr(cerr, "claim job: commit")
			}
		} else {
			br.Close()
			return nil, wrapErr(err, "claim job")
		}
		if err == pgx.ErrNoRows {
			// Another claimer got a job of this conversation or lane
			// first. The fast statement takes no job list: skipping the
			// conversation and lane passes this job over.
			skip.lost(id, conv, lane)
			continue
		}
		return j, nil
	}
	return nil, nil
}

// prefixRow scans leading columns into extra before the job columns.
type prefixRow struct {
	row   pgx.Row
	extra []any
}

func (p prefixRow) Scan(dest ...any) error {
	return p.row.Scan(append(append([]any{}, p.extra...), dest...)...)
}

// suffixRow scans trailing columns into extra after the job columns.
type suffixRow struct {
	row   pgx.Row
	extra []any
}

func (p suffixRow) Scan(dest ...any) error {
	return p.row.Scan(append(append([]any{}, dest...), p.extra...)...)
}

const jobColsPrefixed = `j.id, j.kind, j.conversation_id, j.lane, coalesce(j.key, ''), j.payload, j.status, j.run_at, j.attempts,
	j.max_attempts, j.lease_owner, j.lease_until, j.last_error, j.created_at, j.updated_at`

// leased runs an update on a job the owner must hold (running, same owner);
// when nothing matched it tells a missing job from a lost lease.
func (s *Store) leased(ctx context.Context, what string, id int64, owner string, set string, args ...any) error {
	all := append([]any{id, owner, s.now()}, args...)
	tag, err := s.q().Exec(ctx, `UPDATE jobs SET `+set+`, updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'`, all...)
	if err != nil {
		return wrapErr(err, what)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var status baton.JobStatus
	var holder string
	err = s.q().QueryRow(ctx, `SELECT status, lease_owner FROM jobs WHERE id = $1`, id).Scan(&status, &holder)
	if err == pgx.ErrNoRows {
		return baton.Errorf(baton.ENOTFOUND, "%s: job %d not found", what, id)
	}
	if err != nil {
		return wrapErr(err, what)
	}
	return baton.Errorf(baton.ECONFLICT, "%s: job %d is %s and leased to %q, not %q", what, id, status, holder, owner)
}

func (s *Store) ExtendLease(ctx context.Context, id int64, owner string, lease time.Duration) error {
	if lease <= 0 {
		return baton.Errorf(baton.EINVALID, "extend lease of job %d: lease must be positive, got %v", id, lease)
	}
	return s.leased(ctx, "extend lease", id, owner, `lease_until = $4`, s.now().Add(lease).Truncate(time.Microsecond))
}

func (s *Store) CompleteJob(ctx context.Context, id int64, owner string) error {
	return s.leased(ctx, "complete job", id, owner, `status = 'done', lease_until = NULL`)
}

func (s *Store) RetryJob(ctx context.Context, id int64, owner string, errMsg string, runAt time.Time) error {
	if runAt.IsZero() {
		runAt = s.now()
	}
	return s.leased(ctx, "retry job", id, owner, `status = 'pending', lease_owner = '', lease_until = NULL, last_error = $4, run_at = $5`,
		errMsg, runAt.UTC().Truncate(time.Microsecond))
}

func (s *Store) KillJob(ctx context.Context, id int64, owner string, errMsg string) error {
	return s.leased(ctx, "kill job", id, owner, `status = 'dead', lease_until = NULL, last_error = $4`, errMsg)
}

func (s *Store) GetJob(ctx context.Context, id int64) (*baton.Job, error) {
	j, err := scanJob(s.q().QueryRow(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return nil, wrapErr(err, "job "+strconv.FormatInt(id, 10))
	}
	return j, nil
}

func (s *Store) ListJobs(ctx context.Context, f baton.JobFilter) ([]*baton.Job, error) {
	lim := any(nil)
	if f.Limit > 0 {
		lim = f.Limit
	}
	rows, err := s.q().Query(ctx, `
		SELECT `+jobCols+` FROM jobs
		WHERE ($1 = '' OR kind = $1) AND ($2 = 0 OR conversation_id = $2) AND ($3 = '' OR status = $3) AND ($5 = '' OR lane = $5)
		ORDER BY id LIMIT $4`, f.Kind, f.ConversationID, string(f.Status), lim, f.Lane)
	if err != nil {
		return nil, wrapErr(err, "list jobs")
	}
	defer rows.Close()
	var out []*baton.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, wrapErr(err, "list jobs")
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list jobs")
	}
	return out, nil
}

// PurgeJobs deletes the oldest finished jobs of status updated before
// before, at most limit of them. Rows another purge is deleting are
// skipped, so that two processes purging at once do not wait on each
// other.
func (s *Store) PurgeJobs(ctx context.Context, status baton.JobStatus, before time.Time, limit int) (int, error) {
	if err := baton.ValidatePurge(status, limit); err != nil {
		return 0, err
	}
	tag, err := s.q().Exec(ctx, `DELETE FROM jobs WHERE id IN (
		SELECT id FROM jobs WHERE status = $1 AND updated_at < $2 ORDER BY updated_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)`,
		string(status), before, limit)
	if err != nil {
		return 0, wrapErr(err, "purge "+string(status)+" jobs")
	}
	return int(tag.RowsAffected()), nil
}

// scheduleSQL arms a timer in one statement: a new job holds the key, or
// the pending job that holds it is moved in place (the conflicting row is
// locked first, so a claim or another schedule of it either committed
// before, and is seen, or waits). A key held by a job that is no longer
// pending is not taken over: nothing is returned and the caller frees the
// key. xmax is 0 only on a freshly inserted row.
const scheduleSQL = `
	INSERT INTO jobs AS j (kind, conversation_id, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at, lane)
	VALUES ($1, $2, $3, $4::json, 'pending', $5, 0, $6, $7, $7, $8)
	ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, conversation_id = excluded.conversation_id, lane = excluded.lane, payload = excluded.payload,
		run_at = excluded.run_at, max_attempts = excluded.max_attempts, attempts = 0, last_error = '',
		lease_owner = '', lease_until = NULL, updated_at = excluded.updated_at
		WHERE j.status = 'pending'
	RETURNING ` + jobColsPrefixed + `, j.xmax::text <> '0'`

// maxScheduleTries bounds the loop of ScheduleJob: each turn either arms
// the timer or frees the key from a job that has started, which takes
// another schedule racing for the same key at most a turn or two.
const maxScheduleTries = 8

// ScheduleJob arms the timer j.Key: the pending job with the key is moved
// in place, any other job with it gives the key up to a new one. Each step
// is one statement that locks the row it reads, so concurrent schedules,
// cancels and claims of the key, from any process, serialise on that row.
func (s *Store) ScheduleJob(ctx context.Context, j *baton.Job) (bool, error) {
	switch {
	case strings.TrimSpace(j.Key) == "":
		return false, baton.Errorf(baton.EINVALID, "schedule job %s: a key is required", j.Kind)
	case strings.TrimSpace(j.Kind) == "":
		return false, baton.Errorf(baton.EINVALID, "schedule job %s: kind is required", j.Key)
	case j.MaxAttempts < 0:
		return false, baton.Errorf(baton.EINVALID, "schedule job %s: max attempts %d is negative", j.Key, j.MaxAttempts)
	case j.ConversationID < 0:
		return false, baton.Errorf(baton.EINVALID, "schedule job %s: negative conversation id", j.Key)
	case len(j.Payload) > 0 && !json.Valid(j.Payload):
		return false, baton.Errorf(baton.EINVALID, "schedule job %s: payload is not valid JSON", j.Key)
	}
	if err := baton.ValidateLane("schedule job "+j.Key, j.Lane); err != nil {
		return false, err
	}
	now := s.now()
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	runAt = runAt.UTC().Truncate(time.Microsecond)
	maxAttempts := j.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = baton.DefaultMaxAttempts
	}
	what := "schedule job " + j.Key
	var (
		stored   *baton.Job
		replaced bool
	)
	err := s.inTx(ctx, func(q querier) error {
		for try := 0; try < maxScheduleTries; try++ {
			var err error
			stored, err = scanJob(suffixRow{q.QueryRow(ctx, scheduleSQL, j.Kind, j.ConversationID, j.Key, rawJSON(j.Payload), runAt, maxAttempts, now, j.Lane),
				[]any{&replaced}})
			if err == nil {
				return nil
			}
			if err != pgx.ErrNoRows {
				return wrapErr(err, what)
			}
			// The key is held by a job that has started (running, done or
			// dead): it keeps its work and gives up the key.
			if _, err := q.Exec(ctx, `UPDATE jobs SET key = NULL, updated_at = $2 WHERE key = $1 AND status <> 'pending'`, j.Key, now); err != nil {
				return wrapErr(err, what)
			}
		}
		return baton.Errorf(baton.EUNAVAILABLE, "%s: the key kept changing hands; retry", what)
	})
	if err != nil {
		return false, err
	}
	*j = *stored
	return replaced, nil
}

// CancelJob deletes the pending job with key. A claim of it that got there
// first holds the row: the delete waits, finds it running and leaves it.
func (s *Store) CancelJob(ctx context.Context, key string) (bool, error) {
	if strings.TrimSpace(key) == "" {
		return false, baton.Errorf(baton.EINVALID, "cancel job: a key is required")
	}
	tag, err := s.q().Exec(ctx, `DELETE FROM jobs WHERE key = $1 AND status = 'pending'`, key)
	if err != nil {
		return false, wrapErr(err, "cancel job "+key)
	}
	return tag.RowsAffected() > 0, nil
}
