package slack

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket Mode timings: how long taking one envelope may take before it is
// acknowledged (Slack wants the ack within 3 s), and the wait between
// reconnection attempts once slack-go gives up on one.
const (
	socketTakeTimeout = 2 * time.Second
	socketRetryMin    = time.Second
	socketRetryMax    = 2 * time.Minute
)

// Socket is the console's Socket Mode connection (an app-level token,
// xapp-…, and no public URL), run as a service of the app. Events,
// interactions and slash commands arrive over a WebSocket and go through
// the Intake exactly as over HTTP: the same de-duplication by event_id,
// the same jobs, the same answers. slack-go keeps the connection
// (reconnecting when Slack asks to or a ping is missed); when it gives up,
// Socket starts it again after a backoff, until Stop.
type Socket struct {
	// API is a client with the bot token and slack.OptionAppLevelToken.
	API     *slack.Client
	Intake  *Intake
	Options []socketmode.Option
	Logger  *slog.Logger

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Name is the service's name in start and stop errors.
func (s *Socket) Name() string { return "Slack Socket Mode" }

func (s *Socket) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Start launches the connection in the background and returns: Slack
// being unreachable at start is not a reason to refuse to serve, and
// escalations keep queueing meanwhile.
func (s *Socket) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.API == nil || s.Intake == nil {
		return baton.Errorf(baton.EINVALID, "Slack Socket Mode: an API client and an intake are required")
	}
	if s.cancel != nil {
		return baton.Errorf(baton.ECONFLICT, "Slack Socket Mode: already started")
	}
	// The connection outlives Start's context: Stop ends it.
	ctx, cancel := context.WithCancel(context.Background())
	client := socketmode.New(s.API, s.Options...)
	s.cancel, s.done = cancel, make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.run(ctx, client) })
	wg.Go(func() { s.serve(ctx, client) })
	go func() { wg.Wait(); close(s.done) }()
	return nil
}

// Stop closes the connection and waits for its goroutines, or for ctx.
// Envelopes not acknowledged by then are redelivered by Slack.
func (s *Socket) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return baton.WrapError(baton.EUNAVAILABLE, ctx.Err(), "Slack Socket Mode did not stop in time")
	}
}

// run keeps the connection up until ctx ends.
func (s *Socket) run(ctx context.Context, client *socketmode.Client) {
	wait := socketRetryMin
	for {
		err := client.RunContext(ctx)
		if ctx.Err() != nil {
			return
		}
		// slack-go retries on its own and returns only on what it takes
		// for fatal (a revoked or wrong token): worth a loud line, and a
		// slower try, in case it was Slack's mistake.
		s.log().LogAttrs(ctx, slog.LevelError, "Slack Socket Mode connection failed", slog.String("error", errString(err)), slog.Duration("retry_in", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, socketRetryMax)
	}
}

func errString(err error) string {
	if err == nil {
		return "connection ended"
	}
	return err.Error()
}

// serve takes every envelope as it comes.
func (s *Socket) serve(ctx context.Context, client *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-client.Events:
			s.handle(ctx, client, evt)
		}
	}
}

// handle takes one envelope and acknowledges it. The ack follows the
// enqueue, as the HTTP 200 does: an envelope the store could not take
// stays unacknowledged and Slack delivers it again. Input that no retry
// can mend is acknowledged all the same.
func (s *Socket) handle(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	log := s.log()
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		log.LogAttrs(ctx, slog.LevelDebug, "Slack Socket Mode connecting")
		return
	case socketmode.EventTypeConnected:
		log.LogAttrs(ctx, slog.LevelInfo, "Slack Socket Mode connected")
		return
	case socketmode.EventTypeHello:
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError,
		socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
		log.LogAttrs(ctx, slog.LevelWarn, "Slack Socket Mode trouble", slog.String("type", string(evt.Type)), slog.String("error", socketError(evt.Data)))
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		log.LogAttrs(ctx, slog.LevelDebug, "Slack Socket Mode event ignored", slog.String("type", string(evt.Type)))
		return
	}
	req := evt.Request
	tctx, cancel := context.WithTimeout(ctx, socketTakeTimeout)
	defer cancel()
	var (
		answer any
		err    error
	)
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		_, err = s.Intake.takeEvent(tctx, req.Payload, retryAttempt(req), req.RetryReason)
	case socketmode.EventTypeInteractive:
		answer, err = s.Intake.takeInteraction(tctx, req.Payload)
	case socketmode.EventTypeSlashCommand:
		cmd, _ := evt.Data.(slack.SlashCommand)
		answer, err = s.Intake.takeCommand(tctx, cmd)
	default:
		log.LogAttrs(ctx, slog.LevelDebug, "Slack Socket Mode envelope not for the console", slog.String("type", string(evt.Type)))
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "Slack Socket Mode envelope not taken", slog.String("type", string(evt.Type)),
			slog.String("envelope_id", req.EnvelopeID), slog.String("error", baton.ErrorMessage(err)))
		switch baton.ErrorCode(err) {
		case baton.EUNAVAILABLE, baton.EINTERNAL:
			return // redelivered
		}
		answer = nil
	}
	if err := client.AckCtx(ctx, req.EnvelopeID, answer); err != nil && ctx.Err() == nil {
		log.LogAttrs(ctx, slog.LevelWarn, "Slack Socket Mode ack failed", slog.String("envelope_id", req.EnvelopeID), slog.String("error", err.Error()))
	}
}

func retryAttempt(r *socketmode.Request) string {
	if r.RetryAttempt == 0 {
		return ""
	}
	return strconv.Itoa(r.RetryAttempt)
}

// socketError is the error a socketmode event carries, for the log.
func socketError(data any) string {
	switch d := data.(type) {
	case *slack.ConnectionErrorEvent:
		return d.Error()
	case *slack.IncomingEventError:
		return d.Error()
	case *socketmode.ErrorWriteFailed:
		return d.Cause.Error()
	case *socketmode.ErrorBadMessage:
		return d.Cause.Error()
	case *slack.InvalidAuthEvent:
		return "invalid auth"
	}
	return ""
}

// What the console needs the Slack app to grant: the bot scopes of the
// Web API calls and events it uses, and the events it subscribes to.
// examples/slack-manifest.yaml declares exactly these (a test holds the
// two together), so that an app made from it has every permission the
// console uses and no other.
const (
	ScopeChatWrite       = "chat:write"       // chat.postMessage, chat.update, chat.postEphemeral: the cards and answers
	ScopeChannelsHistory = "channels:history" // message.channels: thread replies in public queue channels
	ScopeGroupsHistory   = "groups:history"   // message.groups: thread replies in private queue channels
	ScopeCommands        = "commands"         // the /baton command
	ScopeReactionsWrite  = "reactions:write"  // reactions.add/remove: a thread reply's delivery status
	ScopeIMWrite         = "im:write"         // conversations.open: direct messages to agents

	EventMessageChannels = "message.channels"
	EventMessageGroups   = "message.groups"
)

// botScopes and botEvents list the constants above for the manifest test.
func botScopes() []string {
	return []string{ScopeChatWrite, ScopeChannelsHistory, ScopeGroupsHistory, ScopeCommands, ScopeReactionsWrite, ScopeIMWrite}
}

func botEvents() []string { return []string{EventMessageChannels, EventMessageGroups} }
