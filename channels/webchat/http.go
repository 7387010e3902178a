package webchat

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/limit"
)

//go:embed page.html
var pageHTML string

// Handler serves the chat page, its message POSTs and its reply stream.
// Mount them as:
//
//	GET  /chat/:bot          Page
//	POST /chat/:bot/messages Post
//	GET  /chat/:bot/stream   Stream
type Handler struct {
	Sites    map[string]Site
	Ingester *channels.Ingester
	Store    baton.Store
	Clock    baton.Clock
	Logger   *slog.Logger
	// Signal, when set, wakes a stream as soon as this process writes a
	// message of its visitor; give the same one to Sender.
	Signal *Signal
	// Poll is how often an open stream looks for new messages [500ms];
	// polling the store keeps any number of replicas consistent.
	Poll time.Duration
	// StreamFor ends a stream after this long [5m]; EventSource
	// reconnects with Last-Event-ID and catches up.
	StreamFor time.Duration
	// Timeout bounds a POST's ingestion [10s].
	Timeout time.Duration

	// Limits; a nil one limits nothing. Posts are limited per client
	// address before the body is parsed and per visitor (or signed user)
	// after; Streams bounds open reply streams per visitor and in total.
	PostsPerAddress *limit.Keyed
	PostsPerVisitor *limit.Keyed
	Streams         *limit.Slots
	// Proxies says who the client is behind trusted proxies; nil means
	// the TCP peer.
	Proxies *limit.Proxies

	pageOnce sync.Once
	page     *template.Template
	pageErr  error
}

func (h *Handler) now() time.Time {
	if h.Clock == nil {
		return time.Now().UTC()
	}
	return h.Clock.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// site returns the bot of the path, copied: fiber's params alias a buffer
// that the next request reuses, and the bot id goes into the store, the
// signal and the limiters.
func (h *Handler) site(c *fiber.Ctx) (string, Site, error) {
	bot := c.Params("bot")
	s, ok := h.Sites[bot]
	if !ok {
		return "", Site{}, baton.Errorf(baton.ENOTFOUND, "web chat: no web chat for bot %q", bot)
	}
	return strings.Clone(bot), s, nil
}

// fail answers with the JSON error every route of the server answers with,
// and logs the code and the reason (messages carry no value the client
// sent). A refusal over a limit says when to retry and is logged at debug
// level only: the requests metric counts the 429s, and a flood of them
// must not be a flood of log lines.
func (h *Handler) fail(c *fiber.Ctx, what string, err error) error {
	status := baton.HTTPStatus(err)
	level := slog.LevelWarn
	switch {
	case status >= 500:
		level = slog.LevelError
	case baton.ErrorCode(err) == baton.ERATELIMITED:
		level = slog.LevelDebug
	}
	if wait, ok := limit.RetryAfter(err); ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(limit.RetryAfterSeconds(wait)))
	}
	h.logger().LogAttrs(c.UserContext(), level, "web chat request refused",
		slog.String("what", what), slog.Int("status", status), slog.String("code", baton.ErrorCode(err)), slog.String("reason", baton.ErrorMessage(err)))
	return c.Status(status).JSON(baton.NewErrorBody(err))
}

func streamKey(bot, address string) string { return bot + "\x00" + address }

