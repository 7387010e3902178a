package slack

import (
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/storecase"
)

// storeCase is one real store the tests run on.
type storeCase struct {
	name string
	open func(t testing.TB, clock baton.Clock) baton.Store
}

// stores is SQLite in a temporary directory, always, and PostgreSQL when
// the build has it and BATON_TEST_DATABASE_URL is set.
func stores() []storeCase {
	var out []storeCase
	for _, c := range storecase.All() {
		out = append(out, storeCase{c.Name, c.Open})
	}
	return out
}

// clock is a baton.Clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
