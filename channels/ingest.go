package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Watermark is a receipt that covers every outbound message sent to a
// customer before At (Messenger deliveries without mids, and reads).
type Watermark struct {
	BotID   string
	Channel baton.ChannelKind
	Address string // the customer's address on Channel
	Status  baton.DeliveryStatus
	At      time.Time
}

// Batch is everything one provider webhook carried, already parsed and
// validated: nothing is stored until the whole body parsed.
type Batch struct {
	Messages   []baton.InboundMessage
	Statuses   []baton.StatusUpdate
	Watermarks []Watermark
}

// IngestResult says what Ingest did with one inbound message.
type IngestResult struct {
	MessageID      int64
	ConversationID int64
	CustomerID     int64
	Duplicate      bool   // already stored: nothing was written
	Opened         bool   // a new conversation was opened for it
	Reopened       bool   // a resolved conversation was reopened
	Keyword        string // SMS keyword acted on (STOP, START, HELP), if any
	TurnJobID      int64  // 0 when no turn was enqueued
}

// Summary counts what Process did with a batch.
type Summary struct {
	Stored     int
	Duplicates int
	Statuses   int // status updates that moved a message forward
	Unknown    int // status updates for messages Baton did not send
}

// Ingester turns parsed provider events into stored messages and jobs.
type Ingester struct {
	Store baton.Store
	// Bots resolves a bot id from configuration; unknown bots are ENOTFOUND.
	Bots func(botID string) (baton.Bot, bool)
	// SMSHelp is the answer to the HELP keyword per bot id. Without one,
	// HELP is an ordinary message and the bot answers it.
	SMSHelp map[string]string
	Clock   baton.Clock
	Logger  *slog.Logger
	// Mask, when set, rewrites a customer's text before it is stored (card
	// numbers down to their last four digits).
	Mask func(string) string
	// Ownership decides what a message to a snoozed or resolved
	// conversation does (handoff.Ownership). Without one, a snoozed
	// conversation takes the message as it is and a resolved one is
	// followed by a new conversation.
	Ownership baton.Ownership
	// Responses hears, inside the transaction that stored it, of every
	// customer message to a queued or assigned conversation: the
	// next-response clock starts there (handoff's Desk). nil: no clock.
	Responses ResponseClock
}

// ResponseClock starts a conversation's next-response clock when its
// customer writes, at at, inside tx.
type ResponseClock interface {
	CustomerWrote(ctx context.Context, tx baton.Store, conv *baton.Conversation, at time.Time) error
}

// errDuplicate rolls back the transaction of a message that was already
// stored, so that a conversation opened for it does not survive.
var errDuplicate = errors.New("duplicate message")

// maxTxAttempts bounds retries of an ingest transaction that lost an
// optimistic-concurrency race on its conversation.
const maxTxAttempts = 4

func (g *Ingester) now() time.Time {
	if g.Clock == nil {
		return time.Now().UTC()
	}
	return g.Clock.Now()
}

func (g *Ingester) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.Default()
	}
	return g.Logger
}

// Process stores a parsed batch: each message in its own transaction (so a
// provider retry after a partial failure only adds what is missing), then
// the status updates and watermarks.
func (g *Ingester) Process(ctx context.Context, b Batch) (Summary, error) {
	var s Summary
	for i := range b.Messages {
		res, err := g.Ingest(ctx, g.Store, b.Messages[i])
		if err != nil {
			return s, err
		}
		if res.Duplicate {
			s.Duplicates++
		} else {
			s.Stored++
		}
	}
	for _, u := range b.Statuses {
		changed, known, err := ApplyStatus(ctx, g.Store, u)
		if err != nil {
			return s, err
		}
		if !known {
			s.Unknown++
		} else if changed {
			s.Statuses++
		}
	}
	for _, w := range b.Watermarks {
		n, err := ApplyWatermark(ctx, g.Store, w)
		if err != nil {
			return s, err
		}
		s.Statuses += n
	}
	return s, nil
}

