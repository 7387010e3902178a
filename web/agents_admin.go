package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// agentIDPattern is the configuration's id rule, so that an agent made
// through the API could be written into the file as it is.
var agentIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// maxCapacity bounds one channel kind's capacity: a typo (400 for 4) would
// otherwise make one agent take a whole queue.
const maxCapacity = 100

// agentIn is the body of PUT /api/v1/agents/{id}.
type agentIn struct {
	BotID       string         `json:"bot_id"`
	Name        string         `json:"name"`
	Email       string         `json:"email"`
	Skills      []string       `json:"skills"`
	Capacity    map[string]int `json:"capacity"`
	SlackUserID string         `json:"slack_user_id"`
}

// putAgent: PUT /api/v1/agents/{id} (admin). Creates the agent or replaces
// their definition (skills, capacity per channel kind, console identities);
// their status and last assignment stay. Waiting conversations are offered
// again at once, since the agent may now take more. An agent of the
// configuration file gets the file's definition back at the next start.
func (s *server) putAgent(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	if !agentIDPattern.MatchString(id) || id == "me" {
		return baton.Errorf(baton.EINVALID, "path: %q is not a valid agent id: use lower-case letters, digits, - and _ (at most 64; \"me\" is the caller)", id)
	}
	var in agentIn
	if err := decodeAgentBody(c, &in, false); err != nil {
		return err
	}
	a, err := s.agentOf(id, in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), deskTimeout)
	defer cancel()
	if err := s.cfg.Store.UpsertAgent(ctx, a); err != nil {
		return err
	}
	saved, err := s.cfg.Store.GetAgent(ctx, id)
	if err != nil {
		return err
	}
	if s.cfg.Desk != nil && saved.Status == baton.AgentOnline {
		// The definition is stored: a failed offer is the sweep's to retry.
		if _, err := s.cfg.Desk.Route(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "could not offer waiting conversations after an agent change",
				slog.String("agent", id), slog.String("error", baton.ErrorMessage(err)))
		}
	}
	return c.JSON(fiber.Map{"agent": toAgentJSON(saved)})
}

// agentOf validates in, every problem at once, naming each field.
func (s *server) agentOf(id string, in agentIn) (*baton.Agent, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(in.Name) == "" {
		bad("name: required")
	}
	if in.BotID != "" && !slices.ContainsFunc(s.cfg.Bots, func(b baton.Bot) bool { return b.ID == in.BotID }) {
		bad("bot_id: no bot %q is configured", in.BotID)
	}
	if in.Email != "" {
		if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != in.Email {
			bad("email: %q is not an e-mail address", in.Email)
		}
	}
	for i, sk := range in.Skills {
		if sk == "" || sk != strings.ToLower(strings.TrimSpace(sk)) || strings.ContainsAny(sk, " \t,") {
			bad("skills[%d]: %q is not a skill: lower-case, no spaces", i, sk)
		}
	}
	capacity := map[baton.ChannelKind]int{}
	kinds := make([]string, 0, len(in.Capacity))
	for k := range in.Capacity {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		n := in.Capacity[k]
		switch {
		case !baton.ChannelKind(k).Valid():
			bad("capacity.%s: unknown channel kind (whatsapp, messenger, sms, webchat)", k)
		case n < 0 || n > maxCapacity:
			bad("capacity.%s: %d is not between 0 and %d", k, n, maxCapacity)
		default:
			capacity[baton.ChannelKind(k)] = n
		}
	}
	if len(problems) > 0 {
		return nil, baton.Errorf(baton.EINVALID, "agent %s: %s", id, strings.Join(problems, "; "))
	}
	return &baton.Agent{ID: id, BotID: in.BotID, Name: strings.TrimSpace(in.Name), Email: in.Email,
		Skills: slices.Clone(in.Skills), Capacity: capacity, SlackUserID: in.SlackUserID}, nil
}
