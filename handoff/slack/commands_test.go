package slack

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/slack-go/slack"
)

// slash is a signed /baton request as Slack posts it to the commands URL.
func slash(command, text, user string) *baton.WebhookRequest {
	form := url.Values{"command": {command}, "text": {text}, "user_id": {user}, "team_id": {"T0TEAM"}, "channel_id": {"C0BILLING"},
		"response_url": {"https://hooks.slack.com/commands/T0TEAM/1/x"}, "trigger_id": {"trig.cmd"}}
	return signed(testSecret, time.Now(), []byte(form.Encode()))
}

func TestSlashCommands(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			r := newConsoleRig(t, sc)
			var logs bytes.Buffer
			in := &Intake{SigningSecret: testSecret, Store: r.st,
				Slash: &Commands{Desk: r.desk, Store: r.st, Clock: r.clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
			// Zeynep's skills match no queue, so nothing is routed to her
			// when she comes online; Maya has no Slack user yet.
			for _, a := range []*baton.Agent{
				{ID: "zeynep", Name: "Zeynep", BotID: bot, Skills: []string{"fr"}, SlackUserID: "U0AGENT01", Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}},
				{ID: "maya", Name: "Maya", Skills: []string{"fr"}, Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 2}},
			} {
				if err := r.st.UpsertAgent(r.ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			owned := r.escalate("billing")
			waiting := r.escalate("general")
			// She claimed one while online, and went offline.
			if err := r.st.SetAgentStatus(r.ctx, "zeynep", baton.AgentOnline); err != nil {
				t.Fatal(err)
			}
			if _, err := r.desk.Claim(r.ctx, owned, baton.Actor{AgentID: "zeynep"}); err != nil {
				t.Fatal(err)
			}
			if err := r.st.SetAgentStatus(r.ctx, "zeynep", baton.AgentOffline); err != nil {
				t.Fatal(err)
			}
			ownedTag, waitingTag := "#"+strconv.FormatInt(owned, 10)+" ", "#"+strconv.FormatInt(waiting, 10)+" "
			status := func(id string) baton.AgentStatus {
				a, err := r.st.GetAgent(r.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return a.Status
			}

			for _, c := range []struct {
				name, command, text, user string
				want                      []string
				not                       []string
				check                     func(t *testing.T)
			}{
				{name: "unlinked user, mine", command: "/baton", text: "mine", user: "U0STRANGER", want: []string{"not linked", "/baton link"}},
				{name: "unlinked user, status", command: "/baton", text: "status online", user: "U0STRANGER", want: []string{"not linked"}},
				{name: "no subcommand", command: "/baton", text: "  ", user: "U0AGENT01", want: []string{"Usage", "/baton status online|away|offline"}},
				{name: "unknown subcommand", command: "/baton", text: "frobnicate", user: "U0AGENT01", want: []string{`Unknown subcommand "frobnicate"`}},
				{name: "another command", command: "/other", text: "mine", user: "U0AGENT01", want: []string{"/other is not a Baton command"}},
				{name: "status without a value", command: "/baton", text: "status", user: "U0AGENT01", want: []string{"Usage: `/baton status"},
					check: func(t *testing.T) {
						if s := status("zeynep"); s != baton.AgentOffline {
							t.Errorf("status %s after a bad command, want offline", s)
						}
					}},
				{name: "status not a status", command: "/baton", text: "status asleep", user: "U0AGENT01", want: []string{`"asleep" is not a status`},
					check: func(t *testing.T) {
						if s := status("zeynep"); s != baton.AgentOffline {
							t.Errorf("status %s after a bad command, want offline", s)
						}
					}},
				{name: "status online", command: "/baton", text: "status Online", user: "U0AGENT01", want: []string{"zeynep", "now online"},
					check: func(t *testing.T) {
						if s := status("zeynep"); s != baton.AgentOnline {
							t.Errorf("status %s, want online", s)
						}
					}},
				{name: "status away", command: "/baton", text: "status away", user: "U0AGENT01", want: []string{"now away", "stay yours"},
					check: func(t *testing.T) {
						if s := status("zeynep"); s != baton.AgentAway {
							t.Errorf("status %s, want away", s)
						}
					}},
				{name: "mine", command: "/baton", text: "mine", user: "U0AGENT01", want: []string{"own 1 conversation", ownedTag, "queue billing", "assigned", "reply due in"}, not: []string{waitingTag}},
				{name: "mine with arguments", command: "/baton", text: "mine all", user: "U0AGENT01", want: []string{"takes no arguments"}},
				{name: "queue", command: "/baton", text: "queue", user: "U0AGENT01", want: []string{"1 conversation(s) waiting", "general 1", waitingTag}, not: []string{ownedTag}},
				{name: "link without an agent", command: "/baton", text: "link", user: "U0NEW", want: []string{"Usage: `/baton link <agent-id>`"}},
				{name: "link to no agent", command: "/baton", text: "link nobody", user: "U0NEW", want: []string{`no agent "nobody"`}},
				{name: "link to a linked agent", command: "/baton", text: "link zeynep", user: "U0NEW", want: []string{"zeynep is linked to another Slack user"}},
				{name: "link when linked", command: "/baton", text: "link maya", user: "U0AGENT01", want: []string{"linked to agent zeynep"}},
				{name: "link asks an admin", command: "/baton", text: "link maya", user: "U0NEW", want: []string{"admin must approve", "slack_user_id of agent maya to U0NEW", "PUT /api/v1/agents/maya"},
					check: func(t *testing.T) {
						a, err := r.st.GetAgent(r.ctx, "maya")
						if err != nil {
							t.Fatal(err)
						}
						if a.SlackUserID != "" {
							t.Errorf("maya linked to %q without approval", a.SlackUserID)
						}
						if !strings.Contains(logs.String(), "Slack link requested") || !strings.Contains(logs.String(), "agent=maya") || !strings.Contains(logs.String(), "slack_user_id=U0NEW") {
							t.Errorf("the request is not in the log: %s", logs.String())
						}
						if _, err := r.st.GetAgentBySlackUser(r.ctx, "U0NEW"); baton.ErrorCode(err) != baton.ENOTFOUND {
							t.Errorf("U0NEW acts as an agent without approval: %v", err)
						}
					}},
			} {
				t.Run(c.name, func(t *testing.T) {
					res, err := in.Commands().ServeWebhook(r.ctx, slash(c.command, c.text, c.user))
					if err != nil || res.Status != http.StatusOK || res.ContentType != "application/json" {
						t.Fatalf("answer %+v, %v", res, err)
					}
					var m slack.Msg
					if err := json.Unmarshal(res.Body, &m); err != nil {
						t.Fatal(err)
					}
					if m.ResponseType != slack.ResponseTypeEphemeral {
						t.Errorf("response_type %q, want ephemeral", m.ResponseType)
					}
					for _, w := range c.want {
						if !strings.Contains(m.Text, w) {
							t.Errorf("answer %q lacks %q", m.Text, w)
						}
					}
					for _, n := range c.not {
						if strings.Contains(m.Text, n) {
							t.Errorf("answer %q has %q", m.Text, n)
						}
					}
					if c.check != nil {
						c.check(t)
					}
				})
			}

			// A form without a command is bad input, and an unsigned
			// request is refused before anything is read.
			if _, err := in.Commands().ServeWebhook(r.ctx, signed(testSecret, time.Now(), []byte("text=mine"))); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("no command: %v, want invalid", err)
			}
			bad := slash("/baton", "status online", "U0AGENT01")
			bad.Header.Set("X-Slack-Signature", "v0=00")
			if _, err := in.Commands().ServeWebhook(r.ctx, bad); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Errorf("bad signature: %v, want unauthorized", err)
			}
			if s := status("zeynep"); s != baton.AgentAway {
				t.Errorf("status %s after refused requests, want away", s)
			}
		})
	}
}
