package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Turns is the baton.JobHandler of turn jobs. It loads the conversation and
// its recent transcript, lets the conversation's bot decide (or, when a
// person owns the conversation, tells the agent side and the waiting
// customer), and stores the decision, the replies, the move and the packet
// in one transaction.
//
// It is idempotent: a turn whose message was decided already, or that a
// later message's turn will answer, does nothing; so a retried or
// duplicated job never answers twice, and a burst of messages gets one
// answer.
type Turns struct {
	Store  baton.Store
	Brains map[string]*Brain // by bot id
	// Notifier tells the agent side about escalations and about messages
	// of conversations a person owns; nil tells nobody.
	Notifier baton.Notifier
	// Budget, when set, is the cost guard on bot turns per conversation.
	Budget TurnBudget
	Clock  baton.Clock
	Logger *slog.Logger
	// ReturnWindow: a customer who comes back about the same thing this
	// soon after the bot resolved their conversation turns that resolution
	// into a failure (default 72h).
	ReturnWindow time.Duration
	// Queue hears of an escalation inside the transaction that queues the
	// conversation, so that its SLA timer and routing are armed with it
	// (handoff's Desk). nil: the conversation just waits.
	Queue Queue
	// Surveys, when set, is asked inside the transaction in which the bot
	// resolves a conversation (the customer said it helped, or did not
	// answer): the bot's policy decides whether the customer is surveyed.
	Surveys BotSurveys
	// Escalated, when set, counts an escalation once it committed, by queue
	// and the triggers that fired.
	Escalated func(queue string, triggers []string)
}

// Queue is the human queue's side of an escalation.
type Queue interface {
	Queued(ctx context.Context, tx baton.Store, conv *baton.Conversation) error
}

// BotSurveys asks the customer of a conversation the bot resolved how it
// went (handoff's Surveys).
type BotSurveys interface {
	AskBotResolved(ctx context.Context, tx baton.Store, conv *baton.Conversation) error
}

// TurnBudget spends one bot turn of a conversation's budget and returns 0,
// or returns how long until the conversation may have one (and spends
// nothing). It is asked only for turns that would answer, not for the turns
// of a burst that a later turn answers.
type TurnBudget func(conversationID int64) (wait time.Duration)

// recentMessages is how much of the transcript a turn reads.
const recentMessages = 60

// maxTxAttempts bounds the retries of a turn's transaction that lost a race
// with the ingestion of the conversation's next message.
const maxTxAttempts = 4

func (h *Turns) now() time.Time {
	if h.Clock == nil {
		return time.Now().UTC()
	}
	return h.Clock.Now()
}

func (h *Turns) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// FollowUpPayload is the payload of a follow-up job: the decision that
// asked "did this help?".
type FollowUpPayload struct {
	DecisionID int64 `json:"decision_id"`
}

