package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// The agent API's live feed: GET /api/v1/stream pushes, as Server-Sent
// Events, what changes in the conversations the caller may see (those
// waiting in a queue of their bot, and their own), so that a console
// updates without reloading. Like the web chat's stream it polls the
// store, which keeps any number of replicas consistent.
//
// A browser's EventSource cannot send an Authorization header. Rather than
// a token in the query (which ends up in access logs, proxies and the
// browser's history), the console trades its bearer token, once, for a
// cookie: POST /api/v1/session sets it HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), Secure over HTTPS and
// scoped to the stream's path alone, so it authenticates that one read-only
// route and nothing else. DELETE /api/v1/session clears it.

const (
	// streamCookie holds an agent token for the stream's path only.
	streamCookie = "baton_agent_stream"
	streamPath   = "/api/v1/stream"
	// maxSessionCookie bounds the cookie's life even for a token that
	// never expires: a console signs in again with the token it keeps.
	maxSessionCookie = 12 * time.Hour
	// maxStreamConversations bounds the conversations one poll reads.
	maxStreamConversations = 200
	// streamBatch bounds the messages read per conversation and poll.
	streamBatch = 100
)

// streamCursor is where a stream resumes: after a message id and after an
// event id. Its text form, the SSE id, is "<message id>.<event id>"; a bare
// "<message id>" resumes messages only and pushes no event older than the
// stream.
type streamCursor struct {
	message, event int64
}

func (c streamCursor) String() string {
	return strconv.FormatInt(c.message, 10) + "." + strconv.FormatInt(c.event, 10)
}

// parseCursor reads an after= or Last-Event-ID value. ok is false when v
// is empty.
func parseCursor(field, v string) (streamCursor, bool, error) {
	var c streamCursor
	if v == "" {
		return c, false, nil
	}
	bad := baton.Errorf(baton.EINVALID, "%s: want a message id, or \"<message id>.<event id>\" as the stream's ids are", field)
	msg, ev, dotted := strings.Cut(v, ".")
	n, err := strconv.ParseInt(msg, 10, 64)
	if err != nil || n < 0 {
		return c, false, bad
	}
	c.message = n
	if dotted {
		if c.event, err = strconv.ParseInt(ev, 10, 64); err != nil || c.event < 0 {
			return c, false, bad
		}
	}
	return c, true, nil
}

// streamCookieAuth lets the stream's cookie stand for the Authorization
// header on the stream's route, when no header is sent: authenticate then
// checks it as any bearer token, with the same failure budget.
func (s *server) streamCookieAuth(c *fiber.Ctx) error {
	if c.Get(fiber.HeaderAuthorization) == "" {
		if tok := c.Cookies(streamCookie); tok != "" {
			c.Request().Header.Set(fiber.HeaderAuthorization, "Bearer "+tok)
		}
	}
	return c.Next()
}

// startSession: POST /api/v1/session sets the stream cookie from the
// request's agent token. The admin token is never put in a cookie.
func (s *server) startSession(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	if p.token == nil {
		return baton.Errorf(baton.EFORBIDDEN, "session: an agent token signs in to the stream; the admin token is never kept in a cookie")
	}
	if err := decodeAgentBody(c, &struct{}{}, true); err != nil {
		return err
	}
	secret, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	now := s.cfg.Clock.Now()
	expires := now.Add(maxSessionCookie)
	if p.token.ExpiresAt != nil && p.token.ExpiresAt.Before(expires) {
		expires = *p.token.ExpiresAt
	}
	// Max-Age alone: it counts from the browser's receipt, so the server's
	// and the browser's clocks need not agree.
	c.Cookie(&fiber.Cookie{
		Name: streamCookie, Value: strings.Clone(secret), Path: streamPath,
		MaxAge:   max(1, int(expires.Sub(now).Seconds())),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: s.secure(c),
	})
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"stream": streamPath, "expires_at": expires.UTC()})
}

// endSession: DELETE /api/v1/session clears the stream cookie. It needs no
// token: signing out must work with a revoked one.
func (s *server) endSession(c *fiber.Ctx) error {
	c.Cookie(&fiber.Cookie{Name: streamCookie, Value: "", Path: streamPath, MaxAge: -1,
		Expires: time.Unix(0, 0), HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: s.secure(c)})
	return c.SendStatus(fiber.StatusNoContent)
}