func validateInbound(in *baton.InboundMessage) error {
	switch {
	case in.BotID == "":
		return baton.Errorf(baton.EINVALID, "inbound message: no bot id")
	case !in.Channel.Valid():
		return baton.Errorf(baton.EINVALID, "inbound message: unknown channel %q", in.Channel)
	case in.ProviderMessageID == "":
		return baton.Errorf(baton.EINVALID, "inbound message: no provider message id")
	case in.From == "":
		return baton.Errorf(baton.EINVALID, "inbound message %s: no sender address", in.ProviderMessageID)
	}
	return nil
}

// Ingest stores one inbound message in one transaction on st: the customer
// and their channel identity, the conversation (found, reopened or opened),
// the message (unique on channel + provider id) and the conversation's turn
// job. A message already stored is acknowledged with Duplicate set and
// nothing written.
func (g *Ingester) Ingest(ctx context.Context, st baton.Store, in baton.InboundMessage) (IngestResult, error) {
	if err := validateInbound(&in); err != nil {
		return IngestResult{}, err
	}
	if g.Mask != nil {
		in.Text = g.Mask(in.Text)
	}
	bot, ok := g.Bots(in.BotID)
	if !ok {
		return IngestResult{}, baton.Errorf(baton.ENOTFOUND, "inbound message: unknown bot %q", in.BotID)
	}
	if res, ok, err := g.appendInbound(ctx, st, &in); err != nil {
		return IngestResult{}, fmt.Errorf("ingest %s message: %w", in.Channel, err)
	} else if ok {
		return res, nil
	}
	var res IngestResult
	var err error
	for attempt := 1; ; attempt++ {
		res = IngestResult{}
		err = st.Tx(ctx, func(tx baton.Store) error { return g.ingestTx(ctx, tx, bot, &in, &res) })
		if baton.ErrorCode(err) != baton.ECONFLICT || attempt == maxTxAttempts {
			break
		}
	}
	switch {
	case errors.Is(err, errDuplicate):
		return IngestResult{MessageID: res.MessageID, ConversationID: res.ConversationID, CustomerID: res.CustomerID, Duplicate: true}, nil
	case err != nil:
		return IngestResult{}, fmt.Errorf("ingest %s message: %w", in.Channel, err)
	}
	g.logStored(ctx, &in, res)
	return res, nil
}

// appendStates are the conversation states that take a customer's message
// as they are; every other one is for conversationFor to decide (a snoozed
// one wakes, a resolved one may reopen, an archived one is replaced).
var appendStates = []baton.State{baton.StateBot, baton.StateQueued, baton.StateAssigned}

// botStates are the states that take a message as it is when a message to
// a person's conversation also starts its response clock, in the general
// path's transaction.
var botStates = []baton.State{baton.StateBot}

// appendInbound is the common case in one store call (one round trip on
// PostgreSQL): a customer writing into the conversation they are in, with
// nothing to decide. ok is false when the message needs the general path:
// a new customer or conversation, a state change, page attributes or
// signed customer attributes to merge, an identity to verify, an SMS
// keyword.
func (g *Ingester) appendInbound(ctx context.Context, st baton.Store, in *baton.InboundMessage) (IngestResult, bool, error) {
	if len(in.Attributes) > 0 || len(in.CustomerAttributes) > 0 || (in.Channel == baton.ChannelSMS && SMSKeyword(in.Text) != KeywordNone) {
		return IngestResult{}, false, nil
	}
	states := appendStates
	if g.Responses != nil {
		states = botStates
	}
	a := &baton.InboundAppend{
		Identity:    baton.ChannelIdentity{BotID: in.BotID, Channel: in.Channel, Address: in.From},
		ProfileName: in.ProfileName,
		States:      states,
		Message:     inboundToMessage(in, 0),
		InboundAt:   inboundAt(in, g.now()),
		Turn:        true,
	}
	if in.Verified {
		// A verified message may only land on a customer already verified
		// with the same id; anything else is the general path's to mark.
		a.ExternalID = in.ExternalID
		if a.ExternalID == "" {
			return IngestResult{}, false, nil
		}
	}
	r, err := st.AppendInbound(ctx, a)
	if err != nil {
		return IngestResult{}, false, err
	}
	res := IngestResult{MessageID: a.Message.ID, ConversationID: r.ConversationID, CustomerID: r.CustomerID, TurnJobID: r.TurnJobID}
	switch {
	case r.Duplicate:
		res.Duplicate, res.TurnJobID = true, 0
		return res, true, nil
	case r.Appended:
		g.logStored(ctx, in, res)
		return res, true, nil
	}
	return IngestResult{}, false, nil
}

