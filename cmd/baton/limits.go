package main

import (
	"log/slog"
	"time"

	"github.com/batonhq/baton/cmd/baton/internal/config"
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
}

func newServerLimits(cfg *config.Config, log *slog.Logger) *serverLimits {
	l := cfg.Server.Limits
	return &serverLimits{
		proxies:         cfg.Server.Proxies(),
		postsPerVisitor: limit.NewKeyed("web chat posts per visitor", l.WebChatPostsPerVisitor.Value(), limit.Options{}),
		postsPerAddress: limit.NewKeyed("web chat posts per client address", l.WebChatPostsPerAddress.Value(), limit.Options{}),
		streams: limit.NewSlots("web chat reply streams", "visitor",
			l.WebChatStreamsPerVisitor.Value(), l.WebChatStreamsTotal.Value(), streamRetryAfter),
		auth: limit.NewGuard("admin API", l.FailedAuthPerAddress.Value(), limit.GuardOptions{Logger: log}),
	}
}
