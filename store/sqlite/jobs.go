package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

const jobCols = `id, kind, conversation_id, lane, key, payload, status, run_at, attempts, max_attempts, lease_owner, lease_until, last_error, created_at, updated_at`

func scanJob(r scanner) (*baton.Job, error) {
	var (
		j                baton.Job
		key, payload     sql.NullString
		status           string
		runAt            int64
		leaseUntil       sql.NullInt64
		created, updated int64
	)
	if err := r.Scan(&j.ID, &j.Kind, &j.ConversationID, &j.Lane, &key, &payload, &status, &runAt, &j.Attempts, &j.MaxAttempts, &j.LeaseOwner,
		&leaseUntil, &j.LastError, &created, &updated); err != nil {
		return nil, err
	}
	j.Key, j.Payload, j.Status = key.String, fromRaw(payload), baton.JobStatus(status)
	j.RunAt, j.LeaseUntil = fromTS(runAt), fromTSPtr(leaseUntil)
	j.CreatedAt, j.UpdatedAt = fromTS(created), fromTS(updated)
	return &j, nil
}

// Enqueue stores a job; a job with an existing key is not stored again.
func (s *Store) Enqueue(ctx context.Context, j *baton.Job) (bool, error) {
	switch {
	case strings.TrimSpace(j.Kind) == "":
		return false, baton.Errorf(baton.EINVALID, "job: kind is required")
	case j.MaxAttempts < 0:
		return false, baton.Errorf(baton.EINVALID, "job %s: max attempts %d is negative", j.Kind, j.MaxAttempts)
	}
	if err := baton.ValidateLane("job "+j.Kind, j.Lane); err != nil {
		return false, err
	}
	payload, err := rawCol(j.Payload, "job "+j.Kind+" payload")
	if err != nil {
		return false, err
	}
	now := s.now()
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = baton.DefaultMaxAttempts
	}
	var created bool
	err = s.writeOne(ctx, "enqueue "+j.Kind, func(q querier) error {
		var id int64
		err := q.QueryRowContext(ctx, `INSERT INTO jobs (kind, conversation_id, lane, key, payload, status, run_at, max_attempts, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
			j.Kind, j.ConversationID, j.Lane, nullString(j.Key), payload, ts(runAt), maxAttempts, ts(now), ts(now)).Scan(&id)
		switch err {
		case nil:
			created = true
		case sql.ErrNoRows:
			if err := q.QueryRowContext(ctx, `SELECT id FROM jobs WHERE key = ?`, j.Key).Scan(&id); err != nil {
				return err
			}
		default:
			return err
		}
		j.ID = id
		return nil
	})
	if err != nil {
		return false, err
	}
	if created {
		j.Status, j.RunAt, j.MaxAttempts, j.Attempts = baton.JobPending, runAt.UTC().Truncate(time.Microsecond), maxAttempts, 0
		j.CreatedAt, j.UpdatedAt = now, now
	}
	return created, nil
}

// ScheduleJob arms the timer j.Key: the pending job with the key is moved
// in place, any other job with it gives the key up to a new one. The write
// lock makes the steps one.
func (s *Store) ScheduleJob(ctx context.Context, j *baton.Job) (bool, error) {
	payload, runAt, maxAttempts, err := s.timerFields(j)
	if err != nil {
		return false, err
	}
	now := s.now()
	var (
		stored   *baton.Job
		replaced bool
	)
	err = s.writeTx(ctx, "schedule job "+j.Key, func(q querier) error {
		stored, err = scanJob(q.QueryRowContext(ctx, `UPDATE jobs SET kind = ?, conversation_id = ?, lane = ?, payload = ?, run_at = ?, max_attempts = ?,
			attempts = 0, last_error = '', updated_at = ? WHERE key = ? AND status = 'pending' RETURNING `+jobCols,
			j.Kind, j.ConversationID, j.Lane, payload, ts(runAt), maxAttempts, ts(now), j.Key))
		if err == nil {
			replaced = true
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE jobs SET key = NULL WHERE key = ?`, j.Key); err != nil {
			return err
		}
		stored, err = scanJob(q.QueryRowContext(ctx, `INSERT INTO jobs (kind, conversation_id, lane, key, payload, status, run_at, max_attempts, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING `+jobCols,
			j.Kind, j.ConversationID, j.Lane, j.Key, payload, ts(runAt), maxAttempts, ts(now), ts(now)))
		return err
	})
	if err != nil {
		return false, err
	}
	*j = *stored
	return replaced, nil
}

