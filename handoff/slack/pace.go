package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// Slack lets an app post about one message a second in a channel and
// answers 429 beyond; a console that respects that posts every card and
// thread message once, in order, instead of racing into the limit.
const (
	// DefaultPostInterval is the least time between two posts in one
	// channel.
	DefaultPostInterval = time.Second
	// DefaultOutageRetryMax caps the delay between tries of a channel's
	// next post while Slack is unreachable, so that the console catches
	// up within it once Slack is back.
	DefaultOutageRetryMax = 30 * time.Second
	// outageRetryBase is the first delay after a failed post; it doubles
	// up to the cap.
	outageRetryBase = time.Second
	// laneMaxAttempts lets a channel's posts outlast a long outage: at the
	// 30 s cap, about a week of tries.
	laneMaxAttempts = 20000
	// maxPaceWait is the longest a job waits for its channel's turn while
	// holding a worker; a longer wait is a retry at that time.
	maxPaceWait = 10 * time.Second
	// markerScan bounds the look for a post's marker: the channel's, or
	// the thread's, latest messages. A retried post is the latest of its
	// lane, so it is among them unless people wrote that much since.
	markerScan = 100
)

// Markers in the metadata of what the console posts, so that a retry can
// tell a post that happened from one that did not.
const (
	markerCard    = "baton_card"    // payload: conversation_id
	markerMessage = "baton_message" // payload: message_id
)

// lane is the job lane of the posts in a Slack channel: one at a time,
// in order.
func lane(channel string) string { return "slack:" + channel }

func marker(kind, field string, id int64) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: kind, EventPayload: map[string]any{field: strconv.FormatInt(id, 10)}})
}

// hasMarker reports whether m carries the marker kind with field = id.
func hasMarker(m slack.Message, kind, field string, id int64) bool {
	if m.Metadata.EventType != kind {
		return false
	}
	v, ok := m.Metadata.EventPayload[field]
	return ok && fmt.Sprint(v) == strconv.FormatInt(id, 10)
}

func (c *Console) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// paceKey is the channel whose turn a post waits for: the id Slack
// answered with when the channel is configured by name.
func (c *Console) paceKey(channel string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[channel]; ok {
		return id
	}
	return channel
}

// waitTurn waits until the channel may take a post. A wait longer than
// maxPaceWait is given back as a RetryLater, the job's lane keeping the
// channel's order meanwhile.
func (c *Console) waitTurn(ctx context.Context, key string) error {
	c.paceMu.Lock()
	next := c.next[key]
	c.paceMu.Unlock()
	d := next.Sub(c.now())
	if d <= 0 {
		return nil
	}
	if d > maxPaceWait {
		return &baton.RetryLater{After: d, Exact: true, Err: baton.Errorf(baton.ERATELIMITED, "Slack channel %s: next post not before %s", key, next.Format(time.RFC3339))}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Console) setTurn(key string, next time.Time) {
	c.paceMu.Lock()
	defer c.paceMu.Unlock()
	if c.next == nil {
		c.next = map[string]time.Time{}
	}
	c.next[key] = next
}

// postMessage posts in channel in its turn: no sooner than PostInterval
// after the channel's last post, or than Slack's Retry-After after a 429.
func (c *Console) postMessage(ctx context.Context, channel string, opts ...slack.MsgOption) (postedChannel, ts string, err error) {
	key := c.paceKey(channel)
	if err := c.waitTurn(ctx, key); err != nil {
		return "", "", err
	}
	err = c.call(ctx, "Slack chat.postMessage", func(ctx context.Context) error {
		var err error
		postedChannel, ts, err = c.API.PostMessageContext(ctx, channel, opts...)
		return err
	})
	gap := c.PostInterval
	if gap <= 0 {
		gap = DefaultPostInterval
	}
	var later *baton.RetryLater
	if errors.As(err, &later) && later.After > gap {
		gap = later.After
	}
	c.setTurn(key, c.now().Add(gap))
	return postedChannel, ts, err
}

// laneVerdict is what a failed lane job (a post in a channel) tells the
// pool: a 429 waits exactly Slack's Retry-After, and Slack unreachable (a
// 5xx, a timeout, a network error) is tried again after a delay that
// doubles from outageRetryBase up to OutageRetryMax; the lane holds the
// channel's later posts meanwhile. Any other failure is the pool's to
// judge, except that an unexpected one (EINTERNAL) gives up after the
// attempts of any other job: the lane's many attempts are for outages,
// and a job that keeps failing otherwise would hold the channel for days.
//
// Card updates (op, the job's op, is opNotify) are not in a lane
// (chat.update is not paced per channel) but are judged alike and made
// with the lane's attempts, so that they too outlast an outage: a card
// must not show a stale owner or state once Slack is back.
func (c *Console) laneVerdict(j *baton.Job, op string, err error) error {
	if err == nil || (j.Lane == "" && op != opNotify) {
		return err
	}
	var later *baton.RetryLater
	if errors.As(err, &later) {
		return &baton.RetryLater{After: later.After, Exact: true, Err: later.Err}
	}
	switch code := baton.ErrorCode(err); {
	case code == baton.EINTERNAL && j.Attempts >= baton.DefaultMaxAttempts:
		return baton.WrapError(baton.EINVALID, err, fmt.Sprintf("Slack post gave up after %d attempts", j.Attempts))
	case code != baton.EUNAVAILABLE:
		return err
	}
	ceiling := c.OutageRetryMax
	if ceiling <= 0 {
		ceiling = DefaultOutageRetryMax
	}
	after := ceiling
	if n := j.Attempts - 1; n < 30 {
		after = min(outageRetryBase<<max(n, 0), ceiling)
	}
	return &baton.RetryLater{After: after, Exact: true, Err: err}
}

// postedCard looks in channel (an id) for the card of conversation id that
// an earlier try may have posted, and returns its ts ("" when there is
// none).
func (c *Console) postedCard(ctx context.Context, channel string, id int64) (string, error) {
	var found string
	err := c.call(ctx, "Slack conversations.history", func(ctx context.Context) error {
		r, err := c.API.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: markerScan,
			IncludeAllMetadata: true})
		if err != nil {
			return err
		}
		for _, m := range r.Messages {
			if hasMarker(m, markerCard, "conversation_id", id) {
				found = m.Timestamp
				return nil
			}
		}
		return nil
	})
	return found, err
}

