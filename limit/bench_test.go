package limit

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkKeyedAllow: the cost a limited request pays, for one hot key
// and for a flood of distinct keys that keeps the LRU evicting.
func BenchmarkKeyedAllow(b *testing.B) {
	for _, bc := range []struct {
		name string
		keys int
	}{{"one key", 1}, {"100k keys over 64k slots", 100_000}} {
		b.Run(bc.name, func(b *testing.B) {
			k := NewKeyed("bench", Rate{N: 1_000_000, Per: time.Second}, Options{})
			keys := make([]string, bc.keys)
			for i := range keys {
				keys[i] = "10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = k.Allow(keys[i%len(keys)])
			}
		})
	}
}
