package baton

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// JobStatus is where a job is in its life.
type JobStatus string

const (
	JobPending JobStatus = "pending"
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobDead    JobStatus = "dead" // gave up after MaxAttempts; LastError says why
)

// Job kinds used across the product.
const (
	JobTurn    = "turn"    // run the bot on a conversation's new messages
	JobDeliver = "deliver" // send one outbound message through its provider
	JobSLA     = "sla"     // an SLA timer
	JobSnooze  = "snooze"  // wakes a snoozed conversation when its time comes
	JobCSAT    = "csat"    // ask for a satisfaction score
	JobSlack   = "slack"   // mirror something to the agent console
	// JobFollowUp takes a customer's silence after "did this help?" as a
	// yes once its time comes.
	JobFollowUp = "followup"
)

// Job is a durable unit of work. Jobs are enqueued in the same transaction
// as the data that causes them.
//
// Ordering: jobs with the same ConversationID never run at the same time and
// run in enqueue (ID) order, and so do jobs with the same non-empty Lane,
// whatever their conversations: a job waits for the earlier live jobs of
// its conversation and of its lane. Only earlier jobs hold a job back, so
// the two rules together cannot deadlock. A job that is not yet due and
// has never run (a timer) does not hold back the jobs behind it; a job
// waiting for a retry does.
type Job struct {
	ID             int64
	Kind           string
	ConversationID int64 // 0 = not tied to a conversation, no ordering; not checked against conversations
	// Lane orders jobs that share something outside the conversation (a
	// Slack channel's posts): "" = no lane.
	Lane        string
	Key         string // optional idempotency key, unique among all jobs
	Payload     json.RawMessage
	Status      JobStatus
	RunAt       time.Time
	Attempts    int // incremented by every claim
	MaxAttempts int // 0 = the store's default (10)
	LeaseOwner  string
	LeaseUntil  *time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TurnPayload is the payload of a turn job: the message that caused it.
type TurnPayload struct {
	MessageID int64 `json:"message_id"`
}

// TurnJob is the turn job of an inbound message, due at runAt: one per
// message (the key), run in its conversation's order. The stores build the
// same key and payload when they enqueue it themselves (AppendInbound).
func TurnJob(conversationID, messageID int64, runAt time.Time) *Job {
	payload, _ := json.Marshal(TurnPayload{MessageID: messageID})
	return &Job{
		Kind:           JobTurn,
		ConversationID: conversationID,
		Key:            "turn:" + strconv.FormatInt(messageID, 10),
		Payload:        payload,
		RunAt:          runAt,
	}
}

// DefaultMaxAttempts is used when a job does not say.
const DefaultMaxAttempts = 10

// MaxLane is the longest job lane the stores keep.
const MaxLane = 255

// ValidateLane checks a job's lane for the stores, with code EINVALID:
// what names the job for the message.
func ValidateLane(what, lane string) error {
	switch {
	case len(lane) > MaxLane:
		return Errorf(EINVALID, "%s: lane is %d bytes long, more than %d", what, len(lane), MaxLane)
	case strings.TrimSpace(lane) != lane:
		return Errorf(EINVALID, "%s: lane %q has leading or trailing spaces", what, lane)
	}
	return nil
}

// JobFilter selects jobs for listing.
type JobFilter struct {
	Kind           string
	ConversationID int64
	Lane           string
	Status         JobStatus
	Limit          int
}

// JobStore is the durable queue.
type JobStore interface {
	// Enqueue stores j (RunAt zero = now) and sets j.ID. When j.Key is set
	// and a job with that key exists, nothing is written, j.ID is set to
	// the existing job and created is false.
	Enqueue(ctx context.Context, j *Job) (created bool, err error)
	// ClaimJob leases the next runnable job of one of kinds (all kinds when
	// empty) to owner until now+lease, incrementing Attempts. A running job
	// whose lease expired is runnable again. It returns (nil, nil) when there
	// is nothing to do. The store does not enforce MaxAttempts: the worker
	// dead-letters a job that used them up.
	//
	// Unknown job ids are ENOTFOUND for every method below.
	ClaimJob(ctx context.Context, owner string, kinds []string, lease time.Duration) (*Job, error)
	// ScheduleJob arms the timer j.Key (required, EINVALID without):
	// afterwards exactly one job that has not started holds the key, due
	// at j.RunAt (zero = now) with j's kind, conversation, lane, payload
	// and max attempts. A pending job with the key (not yet run, or waiting for a
	// retry) is replaced in place: same ID, the new values, Attempts and
	// LastError reset; replaced is true. A running job with the key is not
	// interrupted, and a done or dead one stays as history: either gives
	// up its key (GetJob shows it without one) to a new job. It is atomic
	// also against concurrent ScheduleJob, CancelJob and ClaimJob calls,
	// from any process, so that a timer that moved fires once, at its new
	// time. j is set to the stored job. Enqueue's keys are the same keys:
	// use ScheduleJob for keys that move and Enqueue for keys that must
	// run once.
	ScheduleJob(ctx context.Context, j *Job) (replaced bool, err error)
	// CancelJob deletes the pending job with key and reports whether there
	// was one. A running job is not interrupted and a finished one stays;
	// both are left as they are (false). The key is free afterwards.
	CancelJob(ctx context.Context, key string) (cancelled bool, err error)
	// ExtendLease keeps a long job's lease; ECONFLICT if owner lost it.
	ExtendLease(ctx context.Context, id int64, owner string, lease time.Duration) error
	// CompleteJob marks a job done; ECONFLICT if owner no longer holds it.
	CompleteJob(ctx context.Context, id int64, owner string) error
	// RetryJob releases a job to run again at runAt, keeping errMsg;
	// ECONFLICT if owner no longer holds it.
	RetryJob(ctx context.Context, id int64, owner string, errMsg string, runAt time.Time) error
	// KillJob dead-letters a job, keeping errMsg; ECONFLICT if owner no
	// longer holds it.
	KillJob(ctx context.Context, id int64, owner string, errMsg string) error
	GetJob(ctx context.Context, id int64) (*Job, error)
	// ListJobs returns the matching jobs by id.
	ListJobs(ctx context.Context, f JobFilter) ([]*Job, error)
	// PurgeJobs deletes up to limit jobs of status (JobDone or JobDead;
	// any other is EINVALID, as is a limit below 1) last updated before
	// before, oldest first, and returns how many it deleted. Finished jobs
	// are history; without a purge the queue only grows.
	PurgeJobs(ctx context.Context, status JobStatus, before time.Time, limit int) (int, error)
}

// ValidatePurge checks PurgeJobs's arguments for the stores.
func ValidatePurge(status JobStatus, limit int) error {
	if status != JobDone && status != JobDead {
		return Errorf(EINVALID, "purge jobs: status %q: only done and dead jobs may be purged", status)
	}
	if limit < 1 {
		return Errorf(EINVALID, "purge jobs: limit %d: want at least 1", limit)
	}
	return nil
}

// JobHandler runs one kind of job. Returning nil completes the job. An error
// is retried with backoff when its code is EUNAVAILABLE or EINTERNAL (or it
// has no code), and dead-lettered at once when it is any other code (the
// input is wrong; running it again cannot help). A *RetryLater asks for the
// next attempt no sooner than After (a provider's Retry-After).
type JobHandler interface {
	HandleJob(ctx context.Context, j *Job) error
}

// JobHandlerFunc adapts a function to JobHandler.
type JobHandlerFunc func(ctx context.Context, j *Job) error

// HandleJob calls f.
func (f JobHandlerFunc) HandleJob(ctx context.Context, j *Job) error { return f(ctx, j) }

// RetryLater is a retryable failure with a minimum delay.
type RetryLater struct {
	After time.Duration
	// Exact asks for the next attempt at After, without the runner's own
	// backoff: the handler paces its retries itself (a Slack channel's
	// posts, which must catch up soon after an outage ends).
	Exact bool
	Err   error
}

func (e *RetryLater) Error() string { return "retry after " + e.After.String() + ": " + e.Err.Error() }
func (e *RetryLater) Unwrap() error { return e.Err }
