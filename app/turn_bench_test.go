package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/sqlite"
)

// The targets for one bot turn at 5,000 chunks.
const (
	turnP50Target = 5 * time.Millisecond
	turnP99Target = 15 * time.Millisecond
	turnTargetAt  = 5000
)

const demoDir = "../examples/sportshop"

// BenchmarkTurn times the turn job of the example bot, as `baton serve`
// builds it with app.New from examples/sportshop/baton.yaml (its intents,
// policy and order_status action, the offline analyser, the offline hash
// embedder; the action's order API on a loopback server), over a KB
// of exactly chunks=N chunks: the example KB plus generated FAQ-like
// articles. Each customer message is ingested through the app's web chat
// ingester and its turn job claimed outside the timing; what is timed is
// bots.Turns.HandleJob, the whole turn: transcript and memory read,
// analysis, policy, hybrid retrieval and answer, and the one transaction
// that stores the decision, the replies (with their delivery jobs), the
// packet, the move and the follow-up job. Replies are then delivered
// (outside the timing) so that every turn finds the store as a running
// server leaves it.
//
// Conversations are new web chat visitors who ask one question and then
// write a second message (another question, "that helped", "that did not
// help"), in English, Turkish and Russian: KB answers, order lookups,
// small talk, "did this help?" answered, escalations, and messages to
// conversations a person already owns all happen, as they do in real traffic (the log
// counts the bot's decisions). The figures are p50 and p99 of the turn in ms; at 5,000 chunks
// the log says whether they meet the targets (p50 ≤ 5 ms, p99 ≤ 15 ms).
//
// SQLite always; PostgreSQL when BATON_TEST_DATABASE_URL is set (the log
// says whether that cluster syncs its commits).
//
//	go test -run '^$' -bench 'Turn$/chunks=5000$' -benchtime 1x ./app/
func BenchmarkTurn(b *testing.B) {
	for _, n := range []int{turnTargetAt, 50000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := writeBenchKB(dir, n); err != nil {
				b.Fatal(err)
			}
			for _, sc := range turnStores() {
				b.Run(sc.name, func(b *testing.B) { benchTurns(b, sc, dir, n) })
			}
		})
	}
}

type turnStore struct {
	name string
	// open returns the store and, for PostgreSQL, a URL to maintain it.
	open func(b *testing.B) (baton.Store, string)
}