func (g *Ingester) logStored(ctx context.Context, in *baton.InboundMessage, res IngestResult) {
	g.logger().LogAttrs(ctx, slog.LevelDebug, "inbound message stored",
		slog.String("bot", in.BotID), slog.String("channel", string(in.Channel)),
		slog.Int64("conversation", res.ConversationID), slog.Int64("message", res.MessageID),
		slog.Bool("opened", res.Opened), slog.Bool("reopened", res.Reopened))
}

// inboundAt is when the customer wrote: the provider's messaging window runs
// from then, not from when the webhook reached us.
func inboundAt(in *baton.InboundMessage, now time.Time) time.Time {
	if !in.Timestamp.IsZero() && in.Timestamp.Before(now) {
		return in.Timestamp.UTC()
	}
	return now
}

func (g *Ingester) ingestTx(ctx context.Context, tx baton.Store, bot baton.Bot, in *baton.InboundMessage, res *IngestResult) error {
	now := g.now()
	cust, err := tx.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{
		BotID: in.BotID, Channel: in.Channel, Address: in.From, CreatedAt: now,
	}, in.ProfileName)
	if err != nil {
		return fmt.Errorf("upsert customer: %w", err)
	}
	res.CustomerID = cust.ID
	if in.Verified && in.ExternalID != "" && (!cust.Verified || cust.ExternalID != in.ExternalID || !hasAttrs(cust.Attributes, in.CustomerAttributes)) {
		// Only a channel that checked the host app's signature sets
		// Verified; the identity's address is derived from the same id, so
		// this never merges an anonymous visitor into a verified customer.
		// The attributes it signed with the id are the customer's, merged
		// key by key (the host app sends "vip": "false" to take one back).
		cust.Verified, cust.ExternalID = true, in.ExternalID
		for k, v := range in.CustomerAttributes {
			if cust.Attributes == nil {
				cust.Attributes = map[string]string{}
			}
			cust.Attributes[k] = v
		}
		if err := tx.UpdateCustomer(ctx, cust); err != nil {
			return fmt.Errorf("mark customer verified: %w", err)
		}
	}
	msg := inboundToMessage(in, 0)
	conv, err := g.conversationFor(ctx, tx, bot, cust.ID, in, msg, now, res)
	if err != nil {
		return err
	}
	res.ConversationID = conv.ID

	msg.ConversationID = conv.ID
	created, err := tx.InsertMessage(ctx, msg)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	res.MessageID = msg.ID
	if !created {
		return errDuplicate
	}

	at := inboundAt(in, now)
	dirty := false
	if conv.LastInboundAt == nil || conv.LastInboundAt.Before(at) {
		conv.LastInboundAt = &at
		dirty = true
	}
	if len(in.Attributes) > 0 {
		if conv.Attributes == nil {
			conv.Attributes = map[string]string{}
		}
		for k, v := range in.Attributes {
			if conv.Attributes[k] != v {
				conv.Attributes[k] = v
				dirty = true
			}
		}
	}
	if dirty {
		if err := tx.UpdateConversation(ctx, conv); err != nil {
			return fmt.Errorf("update conversation %d: %w", conv.ID, err)
		}
	}
	if g.Responses != nil {
		if err := g.Responses.CustomerWrote(ctx, tx, conv, at); err != nil {
			return fmt.Errorf("conversation %d: %w", conv.ID, err)
		}
	}

	turn := true
	if in.Channel == baton.ChannelSMS {
		switch kw := SMSKeyword(in.Text); kw {
		case KeywordStop, KeywordStart:
			if kw == KeywordStart && strings.EqualFold(strings.TrimSpace(in.Text), "yes") {
				// YES opts back in whoever opted out; from anyone else it
				// is an answer ("Did this help?"), for the bot.
				ident, err := tx.GetIdentity(ctx, in.BotID, in.Channel, in.From)
				if err != nil {
					return fmt.Errorf("read SMS opt-out: %w", err)
				}
				if !ident.OptedOut {
					break
				}
			}
			res.Keyword = string(kw)
			if err := tx.SetOptOut(ctx, in.BotID, in.Channel, in.From, kw == KeywordStop, now); err != nil {
				return fmt.Errorf("record SMS %s: %w", kw, err)
			}
			// The carrier and Twilio confirm STOP/START themselves; a bot
			// answer would be one message too many (and, after STOP, a
			// violation).
			turn = false
		case KeywordHelp:
			if help := g.SMSHelp[in.BotID]; help != "" {
				res.Keyword = string(kw)
				if err := baton.EnqueueReply(ctx, tx, conv, &baton.Message{Author: baton.AuthorSystem, Type: baton.TypeText, Text: help}); err != nil {
					return fmt.Errorf("answer SMS HELP: %w", err)
				}
				turn = false
			}
		}
	}
	if turn {
		job := baton.TurnJob(conv.ID, msg.ID, now)
		if _, err := tx.Enqueue(ctx, job); err != nil {
			return fmt.Errorf("enqueue turn: %w", err)
		}
		res.TurnJobID = job.ID
	}
	return nil
}