// HandleJob implements baton.JobHandler for turn jobs.
func (h *Turns) HandleJob(ctx context.Context, j *baton.Job) error {
	start := time.Now()
	var p baton.TurnPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.MessageID == 0 {
		return baton.Errorf(baton.EINVALID, "turn job %d: payload has no message id", j.ID)
	}
	m, err := h.Store.GetMessage(ctx, p.MessageID)
	if err != nil {
		return fmt.Errorf("turn job %d: %w", j.ID, err)
	}
	conv, err := h.Store.GetConversation(ctx, m.ConversationID)
	if err != nil {
		return fmt.Errorf("turn job %d: %w", j.ID, err)
	}
	brain := h.Brains[conv.BotID]
	if brain == nil {
		return baton.Errorf(baton.EINVALID, "turn job %d: no bot %q is configured", j.ID, conv.BotID)
	}
	recent, err := h.Store.ListRecentMessages(ctx, conv.ID, recentMessages)
	if err != nil {
		return fmt.Errorf("turn job %d: %w", j.ID, err)
	}
	if laterCustomerMessage(recent, m.ID) {
		return nil // the later message's turn answers both
	}
	last, err := h.lastDecision(ctx, h.Store, conv.ID)
	if err != nil {
		return fmt.Errorf("turn job %d: %w", j.ID, err)
	}
	if last != nil && last.MessageID >= m.ID {
		return nil // decided already: a re-run
	}
	mem, err := MemoryOf(last)
	if err != nil {
		return err
	}
	burst, previous := customerTexts(recent, last, m.ID)
	if len(burst) == 0 {
		return nil // reactions and the like ask for nothing
	}
	switch conv.State {
	case baton.StateBot:
	case baton.StateQueued, baton.StateAssigned, baton.StateSnoozed:
		return h.personOwns(ctx, brain, conv, m, mem, start)
	default:
		return nil // resolved or archived: ingestion decides what a new message opens
	}
	if h.Budget != nil {
		if wait := h.Budget(conv.ID); wait > 0 {
			return &baton.RetryLater{After: wait, Err: baton.Errorf(baton.ERATELIMITED, "conversation %d: bot turns over budget", conv.ID)}
		}
	}
	var cust *baton.Customer
	if c, err := h.Store.GetCustomer(ctx, conv.CustomerID); err == nil {
		cust = c
	} else if baton.ErrorCode(err) != baton.ENOTFOUND {
		return fmt.Errorf("turn job %d: %w", j.ID, err)
	}
	turn := Turn{Conversation: conv, Customer: cust, Text: joinTexts(burst), Payload: lastPayload(recent, m.ID), Previous: previous, Memory: mem, Now: h.now()}
	out, err := brain.Decide(ctx, turn)
	if err != nil {
		return fmt.Errorf("turn job %d: %w", j.ID, err)
	}
	if last == nil {
		h.noteReturn(ctx, brain, conv, out)
	}
	d := &baton.Decision{ConversationID: conv.ID, MessageID: m.ID, Action: out.Action, Detail: out.Detail,
		Citations: out.Citations, Triggers: out.Triggers, State: out.Memory.encode()}
	if an := out.Analysis; an != nil {
		d.Analysis = &baton.DecisionAnalysis{Language: an.Language, Intent: an.Intent, IntentConfidence: an.IntentConfidence,
			OutOfScope: an.OutOfScope, Sentiment: an.Sentiment, SentimentTrend: out.Trend, WantsHuman: an.WantsHuman}
	}
	committed, err := h.commit(ctx, brain, conv.ID, m.ID, d, out, start)
	if err != nil || !committed {
		return err
	}
	if out.Packet != nil && h.Escalated != nil {
		h.Escalated(out.Packet.QueueID, triggerNames(out.Packet.Reasons))
	}
	if out.Packet != nil && h.Notifier != nil {
		n := baton.Notification{Kind: "escalated", ConversationID: conv.ID, QueueID: out.Packet.QueueID, Packet: out.Packet}
		if err := h.Notifier.Notify(ctx, n); err != nil {
			h.logger().LogAttrs(ctx, slog.LevelWarn, "could not notify the agent side of an escalation",
				slog.Int64("conversation", conv.ID), slog.String("error", baton.ErrorMessage(err)))
		}
	}
	return nil
}

