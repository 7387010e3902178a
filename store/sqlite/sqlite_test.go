package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
	"github.com/batonhq/baton/store/storetest"
)

func openTemp(t testing.TB, clock baton.Clock) *sqlite.Store {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "baton.db"), clock)
}

func openPath(t testing.TB, path string, clock baton.Clock) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func TestConformance(t *testing.T) {
	// The twin opens the same file again: SQLite's file locks, not the
	// first store's single write connection, keep the two apart, as they
	// would two processes.
	var (
		mu    sync.Mutex
		paths = map[baton.Store]string{}
	)
	storetest.Run(t, func(t *testing.T, clock baton.Clock) baton.Store {
		path := filepath.Join(t.TempDir(), "baton.db")
		st := openPath(t, path, clock)
		mu.Lock()
		defer mu.Unlock()
		paths[st] = path
		return st
	}, storetest.WithTwin(func(t *testing.T, first baton.Store, clock baton.Clock) baton.Store {
		mu.Lock()
		path, ok := paths[first]
		mu.Unlock()
		if !ok {
			t.Fatal("twin of a store the suite did not open")
		}
		return openPath(t, path, clock)
	}))
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) baton.Store { return openTemp(b, nil) })
}

func BenchmarkAssign(b *testing.B) {
	storetest.BenchAssign(b, func(b *testing.B) baton.Store { return openTemp(b, nil) })
}
