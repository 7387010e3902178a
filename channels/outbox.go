package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// Deliverer is the baton.JobHandler of deliver jobs: it sends one queued
// outbound message through its channel's Sender, records the provider's id,
// marks permanent failures failed with the provider's reason, and leaves
// transient ones to the job queue's backoff.
//
// Duplicate sends: none of WhatsApp's, Messenger's or Twilio's send APIs
// takes an idempotency key, so a process that dies (kill -9, a lost
// database connection) after the provider accepted a message and before its
// id was recorded cannot know whether the message went out; the job runs
// again when its lease expires and sends it a second time. That window (one
// provider round trip plus one small write) cannot be closed, so it is made
// visible: the message is marked in flight (sending) before the call, and
// an attempt that finds the mark is in doubt, counted through InDoubt and
// logged once, and sent again (at least once). A provider's answer that it
// did not take the message clears the mark, so an ordinary retry is never
// counted. Everything else is exactly once: a message that is no longer
// queued or in flight is never sent again, a job whose message was sent
// just completes, and once the provider accepted a message its id is
// recorded even when the job's context is being cancelled (a graceful stop
// whose deadline passed). The web chat, being ours, is keyed by the message
// id and is never in doubt.
type Deliverer struct {
	Store   baton.Store
	Senders map[baton.ChannelKind]baton.Sender
	Clock   baton.Clock
	Logger  *slog.Logger
	// Timeout bounds one send; the default is 30 s.
	Timeout time.Duration
	// InDoubt, when set, is called once per in-doubt send: one that may
	// repeat a message the provider already took.
	InDoubt func(ch baton.ChannelKind)
}

// recordTimeout bounds the writes that record a send the provider
// accepted; they run even when the job's context was cancelled.
const recordTimeout = 10 * time.Second

func (d *Deliverer) now() time.Time {
	if d.Clock == nil {
		return time.Now().UTC()
	}
	return d.Clock.Now()
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// HandleJob implements baton.JobHandler.
func (d *Deliverer) HandleJob(ctx context.Context, j *baton.Job) error {
	var p baton.DeliverPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.MessageID == 0 {
		return baton.Errorf(baton.EINVALID, "deliver job %d: payload has no message id", j.ID)
	}
	m, err := d.Store.GetMessage(ctx, p.MessageID)
	if err != nil {
		return fmt.Errorf("deliver message %d: %w", p.MessageID, err)
	}
	if m.Direction != baton.DirectionOut {
		return baton.Errorf(baton.EINVALID, "deliver message %d: not an outbound message", m.ID)
	}
	if m.Status != baton.StatusQueued && m.Status != baton.StatusSending {
		return nil // sent or failed already: a retried or duplicated job
	}
	conv, err := d.Store.GetConversation(ctx, m.ConversationID)
	if err != nil {
		return fmt.Errorf("deliver message %d: conversation: %w", m.ID, err)
	}
	id, err := d.Store.GetIdentity(ctx, conv.BotID, conv.Channel, conv.Address)
	switch {
	case err == nil && id.OptedOut:
		return d.fail(ctx, m, "opted_out", "the customer opted out (STOP); nothing is sent until they opt back in (START)")
	case err != nil && baton.ErrorCode(err) != baton.ENOTFOUND:
		return fmt.Errorf("deliver message %d: identity: %w", m.ID, err)
	}
	sender := d.Senders[conv.Channel]
	if sender == nil {
		return d.fail(ctx, m, "no_sender", fmt.Sprintf("no sender configured for channel %s", conv.Channel))
	}
	// The web chat's "send" is keyed by the message id: repeating it
	// cannot duplicate anything, so it needs no in-flight mark.
	marked := conv.Channel != baton.ChannelWebChat
	if marked {
		inDoubt, err := d.Store.BeginSend(ctx, m.ID, d.now())
		switch {
		case baton.ErrorCode(err) == baton.ECONFLICT:
			return nil // sent or failed meanwhile
		case err != nil:
			return fmt.Errorf("deliver message %d: mark in flight: %w", m.ID, err)
		case inDoubt:
			d.inDoubt(ctx, m, conv.Channel, j.Attempts)
		}
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	providerID, err := sender.Send(sctx, conv, m)
	cancel()
	if err == nil {
		// The provider has the message: record it even if the job is being
		// cancelled, or the next attempt would send it again.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := d.Store.SetProviderID(rctx, m.ID, providerID, d.now()); err != nil {
			return fmt.Errorf("deliver message %d: record provider id: %w", m.ID, err)
		}
		d.touchOutbound(rctx, conv.ID)
		return nil
	}
	code, reason := FailureDetail(err)
	switch baton.ErrorCode(err) {
	case baton.EINVALID, baton.EFORBIDDEN, baton.ENOTFOUND, baton.EUNAUTHORIZED, baton.ETOOLARGE:
		var se *SendError
		if errors.As(err, &se) && se.OptedOut {
			if err := d.Store.SetOptOut(ctx, conv.BotID, conv.Channel, conv.Address, true, d.now()); err != nil {
				return fmt.Errorf("deliver message %d: record provider opt-out: %w", m.ID, err)
			}
		}
		return d.fail(ctx, m, code, reason)
	}
	max := j.MaxAttempts
	if max <= 0 {
		max = baton.DefaultMaxAttempts
	}
	if j.Attempts >= max {
		return d.fail(ctx, m, code, fmt.Sprintf("gave up after %d attempts: %s", j.Attempts, reason))
	}
	var refused *SendError
	if marked && errors.As(err, &refused) {
		// The provider answered and did not take the message: the retry
		// is an ordinary one. Without an answer (a timeout, a reset
		// connection) the mark stays: the provider may have it.
		if aerr := d.Store.AbortSend(ctx, m.ID, d.now()); aerr != nil {
			d.logger().LogAttrs(ctx, slog.LevelWarn, "could not clear the in-flight mark of a refused send; its retry will count as in doubt",
				slog.Int64("message", m.ID), slog.String("error", aerr.Error()))
		}
	}
	d.logger().LogAttrs(ctx, slog.LevelWarn, "delivery failed, will retry",
		slog.Int64("message", m.ID), slog.String("channel", string(conv.Channel)),
		slog.Int("attempt", j.Attempts), slog.String("code", code))
	return err
}

// inDoubt reports a send that may repeat one the provider already took. The
// log line names the message, never its text or the customer's address.
func (d *Deliverer) inDoubt(ctx context.Context, m *baton.Message, ch baton.ChannelKind, attempt int) {
	if d.InDoubt != nil {
		d.InDoubt(ch)
	}
	d.logger().LogAttrs(ctx, slog.LevelWarn, "delivery in doubt: an earlier attempt stopped between the provider's call and recording its answer; sending again (at least once)",
		slog.Int64("message", m.ID), slog.Int64("conversation", m.ConversationID), slog.String("channel", string(ch)),
		slog.Int("attempt", attempt))
}

// touchOutbound records when the conversation last got a message out. It is
// bookkeeping for the console: the message is sent and recorded whatever
// happens here, so a failure is logged, not retried.
func (d *Deliverer) touchOutbound(ctx context.Context, convID int64) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var c *baton.Conversation
		if c, err = d.Store.GetConversation(ctx, convID); err != nil {
			break
		}
		now := d.now()
		if c.LastOutboundAt != nil && !c.LastOutboundAt.Before(now) {
			return
		}
		c.LastOutboundAt = &now
		if err = d.Store.UpdateConversation(ctx, c); baton.ErrorCode(err) != baton.ECONFLICT {
			break
		}
	}
	if err != nil {
		d.logger().LogAttrs(ctx, slog.LevelWarn, "could not record the last outbound time",
			slog.Int64("conversation", convID), slog.String("error", err.Error()))
	}
}