// timerFields checks a job for ScheduleJob and returns its stored payload,
// run time and max attempts.
func (s *Store) timerFields(j *baton.Job) (sql.NullString, time.Time, int, error) {
	switch {
	case strings.TrimSpace(j.Key) == "":
		return sql.NullString{}, time.Time{}, 0, baton.Errorf(baton.EINVALID, "schedule job %s: a key is required", j.Kind)
	case strings.TrimSpace(j.Kind) == "":
		return sql.NullString{}, time.Time{}, 0, baton.Errorf(baton.EINVALID, "schedule job %s: kind is required", j.Key)
	case j.MaxAttempts < 0:
		return sql.NullString{}, time.Time{}, 0, baton.Errorf(baton.EINVALID, "schedule job %s: max attempts %d is negative", j.Key, j.MaxAttempts)
	case j.ConversationID < 0:
		return sql.NullString{}, time.Time{}, 0, baton.Errorf(baton.EINVALID, "schedule job %s: negative conversation id", j.Key)
	}
	if err := baton.ValidateLane("schedule job "+j.Key, j.Lane); err != nil {
		return sql.NullString{}, time.Time{}, 0, err
	}
	payload, err := rawCol(j.Payload, "job "+j.Key+" payload")
	if err != nil {
		return sql.NullString{}, time.Time{}, 0, err
	}
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = s.now()
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = baton.DefaultMaxAttempts
	}
	return payload, runAt, maxAttempts, nil
}

