package slack

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
)

// storeCase is one real store the tests run on.
type storeCase struct {
	name string
	open func(t testing.TB, clock baton.Clock) baton.Store
}

// stores is SQLite in a temporary directory, always, and PostgreSQL when
// the build has it and BATON_TEST_DATABASE_URL is set.
func stores() []storeCase {
	return append([]storeCase{{"sqlite", func(t testing.TB, clock baton.Clock) baton.Store {
		t.Helper()
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}}, moreStores()...)
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
