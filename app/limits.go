package app

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/limit"
)

// streamRetryAfter is what a refused reply stream is told: a stream ends
// at a time nobody knows, and the page backs off on its own.
const streamRetryAfter = 10 * time.Second

// serverLimits are the limiters built from server.limits, one of each per
// process, shared by every route that enforces them.
type serverLimits struct {
	proxies         *limit.Proxies
	postsPerVisitor *limit.Keyed
	postsPerAddress *limit.Keyed
	streams         *limit.Slots
	// auth counts failed sign-ins per client address for the admin API
	// (and the agent console's sign-in, when it has one), so that they
	// share an address's budget.
	auth *limit.Guard
	// turns is the cost guard on bot turns per conversation. It is per
	// process: with several replicas a conversation's turns may run on
	// any of them, so the bound is this rate times the replicas.
	turns *limit.Keyed
}

func newServerLimits(cfg *config.Config, log *slog.Logger) *serverLimits {
	l := cfg.Server.Limits
	return &serverLimits{
		proxies:         cfg.Server.Proxies(),
		postsPerVisitor: limit.NewKeyed("web chat posts per visitor", l.WebChatPostsPerVisitor.Value(), limit.Options{}),
		postsPerAddress: limit.NewKeyed("web chat posts per client address", l.WebChatPostsPerAddress.Value(), limit.Options{}),
		streams: limit.NewSlots("web chat reply streams", "visitor",
			l.WebChatStreamsPerVisitor.Value(), l.WebChatStreamsTotal.Value(), streamRetryAfter),
		auth:  limit.NewGuard("admin API", l.FailedAuthPerAddress.Value(), limit.GuardOptions{Logger: log}),
		turns: limit.NewKeyed("bot turns per conversation", l.BotTurnsPerConversation.Value(), limit.Options{}),
	}
}

// turnBudget adapts the turn limiter to the bot's budget.
func (l *serverLimits) turnBudget(convID int64) time.Duration {
	err := l.turns.Allow(strconv.FormatInt(convID, 10))
	if err == nil {
		return 0
	}
	wait, _ := limit.RetryAfter(err)
	return max(wait, time.Second)
}
