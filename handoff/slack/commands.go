package slack

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// Command is the slash command the console answers; the manifest in
// examples/ declares it.
const Command = "/baton"

// commandUsage is the answer to /baton with no or an unknown subcommand.
const commandUsage = "Usage: `/baton status online|away|offline`, `/baton mine`, `/baton queue`, `/baton link <agent-id>`."

// listMax bounds how many conversations one answer lists: an ephemeral
// message is for a glance, the web inbox has the rest.
const listMax = 10

// Commands answers /baton for the Slack user who typed it, as the agent
// whose slack_user_id they are: status changes go through the desk (which
// routes waiting conversations to an agent coming online), listings are
// read from the store. Every answer is ephemeral, seen by that user only.
type Commands struct {
	Desk   baton.Desk
	Store  baton.Store
	Clock  baton.Clock // [baton.SystemClock]
	Logger *slog.Logger
}

func (c *Commands) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

func (c *Commands) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func ephemeral(text string) *slack.Msg {
	return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// Answer runs one slash command and says how it went. It never fails:
// bad input, an unlinked user and a refusal are answers to that user, and
// a failure of the store is logged and answered with "try again".
func (c *Commands) Answer(ctx context.Context, cmd slack.SlashCommand) *slack.Msg {
	if cmd.Command != Command {
		return ephemeral(fmt.Sprintf("%s is not a Baton command; use %s.", cmd.Command, Command))
	}
	args := strings.Fields(cmd.Text)
	if len(args) == 0 {
		return ephemeral(commandUsage)
	}
	sub, args := strings.ToLower(args[0]), args[1:]
	if sub == "link" {
		return c.link(ctx, cmd, args)
	}
	switch sub {
	case "status", "mine", "queue":
	default:
		return ephemeral(fmt.Sprintf("Unknown subcommand %q. %s", sub, commandUsage))
	}
	agent, err := c.Store.GetAgentBySlackUser(ctx, cmd.UserID)
	switch {
	case cmd.UserID == "" || baton.ErrorCode(err) == baton.ENOTFOUND:
		return ephemeral("Your Slack account is not linked to a Baton agent. Ask for it with `/baton link <agent-id>`.")
	case err != nil:
		return c.failed(ctx, sub, err)
	}
	switch sub {
	case "status":
		return c.status(ctx, agent, args)
	case "mine":
		if len(args) > 0 {
			return ephemeral("`/baton mine` takes no arguments.")
		}
		return c.mine(ctx, agent)
	default:
		if len(args) > 0 {
			return ephemeral("`/baton queue` takes no arguments.")
		}
		return c.queue(ctx, agent)
	}
}

// failed answers a failure that is not the user's doing; the log has the
// reason.
func (c *Commands) failed(ctx context.Context, sub string, err error) *slack.Msg {
	c.log().LogAttrs(ctx, slog.LevelError, "Slack command failed", slog.String("command", Command+" "+sub), slog.String("error", baton.ErrorMessage(err)))
	return ephemeral("Baton could not do that just now; try again in a moment.")
}

func (c *Commands) status(ctx context.Context, agent *baton.Agent, args []string) *slack.Msg {
	if len(args) != 1 {
		return ephemeral("Usage: `/baton status online|away|offline`.")
	}
	s := baton.AgentStatus(strings.ToLower(args[0]))
	switch s {
	case baton.AgentOnline, baton.AgentAway, baton.AgentOffline:
	default:
		return ephemeral(fmt.Sprintf("%q is not a status: use online, away or offline.", args[0]))
	}
	a, err := c.Desk.SetStatus(ctx, agent.ID, s, baton.Actor{AgentID: agent.ID})
	switch code := baton.ErrorCode(err); {
	case err == nil:
	case code == baton.EUNAVAILABLE || code == baton.EINTERNAL:
		return c.failed(ctx, "status", err)
	default:
		return ephemeral("Not done: " + baton.ErrorMessage(err))
	}
	text := fmt.Sprintf("You (%s) are now %s.", a.ID, a.Status)
	if a.Status != baton.AgentOnline {
		text += " Conversations you own stay yours; new ones are not routed to you."
	}
	return ephemeral(text)
}

// mine lists the conversations the agent owns: assigned and snoozed.
func (c *Commands) mine(ctx context.Context, agent *baton.Agent) *slack.Msg {
	convs, err := c.Store.ListConversations(ctx, baton.ConversationFilter{AgentID: agent.ID, States: []baton.State{baton.StateAssigned, baton.StateSnoozed}})
	if err != nil {
		return c.failed(ctx, "mine", err)
	}
	if len(convs) == 0 {
		return ephemeral(fmt.Sprintf("You (%s, %s) own no conversations.", agent.ID, agent.Status))
	}
	now := c.now()
	var b strings.Builder
	fmt.Fprintf(&b, "You (%s, %s) own %d conversation(s):", agent.ID, agent.Status, len(convs))
	for i, cv := range convs {
		if i == listMax {
			fmt.Fprintf(&b, "\n… and %d more in the web inbox.", len(convs)-listMax)
			break
		}
		fmt.Fprintf(&b, "\n• #%d %s, queue %s, %s", cv.ID, cv.Channel, cv.QueueID, cv.State)
		switch {
		case cv.State == baton.StateSnoozed && cv.SnoozedUntil != nil:
			fmt.Fprintf(&b, " until %s", cv.SnoozedUntil.UTC().Format(time.RFC3339))
		case replyDue(cv) != nil:
			b.WriteString(", reply " + due(*replyDue(cv), now))
		}
	}
	return ephemeral(b.String())
}

// replyDue is when the agent's next reply is due: the next-response
// clock, or the first response's until there was one; nil when none runs.
func replyDue(cv *baton.Conversation) *time.Time {
	if cv.NextResponseDue != nil {
		return cv.NextResponseDue
	}
	if cv.FirstAgentReplyAt == nil {
		return cv.FirstResponseDue
	}
	return nil
}

// due says when a reply is due, relative to now.
func due(at, now time.Time) string {
	d := at.Sub(now).Round(time.Minute)
	if d < 0 {
		return fmt.Sprintf("overdue by %s", -d)
	}
	return fmt.Sprintf("due in %s", d)
}

// queue lists what waits in the queues of the agent's bot (every bot's
// for an agent of every bot): per queue how many and the oldest, then the
// longest waiting conversations.
func (c *Commands) queue(ctx context.Context, agent *baton.Agent) *slack.Msg {
	waiting, err := c.Store.ListConversations(ctx, baton.ConversationFilter{BotID: agent.BotID, States: []baton.State{baton.StateQueued}})
	if err != nil {
		return c.failed(ctx, "queue", err)
	}
	if len(waiting) == 0 {
		return ephemeral("Nothing is waiting in the queues.")
	}
	since := func(cv *baton.Conversation) time.Time {
		if cv.QueuedAt != nil {
			return *cv.QueuedAt
		}
		return cv.UpdatedAt
	}
	sort.SliceStable(waiting, func(i, k int) bool { return since(waiting[i]).Before(since(waiting[k])) })
	count := map[string]int{}
	var queues []string
	for _, cv := range waiting {
		if count[cv.QueueID] == 0 {
			queues = append(queues, cv.QueueID)
		}
		count[cv.QueueID]++
	}
	sort.Strings(queues)
	now := c.now()
	var b strings.Builder
	fmt.Fprintf(&b, "%d conversation(s) waiting:", len(waiting))
	for _, q := range queues {
		fmt.Fprintf(&b, " %s %d", q, count[q])
	}
	for i, cv := range waiting {
		if i == listMax {
			fmt.Fprintf(&b, "\n… and %d more in the web inbox.", len(waiting)-listMax)
			break
		}
		fmt.Fprintf(&b, "\n• #%d %s, queue %s, waiting %s", cv.ID, cv.Channel, cv.QueueID, now.Sub(since(cv)).Round(time.Minute))
	}
	return ephemeral(b.String())
}

// link takes a Slack user's request to act as an agent. It links
// nothing: a Slack user who could link themselves could act as any
// agent. The request is logged for an admin, who links by setting the
// agent's slack_user_id.
func (c *Commands) link(ctx context.Context, cmd slack.SlashCommand, args []string) *slack.Msg {
	if len(args) != 1 {
		return ephemeral("Usage: `/baton link <agent-id>`, with the id of your Baton agent.")
	}
	if cmd.UserID == "" {
		return ephemeral("Slack did not say who you are, so there is nothing to link.")
	}
	id := args[0]
	if cur, err := c.Store.GetAgentBySlackUser(ctx, cmd.UserID); err == nil {
		if cur.ID == id {
			return ephemeral(fmt.Sprintf("You are already linked to agent %s.", id))
		}
		return ephemeral(fmt.Sprintf("You are linked to agent %s. An admin changes that by setting the agents' slack_user_id.", cur.ID))
	} else if baton.ErrorCode(err) != baton.ENOTFOUND {
		return c.failed(ctx, "link", err)
	}
	agent, err := c.Store.GetAgent(ctx, id)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return ephemeral(fmt.Sprintf("There is no agent %q. Ask an admin for your agent id.", id))
	case err != nil:
		return c.failed(ctx, "link", err)
	}
	if agent.SlackUserID != "" {
		return ephemeral(fmt.Sprintf("Agent %s is linked to another Slack user. An admin can change that.", agent.ID))
	}
	// Slack and agent ids name staff, not customers: the admin needs
	// both to approve.
	c.log().LogAttrs(ctx, slog.LevelWarn, "Slack link requested: an admin must approve it by setting the agent's slack_user_id",
		slog.String("agent", agent.ID), slog.String("slack_user_id", cmd.UserID), slog.String("team_id", cmd.TeamID))
	return ephemeral(fmt.Sprintf("Request noted. An admin must approve it: set slack_user_id of agent %s to %s, with PUT /api/v1/agents/%s or in the configuration's agents. Until then you cannot act as %s from Slack.",
		agent.ID, cmd.UserID, agent.ID, agent.ID))
}