// conversationFor finds the conversation an inbound message belongs to: an
// open one (bot, queued, assigned) continues; for a snoozed or resolved one
// the Ownership policy decides (wake, reopen, or a new conversation); an
// archived one, or none, means a new conversation with the bot. A new
// conversation that follows a resolved one is linked to it, both ways, in
// their event logs.
func (g *Ingester) conversationFor(ctx context.Context, tx baton.Store, bot baton.Bot, customerID int64, in *baton.InboundMessage, msg *baton.Message, now time.Time, res *IngestResult) (*baton.Conversation, error) {
	latest, err := tx.OpenConversation(ctx, in.BotID, customerID, in.Channel)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		latest = nil
	case err != nil:
		return nil, fmt.Errorf("find conversation: %w", err)
	}
	if latest != nil {
		switch latest.State {
		case baton.StateBot, baton.StateQueued, baton.StateAssigned:
			return latest, nil
		case baton.StateSnoozed, baton.StateResolved:
			if g.Ownership != nil {
				c, reopened, err := g.Ownership.Resume(ctx, tx, bot, latest, msg, now)
				if err != nil {
					return nil, err
				}
				if c != nil {
					res.Reopened = reopened
					return c, nil
				}
			} else if latest.State == baton.StateSnoozed {
				// Without a policy the message waits with its agent.
				return latest, nil
			}
		}
	}
	c := &baton.Conversation{
		BotID:      in.BotID,
		CustomerID: customerID,
		Channel:    in.Channel,
		Address:    in.From,
		State:      baton.StateBot,
		Attributes: copyAttrs(in.Attributes),
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if len(bot.Languages) > 0 {
		c.Language = bot.Languages[0]
	}
	if err := tx.CreateConversation(ctx, c); err != nil {
		return nil, fmt.Errorf("open conversation: %w", err)
	}
	res.Opened = true
	if latest != nil && latest.State == baton.StateResolved {
		for _, e := range []*baton.Event{
			{ConversationID: c.ID, Type: EventFollows, Actor: "customer", Reason: "the customer wrote after the reopen window",
				Data: map[string]any{"conversation": latest.ID}, At: now},
			{ConversationID: latest.ID, Type: EventContinued, Actor: "customer", Reason: "the customer wrote after the reopen window",
				Data: map[string]any{"conversation": c.ID}, At: now},
		} {
			if err := tx.AppendEvent(ctx, e); err != nil {
				return nil, fmt.Errorf("link conversation %d to %d: %w", c.ID, latest.ID, err)
			}
		}
	}
	return c, nil
}

