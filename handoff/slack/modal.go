package slack

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// Callback ids of the card's modals, and the block and action ids of their
// inputs: a view_submission names them, and the errors name the blocks.
const (
	CallbackTransfer = "baton_transfer"
	CallbackSnooze   = "baton_snooze"

	BlockQueue = "transfer_queue"
	BlockAgent = "transfer_agent"
	BlockNote  = "transfer_note"
	BlockUntil = "snooze_until"
	BlockAt    = "snooze_at"

	actionQueue = "queue"
	actionAgent = "agent"
	actionNote  = "note"
	actionUntil = "until"
	actionAt    = "at"
)

// Snooze choices of the Snooze modal's radio buttons.
const (
	snooze30m      = "30m"
	snooze2h       = "2h"
	snoozeTomorrow = "tomorrow"
)

// Modals opens the Transfer, Snooze and Save reply as KB draft modals of
// the card and acts on their submission. Opening runs in the interaction's own handling, not in a job:
// Slack's trigger_id is good for 3 seconds, and a job may run later than
// that.
type Modals struct {
	API   *slack.Client
	Desk  baton.Desk
	Store baton.Store
	// Queues are the configured queues; a transfer offers those of the
	// conversation's bot.
	Queues map[string]baton.Queue
	// Zones is the time zone of each queue by id, for "tomorrow 09:00";
	// a queue without one uses UTC.
	Zones       map[string]*time.Location
	Clock       baton.Clock   // [baton.SystemClock]
	CallTimeout time.Duration // [DefaultCallTimeout]; keep it under Slack's 3 s
	Logger      *slog.Logger
}

func (m *Modals) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

func (m *Modals) console() *Console {
	return &Console{API: m.API, Desk: m.Desk, Store: m.Store, CallTimeout: m.CallTimeout, Logger: m.Logger}
}

// opensModal reports whether a button press opens a modal.
func opensModal(cb *slack.InteractionCallback) (*slack.BlockAction, bool) {
	if cb.Type != slack.InteractionTypeBlockActions {
		return nil, false
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a.ActionID == ActionTransfer || a.ActionID == ActionSnooze || a.ActionID == ActionKBDraft {
			return a, true
		}
	}
	return nil, false
}

// open answers a Transfer, Snooze or Save reply as KB draft press with
// its modal (views.open with the press's trigger_id).
func (m *Modals) open(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil || id <= 0 {
		return baton.Errorf(baton.EINVALID, "Slack button %s: value %q is not a conversation id", a.ActionID, a.Value)
	}
	v, err := m.Desk.View(ctx, id, baton.Actor{Admin: true})
	if err != nil {
		return err
	}
	var view slack.ModalViewRequest
	switch a.ActionID {
	case ActionTransfer:
		view, err = m.transferView(ctx, v.Conversation)
		if err != nil {
			return err
		}
	case ActionKBDraft:
		if view, err = m.kbDraftView(ctx, id); err != nil {
			return err
		}
	default:
		view = snoozeView(v.Conversation)
	}
	return m.console().call(ctx, "Slack views.open", func(ctx context.Context) error {
		_, err := m.API.OpenViewContext(ctx, cb.TriggerID, view)
		return err
	})
}

func option(value, text string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, plain(text), nil)
}

func modal(callback string, id int64, title, submit string, blocks ...slack.Block) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callback, PrivateMetadata: strconv.FormatInt(id, 10),
		Title: plain(title), Submit: plain(submit), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// transferView offers the other queues of the conversation's bot and the