// Page serves the chat page.
func (h *Handler) Page(c *fiber.Ctx) error {
	bot, s, err := h.site(c)
	if err != nil {
		return h.fail(c, "page", err)
	}
	h.pageOnce.Do(func() { h.page, h.pageErr = template.New("chat").Parse(pageHTML) })
	if h.pageErr != nil {
		return h.fail(c, "page", baton.Errorf(baton.EINTERNAL, "web chat page: %w", h.pageErr))
	}
	title := s.Title
	if title == "" {
		title = "Chat with us"
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'")
	// The page may have been opened with a user token in its address; no
	// request it makes passes that address on.
	c.Set("Referrer-Policy", "no-referrer")
	return h.page.Execute(c, map[string]string{"Bot": bot, "Title": title})
}

// Post stores one customer message: same ingestion path as every channel.
// A post over a limit is refused before anything is stored.
func (h *Handler) Post(c *fiber.Ctx) error {
	bot, s, err := h.site(c)
	if err != nil {
		return h.fail(c, "post", err)
	}
	if err := h.PostsPerAddress.Allow(limit.AddressKey(h.Proxies.Client(c))); err != nil {
		return h.fail(c, "post", err)
	}
	in, err := ParsePost(bot, s, c.Body(), h.now())
	if err != nil {
		return h.fail(c, "post", err)
	}
	res, err := h.ingest(c.UserContext(), in)
	if err != nil {
		return h.fail(c, "post", err)
	}
	return c.JSON(fiber.Map{"message_id": res.MessageID, "duplicate": res.Duplicate})
}

// Accept stores one message of a visitor of bot the way Post does once the
// body is decoded: the same checks, the same per-visitor limit, the same
// ingestion. It is for a caller with no HTTP request ("baton chat"); the
// per-address limit, which needs the client's address, is Post's alone.
func (h *Handler) Accept(ctx context.Context, bot string, p PostRequest) (channels.IngestResult, error) {
	s, ok := h.Sites[bot]
	if !ok {
		return channels.IngestResult{}, baton.Errorf(baton.ENOTFOUND, "web chat: no web chat for bot %q", bot)
	}
	in, err := InboundOf(bot, s, p, h.now())
	if err != nil {
		return channels.IngestResult{}, err
	}
	return h.ingest(ctx, in)
}

// ingest stores a parsed message within the per-visitor limit and wakes
// the visitor's streams.
func (h *Handler) ingest(ctx context.Context, in baton.InboundMessage) (channels.IngestResult, error) {
	if err := h.PostsPerVisitor.Allow(streamKey(in.BotID, in.From)); err != nil {
		return channels.IngestResult{}, err
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := h.Ingester.Ingest(ctx, h.Store, in)
	if err != nil {
		return res, err
	}
	h.Signal.Notify(in.BotID, in.From)
	return res, nil
}

// Event is one transcript entry as the stream sends it.
type Event struct {
	ID        int64  `json:"id"`
	Direction string `json:"direction"`
	Author    string `json:"author"`
	Text      string `json:"text"`
	Status    string `json:"status,omitempty"`
	// Buttons are the choices a bot message offers ("did this help?",
	// which article was meant); a click posts the button's id as the
	// payload and its title as the text.
	Buttons   []baton.Choice `json:"buttons,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

// Stream pushes the visitor's transcript as Server-Sent Events, starting
// after the message id in Last-Event-ID (a reconnect) or ?after=, so that a
// browser that lost its connection catches up on what it missed.
func (h *Handler) Stream(c *fiber.Ctx) error {
	bot, s, err := h.site(c)
	if err != nil {
		return h.fail(c, "stream", err)
	}
	cr := Credentials{
		VisitorID: c.Query("visitor_id"), UserToken: c.Query("user_token"),
		UserID: c.Query("user_id"), UserSignature: c.Query("user_signature"),
	}
	id, err := Resolve(s, bot, cr, h.now())
	if err != nil {
		return h.fail(c, "stream", err)
	}
	// The identity's strings are built from the query, which the next
	// request overwrites; the stream keeps its address for minutes.
	address := strings.Clone(id.Address)
	release, err := h.Streams.Acquire(streamKey(bot, address))
	if err != nil {
		return h.fail(c, "stream", err)
	}
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	if last, err := strconv.ParseInt(c.Get("Last-Event-ID"), 10, 64); err == nil && last > after {
		after = last
	}
	poll, life := h.Poll, h.StreamFor
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	if life <= 0 {
		life = 5 * time.Minute
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	// The fiber context is recycled once this handler returns, and the
	// strings it gives (params, query) alias its buffers: the writer has
	// copies of everything it needs (bot and address, above). fasthttp
	// runs the writer in a goroutine of its own at once, and it returns
	// when the stream ends or the browser goes away: that is when the
	// stream's slot is given back.
	st, log, sig := h.Store, h.logger(), h.Signal
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), life)
		defer cancel()
		fmt.Fprintf(w, "retry: 1000\n\n")
		if w.Flush() != nil {
			return
		}
		var convID int64
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			// Subscribed before reading, so that a message written while
			// the read runs still wakes the wait below.
			wake, release := sig.subscribe(bot, address)
			if convID == 0 {
				convID = findConversation(ctx, st, bot, address)
			}
			if convID != 0 {
				msgs, err := st.ListMessages(ctx, convID, after, 100)
				if err != nil {
					log.LogAttrs(ctx, slog.LevelWarn, "web chat stream: list messages", slog.String("error", err.Error()))
				}
				for _, m := range msgs {
					after = m.ID
					if m.Direction == baton.DirectionNote {
						continue
					}
					ev := Event{ID: m.ID, Direction: string(m.Direction), Author: string(m.Author), Text: m.Text, Status: string(m.Status), CreatedAt: m.CreatedAt}
					if m.Direction == baton.DirectionOut {
						if o, err := baton.OutboundOf(m); err == nil {
							ev.Buttons = o.Buttons
						}
					}
					b, _ := json.Marshal(ev)
					fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, b)
				}
			}
			// A comment line doubles as a keep-alive and as the probe that
			// tells us the browser went away.
			fmt.Fprintf(w, ": ping\n\n")
			if w.Flush() != nil {
				release()
				return
			}
			select {
			case <-ctx.Done():
				release()
				return
			case <-tick.C:
			case <-wake:
			}
			release()
		}
	})
	return nil
}

// findConversation returns the visitor's current conversation, or 0 while
// they have not written yet.
func findConversation(ctx context.Context, st baton.Store, bot, address string) int64 {
	ident, err := st.GetIdentity(ctx, bot, baton.ChannelWebChat, address)
	if err != nil {
		return 0
	}
	conv, err := st.OpenConversation(ctx, bot, ident.CustomerID, baton.ChannelWebChat)
	if err != nil {
		return 0
	}
	return conv.ID
}
