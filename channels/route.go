package channels

import (
	"context"
	"log/slog"
	"sort"
)

// Router finds the configured bot that a part of a webhook belongs to.
//
// Meta posts every number and Page of one app to the app's one webhook URL,
// and several bots commonly share that app (and its secret); so the bot in
// the URL is not necessarily the addressee of what the body carries. A part
// belongs to the bot whose configured number or Page it is addressed to,
// provided that bot's own secret also authenticates the request: a holder
// of one bot's secret must never be able to write into another bot that
// does not share it. A part that no configured bot owns belongs to nobody.
type Router[A any] struct {
	// URLBot is the bot of the webhook URL; the caller authenticated the
	// request with its secret already.
	URLBot   string
	Accounts map[string]A
	// Verifies reports whether an account's own secret authenticates the
	// request. It is asked at most once per bot and request.
	Verifies func(A) bool

	ids      []string
	verified map[string]bool
}

// Owner returns the bot that owns a part: the bot of the URL when owns says
// so of its account, otherwise the first other bot, in id order so that the
// answer never depends on map order, whose account owns says so of and
// whose secret authenticates the request. ok is false when there is none.
func (r *Router[A]) Owner(owns func(A) bool) (botID string, ok bool) {
	if a, found := r.Accounts[r.URLBot]; found && owns(a) {
		return r.URLBot, true
	}
	if r.ids == nil {
		r.ids = make([]string, 0, len(r.Accounts))
		for id := range r.Accounts {
			r.ids = append(r.ids, id)
		}
		sort.Strings(r.ids)
		r.verified = map[string]bool{r.URLBot: true}
	}
	for _, id := range r.ids {
		a := r.Accounts[id]
		if id == r.URLBot || !owns(a) {
			continue
		}
		v, asked := r.verified[id]
		if !asked {
			v = r.Verifies(a)
			r.verified[id] = v
		}
		if v {
			return id, true
		}
	}
	return "", false
}

// SetBot gives every message and watermark of b to botID, once a Router has
// said whose they are.
func SetBot(b *Batch, botID string) {
	for i := range b.Messages {
		b.Messages[i].BotID = botID
	}
	for i := range b.Watermarks {
		b.Watermarks[i].BotID = botID
	}
}

// Foreign is what a provider handler does with the part of a webhook that
// is addressed to a number or Page no configured bot owns: the provider gets
// its 200 (or it would retry for days), nothing of it is stored, and the
// operator gets a warning and a counter. The warning names the provider, the
// bot of the URL and counts, never the number, the sender or the text.
type Foreign struct {
	Logger *slog.Logger
	// Count adds n to the counter of dropped events
	// (baton_webhook_foreign_recipients_total); nil counts nothing.
	Count func(provider string, n int)
}

// Drop reports the messages and statuses (receipts included) of one webhook
// that were dropped; nothing when both are 0.
func (f Foreign) Drop(ctx context.Context, provider, urlBot string, messages, statuses int) {
	if messages+statuses == 0 {
		return
	}
	if f.Count != nil {
		f.Count(provider, messages+statuses)
	}
	log := f.Logger
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, slog.LevelWarn, "webhook for a number or page no bot is configured with: acknowledged, not stored",
		slog.String("provider", provider), slog.String("bot", urlBot),
		slog.Int("messages", messages), slog.Int("statuses", statuses))
}