// secure says whether the cookie is for HTTPS only: when the request came
// over TLS or the public URL is https.
func (s *server) secure(c *fiber.Ctx) bool {
	return c.Context().IsTLS() || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

// streamConversationJSON is a conversation as the stream lists it.
type streamConversationJSON = agentConversationJSON

// streamMessageJSON and streamEventJSON name their conversation.
type streamMessageJSON struct {
	ConversationID int64 `json:"conversation_id"`
	messageJSON
}

type streamEventJSON struct {
	ConversationID int64 `json:"conversation_id"`
	eventJSON
}

// stream: GET /api/v1/stream[?after=<message id>[.<event id>]], Server-Sent
// Events:
//
//	event: conversations  data: {"conversations": [...]}: the conversations
//	  the caller may see, sent first and again whenever one changes
//	event: message  data: a message (internal notes included) with its
//	  conversation_id
//	event: event    data: an event with its conversation_id
//
// Each message and event has the SSE id to resume after (Last-Event-ID or
// after=). An agent sees what the desk lets them view: the conversations
// waiting in their bot's queues and their own; the admin token sees every
// open conversation, or an agent's view with X-Baton-Agent / ?as=.
func (s *server) stream(c *fiber.Ctx) error {
	p, err := s.principalOf(c)
	if err != nil {
		return err
	}
	cur, ok, err := parseCursor("query parameter after", c.Query("after"))
	if err != nil {
		return err
	}
	last, lastOK, err := parseCursor("Last-Event-ID", c.Get("Last-Event-ID"))
	if err != nil {
		return err
	}
	if lastOK {
		// A reconnect resumes where the browser got to.
		cur, ok = last, true
	}
	key, bot := "admin", ""
	var agentID string
	if p.agent != nil {
		agentID = p.agent.ID
		key = "agent:" + agentID
	}
	if bot, err = p.scopeBot("", "stream"); err != nil {
		return err
	}
	release, err := s.cfg.Streams.Acquire(key)
	if err != nil {
		return err
	}
	poll, life := s.cfg.StreamPoll, s.cfg.StreamFor
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	// Everything the writer uses is copied out of the request above (the
	// agent's id and bot come from the store, not from fiber's buffers);
	// the writer runs after the handler returns and the context is reused.
	feed := &agentFeed{st: s.cfg.Store, log: s.log, bot: strings.Clone(bot), agent: agentID, admin: p.actor.Admin && agentID == ""}
	if p.token != nil {
		secret, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		feed.token = baton.HashToken(secret)
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), life)
		defer cancel()
		if !ok {
			// A fresh stream starts from now: the console read the
			// conversation views it shows before opening it.
			cur = feed.head(ctx)
		}
		fmt.Fprintf(w, "retry: 2000\n\n")
		if w.Flush() != nil {
			return
		}
		tick := time.NewTicker(poll)
		defer tick.Stop()
		var sent []byte
		for {
			if !feed.valid(ctx) {
				// Revoked or expired meanwhile: the stream ends, and the
				// browser's reconnect is refused.
				return
			}
			if err := feed.poll(ctx, w, &cur, &sent); err != nil {
				feed.log.LogAttrs(ctx, slog.LevelWarn, "agent stream: poll", slog.String("agent", agentID), slog.String("error", err.Error()))
			}
			fmt.Fprintf(w, ": ping\n\n")
			if w.Flush() != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return nil
}

// agentFeed reads what one stream pushes.
type agentFeed struct {
	st    Store
	log   *slog.Logger
	bot   string // "" for every bot
	agent string // "" for the admin acting as the operator
	admin bool   // the operator: every open conversation
	// token is the digest of the agent token the stream was opened with,
	// checked again on every poll; nil for the admin token.
	token []byte
}

// valid says whether the stream's agent token still works. A store that
// cannot answer keeps the stream going: the next poll asks again.
func (f *agentFeed) valid(ctx context.Context) bool {
	if f.token == nil {
		return true
	}
	_, _, err := f.st.AgentByToken(ctx, f.token)
	return baton.ErrorCode(err) != baton.EUNAUTHORIZED
}

// visible lists the conversations the stream's caller may see, by id.
func (f *agentFeed) visible(ctx context.Context) ([]*baton.Conversation, error) {
	if f.admin {
		return f.st.ListConversations(ctx, baton.ConversationFilter{BotID: f.bot, Limit: maxStreamConversations,
			States: []baton.State{baton.StateQueued, baton.StateAssigned, baton.StateSnoozed}})
	}
	queued, err := f.st.ListConversations(ctx, baton.ConversationFilter{BotID: f.bot, Limit: maxStreamConversations,
		States: []baton.State{baton.StateQueued}})
	if err != nil {
		return nil, err
	}
	mine, err := f.st.ListConversations(ctx, baton.ConversationFilter{BotID: f.bot, AgentID: f.agent, Limit: maxStreamConversations,
		States: []baton.State{baton.StateAssigned, baton.StateSnoozed}})
	if err != nil {
		return nil, err
	}
	all := append(queued, mine...)
	sort.Slice(all, func(i, k int) bool { return all[i].ID < all[k].ID })
	return all, nil
}

// head is the cursor at the newest message and event of the visible
// conversations: a stream without after= pushes only what comes next.
func (f *agentFeed) head(ctx context.Context) streamCursor {
	var cur streamCursor
	convs, err := f.visible(ctx)
	if err != nil {
		return cur
	}
	for _, cv := range convs {
		for after := int64(0); ; {
			msgs, err := f.st.ListMessages(ctx, cv.ID, after, maxListLimit)
			if err != nil || len(msgs) == 0 {
				break
			}
			after = msgs[len(msgs)-1].ID
			cur.message = max(cur.message, after)
		}
		if evs, err := f.st.ListEvents(ctx, cv.ID); err == nil {
			for _, e := range evs {
				cur.event = max(cur.event, e.ID)
			}
		}
	}
	return cur
}

// poll writes what changed since cur: the conversation list when it is not
// what was sent last, then new messages and events in id order, and moves
// cur past them.
func (f *agentFeed) poll(ctx context.Context, w *bufio.Writer, cur *streamCursor, sent *[]byte) error {
	convs, err := f.visible(ctx)
	if err != nil {
		return err
	}
	list := make([]streamConversationJSON, 0, len(convs))
	for _, cv := range convs {
		list = append(list, toAgentConversationJSON(cv))
	}
	b, err := json.Marshal(fiber.Map{"conversations": list})
	if err != nil {
		return err
	}
	if !bytes.Equal(b, *sent) {
		// With the cursor as its id, so that a reconnect resumes from
		// here even when no message or event came yet.
		fmt.Fprintf(w, "id: %s\nevent: conversations\ndata: %s\n\n", cur, b)
		*sent = b
	}
	var (
		msgs []streamMessageJSON
		evs  []streamEventJSON
	)
	for _, cv := range convs {
		ms, err := f.st.ListMessages(ctx, cv.ID, cur.message, streamBatch)
		if err != nil {
			return err
		}
		for _, m := range ms {
			msgs = append(msgs, streamMessageJSON{ConversationID: cv.ID, messageJSON: toMessageJSON(m)})
		}
		es, err := f.st.ListEvents(ctx, cv.ID)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.ID > cur.event {
				evs = append(evs, streamEventJSON{ConversationID: cv.ID, eventJSON: toEventJSON(e)})
			}
		}
	}
	sort.Slice(msgs, func(i, k int) bool { return msgs[i].ID < msgs[k].ID })
	sort.Slice(evs, func(i, k int) bool { return evs[i].ID < evs[k].ID })
	for _, m := range msgs {
		cur.message = m.ID
		b, _ := json.Marshal(m)
		fmt.Fprintf(w, "id: %s\nevent: message\ndata: %s\n\n", cur, b)
	}
	for _, e := range evs {
		cur.event = e.ID
		b, _ := json.Marshal(e)
		fmt.Fprintf(w, "id: %s\nevent: event\ndata: %s\n\n", cur, b)
	}
	return nil
}
