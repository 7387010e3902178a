// Package limit bounds what one client can make the server do: keyed token
// buckets for request rates (golang.org/x/time/rate, kept in a bounded,
// expiring LRU so that a flood of distinct keys cannot grow memory without
// bound), counted slots for long-lived requests such as reply streams, a
// guard that slows down guessing of credentials and aggregates its
// warnings, and the client address the keys are made of. A refusal is a
// baton.ERATELIMITED error that carries how long to wait; HTTP answers it
// with 429 and Retry-After.
package limit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

	"github.com/batonhq/baton"
)

// Rate is N events per Per, as a token bucket: a burst of N, refilled at
// N/Per. The zero Rate is off (no limit).
type Rate struct {
	N   int
	Per time.Duration
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	return strconv.Itoa(r.N) + "/" + shortDuration(r.Per)
}

// shortDuration writes 1m for 1m0s and 1h for 1h0m0s, as config does.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (r Rate) limiter() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(r.N)/r.Per.Seconds()), r.N)
}

// DefaultMaxKeys bounds how many keys a Keyed limiter remembers.
const DefaultMaxKeys = 1 << 16

// Keyed is one token bucket per key (a visitor, a client address). A nil
// *Keyed allows everything. Buckets live in an LRU of at most MaxKeys;
// one unused for Per is full again, so dropping it then loses nothing.
type Keyed struct {
	name string
	rate Rate
	now  func() time.Time

	mu      sync.Mutex // makes get-or-create atomic per key
	buckets *expirable.LRU[string, *rate.Limiter]
}

// Options tune a limiter; the zero value is fine.
type Options struct {
	MaxKeys int              // [DefaultMaxKeys]
	Now     func() time.Time // [time.Now]
}

// NewKeyed returns a limiter of r per key, or nil (no limit) when r is off.
// name says what is limited in refusals ("web chat posts per visitor").
func NewKeyed(name string, r Rate, o Options) *Keyed {
	if r.Off() {
		return nil
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Keyed{name: name, rate: r, now: o.Now, buckets: expirable.NewLRU[string, *rate.Limiter](o.MaxKeys, nil, r.Per)}
}

// bucket returns key's bucket. Every use renews its time to live: an entry
// that expired while its key kept spending would come back full.
func (k *Keyed) bucket(key string) *rate.Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets.Get(key)
	if ok {
		k.buckets.Add(key, b) // an existing entry keeps its own key
		return b
	}
	// Keys come from request values (addresses, visitor ids) that the
	// web framework reuses once the request ends: the map keeps a copy.
	b = k.rate.limiter()
	k.buckets.Add(strings.Clone(key), b)
	return b
}

// Allow spends one token of key's bucket, or returns an ERATELIMITED error
// saying how long until one is there (and spends nothing).
func (k *Keyed) Allow(key string) error {
	if k == nil {
		return nil
	}
	now := k.now()
	b := k.bucket(key)
	if b.AllowN(now, 1) {
		return nil
	}
	// Refused: a reservation, given back at once, says how long until
	// a token is there.
	r := b.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return Refused(k.name, k.rate.String(), wait)
}

// Exceeded is the cause inside an ERATELIMITED error.
type Exceeded struct {
	Limit      string        // what is limited
	RetryAfter time.Duration // when trying again may succeed
}

func (e *Exceeded) Error() string {
	return fmt.Sprintf("%s: limit reached, retry after %d s", e.Limit, RetryAfterSeconds(e.RetryAfter))
}

// Refused is the error for a request over a limit: ERATELIMITED, saying
// what the limit is and when to retry, never the key (an address or a
// visitor id is personal data and may end up in a log line).
func Refused(name, limit string, retryAfter time.Duration) error {
	e := &Exceeded{Limit: name, RetryAfter: retryAfter}
	return &baton.Error{Code: baton.ERATELIMITED,
		Message: fmt.Sprintf("too many requests: %s is limited to %s; retry after %d s", name, limit, RetryAfterSeconds(retryAfter)),
		Err:     e}
}

// RetryAfter returns the wait carried by a refusal anywhere in err's chain.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Exceeded
	if errors.As(err, &e) {
		return e.RetryAfter, true
	}
	return 0, false
}

// RetryAfterSeconds is d in whole seconds for a Retry-After header, rounded
// up (a client that waits the rounded-down time would be refused again),
// and at least 1.
func RetryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		return 1
	}
	return s
}
