package intent

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"
)

// BenchmarkClassify trains on the committed Banking77 80 % split once and
// classifies the held-out 20 % in turn; p50/p99 are over every call.
func BenchmarkClassify(b *testing.B) {
	read := func(path string) []Example {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		ex, err := ReadCSV(f)
		if err != nil {
			b.Fatal(err)
		}
		return ex
	}
	m, err := Train(context.Background(), read("../testdata/banking77/train80.csv"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	test := read("../testdata/banking77/heldout20.csv")
	lat := make([]time.Duration, 0, 1<<16)
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		m.Classify(test[i%len(test)].Text)
		lat = append(lat, time.Since(t0))
		i++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
