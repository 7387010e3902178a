package slack

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// DefaultCatchUpEvery is how often the catch-up looks for escalations
// without a card.
const DefaultCatchUpEvery = 5 * time.Minute

// catchUpScan bounds how many open conversations of one queue a round
// reads; catchUpPosts how many card jobs it makes. What is left waits
// for the next round.
const (
	catchUpScan  = 500
	catchUpPosts = 200
)

// catchUpGrace is how long after its escalation a conversation is left to
// its own notification, which follows the escalation's commit: the
// catch-up is for the cards that never came, not the ones on their way.
const catchUpGrace = time.Minute

// openStates are the states of an escalation that still shows a card.
var openStates = []baton.State{baton.StateQueued, baton.StateAssigned, baton.StateSnoozed}

// CatchUp is the long-running service that gives every open escalation
// its card: at start and then every Every, it finds the conversations of
// queues with a channel that have no card and no Slack job waiting (their
// card job died, or was never made because the store failed after the
// escalation), escalated more than a minute ago, and makes their card
// jobs, oldest escalation first. The
// jobs go through the Notifier, so in the channel's lane, and post when
// Slack takes them.
type CatchUp struct {
	Store    baton.Store
	Notifier *Notifier
	Console  *Console // the workspace the cards are in
	Every    time.Duration
	Logger   *slog.Logger
	// Wake, when set, is called after a round made jobs (the pool's
	// Notify), so that they do not wait for the next poll.
	Wake func()

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

// Name implements the app's Service.
func (c *CatchUp) Name() string { return "Slack catch-up" }

func (c *CatchUp) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Start runs a first round at once, then one every Every, in a goroutine
// of its own until Stop.
func (c *CatchUp) Start(context.Context) error {
	if c.Store == nil || c.Notifier == nil || c.Console == nil {
		return baton.Errorf(baton.EINVALID, "Slack catch-up: a store, a notifier and a console are required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return baton.Errorf(baton.ECONFLICT, "Slack catch-up: already started")
	}
	every := c.Every
	if every <= 0 {
		every = DefaultCatchUpEvery
	}
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.loop(every, c.stop, c.done)
	return nil
}

func (c *CatchUp) loop(every time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := c.Run(ctx); err != nil && ctx.Err() == nil {
			c.log().LogAttrs(ctx, slog.LevelWarn, "Slack catch-up failed; next round later", slog.String("error", baton.ErrorMessage(err)))
		} else if n > 0 {
			c.log().LogAttrs(ctx, slog.LevelInfo, "Slack catch-up: card jobs made for escalations without a card", slog.Int("count", n))
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// Stop ends the loop, cancelling a round in progress, and waits for it
// within ctx.
func (c *CatchUp) Stop(ctx context.Context) error {
	c.mu.Lock()
	stop, done := c.stop, c.done
	c.stop = nil
	c.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return baton.WrapError(baton.EUNAVAILABLE, ctx.Err(), "Slack catch-up did not stop in time")
	}
}

// Run is one round: it makes the card jobs of the open escalations that
// have neither a card nor a Slack job waiting, oldest escalation first,
// and returns how many.
func (c *CatchUp) Run(ctx context.Context) (int, error) {
	team, err := c.Console.workspace(ctx)
	if err != nil {
		return 0, err
	}
	var missing []*baton.Conversation
	recent := c.Console.now().Add(-catchUpGrace)
	for queue, channel := range c.Notifier.Channels {
		if channel == "" {
			continue
		}
		convs, err := c.Store.ListConversations(ctx, baton.ConversationFilter{QueueID: queue, States: openStates, Limit: catchUpScan})
		if err != nil {
			return 0, err
		}
		for _, conv := range convs {
			if conv.QueuedAt != nil && conv.QueuedAt.After(recent) {
				continue
			}
			lacks, err := c.lacksCard(ctx, team, conv)
			if err != nil {
				return 0, err
			}
			if lacks {
				missing = append(missing, conv)
			}
		}
	}
	sort.Slice(missing, func(i, j int) bool {
		a, b := missing[i], missing[j]
		switch {
		case a.QueuedAt == nil || b.QueuedAt == nil || a.QueuedAt.Equal(*b.QueuedAt):
			return a.ID < b.ID
		}
		return a.QueuedAt.Before(*b.QueuedAt)
	})
	if len(missing) > catchUpPosts {
		missing = missing[:catchUpPosts]
	}
	for i, conv := range missing {
		if err := c.Notifier.notifyCard(ctx, baton.Notification{Kind: "escalated", ConversationID: conv.ID, QueueID: conv.QueueID}); err != nil {
			return i, err
		}
	}
	if len(missing) > 0 && c.Wake != nil {
		c.Wake()
	}
	return len(missing), nil
}

// lacksCard reports whether conv has no card in workspace team and no
// Slack job pending or running that would post it.
func (c *CatchUp) lacksCard(ctx context.Context, team string, conv *baton.Conversation) (bool, error) {
	_, err := c.Store.GetSlackThread(ctx, team, conv.ID)
	switch code := baton.ErrorCode(err); {
	case err == nil:
		return false, nil
	case code != baton.ENOTFOUND:
		return false, err
	}
	for _, status := range []baton.JobStatus{baton.JobPending, baton.JobRunning} {
		js, err := c.Store.ListJobs(ctx, baton.JobFilter{Kind: baton.JobSlack, ConversationID: conv.ID, Status: status, Limit: 1})
		if err != nil {
			return false, err
		}
		if len(js) > 0 {
			return false, nil
		}
	}
	return true, nil
}
