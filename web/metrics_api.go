package web

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// timeForms is how the metrics summary's from and to may be written.
const timeForms = "an RFC 3339 time (2026-03-02T09:00:00Z) or a date (2026-03-02, midnight UTC)"

// metricsSummary: GET /api/v1/metrics?from=&to=&queue=&bot= — how the
// support operation did over [from, to) (default: the seven days to now).
func (s *server) metricsSummary(c *fiber.Ctx) error {
	if s.cfg.Metrics == nil {
		return baton.Errorf(baton.ENOTFOUND, "the metrics summary is not configured on this server")
	}
	var (
		q   baton.MetricsQuery
		err error
	)
	if q.From, err = queryTime(c, "from"); err != nil {
		return err
	}
	if q.To, err = queryTime(c, "to"); err != nil {
		return err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return baton.Errorf(baton.EINVALID, "query parameters from and to: from must be before to")
	}
	// The query's strings outlive nothing but the handler; cloned all the
	// same, so that a source keeping them (a cache, a log) keeps its own.
	q.BotID = strings.Clone(c.Query("bot"))
	q.QueueID = strings.Clone(c.Query("queue"))
	if q.BotID != "" {
		if _, ok := s.bots[q.BotID]; !ok {
			return baton.Errorf(baton.EINVALID, "query parameter bot: no such bot; the bots are %s", strings.Join(s.botIDs(), ", "))
		}
	}
	if q.QueueID != "" && !s.hasQueue(q.BotID, q.QueueID) {
		if q.BotID != "" {
			return baton.Errorf(baton.EINVALID, "query parameter queue: not a queue of bot %s", q.BotID)
		}
		return baton.Errorf(baton.EINVALID, "query parameter queue: no such queue")
	}
	sum, err := s.cfg.Metrics.Summary(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(sum)
}

// queryTime reads an optional time parameter; absent is the zero time.
func queryTime(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, baton.Errorf(baton.EINVALID, "query parameter %s: want %s", name, timeForms)
}

func (s *server) botIDs() []string {
	ids := make([]string, 0, len(s.bots))
	for id := range s.bots {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// hasQueue reports whether queue is one of bot's queues (any bot's when
// bot is "").
func (s *server) hasQueue(bot, queue string) bool {
	for id, b := range s.bots {
		if (bot == "" || bot == id) && slices.Contains(b.Queues, queue) {
			return true
		}
	}
	return false
}
