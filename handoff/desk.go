package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// JobRoute is the kind of the jobs that route: one conversation just
// queued ("route:<id>"), one agent who just gained room
// ("route:agent:<id>"), and the periodic sweep of every waiting
// conversation ("route:sweep").
const JobRoute = "route"

// LeadSkill marks an agent who may assign conversations to others.
const LeadSkill = "lead"

// Surveyor asks customers how a resolved conversation went and takes their
// answers. handoff.Surveys implements it.
type Surveyor interface {
	// Ask is called inside the transaction that resolves conv: it records the
	// survey and enqueues the rating request through the outbox, on tx.
	Ask(ctx context.Context, tx baton.Store, conv *baton.Conversation, by string) error
	// Answer is called by ingestion's ownership policy, inside its transaction,
	// for a customer message to a resolved conversation: it reports whether the
	// message answered an open survey (a rating or the comment after it), and if
	// so records it (and may enqueue a thank-you on tx).
	Answer(ctx context.Context, tx baton.Store, conv *baton.Conversation, msg *baton.Message) (bool, error)
}

// Windows says what conv's channel lets an agent send at now: the provider
// rules (WhatsApp's 24 hours after the customer's last message, Messenger's
// 7 days for a human agent) live with the channels, which handoff does not
// import; the assembly passes them in.
type Windows func(ctx context.Context, conv *baton.Conversation, now time.Time) baton.Window

// Config is what a Desk works with. Store and Queues are required; the
// rest has defaults.
type Config struct {
	Store  baton.Store
	Queues map[string]baton.Queue // by id
	Bots   map[string]baton.Bot   // by id
	Clock  baton.Clock            // [baton.SystemClock]
	Logger *slog.Logger           // [discard]
	// Windows gives a channel's messaging window [always open].
	Windows Windows
	// Notifier tells people about SLA warnings and breaches and about
	// conversations given to them. A Notification with AgentID set is for
	// that agent; one without is for the queue's channel. nil: the events
	// are recorded and nobody is told.
	Notifier baton.Notifier
	// Surveys, when set, asks for a rating when an agent resolves.
	Surveys Surveyor
	// Observer, when set, hears of assignments, first responses and
	// resolutions as they commit (the Prometheus series).
	Observer Observer
	// SweepEvery is how often waiting conversations are offered again
	// while any wait [30s]: a lost race or a missed capacity change never
	// leaves a customer waiting beside an agent with room for longer.
	SweepEvery time.Duration
	// DefaultTarget is the response target of a queue whose policy names
	// none for a conversation's priority or clock [1h].
	DefaultTarget time.Duration
}

// Desk is the working human queue: routing, SLA timers that act and every
// lifecycle action, over a baton.Store. It implements baton.Desk; its job
// handlers (Jobs) run the timers and the routing.
type Desk struct {
	st     baton.Store
	queues map[string]baton.Queue
	bots   map[string]baton.Bot
	clock  baton.Clock
	log    *slog.Logger
	window Windows
	notify baton.Notifier
	survey Surveyor
	obs    Observer
	sweep  time.Duration
	target time.Duration

	mu     sync.Mutex
	skills map[int64]cachedSkills // by conversation, see itemOf
}

var _ baton.Desk = (*Desk)(nil)