// CancelJob deletes the pending job with key.
func (s *Store) CancelJob(ctx context.Context, key string) (bool, error) {
	if strings.TrimSpace(key) == "" {
		return false, baton.Errorf(baton.EINVALID, "cancel job: a key is required")
	}
	var n int64
	err := s.writeOne(ctx, "cancel job "+key, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM jobs WHERE key = ? AND status = 'pending'`, key)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// blocked is true for a job that another job of its conversation, or of
// its lane, holds back: one running under a live lease, or an earlier one
// that is due or has already run (waiting for a retry). A never-run timer
// that is not due does not block. The lane walk repeats k.lane <> "" so
// that SQLite may use the partial index jobs_active_lane.
const blocked = `(j.conversation_id <> 0 AND EXISTS (
	SELECT 1 FROM jobs k
	WHERE k.conversation_id = j.conversation_id AND k.status IN ('pending', 'running') AND k.id <> j.id
	  AND ((k.status = 'running' AND k.lease_until > :now)
	    OR (k.id < j.id AND (k.attempts > 0 OR k.run_at <= :now)))))
	OR (j.lane <> '' AND EXISTS (
	SELECT 1 FROM jobs k
	WHERE k.lane = j.lane AND k.lane <> '' AND k.status IN ('pending', 'running') AND k.id <> j.id
	  AND ((k.status = 'running' AND k.lease_until > :now)
	    OR (k.id < j.id AND (k.attempts > 0 OR k.run_at <= :now)))))`

// claimQueries are the two walks of a claim: due pending jobs, and running
// jobs whose lease expired. kindFilter restricts j.kind.
//
// INDEXED BY pins each walk to its partial index of live jobs. Left to
// itself, a planner without statistics (SQLite has none until ANALYZE)
// took the kind filter to the (kind, id) index instead: every job of the
// kind ever run, done ones included, read and sorted on every claim, so
// that claiming slowed down as history grew (600 jobs/s on a queue of
// 3,000).
func claimQueries(kindFilter string) []string {
	return []string{
		`SELECT j.id, j.run_at FROM jobs j INDEXED BY jobs_pending WHERE j.status = 'pending' AND j.run_at <= :now` + kindFilter + ` AND NOT (` + blocked + `) ORDER BY j.run_at, j.id LIMIT 1`,
		`SELECT j.id, j.run_at FROM jobs j INDEXED BY jobs_running WHERE j.status = 'running' AND j.lease_until <= :now` + kindFilter + ` AND NOT (` + blocked + `) ORDER BY j.run_at, j.id LIMIT 1`,
	}
}

// ClaimJob leases the next runnable job. The whole claim runs under the
// write lock, so two claimers can never pick the same job.
func (s *Store) ClaimJob(ctx context.Context, owner string, kinds []string, lease time.Duration) (*baton.Job, error) {
	if strings.TrimSpace(owner) == "" {
		return nil, baton.Errorf(baton.EINVALID, "claim: owner is required")
	}
	if lease <= 0 {
		return nil, baton.Errorf(baton.EINVALID, "claim: lease %v must be positive", lease)
	}
	kindFilter := ""
	var kindArgs []any
	if len(kinds) > 0 {
		kindFilter = " AND j.kind IN (" + placeholders(len(kinds)) + ")"
		for _, k := range kinds {
			kindArgs = append(kindArgs, k)
		}
	}
	queries := claimQueries(kindFilter)
	if s.tx == nil {
		// Idle workers poll all the time: look on a read connection first
		// and take the write lock (which ingestion needs) only when there
		// is something to claim. A job that becomes runnable just after
		// the look is found by the next poll.
		found := false
		args := append([]any{sql.Named("now", ts(s.now()))}, kindArgs...)
		for _, query := range queries {
			if found {
				break
			}
			st, err := s.readStmts.get(ctx, query)
			if err != nil {
				return nil, translate(err, "claim job")
			}
			var id, runAt int64
			switch err := st.QueryRowContext(ctx, args...).Scan(&id, &runAt); err {
			case nil:
				found = true
			case sql.ErrNoRows:
			default:
				return nil, translate(err, "claim job")
			}
		}
		if !found {
			return nil, nil
		}
	}
	// The claim's statements are prepared once on the write pool, before
	// its one connection is taken by the transaction.
	prepared := map[string]*sql.Stmt{}
	if s.tx == nil {
		for _, query := range queries {
			st, err := s.writeStmts.get(ctx, query)
			if err != nil {
				return nil, translate(err, "claim job")
			}
			prepared[query] = st
		}
	}
	var claimed *baton.Job
	err := s.writeOne(ctx, "claim job", func(q querier) error {
		// Now is read under the write lock: claims are then ordered in
		// time exactly as they are in the database.
		now := s.now()
		args := append([]any{sql.Named("now", ts(now))}, kindArgs...)
		// Two index walks instead of one OR: pending jobs by (run_at, id),
		// expired leases by lease_until. Each stops at its first
		// unblocked job; the earlier of the two wins.
		type cand struct {
			id    int64
			runAt int64
		}
		var best *cand
		for _, query := range queries {
			var c cand
			switch err := claimRow(ctx, q, prepared[query], query, args...).Scan(&c.id, &c.runAt); err {
			case nil:
				if best == nil || c.runAt < best.runAt || (c.runAt == best.runAt && c.id < best.id) {
					best = &c
				}
			case sql.ErrNoRows:
			default:
				return err
			}
		}
		if best == nil {
			return nil
		}
		j, err := scanJob(q.QueryRowContext(ctx, `UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id = ? RETURNING `+jobCols, owner, ts(now.Add(lease)), ts(now), best.id))
		claimed = j
		return err
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// claimRow runs a claim query in q with st, its statement prepared on the
// write pool, when q is a transaction of that pool (which reuses it on its
// one connection); as text otherwise.
func claimRow(ctx context.Context, q querier, st *sql.Stmt, query string, args ...any) *sql.Row {
	if tx, ok := q.(*sql.Tx); ok && st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// leased runs an update on a job the owner holds, telling ENOTFOUND (no such
// job) from ECONFLICT (someone else holds it, or it is not running).
func (s *Store) leased(ctx context.Context, what string, id int64, owner string, set string, args ...any) error {
	return s.writeOne(ctx, what+" job "+itoa(id), func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE jobs SET `+set+` WHERE id = ? AND status = 'running' AND lease_owner = ?`, append(args, id, owner)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var status, holder string
		if err := q.QueryRowContext(ctx, `SELECT status, lease_owner FROM jobs WHERE id = ?`, id).Scan(&status, &holder); err != nil {
			return err
		}
		if status != string(baton.JobRunning) {
			return baton.Errorf(baton.ECONFLICT, "%s job %d: it is %s, not running under %s", what, id, status, owner)
		}
		return baton.Errorf(baton.ECONFLICT, "%s job %d: the lease passed to another worker", what, id)
	})
}