// postedMessage reports whether the thread root in channel holds customer
// message id, posted by an earlier try.
func (c *Console) postedMessage(ctx context.Context, channel, root string, id int64) (bool, error) {
	found := false
	err := c.call(ctx, "Slack conversations.replies", func(ctx context.Context) error {
		msgs, _, _, err := c.API.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: root,
			Limit: markerScan, IncludeAllMetadata: true})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if hasMarker(m, markerMessage, "message_id", id) {
				found = true
				return nil
			}
		}
		return nil
	})
	return found, err
}

// channel is the Slack channel of a conversation's queue: queueID's when
// given, else the conversation's current queue's; "" when it has none.
func (n *Notifier) channel(ctx context.Context, convID int64, queueID string) (string, error) {
	if len(n.Channels) == 0 {
		return "", nil
	}
	if queueID == "" {
		conv, err := n.Store.GetConversation(ctx, convID)
		if err != nil {
			return "", err
		}
		queueID = conv.QueueID
	}
	return n.Channels[queueID], nil
}

// cardLane puts a card job in its channel's lane when it may post the
// card: the conversation has none in that channel yet (or the workspace
// is not known yet, so that cannot be told). A job that only updates a
// card stays out, so that a backlog of posts never delays an update.
func (n *Notifier) cardLane(ctx context.Context, j *baton.Job, queueID string) error {
	channel, err := n.channel(ctx, j.ConversationID, queueID)
	if err != nil || channel == "" {
		return err
	}
	if n.Console != nil {
		if team := n.Console.knownTeam(); team != "" {
			th, err := n.Store.GetSlackThread(ctx, team, j.ConversationID)
			switch {
			case err == nil && n.Console.sameChannel(th.ChannelID, channel):
				return nil
			case err != nil && baton.ErrorCode(err) != baton.ENOTFOUND:
				return err
			}
		}
	}
	j.Lane, j.MaxAttempts = lane(channel), laneMaxAttempts
	return nil
}

// threadLane puts a thread post in its channel's lane.
func (n *Notifier) threadLane(ctx context.Context, j *baton.Job, queueID string) error {
	channel, err := n.channel(ctx, j.ConversationID, queueID)
	if err != nil || channel == "" {
		return err
	}
	j.Lane, j.MaxAttempts = lane(channel), laneMaxAttempts
	return nil
}
