package limit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Guard slows down credential guessing: it counts failed sign-ins per
// client address, and once an address is over its rate every further
// attempt from it is refused before the credential is even looked at.
// Its warnings are aggregated: the first failure of an address logs one
// line (at most MaxLines addresses per interval), everything after that is
// counted into one summary line per interval. No line carries the
// credential that was tried. A nil *Guard allows everything and logs
// nothing (the caller logs as it would without a guard); one
// Guard can serve several sign-in paths (admin API, agent console) so that
// they share an address's budget.
type Guard struct {
	what     string
	failures *Keyed
	log      *slog.Logger
	every    time.Duration
	maxLines int

	// gate makes checking an address's budget and holding a failure of it
	// one step; pending counts the attempts holding one, by address key.
	gate    sync.Mutex
	pending map[string]int

	mu        sync.Mutex
	logged    map[string]bool     // addresses with their own line, until a quiet interval
	addresses map[string]struct{} // addresses in this interval's summary (at most maxTracked)
	failed    int                 // failures not logged on their own this interval
	refused   int                 // attempts refused this interval
	timer     *time.Timer
}

// GuardOptions configure a Guard; zero values take the defaults.
type GuardOptions struct {
	Logger   *slog.Logger  // [discard]
	Every    time.Duration // summary interval [1m]
	MaxLines int           // addresses logged on their own per interval [10]
	Options                // of the per-address limiter
}

// maxTracked bounds the distinct addresses a summary counts.
const maxTracked = 10000

// NewGuard returns a guard allowing r failures per client address; with r
// off it refuses nothing but still aggregates the warnings. what names the
// sign-in in messages ("admin API").
func NewGuard(what string, r Rate, o GuardOptions) *Guard {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Every <= 0 {
		o.Every = time.Minute
	}
	if o.MaxLines <= 0 {
		o.MaxLines = 10
	}
	return &Guard{
		what:     what,
		failures: NewKeyed("failed "+what+" authentication per client address", r, o.Options),
		log:      o.Logger, every: o.Every, maxLines: o.MaxLines,
		logged: map[string]bool{}, addresses: map[string]struct{}{}, pending: map[string]int{},
	}
}

// Attempt is one sign-in attempt, counted against its address's budget
// until it is known how it went.
type Attempt struct {
	g    *Guard
	addr string
	key  string
	held bool
}

// Begin starts a sign-in attempt from addr: it refuses an address that is
// over its failure rate, with an ERATELIMITED error saying when to retry,
// and otherwise holds one failure of the budget for the attempt. Call it
// before checking the credential, then Succeeded or Failed. Holding first
// is what bounds the guesses: attempts checked at the same time cannot all
// pass on the one failure left.
func (g *Guard) Begin(addr string) (*Attempt, error) {
	if g == nil {
		return &Attempt{}, nil
	}
	a := &Attempt{g: g, addr: addr}
	if g.failures == nil {
		return a, nil
	}
	a.key = AddressKey(addr)
	g.gate.Lock()
	now := g.failures.now()
	b := g.failures.bucket(a.key)
	free := b.TokensAt(now) - float64(g.pending[a.key])
	if free < 1 {
		g.gate.Unlock()
		wait := time.Duration((1 - free) / float64(b.Limit()) * float64(time.Second))
		g.note(addr, "", true)
		return nil, Refused(g.failures.name, g.failures.rate.String(), wait)
	}
	g.pending[a.key]++
	a.held = true
	g.gate.Unlock()
	return a, nil
}

// release ends the hold; spend says the attempt failed and uses up its
// failure.
func (a *Attempt) release(spend bool) {
	if !a.held {
		return
	}
	a.held = false
	g := a.g
	g.gate.Lock()
	defer g.gate.Unlock()
	if spend {
		g.failures.bucket(a.key).AllowN(g.failures.now(), 1)
	}
	if g.pending[a.key]--; g.pending[a.key] <= 0 {
		delete(g.pending, a.key)
	}
}

// Succeeded ends the attempt without using up a failure.
func (a *Attempt) Succeeded() { a.release(false) }

// Failed uses up the attempt's failure and notes it; reason says what was
// wrong ("missing token", "wrong token") and must not carry what was sent.
func (a *Attempt) Failed(reason string) {
	a.release(true)
	if a.g != nil {
		a.g.note(a.addr, reason, false)
	}
}

func (g *Guard) note(addr, reason string, refused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	defer g.arm()
	if !refused && !g.logged[addr] && len(g.logged) < g.maxLines {
		g.logged[strings.Clone(addr)] = true
		g.log.LogAttrs(context.Background(), slog.LevelWarn, "authentication failed",
			slog.String("what", g.what), slog.String("client", addr), slog.String("reason", reason),
			slog.String("further", "failures are summarised every "+shortDuration(g.every)))
		return
	}
	if refused {
		g.refused++
	} else {
		g.failed++
	}
	if _, ok := g.addresses[addr]; !ok && len(g.addresses) < maxTracked {
		g.addresses[strings.Clone(addr)] = struct{}{}
	}
}

// arm schedules the next summary; g.mu is held.
func (g *Guard) arm() {
	if g.timer == nil {
		g.timer = time.AfterFunc(g.every, g.flush)
	}
}

func (g *Guard) flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timer = nil
	if g.summarise() {
		// Keep watching: the interval after the last failure clears the
		// addresses that had a line of their own.
		g.arm()
		return
	}
	clear(g.logged)
}

// summarise logs the interval's counts, if any, and resets them; g.mu is
// held.
func (g *Guard) summarise() bool {
	if g.failed+g.refused == 0 {
		return false
	}
	g.log.LogAttrs(context.Background(), slog.LevelWarn, "authentication failures",
		slog.String("what", g.what), slog.String("interval", shortDuration(g.every)),
		slog.Int("failed", g.failed), slog.Int("refused", g.refused), slog.Int("addresses", len(g.addresses)))
	g.failed, g.refused = 0, 0
	clear(g.addresses)
	return true
}

// Flush logs the pending summary now (at shutdown, so that no count is
// lost) and stops the timer.
func (g *Guard) Flush() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.summarise()
}