// ExtendLease keeps a long job's lease.
func (s *Store) ExtendLease(ctx context.Context, id int64, owner string, lease time.Duration) error {
	if lease <= 0 {
		return baton.Errorf(baton.EINVALID, "extend lease of job %d: lease %v must be positive", id, lease)
	}
	now := s.now()
	return s.leased(ctx, "extend lease of", id, owner, `lease_until = ?, updated_at = ?`, ts(now.Add(lease)), ts(now))
}

// CompleteJob marks a job done.
func (s *Store) CompleteJob(ctx context.Context, id int64, owner string) error {
	return s.leased(ctx, "complete", id, owner, `status = 'done', lease_until = NULL, updated_at = ?`, ts(s.now()))
}

// RetryJob releases a job to run again at runAt.
func (s *Store) RetryJob(ctx context.Context, id int64, owner string, errMsg string, runAt time.Time) error {
	return s.leased(ctx, "retry", id, owner, `status = 'pending', run_at = ?, last_error = ?, lease_owner = '', lease_until = NULL, updated_at = ?`,
		ts(runAt), errMsg, ts(s.now()))
}

// KillJob dead-letters a job.
func (s *Store) KillJob(ctx context.Context, id int64, owner string, errMsg string) error {
	return s.leased(ctx, "kill", id, owner, `status = 'dead', last_error = ?, lease_until = NULL, updated_at = ?`, errMsg, ts(s.now()))
}

// GetJob returns a job by id.
func (s *Store) GetJob(ctx context.Context, id int64) (*baton.Job, error) {
	j, err := scanJob(s.reader().QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return nil, translate(err, "job "+itoa(id))
	}
	return j, nil
}

// ListJobs returns the jobs matching f, by id.
func (s *Store) ListJobs(ctx context.Context, f baton.JobFilter) ([]*baton.Job, error) {
	var (
		where []string
		args  []any
	)
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.ConversationID != 0 {
		where, args = append(where, "conversation_id = ?"), append(args, f.ConversationID)
	}
	if f.Lane != "" {
		where, args = append(where, "lane = ?"), append(args, f.Lane)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT `+jobCols+` FROM jobs`+whereClause(where)+` ORDER BY id`+limitClause(f.Limit), args...)
	if err != nil {
		return nil, translate(err, "list jobs")
	}
	defer rows.Close()
	var out []*baton.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, translate(err, "list jobs")
		}
		out = append(out, j)
	}
	return out, translate(rows.Err(), "list jobs")
}

// PurgeJobs deletes the oldest finished jobs of status updated before
// before, at most limit of them.
func (s *Store) PurgeJobs(ctx context.Context, status baton.JobStatus, before time.Time, limit int) (int, error) {
	if err := baton.ValidatePurge(status, limit); err != nil {
		return 0, err
	}
	var n int64
	err := s.writeOne(ctx, "purge "+string(status)+" jobs", func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM jobs WHERE id IN (
			SELECT id FROM jobs WHERE status = ? AND updated_at < ? ORDER BY updated_at, id LIMIT ?)`,
			string(status), ts(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
