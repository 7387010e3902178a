package nlu

import (
	"context"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// messages in each of the ten languages, so that every language model is
// loaded before memory is read.
var tenMessages = []string{
	"Where is my order? It has been two weeks and nothing arrived",
	"Siparişim nerede? İki hafta oldu ve hâlâ gelmedi",
	"Где мой заказ? Прошло две недели, а его всё нет",
	"Wo ist meine Bestellung? Es sind zwei Wochen vergangen",
	"¿Dónde está mi pedido? Han pasado dos semanas",
	"Où est ma commande ? Cela fait deux semaines",
	"Onde está a minha encomenda? Já passaram duas semanas",
	"Dov'è il mio ordine? Sono passate due settimane",
	"أين طلبي؟ مرت أسبوعان ولم يصل شيء",
	"Waar is mijn bestelling? Het is al twee weken geleden",
}

// BenchmarkAnalyze is the whole offline analysis of one message with the
// 10-language demo bot; p50/p99 are over every message of the loop.
func BenchmarkAnalyze(b *testing.B) {
	a := analyzer(b)
	ctx := context.Background()
	for _, m := range tenMessages {
		a.Analyze(ctx, m, History{})
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := a.Analyze(ctx, tenMessages[i%len(tenMessages)], History{Language: "en"}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkResidentMemory builds what `baton serve` holds for language
// understanding of a 10-language bot (language models in low-accuracy mode,
// the Sportshop intent model, lexicons), runs a message in every language
// so that every model is loaded, and reports the process's resident set.
// The figure includes the test binary itself, so it is an upper bound.
func BenchmarkResidentMemory(b *testing.B) {
	var rss, hwm float64
	for b.Loop() {
		a, err := New(context.Background(), Config{Languages: tenMessagesLanguages, Intents: sportshop(b)})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range tenMessages {
			if _, err := a.Analyze(context.Background(), m, History{}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		rss, hwm = procStatus("VmRSS:"), procStatus("VmHWM:")
		runtime.KeepAlive(a)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(hwm, "peak-rss-MB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
}

var tenMessagesLanguages = []string{"en", "tr", "ru", "de", "es", "fr", "pt", "it", "ar", "nl"}

// procStatus reads a kB field of /proc/self/status in MB (0 where there
// is no /proc).
func procStatus(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