// agents who work for it; exactly one of the two is chosen.
func (m *Modals) transferView(ctx context.Context, c *baton.Conversation) (slack.ModalViewRequest, error) {
	var queues, agents []*slack.OptionBlockObject
	for _, id := range slices.Sorted(maps.Keys(m.Queues)) {
		if q := m.Queues[id]; q.BotID == c.BotID && id != c.QueueID {
			name := q.Name
			if name == "" {
				name = id
			}
			queues = append(queues, option(id, name))
		}
	}
	all, err := m.Store.ListAgents(ctx)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	for _, a := range all {
		if (a.BotID == "" || a.BotID == c.BotID) && a.ID != c.AgentID {
			name := a.Name
			if name == "" {
				name = a.ID
			}
			agents = append(agents, option(a.ID, name))
		}
	}
	var blocks []slack.Block
	if len(queues) > 0 {
		blocks = append(blocks, slack.NewInputBlock(BlockQueue, plain("To a queue"), plain("Or pick an agent below"),
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Queue"), actionQueue, queues...)).WithOptional(true))
	}
	if len(agents) > 0 {
		blocks = append(blocks, slack.NewInputBlock(BlockAgent, plain("To an agent"), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Agent"), actionAgent, agents...)).WithOptional(true))
	}
	note := slack.NewPlainTextInputBlockElement(plain("What the next owner should know"), actionNote)
	note.Multiline = true
	blocks = append(blocks, slack.NewInputBlock(BlockNote, plain("Note"), nil, note).WithOptional(true))
	return modal(CallbackTransfer, c.ID, "Transfer", "Transfer", blocks...), nil
}

func snoozeView(c *baton.Conversation) slack.ModalViewRequest {
	until := slack.NewRadioButtonsBlockElement(actionUntil,
		option(snooze30m, "30 minutes"), option(snooze2h, "2 hours"), option(snoozeTomorrow, "Tomorrow 09:00"))
	return modal(CallbackSnooze, c.ID, "Snooze", "Snooze",
		slack.NewInputBlock(BlockUntil, plain("Until"), plain("Or pick a date and time below"), until).WithOptional(true),
		slack.NewInputBlock(BlockAt, plain("Until a date and time"), nil, slack.NewDateTimePickerBlockElement(actionAt)).WithOptional(true))
}

// fieldErrors is the answer that keeps the modal open with msg under block.
func fieldErrors(block, msg string) *slack.ViewSubmissionResponse {
	return slack.NewErrorsViewSubmissionResponse(map[string]string{block: msg})
}

// submit acts on a Transfer or Snooze modal's submission as the agent
// whose slack_user_id submitted it, through the desk. A refusal keeps the
// modal open with the reason under the field (response_action "errors");
// nil closes it. Only a failure of ours (EUNAVAILABLE, EINTERNAL) is an
// error.
func (m *Modals) submit(ctx context.Context, cb *slack.InteractionCallback) (*slack.ViewSubmissionResponse, error) {
	if cb.View.CallbackID == CallbackKBDraft {
		return m.submitKBDraft(ctx, cb)
	}
	// Errors must name a block the modal has: the first select Slack sent
	// state for, else the note, which every Transfer modal has.
	first := BlockUntil
	if cb.View.CallbackID == CallbackTransfer {
		first = BlockNote
		for _, b := range []string{BlockAgent, BlockQueue} {
			if _, ok := cb.View.State.Values[b]; ok {
				first = b
			}
		}
	}
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil || id <= 0 {
		return nil, baton.Errorf(baton.EINVALID, "Slack view_submission: private_metadata %q is not a conversation id", cb.View.PrivateMetadata)
	}
	agent, err := m.console().agentOf(ctx, cb.User.ID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return fieldErrors(first, "Your Slack account is not linked to a Baton agent (an agent's slack_user_id)."), nil
	}
	if err != nil {
		return nil, err
	}
	by := baton.Actor{AgentID: agent}
	values := cb.View.State.Values
	pick := func(block, action string) *slack.BlockAction {
		a, ok := values[block][action]
		if !ok {
			return &slack.BlockAction{}
		}
		return &a
	}
	var block string
	switch cb.View.CallbackID {
	case CallbackTransfer:
		to := baton.TransferTo{Queue: pick(BlockQueue, actionQueue).SelectedOption.Value, Agent: pick(BlockAgent, actionAgent).SelectedOption.Value,
			Note: strings.TrimSpace(pick(BlockNote, actionNote).Value)}
		switch {
		case to.Queue == "" && to.Agent == "":
			return fieldErrors(first, "Pick a queue or an agent."), nil
		case to.Queue != "" && to.Agent != "":
			return fieldErrors(BlockAgent, "Pick a queue or an agent, not both."), nil
		}
		block = BlockQueue
		if to.Agent != "" {
			block = BlockAgent
		}
		_, err = m.Desk.Transfer(ctx, id, to, by)
	case CallbackSnooze:
		var until time.Time
		until, block, err = m.until(ctx, id, pick(BlockUntil, actionUntil).SelectedOption.Value, pick(BlockAt, actionAt).SelectedDateTime)
		if err == nil {
			_, err = m.Desk.Snooze(ctx, id, until, by)
		}
	default:
		return nil, baton.Errorf(baton.EINVALID, "Slack view_submission: callback_id %q is not a Baton modal", cb.View.CallbackID)
	}
	switch code := baton.ErrorCode(err); {
	case err == nil:
		return nil, nil
	case code == baton.EUNAVAILABLE || code == baton.EINTERNAL:
		return nil, err
	default:
		return fieldErrors(block, "Not done: "+baton.ErrorMessage(err)), nil
	}
}

// until is the snooze's end from the modal's choice or its date-time, and
// the block to show a refusal under.
func (m *Modals) until(ctx context.Context, id int64, choice string, at int64) (time.Time, string, error) {
	now := m.now()
	switch {
	case choice != "" && at != 0:
		return time.Time{}, BlockAt, baton.Errorf(baton.EINVALID, "pick a choice or a date and time, not both")
	case at != 0:
		return time.Unix(at, 0).UTC(), BlockAt, nil
	case choice == snooze30m:
		return now.Add(30 * time.Minute), BlockUntil, nil
	case choice == snooze2h:
		return now.Add(2 * time.Hour), BlockUntil, nil
	case choice == snoozeTomorrow:
		c, err := m.Store.GetConversation(ctx, id)
		if err != nil {
			return time.Time{}, BlockUntil, err
		}
		loc := m.Zones[c.QueueID]
		if loc == nil {
			loc = time.UTC
		}
		t := now.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day()+1, 9, 0, 0, 0, loc), BlockUntil, nil
	}
	return time.Time{}, BlockUntil, baton.Errorf(baton.EINVALID, "pick how long to snooze")
}
