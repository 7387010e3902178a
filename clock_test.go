package baton_test

import (
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestManualClock(t *testing.T) {
	istanbul := time.FixedZone("TRT", 3*60*60)
	start := time.Date(2026, 3, 2, 12, 0, 0, 123456789, istanbul)
	cases := []struct {
		name string
		run  func(c *baton.ManualClock) time.Time
		want time.Time
	}{
		{"starts in UTC at microsecond precision", func(c *baton.ManualClock) time.Time { return c.Now() }, time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)},
		{"advance", func(c *baton.ManualClock) time.Time { c.Advance(90 * time.Second); return c.Now() }, time.Date(2026, 3, 2, 9, 1, 30, 123456000, time.UTC)},
		{"set", func(c *baton.ManualClock) time.Time { c.Set(start.Add(time.Hour)); return c.Now() }, time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC)},
		{"concurrent advances all count", func(c *baton.ManualClock) time.Time {
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 100; i++ {
						c.Advance(time.Millisecond)
						_ = c.Now()
					}
				}()
			}
			wg.Wait()
			return c.Now()
		}, time.Date(2026, 3, 2, 9, 0, 0, 923456000, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.run(baton.NewManualClock(start))
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("got %v, want %v in UTC", got, tc.want)
			}
		})
	}
}