func (d *Deliverer) fail(ctx context.Context, m *baton.Message, code, reason string) error {
	if _, err := d.Store.SetMessageStatus(ctx, m.ID, baton.StatusFailed, code, reason, d.now()); err != nil {
		return fmt.Errorf("deliver message %d: mark failed: %w", m.ID, err)
	}
	d.logger().LogAttrs(ctx, slog.LevelWarn, "delivery failed for good",
		slog.Int64("message", m.ID), slog.String("channel", string(m.Channel)), slog.String("code", code))
	return nil
}

// SendError is a provider's refusal of a send, classified. Senders return it
// wrapped in a *baton.Error (or a *baton.RetryLater) through Err.
type SendError struct {
	Provider   string
	HTTPStatus int
	Code       string // the provider's own error code, "" when it gave none
	Reason     string // the provider's explanation
	Kind       string // baton.EUNAVAILABLE (retry), EINVALID or EFORBIDDEN (permanent)
	RetryAfter time.Duration
	// OptedOut says the provider refused because the customer unsubscribed
	// there (an SMS STOP that reached the carrier but not us): the outbox
	// records the opt-out so that nothing else is attempted.
	OptedOut bool
}

func (e *SendError) Error() string {
	s := e.Provider
	if e.HTTPStatus != 0 {
		s += " HTTP " + strconv.Itoa(e.HTTPStatus)
	}
	if e.Code != "" {
		s += " error " + e.Code
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Err returns e with its domain code: a *baton.RetryLater when the provider
// said when to come back, else a *baton.Error.
func (e *SendError) Err() error {
	kind := e.Kind
	if kind == "" {
		kind = baton.EUNAVAILABLE
	}
	err := baton.WrapError(kind, e, "send through "+e.Provider)
	if kind == baton.EUNAVAILABLE && e.RetryAfter > 0 {
		return &baton.RetryLater{After: e.RetryAfter, Err: err}
	}
	return err
}

// FailureDetail returns the provider code and reason of a send error, for
// the message's status; errors that are not a *SendError (timeouts, refused
// connections) get their domain code and text.
func FailureDetail(err error) (code, reason string) {
	var se *SendError
	if errors.As(err, &se) {
		code = se.Code
		if code == "" && se.HTTPStatus != 0 {
			code = "http_" + strconv.Itoa(se.HTTPStatus)
		}
		return code, se.Error()
	}
	return baton.ErrorCode(err), baton.ErrorMessage(err)
}

// TransportError classifies a failure to reach the provider at all: the
// request may or may not have arrived, so it is retried.
func TransportError(provider string, err error) error {
	return baton.WrapError(baton.EUNAVAILABLE, err, "send through "+provider+": provider unreachable")
}

// ParseRetryAfter reads a Retry-After header (seconds or an HTTP date).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// WithinWindow reports whether now is less than d after last.
func WithinWindow(last *time.Time, now time.Time, d time.Duration) bool {
	return last != nil && now.Sub(*last) < d
}