// commit stores a bot turn's outcome: it re-checks, inside the
// transaction, that the conversation is still the bot's and that no newer
// customer message arrived (its own turn answers then). committed is false
// when the turn was superseded.
func (h *Turns) commit(ctx context.Context, brain *Brain, convID, msgID int64, d *baton.Decision, out Outcome, start time.Time) (committed bool, err error) {
	for attempt := 1; ; attempt++ {
		committed = false
		err = h.Store.Tx(ctx, func(tx baton.Store) error {
			conv, err := tx.GetConversation(ctx, convID)
			if err != nil {
				return err
			}
			if conv.State != baton.StateBot {
				return nil
			}
			later, err := tx.ListMessages(ctx, convID, msgID, 0)
			if err != nil {
				return err
			}
			for _, l := range later {
				if l.Direction == baton.DirectionIn && l.Author == baton.AuthorCustomer {
					return nil
				}
			}
			if an := out.Analysis; an != nil && an.Language != "" && an.Language != conv.Language {
				conv.Language = an.Language
				if err := tx.UpdateConversation(ctx, conv); err != nil {
					return fmt.Errorf("settle the language: %w", err)
				}
			}
			d.Took = time.Since(start)
			if err := tx.InsertDecision(ctx, d); err != nil {
				return fmt.Errorf("record the decision: %w", err)
			}
			for _, r := range out.Replies {
				if err := baton.EnqueueReply(ctx, tx, conv, r); err != nil {
					return err
				}
			}
			if out.Packet != nil {
				out.Packet.CreatedAt = h.now()
				if err := tx.SavePacket(ctx, out.Packet); err != nil {
					return fmt.Errorf("save the packet: %w", err)
				}
			}
			if out.Transition != nil {
				moved, _, err := tx.TransitionConversation(ctx, convID, *out.Transition)
				if err != nil {
					return fmt.Errorf("move the conversation: %w", err)
				}
				if moved.State == baton.StateQueued && h.Queue != nil {
					if err := h.Queue.Queued(ctx, tx, moved); err != nil {
						return fmt.Errorf("queue the conversation: %w", err)
					}
				}
				if moved.State == baton.StateResolved && h.Surveys != nil {
					if err := h.Surveys.AskBotResolved(ctx, tx, moved); err != nil {
						return fmt.Errorf("survey the resolution: %w", err)
					}
				}
			}
			if wait := brain.followUp(); out.AskedHelp && wait > 0 {
				if err := h.scheduleFollowUp(ctx, tx, convID, d.ID, wait); err != nil {
					return err
				}
			}
			committed = true
			return nil
		})
		if baton.ErrorCode(err) != baton.ECONFLICT || attempt == maxTxAttempts {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("turn on conversation %d: %w", convID, err)
	}
	return committed, nil
}

func (h *Turns) scheduleFollowUp(ctx context.Context, tx baton.Store, convID, decisionID int64, wait time.Duration) error {
	payload, _ := json.Marshal(FollowUpPayload{DecisionID: decisionID})
	job := &baton.Job{Kind: baton.JobFollowUp, ConversationID: convID, Key: "followup:" + strconv.FormatInt(decisionID, 10),
		Payload: payload, RunAt: h.now().Add(wait)}
	if _, err := tx.Enqueue(ctx, job); err != nil {
		return fmt.Errorf("schedule the follow-up: %w", err)
	}
	return nil
}

// personOwns handles a customer's message in a conversation a person owns:
// the agent side hears of it, and a queued customer is told, at most once
// per WaitNotice, that a person will answer.
func (h *Turns) personOwns(ctx context.Context, brain *Brain, conv *baton.Conversation, m *baton.Message, mem Memory, start time.Time) error {
	now := h.now()
	every := brain.WaitNotice
	if every <= 0 {
		every = defaultWaitNotice
	}
	notice := conv.State == baton.StateQueued && (mem.WaitNoticeAt == nil || now.Sub(*mem.WaitNoticeAt) >= every)
	d := &baton.Decision{ConversationID: conv.ID, MessageID: m.ID, Action: baton.ActionNone, Detail: "a person owns the conversation (" + string(conv.State) + ")"}
	if notice {
		mem.WaitNoticeAt = &now
		d.Action, d.Detail = baton.ActionWait, "told the customer a person will answer"
	}
	d.State = mem.encode()
	err := h.Store.Tx(ctx, func(tx baton.Store) error {
		cur, err := tx.GetConversation(ctx, conv.ID)
		if err != nil {
			return err
		}
		if cur.State != conv.State {
			return nil // it moved meanwhile; the next message is judged afresh
		}
		d.Took = time.Since(start)
		if err := tx.InsertDecision(ctx, d); err != nil {
			return err
		}
		if notice {
			lang := cur.Language
			if lang == "" {
				lang = brain.defaultLanguage()
			}
			msg := brain.text(lang, TextStillWaiting)
			msg.Author = baton.AuthorSystem
			return baton.EnqueueReply(ctx, tx, cur, msg)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("turn on conversation %d: %w", conv.ID, err)
	}
	if h.Notifier != nil {
		n := baton.Notification{Kind: "message", ConversationID: conv.ID, QueueID: conv.QueueID, AgentID: conv.AgentID, Text: m.Text}
		if err := h.Notifier.Notify(ctx, n); err != nil {
			h.logger().LogAttrs(ctx, slog.LevelWarn, "could not notify the agent side of a message",
				slog.Int64("conversation", conv.ID), slog.String("error", baton.ErrorMessage(err)))
		}
	}
	return nil
}

// noteReturn counts a bot resolution as a failure when the same customer
// comes back about the same thing within the return window: a new
// conversation whose first message has the intent the resolved one asked
// "did this help?" about.
func (h *Turns) noteReturn(ctx context.Context, brain *Brain, conv *baton.Conversation, out Outcome) {
	if out.Analysis == nil || out.Analysis.Intent == "" || out.Analysis.OutOfScope {
		return
	}
	window := h.ReturnWindow
	if window <= 0 {
		window = 72 * time.Hour
	}
	olds, err := h.Store.ListConversations(ctx, baton.ConversationFilter{BotID: conv.BotID, CustomerID: conv.CustomerID, States: []baton.State{baton.StateResolved}})
	if err != nil {
		return
	}
	now := h.now()
	for _, old := range olds {
		if old.ID == conv.ID || old.ResolvedAt == nil || now.Sub(*old.ResolvedAt) > window {
			continue
		}
		resolution, err := h.resolution(ctx, old.ID)
		if err != nil || (resolution != ResolvedByBot && resolution != ResolvedAssumed) {
			continue
		}
		ds, err := h.Store.ListDecisions(ctx, old.ID, 10)
		if err != nil {
			continue
		}
		same := false
		for _, d := range ds {
			if d.Analysis != nil && d.Analysis.Intent == out.Analysis.Intent {
				same = true
			}
		}
		if !same {
			continue
		}
		ev := &baton.Event{ConversationID: old.ID, Type: ResolutionFailed, Actor: "bot",
			Reason: "the customer came back about the same thing in conversation " + strconv.FormatInt(conv.ID, 10),
			Data:   map[string]any{"resolution": resolution, "returned_in": conv.ID, "intent": out.Analysis.Intent}}
		if err := h.Store.AppendEvent(ctx, ev); err != nil {
			h.logger().LogAttrs(ctx, slog.LevelWarn, "could not record a failed bot resolution",
				slog.Int64("conversation", old.ID), slog.String("error", baton.ErrorMessage(err)))
		}
	}
}

// resolution is how a resolved conversation was last resolved: the
// "resolution" of its last move to resolved, "" when a person resolved it.
func (h *Turns) resolution(ctx context.Context, convID int64) (string, error) {
	evs, err := h.Store.ListEvents(ctx, convID)
	if err != nil {
		return "", err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Type == "transition" && e.To == baton.StateResolved {
			r, _ := e.Data["resolution"].(string)
			return r, nil
		}
	}
	return "", nil
}

func (h *Turns) lastDecision(ctx context.Context, st baton.Store, convID int64) (*baton.Decision, error) {
	ds, err := st.ListDecisions(ctx, convID, 1)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

// FollowUps is the baton.JobHandler of follow-up jobs: a customer who said
// nothing after "did this help?" is taken to be helped, and the
// conversation is resolved, counted apart from an explicit yes.
type FollowUps struct {
	Store baton.Store
	// Surveys, when set, is asked in the resolving transaction (see Turns).
	Surveys BotSurveys
}

// HandleJob implements baton.JobHandler for follow-up jobs.
func (f *FollowUps) HandleJob(ctx context.Context, j *baton.Job) error {
	var p FollowUpPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.DecisionID == 0 {
		return baton.Errorf(baton.EINVALID, "follow-up job %d: payload has no decision id", j.ID)
	}
	err := f.Store.Tx(ctx, func(tx baton.Store) error {
		ds, err := tx.ListDecisions(ctx, j.ConversationID, 1)
		if err != nil {
			return err
		}
		if len(ds) == 0 || ds[0].ID != p.DecisionID {
			return nil // the customer wrote since: their answer decided
		}
		conv, err := tx.GetConversation(ctx, j.ConversationID)
		if err != nil {
			return err
		}
		if conv.State != baton.StateBot {
			return nil
		}
		mem, err := MemoryOf(ds[0])
		if err != nil {
			return err
		}
		if mem.Help == nil {
			return nil
		}
		mem.Help = nil
		d := &baton.Decision{ConversationID: conv.ID, MessageID: ds[0].MessageID, Action: baton.ActionNone,
			Detail: "assumed resolved: no answer to \"did this help?\"", State: mem.encode()}
		if err := tx.InsertDecision(ctx, d); err != nil {
			return err
		}
		moved, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateResolved, Actor: "bot",
			Reason: "no answer to \"did this help?\"", Data: map[string]any{"resolution": ResolvedAssumed}})
		if err != nil || f.Surveys == nil {
			return err
		}
		return f.Surveys.AskBotResolved(ctx, tx, moved)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("follow-up job %d: %w", j.ID, err)
	}
	return err
}

// laterCustomerMessage reports whether the customer wrote after message id.
func laterCustomerMessage(recent []*baton.Message, id int64) bool {
	for _, m := range recent {
		if m.ID > id && m.Direction == baton.DirectionIn && m.Author == baton.AuthorCustomer {
			return true
		}
	}
	return false
}

// customerTexts splits the customer's messages into this turn's burst (the
// ones after the last decided message and after the last message anyone
// sent them, up to id) and the earlier ones.
func customerTexts(recent []*baton.Message, last *baton.Decision, id int64) (burst, previous []string) {
	after := int64(0)
	if last != nil {
		after = last.MessageID
	}
	for _, m := range recent {
		if m.Direction == baton.DirectionOut && m.ID < id && m.ID > after {
			after = m.ID
		}
	}
	for _, m := range recent {
		if m.Direction != baton.DirectionIn || m.Author != baton.AuthorCustomer || m.ID > id || m.Type == baton.TypeReaction {
			continue
		}
		text := strings.TrimSpace(m.Text)
		if text == "" {
			continue
		}
		if m.ID > after {
			burst = append(burst, text)
		} else {
			previous = append(previous, text)
		}
	}
	return burst, previous
}

func joinTexts(ts []string) string { return strings.Join(ts, "\n") }

// lastPayload is the button payload of message id, when it was a button.
func lastPayload(recent []*baton.Message, id int64) string {
	for _, m := range recent {
		if m.ID == id {
			return m.Payload
		}
	}
	return ""
}