// New builds a Desk from cfg.
func New(cfg Config) (*Desk, error) {
	if cfg.Store == nil {
		return nil, baton.Errorf(baton.EINVALID, "desk: a store is required")
	}
	d := &Desk{st: cfg.Store, queues: cfg.Queues, bots: cfg.Bots, clock: cfg.Clock, log: cfg.Logger, window: cfg.Windows,
		notify: cfg.Notifier, survey: cfg.Surveys, obs: cfg.Observer, sweep: cfg.SweepEvery, target: cfg.DefaultTarget, skills: map[int64]cachedSkills{}}
	if d.queues == nil {
		d.queues = map[string]baton.Queue{}
	}
	if d.clock == nil {
		d.clock = baton.SystemClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.sweep <= 0 {
		d.sweep = 30 * time.Second
	}
	if d.target <= 0 {
		d.target = time.Hour
	}
	return d, nil
}

// Jobs are the Desk's job handlers by kind: SLA timers, snooze wake-ups and
// routing.
func (d *Desk) Jobs() map[string]baton.JobHandler {
	return map[string]baton.JobHandler{
		baton.JobSLA:    baton.JobHandlerFunc(d.handleSLA),
		baton.JobSnooze: baton.JobHandlerFunc(d.handleSnooze),
		JobRoute:        baton.JobHandlerFunc(d.handleRoute),
	}
}

func (d *Desk) now() time.Time { return d.clock.Now().UTC() }

// queueOf is the queue conv waits in or was last in. A queue no longer
// configured keeps its id and has no policy: its conversations are still
// watched, at the default target.
func (d *Desk) queueOf(conv *baton.Conversation) baton.Queue {
	if q, ok := d.queues[conv.QueueID]; ok {
		return q
	}
	return baton.Queue{ID: conv.QueueID, BotID: conv.BotID}
}

// maxTxAttempts bounds the retries of an action whose conversation another
// actor changed between its read and its write.
const maxTxAttempts = 4

// effects are what an action does once it committed: notifications and
// observations, which must not count a transaction that rolled back.
type effects struct {
	notices []baton.Notification
	after   []func()
}

func (e *effects) tell(n baton.Notification) { e.notices = append(e.notices, n) }

func (e *effects) then(f func()) { e.after = append(e.after, f) }

// tx runs fn in a transaction, again when it lost an optimistic-concurrency
// race (never when an assignment was refused: that is the answer), and then
// sends the notifications fn collected.
func (d *Desk) tx(ctx context.Context, fn func(tx baton.Store, fx *effects) error) error {
	var fx *effects
	var err error
	for attempt := 1; ; attempt++ {
		fx = &effects{}
		err = d.st.Tx(ctx, func(tx baton.Store) error { return fn(tx, fx) })
		if _, refused := baton.AsAssignRefused(err); refused || baton.ErrorCode(err) != baton.ECONFLICT || attempt == maxTxAttempts {
			break
		}
	}
	if err != nil {
		return err
	}
	d.send(ctx, fx.notices)
	for _, f := range fx.after {
		f()
	}
	return nil
}

// observeAssigned counts how long c waited in its queue before an agent
// took it.
func (d *Desk) observeAssigned(c *baton.Conversation) {
	if d.obs != nil && c.QueuedAt != nil && c.AssignedAt != nil && !c.AssignedAt.Before(*c.QueuedAt) {
		d.obs.Assigned(c.QueueID, c.AssignedAt.Sub(*c.QueuedAt))
	}
}

func (d *Desk) send(ctx context.Context, ns []baton.Notification) {
	if d.notify == nil {
		return
	}
	for _, n := range ns {
		if err := d.notify.Notify(ctx, n); err != nil {
			d.log.LogAttrs(ctx, slog.LevelWarn, "could not notify the agent side",
				slog.String("kind", n.Kind), slog.Int64("conversation", n.ConversationID), slog.String("error", baton.ErrorMessage(err)))
		}
	}
}

// lock reads conversation id inside tx and holds it for the rest of tx: a
// write at the version read, so that an actor who changed it since makes
// this one ECONFLICT (and tx runs again on a fresh read), and anyone after
// waits for the commit. Permission checks made on what lock returns hold
// when the action writes.
func (d *Desk) lock(ctx context.Context, tx baton.Store, id int64) (*baton.Conversation, error) {
	c, err := tx.GetConversation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// may checks that by may act on conv: the admin on any conversation, an
// agent on their own (assigned or snoozed to them).
func may(conv *baton.Conversation, by baton.Actor, what string) error {
	if err := valid(by); err != nil {
		return err
	}
	if by.Admin {
		return nil
	}
	owner := conv.Owner()
	if owner == "" && (conv.State == baton.StateResolved || conv.State == baton.StateArchived) {
		// Their last conversation: what they may do with it is the state
		// machine's to say.
		owner = conv.AgentID
	}
	if owner != by.AgentID {
		whose := "nobody's"
		if owner != "" {
			whose = owner + "'s"
		}
		return baton.Errorf(baton.EFORBIDDEN, "%s conversation %d: it is %s (%s), not %s's", what, conv.ID, whose, conv.State, by.AgentID)
	}
	return nil
}

func valid(by baton.Actor) error {
	if !by.Admin && by.AgentID == "" {
		return baton.Errorf(baton.EUNAUTHORIZED, "desk: the actor is neither an agent nor the admin")
	}
	return nil
}

// agentOf is the agent by acts as: themselves, or the agent the admin acts
// for. An admin acting as the system has none (EINVALID for what).
func agentOf(by baton.Actor, what string) (string, error) {
	if err := valid(by); err != nil {
		return "", err
	}
	if by.AgentID == "" {
		return "", baton.Errorf(baton.EINVALID, "%s: the admin acts for an agent here: name the agent", what)
	}
	return by.AgentID, nil
}

// routeJob schedules routing, due now: of conversation convID (excluding
// agent exclude), or of what agent can take, or the sweep.
type routePayload struct {
	ConversationID int64  `json:"conversation_id,omitempty"`
	Exclude        string `json:"exclude,omitempty"` // an agent the conversation was just taken from
	Agent          string `json:"agent,omitempty"`
	Sweep          bool   `json:"sweep,omitempty"`
}

func routeKey(p routePayload) string {
	switch {
	case p.ConversationID != 0:
		return "route:" + strconv.FormatInt(p.ConversationID, 10)
	case p.Agent != "":
		return "route:agent:" + p.Agent
	}
	return "route:sweep"
}

// schedule arms the job key (a timer that moves, or work due now that a
// second request joins) on tx. Routing and timers are not tied to their
// conversation's job order: a delivery waiting for a retry must not hold
// back an SLA timer or an assignment.
func schedule(ctx context.Context, tx baton.Store, kind, key string, payload any, at time.Time) error {
	j := &baton.Job{Kind: kind, Key: key, Payload: mustJSON(payload), RunAt: at}
	if _, err := tx.ScheduleJob(ctx, j); err != nil {
		return fmt.Errorf("schedule %s: %w", key, err)
	}
	return nil
}

// route asks for p to be routed right after tx commits.
func (d *Desk) route(ctx context.Context, tx baton.Store, p routePayload) error {
	return schedule(ctx, tx, JobRoute, routeKey(p), p, d.now())
}

// sweepSoon makes sure the sweep runs at the next tick of its period. The
// tick is a fixed grid, so that re-arming it from many places keeps one
// time rather than pushing it back.
func (d *Desk) sweepSoon(ctx context.Context, tx baton.Store) error {
	now := d.now()
	return schedule(ctx, tx, JobRoute, routeKey(routePayload{Sweep: true}), routePayload{Sweep: true}, now.Truncate(d.sweep).Add(d.sweep))
}

// cancelTimers cancels conversation id's SLA and snooze timers: nobody owes
// the customer anything on its account any more.
func cancelTimers(ctx context.Context, tx baton.Store, id int64) error {
	for _, key := range []string{SLAKey(id), SnoozeKey(id)} {
		if _, err := tx.CancelJob(ctx, key); err != nil {
			return fmt.Errorf("cancel %s: %w", key, err)
		}
	}
	return nil
}

// notFoundIs answers ENOTFOUND as nothing to do.
func notFoundIs(err error) error {
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil
	}
	return err
}

var errStale = errors.New("stale job")

func unmarshal(j *baton.Job, v any) error { return json.Unmarshal(j.Payload, v) }

// jobResult is a timer's verdict: a stale or vanished timer is done; one
// that lost a race with an actor runs again shortly.
func jobResult(err error) error {
	switch {
	case err == nil, errors.Is(err, errStale), baton.ErrorCode(err) == baton.ENOTFOUND:
		return nil
	case baton.ErrorCode(err) == baton.ECONFLICT:
		return &baton.RetryLater{After: time.Second, Err: err}
	}
	return err
}