// Events that link a new conversation to the resolved one it follows.
const (
	EventFollows   = "follows"   // on the new conversation: Data["conversation"] is the old one
	EventContinued = "continued" // on the old conversation: Data["conversation"] is the new one
)

// hasAttrs reports whether have already holds every key of want with the
// same value.
func hasAttrs(have, want map[string]string) bool {
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			return false
		}
	}
	return true
}

func copyAttrs(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// inboundMeta is what an inbound message keeps beyond the Message fields.
type inboundMeta struct {
	RawType   string `json:"raw_type,omitempty"`
	Timestamp string `json:"provider_timestamp,omitempty"`
}

func inboundToMessage(in *baton.InboundMessage, convID int64) *baton.Message {
	typ := in.Type
	if typ == "" {
		typ = baton.TypeText
	}
	meta := inboundMeta{RawType: in.RawType}
	if !in.Timestamp.IsZero() {
		meta.Timestamp = in.Timestamp.UTC().Format(time.RFC3339)
	}
	raw, _ := json.Marshal(meta)
	return &baton.Message{
		ConversationID: convID,
		BotID:          in.BotID,
		Channel:        in.Channel,
		ProviderID:     in.ProviderMessageID,
		Direction:      baton.DirectionIn,
		Author:         baton.AuthorCustomer,
		Type:           typ,
		Text:           in.Text,
		Payload:        in.Payload,
		ReplyTo:        in.ReplyTo,
		Attachments:    in.Attachments,
		Status:         baton.StatusReceived,
		Metadata:       raw,
	}
}

// ApplyStatus applies a provider's status report forward only. known is
// false when the provider id is not one of ours (a message sent from the
// provider's own console, or one we never recorded), which is not an error.
func ApplyStatus(ctx context.Context, st baton.Store, u baton.StatusUpdate) (changed, known bool, err error) {
	changed, err = st.UpdateMessageStatus(ctx, u)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return false, false, nil
	case err != nil:
		return false, true, fmt.Errorf("apply %s status %s: %w", u.Channel, u.Status, err)
	}
	return changed, true, nil
}

// ApplyWatermark moves every outbound message of the customer's current
// conversation that was sent before w.At to w.Status (forward only) and
// returns how many moved.
func ApplyWatermark(ctx context.Context, st baton.Store, w Watermark) (int, error) {
	id, err := st.GetIdentity(ctx, w.BotID, w.Channel, w.Address)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("watermark: find identity: %w", err)
	}
	conv, err := st.OpenConversation(ctx, w.BotID, id.CustomerID, w.Channel)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("watermark: find conversation: %w", err)
	}
	msgs, err := st.ListMessages(ctx, conv.ID, 0, 0)
	if err != nil {
		return 0, fmt.Errorf("watermark: list messages: %w", err)
	}
	n := 0
	for _, m := range msgs {
		// Only messages the provider accepted (they have its id) can have
		// been delivered; the watermark is the provider's clock, ours is
		// close enough for "sent before".
		if m.Direction != baton.DirectionOut || m.ProviderID == "" || m.CreatedAt.After(w.At) ||
			m.Status.Rank() >= w.Status.Rank() {
			continue
		}
		changed, err := st.SetMessageStatus(ctx, m.ID, w.Status, "", "", w.At)
		if err != nil {
			return n, fmt.Errorf("watermark: message %d: %w", m.ID, err)
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// Keyword is a carrier-level SMS keyword.
type Keyword string

const (
	KeywordNone  Keyword = ""
	KeywordStop  Keyword = "STOP"
	KeywordStart Keyword = "START"
	KeywordHelp  Keyword = "HELP"
)

// SMSKeyword recognises the standard opt-out, opt-in and help keywords that
// Twilio and US carriers honour: the whole message, case and surrounding
// space ignored.
func SMSKeyword(text string) Keyword {
	switch strings.ToUpper(strings.TrimSpace(text)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return KeywordStop
	case "START", "YES", "UNSTOP":
		return KeywordStart
	case "HELP", "INFO":
		return KeywordHelp
	}
	return KeywordNone
}
