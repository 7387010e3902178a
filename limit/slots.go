package limit

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Slots bounds requests that stay open (reply streams): at most PerKey at
// once for one key and Total at once overall. A nil *Slots allows
// everything. Memory is one counter per key with an open slot, so it is
// bounded by Total.
type Slots struct {
	name, per     string
	perKey, total int
	retryAfter    time.Duration

	mu    sync.Mutex
	open  int
	byKey map[string]int
}

// NewSlots returns the slots, or nil when both bounds are 0 (off); a 0
// bound alone is not enforced. name says what is limited ("web chat reply
// streams") and per what a key is ("visitor"), for refusals. retryAfter is
// what a refusal suggests: an open request ends at a time nobody knows.
func NewSlots(name, per string, perKey, total int, retryAfter time.Duration) *Slots {
	if perKey <= 0 && total <= 0 {
		return nil
	}
	return &Slots{name: name, per: per, perKey: perKey, total: total, retryAfter: retryAfter, byKey: map[string]int{}}
}

// Acquire takes a slot for key. The release it returns gives it back; call
// it exactly when the request ends (calling it again does nothing). Over a
// bound, it returns an ERATELIMITED error and takes nothing.
func (s *Slots) Acquire(key string) (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.total > 0 && s.open >= s.total:
		return nil, Refused(s.name, strconv.Itoa(s.total)+" open at once in total", s.retryAfter)
	case s.perKey > 0 && s.byKey[key] >= s.perKey:
		return nil, Refused(s.name, strconv.Itoa(s.perKey)+" open at once per "+s.per, s.retryAfter)
	}
	// The key outlives the request it came from.
	key = strings.Clone(key)
	s.open++
	s.byKey[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.open--
			if s.byKey[key]--; s.byKey[key] <= 0 {
				delete(s.byKey, key)
			}
		})
	}, nil
}

// Open returns how many slots are taken, overall and by key.
func (s *Slots) Open(key string) (total, byKey int) {
	if s == nil {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open, s.byKey[key]
}