func turnStores() []turnStore {
	out := []turnStore{{"sqlite", func(b *testing.B) (baton.Store, string) {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "baton.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s, ""
	}}}
	if pgtest.Available() {
		out = append(out, turnStore{"postgres", func(b *testing.B) (baton.Store, string) {
			url := pgtest.Schema(b)
			s, err := postgres.Open(context.Background(), url, postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s, url
		}})
	}
	return out
}

func benchTurns(b *testing.B, sc turnStore, kbDir string, chunks int) {
	ctx := context.Background()
	st, pgURL := sc.open(b)
	cfg, err := config.Load(filepath.Join(demoDir, "baton.yaml"), config.MapEnv(map[string]string{"ORDER_API_URL": orderAPI(b)}))
	if err != nil {
		b.Fatal(err)
	}
	// The KB is imported below, with no time limit, rather than by
	// app.New (which bounds its start-up import).
	cfg.Bots[0].KB.Dir = ""
	bot := cfg.Bots[0].ID
	a, err := app.New(ctx, cfg, app.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	emb, err := app.Embedder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	rep, err := kb.Import(ctx, st, emb, bot, kbDir, kb.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if got := rep.Embedded + rep.Reused; got != chunks {
		b.Fatalf("imported %d chunks, want %d", got, chunks)
	}
	b.Logf("imported %d articles, %d chunks in %s", len(rep.Created), chunks, time.Since(t0).Round(time.Millisecond))
	if pgURL != "" {
		settlePostgres(b, pgURL)
	}

	turns := a.JobHandler(baton.JobTurn)
	chat := a.WebChat().(*webchat.Handler)
	site := chat.Sites[bot]
	var seq int
	// turn ingests one message of visitor, as the chat page posts it, and
	// returns the time its turn job took.
	turn := func(visitor, text string) time.Duration {
		seq++
		body, _ := json.Marshal(webchat.PostRequest{VisitorID: visitor, ClientMessageID: fmt.Sprintf("bench-%08d", seq), Text: text})
		in, err := webchat.ParsePost(bot, site, body, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		res, err := chat.Ingester.Ingest(ctx, st, in)
		if err != nil {
			b.Fatal(err)
		}
		if res.TurnJobID == 0 {
			b.Fatalf("message %q enqueued no turn", text)
		}
		j, err := st.ClaimJob(ctx, "bench", []string{baton.JobTurn}, time.Minute)
		if err != nil || j == nil || j.ID != res.TurnJobID {
			b.Fatalf("claimed %v (%v), want turn job %d", j, err, res.TurnJobID)
		}
		start := time.Now()
		err = turns.HandleJob(ctx, j)
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CompleteJob(ctx, j.ID, "bench"); err != nil {
			b.Fatal(err)
		}
		// Deliver the replies, as the workers would meanwhile.
		if _, err := a.RunJobs(ctx); err != nil {
			b.Fatal(err)
		}
		return took
	}
	rng := rand.New(rand.NewPCG(7, uint64(chunks)))
	visitors := 0
	// conversation is a new visitor's: every one is a new customer.
	conversation := func() []time.Duration {
		first := benchQuestions[rng.IntN(len(benchQuestions))]
		second := benchSecond(rng, first.lang)
		visitors++
		visitor := fmt.Sprintf("bench-visitor-%06d", visitors)
		return []time.Duration{turn(visitor, first.text), turn(visitor, second)}
	}
	// A few conversations first: the stores and the analyser load what
	// they cache on first use; the figures are for the steady state.
	for i := 0; i < 20; i++ {
		conversation()
	}
	const conversations = 300
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		lat = lat[:0]
		for i := 0; i < conversations; i++ {
			lat = append(lat, conversation()...)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p50, p99 := percentileOf(lat, 0.50), percentileOf(lat, 0.99)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(len(lat)), "turns")
	b.ReportMetric(0, "ns/op") // one op is hundreds of turns with untimed ingestion between them
	logDecisions(b, st, bot)
	if chunks == turnTargetAt {
		verdict := "met"
		if p50 > turnP50Target || p99 > turnP99Target {
			verdict = "NOT met"
		}
		b.Logf("target p50 ≤ %s, p99 ≤ %s: %s (p50 %.2f ms, p99 %.2f ms)", turnP50Target, turnP99Target, verdict, ms(p50), ms(p99))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentileOf is the nearest-rank percentile of sorted durations.
func percentileOf(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(len(sorted)-1, i))]
}

// settlePostgres does the work autovacuum would do minutes after a bulk
// import (mark the new rows all-visible, refresh the statistics), so that
// the figures are for the steady state rather than for autovacuum
// competing for the second core; and says how the cluster commits.
func settlePostgres(b *testing.B, url string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) chunks, chunk_postings, chunk_terms, chunk_corpus, articles`); err != nil {
		b.Fatal(err)
	}
	var fsync, sync string
	if err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &sync); err != nil {
		b.Fatal(err)
	}
	kind := "a durable cluster"
	if fsync != "on" || sync == "off" {
		kind = "a throwaway test cluster (commits not synced to disk)"
	}
	b.Logf("postgres: %s: fsync=%s synchronous_commit=%s", kind, fsync, sync)
}

// logDecisions says what the bot did on the timed turns, so that the
// figures are known to come from real answers, not from a bot that
// answers nothing.
func logDecisions(b *testing.B, st baton.Store, bot string) {
	ctx := context.Background()
	convs, err := st.ListConversations(ctx, baton.ConversationFilter{BotID: bot})
	if err != nil {
		b.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range convs {
		ds, err := st.ListDecisions(ctx, c.ID, 10)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range ds {
			count[d.Action]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, count[k]))
	}
	b.Logf("bot decisions (warm-up included): %s", strings.Join(parts, ", "))
}

type benchQuestion struct{ lang, text string }

// benchQuestions are what customers of the example shop ask first.
var benchQuestions = []benchQuestion{
	{"en", "How long does delivery take?"},
	{"en", "I forgot my password, how do I reset it?"},
	{"en", "my parcel arrived damaged, how do I send a photo"},
	{"en", "when will I get my refund"},
	{"en", "can I cancel my order"},
	{"en", "Do you ship to Germany?"},
	{"en", "I'm between two sizes in running shoes, which one should I pick?"},
	{"en", "Can I pay in instalments?"},
	{"en", "How do I start a return?"},
	{"en", "Is there a warranty on football boots?"},
	{"en", "can I use two promo codes on one order"},
	{"en", "I need to change the delivery address on my order"},
	{"en", "I was charged twice for the same order!"},
	{"en", "Can I collect my order from a store?"},
	{"en", "how do gift cards work"},
	{"en", "hi there"},
	{"en", "I want to talk to a real person please"},
	{"en", "where is my order 5512345? it's a week late"},
	{"en", "where is my order SS-10001?"},
	{"en", "has my order SS-10003 shipped yet"},
	{"en", "has my order shipped yet?"},
	{"en", "do you have express delivery"},
	{"en", "please delete my account and all my data"},
	{"en", "the tracking page shows nothing for my parcel"},
	{"en", "what payment methods do you accept"},
	{"en", "can I exchange my jacket for a bigger size"},
	{"en", "how do I measure my foot for boots"},
	{"tr", "Şifremi unuttum, nasıl sıfırlarım?"},
	{"tr", "Siparişimi iptal etmek istiyorum"},
	{"tr", "Kargo kaç günde gelir?"},
	{"tr", "İade nasıl yapılır?"},
	{"tr", "SS-10002 siparişim nerede?"},
	{"ru", "Как отменить заказ?"},
	{"ru", "Сколько идёт доставка?"},
	{"ru", "Когда вернут деньги за возврат?"},
	{"ru", "Как оформить возврат?"},
	{"ru", "Где мой заказ SS-10004?"},
}

// benchSecond is a customer's second message: another question, or an
// answer to "did this help?".
func benchSecond(rng *rand.Rand, lang string) string {
	yes := map[string]string{"en": "yes thanks, that helped", "tr": "evet, teşekkürler", "ru": "да, спасибо"}
	no := map[string]string{"en": "no, that doesn't answer my question", "tr": "hayır, işime yaramadı", "ru": "нет, это не помогло"}
	switch rng.IntN(3) {
	case 0:
		return yes[lang]
	case 1:
		return no[lang]
	}
	for {
		if q := benchQuestions[rng.IntN(len(benchQuestions))]; q.lang == lang {
			return q.text
		}
	}
}

// writeBenchKB writes the example KB and generated FAQ-like articles into
// dir, with exactly total chunks as kb.Import chunks them. The generated
// articles are built from the example KB's own headings and sentences
// (products named in them), so that keyword and vector search meet the
// word frequencies of real help articles, and common words ("order",
// "delivery", "refund") have the long posting lists they would have in a
// big KB.
func writeBenchKB(dir string, total int) error {
	docs, bad, err := kb.ParseDir(filepath.Join(demoDir, "kb"))
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return bad
	}
	n := 0
	var headings, sentences []string
	for _, d := range docs {
		cs, err := kb.Chunk(d.Article("bench", "bench"), kb.ChunkOptions{})
		if err != nil {
			return err
		}
		n += len(cs)
		if err := writeDoc(dir, d); err != nil {
			return err
		}
		if d.Language != "en" {
			continue
		}
		for _, line := range strings.Split(d.Body, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "#"):
				headings = append(headings, strings.TrimSpace(strings.TrimLeft(line, "#")))
			case line == "" || strings.HasPrefix(line, "|") || strings.HasPrefix(line, "```"):
			default:
				line = strings.TrimLeft(line, "-*0123456789. ")
				for _, s := range sentenceRE.FindAllString(line, -1) {
					if s = strings.TrimSpace(s); len(s) > 30 && !strings.Contains(s, "http") {
						sentences = append(sentences, s)
					}
				}
			}
		}
	}
	if n > total {
		return fmt.Errorf("the example KB alone has %d chunks, more than %d", n, total)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	for i := 0; n < total; i++ {
		product := pick(benchBrands) + " " + pick(benchProducts)
		// An intro and up to four sections: one chunk each.
		sections := min(4, total-n-1)
		var body strings.Builder
		fmt.Fprintf(&body, "This article is about the %s. %s %s\n", product, pick(sentences), pick(sentences))
		for s := 0; s < sections; s++ {
			fmt.Fprintf(&body, "\n## %s\n\n", pick(headings))
			fmt.Fprintf(&body, "For the %s: %s %s %s\n", product, pick(sentences), pick(sentences), pick(sentences))
		}
		d := &kb.Document{Title: product + ": " + strings.TrimSuffix(pick(headings), "?"), Slug: fmt.Sprintf("faq-%05d", i),
			Language: "en", Status: baton.ArticlePublished, Tags: []string{"faq"}, Body: body.String(),
			URL: fmt.Sprintf("https://help.stridesports.example/faq-%05d", i)}
		if err := d.Validate(); err != nil {
			return err
		}
		cs, err := kb.Chunk(d.Article("bench", "bench"), kb.ChunkOptions{})
		if err != nil {
			return err
		}
		if len(cs) != sections+1 {
			return fmt.Errorf("generated article %s has %d chunks, want %d", d.Slug, len(cs), sections+1)
		}
		n += len(cs)
		d.File = d.Slug + ".md"
		if err := writeDoc(dir, d); err != nil {
			return err
		}
	}
	return nil
}

var sentenceRE = regexp.MustCompile(`[^.!?]+[.!?]`)

// orderAPI serves the example shop's fictional orders
// (examples/sportshop/orders.json) on a loopback server, as `baton demo`
// does for the order_status action: GET /orders/{id} answers the order
// with every key present (null when it does not apply) and its dates
// counted from today, 404 an unknown number. It returns the base URL.
func orderAPI(b *testing.B) string {
	data, err := os.ReadFile(filepath.Join(demoDir, "orders.json"))
	if err != nil {
		b.Fatal(err)
	}
	var file struct {
		Orders []map[string]any `json:"orders"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		b.Fatal(err)
	}
	byID := map[string][]byte{}
	for _, o := range file.Orders {
		day := func(key string, sign int) any {
			if n, ok := o[key].(float64); ok {
				return time.Now().AddDate(0, 0, sign*int(n)).Format(time.DateOnly)
			}
			return nil
		}
		out, err := json.Marshal(map[string]any{"id": o["id"], "status": o["status"], "items": o["items"], "carrier": o["carrier"],
			"tracking_number": o["tracking_number"], "tracking_url": o["tracking_url"],
			"eta": day("eta_in_days", 1), "delivered_on": day("delivered_days_ago", -1), "cancelled_on": day("cancelled_days_ago", -1)})
		if err != nil {
			b.Fatal(err)
		}
		id, _ := o["id"].(string)
		byID[id] = out
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := orderIDRE.FindStringSubmatch(strings.TrimPrefix(r.URL.Path, "/orders/"))
		if m == nil || byID[strings.ToUpper(m[1])+"-"+m[2]] == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(byID[strings.ToUpper(m[1])+"-"+m[2]])
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// orderIDRE is an order number as customers write it (ss10001 is
// SS-10001).
var orderIDRE = regexp.MustCompile(`^([A-Za-z]{1,4})-?(\d{1,12})$`)

func writeDoc(dir string, d *kb.Document) error {
	data, err := kb.Render(d)
	if err != nil {
		return err
	}
	p := filepath.Join(dir, d.File)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

var benchBrands = []string{"Stride", "Apex", "Kinetic", "Summit", "Velo", "Trailhead", "Northline", "Pace", "Tempo", "Ridge",
	"Aero", "Core", "Flux", "Harbor", "Ignite", "Lumen", "Meridian", "Nimbus", "Orbit", "Pulse"}

var benchProducts = []string{"running shoes", "trail running shoes", "football boots", "rain jacket", "running tights", "yoga mat",
	"dumbbell set", "tennis racket", "cycling helmet", "road bike", "swim goggles", "hiking boots", "sports bra", "gym bag",
	"fitness tracker", "basketball", "training top", "ski gloves", "climbing harness", "resistance bands", "water bottle",
	"compression socks", "padel racket", "golf balls", "boxing gloves", "kettlebell", "foam roller", "rowing machine",
	"treadmill", "camping tent", "shin guards", "goalkeeper gloves", "cycling shorts", "running cap", "thermal base layer"}
