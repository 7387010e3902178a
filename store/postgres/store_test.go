package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/storetest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestWrapErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"no rows", pgx.ErrNoRows, baton.ENOTFOUND},
		{"unique", &pgconn.PgError{Code: "23505"}, baton.ECONFLICT},
		{"foreign key", &pgconn.PgError{Code: "23503"}, baton.ENOTFOUND},
		{"not null", &pgconn.PgError{Code: "23502"}, baton.EINVALID},
		{"bad text representation", &pgconn.PgError{Code: "22P02"}, baton.EINVALID},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, baton.EUNAVAILABLE},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, baton.EUNAVAILABLE},
		{"connection failure", &pgconn.PgError{Code: "08006"}, baton.EUNAVAILABLE},
		{"syntax error is a bug", &pgconn.PgError{Code: "42601"}, baton.EINTERNAL},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), baton.EUNAVAILABLE},
		{"domain error passes", baton.Errorf(baton.EFORBIDDEN, "no"), baton.EFORBIDDEN},
		{"anything else", errors.New("boom"), baton.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapErr(tt.err, "op")
			if got := baton.ErrorCode(err); got != tt.want {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.want, err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("cause lost: %v", err)
			}
		})
	}
}

func TestTextSearchConfig(t *testing.T) {
	tests := map[string]string{
		"en": "english", "EN": "english", "en-GB": "english", "pt_BR": "portuguese", "tr": "turkish", "ru": "russian",
		"de": "german", "es": "spanish", "fr": "french", "it": "italian", "nl": "dutch", "ja": "simple", "": "simple",
	}
	for lang, want := range tests {
		if got := textSearchConfig(lang); got != want {
			t.Errorf("textSearchConfig(%q) = %q, want %q", lang, got, want)
		}
	}
}

func TestQueryWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`refund" OR (*) NEAR/2 -`, []string{"refund", "OR", "NEAR", "2"}},
		{"text:refund", []string{"text", "refund"}},
		{"Sipariş'im nerede?", []string{"Sipariş", "im", "nerede"}},
		{`"*()-:^`, nil},
		{strings.Repeat("a ", 100), strings.Fields(strings.Repeat("a ", maxQueryWords))},
	}
	for _, tt := range tests {
		got := queryWords(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("queryWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	t.Run("malformed URL does not echo the password", func(t *testing.T) {
		_, err := Open(ctx, "postgres://u:s3cret@[::1:5432/db", Options{})
		if baton.ErrorCode(err) != baton.EINVALID {
			t.Fatalf("code = %q (%v), want invalid", baton.ErrorCode(err), err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error leaks the password: %v", err)
		}
	})
	t.Run("unreachable server is unavailable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := Open(ctx, "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2", Options{})
		if baton.ErrorCode(err) != baton.EUNAVAILABLE {
			t.Fatalf("code = %q (%v), want unavailable", baton.ErrorCode(err), err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error leaks the password: %v", err)
		}
	})
}

// TestMigrateConcurrently starts several stores on one empty schema at once,
// as replicas of `baton serve` do: the advisory lock lets one migrate and
// the others find the schema ready.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.Schema(t)
	ctx := testCtx(t)
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*Store, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, url, Options{})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, len(ms))
	}
	for i, s := range stores {
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("store %d Ping: %v", i, err)
		}
	}
}

func TestPingBeforeMigration(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	if _, err := st.pool.Exec(ctx, `DELETE FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if code := baton.ErrorCode(st.Ping(ctx)); code != baton.EUNAVAILABLE {
		t.Fatalf("Ping on an unmigrated schema = %q, want unavailable", code)
	}
}

// TestKeywordLanguages checks that each language's chunks are stemmed with
// its own configuration: an inflected form in the text matches the base
// form in the question, with and without a language filter.
func TestKeywordLanguages(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	tests := []struct {
		lang, text, query string
		match             bool
	}{
		{"en", "Refunds are processed within five days", "refund", true},
		{"de", "Rücksendungen werden schnell bearbeitet", "Rücksendung", true},
		{"tr", "Siparişleriniz kargoya verildi", "sipariş", true},
		{"ru", "Возвраты обрабатываются быстро", "возврат", true},
		{"es", "Los reembolsos tardan cinco días", "reembolso", true},
		{"fr", "Les remboursements prennent cinq jours", "remboursement", true},
		{"pt", "Os reembolsos demoram cinco dias", "reembolso", true},
		{"it", "I rimborsi richiedono cinque giorni", "rimborso", true},
		{"nl", "Terugbetalingen duren vijf dagen", "terugbetaling", true},
		// No stemmer for Japanese: 'simple' matches whole words only.
		{"ja", "refunds policy", "refund", false},
		{"ja", "refunds policy", "refunds", true},
	}
	for i, tt := range tests {
		a := &baton.Article{BotID: "shop", Slug: fmt.Sprintf("a%d", i), Title: tt.lang, Language: tt.lang, Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: tt.text}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, tt := range tests {
		t.Run(tt.lang+"/"+tt.query, func(t *testing.T) {
			slug := fmt.Sprintf("a%d", i)
			for _, lang := range []string{tt.lang, ""} {
				hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Language: lang, Text: tt.query, K: 20})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, h := range hits {
					found = found || h.Slug == slug
				}
				if found != tt.match {
					t.Errorf("language filter %q: found = %v, want %v (hits %d)", lang, found, tt.match, len(hits))
				}
			}
		})
	}
}

// seedVectors stores n published chunks of dimension dim with seeded
// random embeddings and returns them by chunk id.
func seedVectors(t testing.TB, st *Store, n, dim int, seed uint64) map[int64][]float32 {
	t.Helper()
	ctx := testCtx(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	out := map[int64][]float32{}
	const perArticle = 250
	for start := 0; start < n; start += perArticle {
		a := &baton.Article{BotID: "shop", Slug: fmt.Sprintf("v%d-%d", dim, start), Title: "t", Language: "en", Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		var chunks []baton.Chunk
		for i := start; i < start+perArticle && i < n; i++ {
			chunks = append(chunks, baton.Chunk{Ord: i - start, Text: fmt.Sprintf("chunk %d", i), Model: "m", Embedding: randomVector(rng, dim)})
		}
		if err := st.ReplaceChunks(ctx, a.ID, chunks); err != nil {
			t.Fatal(err)
		}
		for _, c := range chunks {
			out[c.ID] = c.Embedding
		}
	}
	return out
}

func randomVector(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// exactTopK is the ground truth: the k chunk ids most similar to q.
func exactTopK(vecs map[int64][]float32, q []float32, k int) []int64 {
	type scored struct {
		id int64
		s  float64
	}
	all := make([]scored, 0, len(vecs))
	for id, v := range vecs {
		all = append(all, scored{id, cosine(q, v)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s || (all[i].s == all[j].s && all[i].id < all[j].id) })
	ids := make([]int64, 0, k)
	for _, s := range all[:k] {
		ids = append(ids, s.id)
	}
	return ids
}

// TestVectorIndex checks that storing chunks of a new dimension creates its
// partial HNSW index and that the search query is one the planner answers
// from that index.
func TestVectorIndex(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	seedVectors(t, st, 300, 16, 1)
	seedVectors(t, st, 20, 3, 2)
	if _, err := st.pool.Exec(ctx, `ANALYZE chunks`); err != nil {
		t.Fatal(err)
	}
	rows, err := st.pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'chunks_embedding_hnsw_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "chunks_embedding_hnsw_16,chunks_embedding_hnsw_3" {
		t.Fatalf("vector indexes = %v, want one per dimension (16, 3)", names)
	}

	tests := []struct {
		dim   int
		index string
	}{{16, "chunks_embedding_hnsw_16"}, {3, "chunks_embedding_hnsw_3"}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.dim), func(t *testing.T) {
			q := randomVector(rand.New(rand.NewPCG(9, 9)), tt.dim)
			err := pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
				// Small tables favour exact plans; forbid them to see
				// whether the index can answer the query at all.
				if _, err := tx.Exec(ctx, forceIndexSQL); err != nil {
					return err
				}
				plan, err := explain(ctx, st, tx, tt.dim, q)
				if err != nil {
					return err
				}
				if !strings.Contains(plan, "Index Scan using "+tt.index+" ") {
					t.Errorf("plan does not use %s:\n%s", tt.index, plan)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVectorRecall measures recall@10 of the HNSW search against exact
// search, with sequential scans disabled so that the index answers.
func TestVectorRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 3000 vectors")
	}
	const (
		n       = 3000
		dim     = 64
		queries = 40
		k       = 10
	)
	st, vecs := openForcedIndex(t, n, dim, 3)
	rng := rand.New(rand.NewPCG(4, 4))
	recall := vectorRecall(t, st, vecs, rng, queries, k)
	t.Logf("recall@%d over %d queries on %d vectors of %d dimensions: %.3f", k, queries, n, dim, recall)
	if recall < 0.95 {
		t.Fatalf("recall@%d = %.3f, want >= 0.95", k, recall)
	}
}

func vectorRecall(t testing.TB, st *Store, vecs map[int64][]float32, rng *rand.Rand, queries, k int) float64 {
	t.Helper()
	ctx := testCtx(t)
	dim := 0
	for _, v := range vecs {
		dim = len(v)
		break
	}
	found, total := 0, 0
	for i := 0; i < queries; i++ {
		q := randomVector(rng, dim)
		hits, err := st.SearchVector(ctx, baton.ChunkQuery{BotID: "shop", Model: "m", Embedding: q, K: k})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]bool{}
		for _, id := range exactTopK(vecs, q, k) {
			want[id] = true
		}
		for _, h := range hits {
			if want[h.ID] {
				found++
			}
			if d := math.Abs(h.Score - cosine(q, vecs[h.ID])); d > 1e-5 {
				t.Errorf("chunk %d score %v, exact cosine %v", h.ID, h.Score, cosine(q, vecs[h.ID]))
			}
		}
		total += k
	}
	return float64(found) / float64(total)
}

// TestClaimTimersRace stresses the READ COMMITTED race the conversation
// lock closes: timers of a conversation fall due while later jobs of the
// same conversation are being claimed, with many claimers at once. Two jobs
// of one conversation must never be held together.
func TestClaimTimersRace(t *testing.T) {
	clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := openStore(t, clock)
	ctx := testCtx(t)
	const (
		convs   = 30
		workers = 8
	)
	total := 0
	for c := int64(1); c <= convs; c++ {
		// A timer that falls due a little later, then two due jobs.
		for _, j := range []*baton.Job{
			{Kind: baton.JobSLA, ConversationID: c, RunAt: clock.Now().Add(time.Duration(c) * time.Millisecond)},
			{Kind: baton.JobTurn, ConversationID: c},
			{Kind: baton.JobDeliver, ConversationID: c},
		} {
			if _, err := st.Enqueue(ctx, j); err != nil {
				t.Fatal(err)
			}
			total++
		}
	}
	var (
		mu      sync.Mutex
		held    = map[int64]int64{}
		done    int
		wg      sync.WaitGroup
		failure = make(chan string, 100)
	)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
				clock.Advance(time.Millisecond)
			}
		}
	}()
	defer close(stop)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for idle := 0; idle < 400; {
				mu.Lock()
				finished := done == total
				mu.Unlock()
				if finished {
					return
				}
				j, err := st.ClaimJob(ctx, owner, nil, time.Hour)
				if err != nil {
					failure <- err.Error()
					return
				}
				if j == nil {
					idle++
					time.Sleep(200 * time.Microsecond)
					continue
				}
				mu.Lock()
				if other, busy := held[j.ConversationID]; busy {
					failure <- fmt.Sprintf("conversation %d: job %d claimed while job %d is held", j.ConversationID, j.ID, other)
				}
				held[j.ConversationID] = j.ID
				mu.Unlock()
				time.Sleep(100 * time.Microsecond)
				mu.Lock()
				delete(held, j.ConversationID)
				done++
				mu.Unlock()
				if err := st.CompleteJob(ctx, j.ID, owner); err != nil {
					failure <- err.Error()
					return
				}
			}
		}(fmt.Sprintf("w%d", w))
	}
	wg.Wait()
	close(failure)
	for f := range failure {
		t.Error(f)
	}
	if done != total {
		t.Fatalf("%d of %d jobs done", done, total)
	}
}

// TestVectorSearchPlan: the store, not the planner, picks how a vector
// search runs where the planner is known to pick badly: the HNSW index for
// a bot whose chunks are most of the index (the planner, costing the index
// at ef_search 400, preferred to compare every chunk, reading each
// embedding out of line), exact comparison among a few chunks.
func TestVectorSearchPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 1,500 vectors")
	}
	const dim = 64
	st := openStore(t, nil)
	ctx := testCtx(t)
	seedVectors(t, st, 1500, dim, 9) // bot shop, English
	a := &baton.Article{BotID: "shop", Slug: "tr", Title: "t", Language: "tr", Status: baton.ArticlePublished}
	if err := st.CreateArticleVersion(ctx, a); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var few []baton.Chunk
	for i := 0; i < 30; i++ {
		few = append(few, baton.Chunk{Ord: i, Text: fmt.Sprintf("parça %d", i), Model: "m", Embedding: randomVector(rng, dim)})
	}
	if err := st.ReplaceChunks(ctx, a.ID, few); err != nil {
		t.Fatal(err)
	}
	if _, err := st.pool.Exec(ctx, `ANALYZE chunks, articles, chunk_corpus`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang string
		want vectorPlan
	}{{"en", planIndex}, {"", planIndex}, {"tr", planExact}} {
		t.Run("language="+tc.lang, func(t *testing.T) {
			q := baton.ChunkQuery{BotID: "shop", Model: "m", Language: tc.lang, Embedding: randomVector(rng, dim), K: 30}
			b, plan, err := st.vectorSearchBatch(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if plan != tc.want {
				t.Fatalf("plan %d, want %d", plan, tc.want)
			}
			last := b.QueuedQueries[len(b.QueuedQueries)-1]
			last.SQL = "EXPLAIN " + last.SQL
			br := st.pool.SendBatch(ctx, b)
			defer br.Close()
			for i := 1; i < b.Len(); i++ {
				if _, err := br.Exec(); err != nil {
					t.Fatal(err)
				}
			}
			rows, err := br.Query()
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			explained := strings.Join(lines, "\n")
			if index := strings.Contains(explained, "Index Scan using "+hnswIndexName(dim)+" "); index != (tc.want == planIndex) {
				t.Fatalf("uses the HNSW index: %v, want %v:\n%s", index, tc.want == planIndex, explained)
			}
			if strings.Contains(explained, "JIT") {
				t.Fatalf("JIT compiles the search:\n%s", explained)
			}
			hits, err := st.SearchVector(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 30 {
				t.Fatalf("%d hits, want 30", len(hits))
			}
		})
	}
}

// forceIndexSQL leaves the planner only the HNSW index for the inner,
// distance-ordered query.
const forceIndexSQL = `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off`

// forceIndexParams are the same settings as connection parameters.
const forceIndexParams = "&enable_seqscan=off&enable_bitmapscan=off&enable_sort=off"

func explain(ctx context.Context, st *Store, q querier, dim int, v []float32) (string, error) {
	rows, err := q.Query(ctx, `EXPLAIN `+st.vector.vectorSearchSQL(dim, false), vectorArgs(v, "shop", "m", "", 10)...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// openForcedIndex opens a store whose connections can only answer vector
// queries from the HNSW index, seeds it and checks the plan.
func openForcedIndex(t testing.TB, n, dim int, seed uint64) (*Store, map[int64][]float32) {
	t.Helper()
	st := openURL(t, pgtest.Schema(t)+forceIndexParams, nil)
	vecs := seedVectors(t, st, n, dim, seed)
	ctx := testCtx(t)
	if _, err := st.pool.Exec(ctx, `ANALYZE chunks`); err != nil {
		t.Fatal(err)
	}
	plan, err := explain(ctx, st, st.pool, dim, randomVector(rand.New(rand.NewPCG(seed, seed)), dim))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "Index Scan using "+hnswIndexName(dim)+" ") {
		t.Fatalf("plan does not use the HNSW index:\n%s", plan)
	}
	return st, vecs
}

func vectorArgs(q []float32, bot, model, lang string, k int) []any {
	return vectorSearchArgs(baton.ChunkQuery{BotID: bot, Model: model, Language: lang, Embedding: q}, k)
}

// BenchmarkVectorSearch reports HNSW query throughput and recall@10 on
// 3000 random 64-dimension vectors.
func BenchmarkVectorSearch(b *testing.B) {
	st, vecs := openForcedIndex(b, 3000, 64, 5)
	rng := rand.New(rand.NewPCG(6, 6))
	recall := vectorRecall(b, st, vecs, rng, 40, 10)
	ctx := testCtx(b)
	qs := make([][]float32, 64)
	for i := range qs {
		qs[i] = randomVector(rng, 64)
	}
	b.ResetTimer()
	began := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := st.SearchVector(ctx, baton.ChunkQuery{BotID: "shop", Model: "m", Embedding: qs[i%len(qs)], K: 10}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "queries/s")
	b.ReportMetric(recall, "recall@10")
}

// TestClaimInsideTx claims inside a caller's transaction: the claim commits
// or rolls back with it, and the conversation rule holds across the
// transaction and the pool.
func TestClaimInsideTx(t *testing.T) {
	clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := openStore(t, clock)
	ctx := testCtx(t)
	first := &baton.Job{Kind: baton.JobTurn, ConversationID: 7}
	second := &baton.Job{Kind: baton.JobTurn, ConversationID: 7}
	free := &baton.Job{Kind: baton.JobSlack}
	for _, j := range []*baton.Job{first, second, free} {
		if _, err := st.Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	tests := []struct {
		name   string
		commit bool
		want   int64
		status baton.JobStatus
	}{
		{"rolled back claim leaves the job pending", false, first.ID, baton.JobPending},
		{"committed claim holds the job", true, first.ID, baton.JobRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.Tx(ctx, func(tx baton.Store) error {
				j, err := tx.ClaimJob(ctx, "w-tx", nil, time.Minute)
				if err != nil {
					return err
				}
				if j == nil || j.ID != tt.want {
					return fmt.Errorf("claimed %+v, want job %d", j, tt.want)
				}
				if !tt.commit {
					return boom
				}
				return nil
			})
			if tt.commit && err != nil || !tt.commit && !errors.Is(err, boom) {
				t.Fatalf("Tx: %v", err)
			}
			got, err := st.GetJob(ctx, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.status {
				t.Fatalf("status = %s, want %s", got.Status, tt.status)
			}
		})
	}
	t.Run("the held conversation blocks claims in and out of transactions", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			j, err := tx.ClaimJob(ctx, "w-tx", []string{baton.JobTurn}, time.Minute)
			if err != nil || j != nil {
				return fmt.Errorf("claimed %+v (%v), want nothing while job %d holds conversation 7", j, err, first.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		j, err := st.ClaimJob(ctx, "w-pool", nil, time.Minute)
		if err != nil || j == nil || j.ID != free.ID {
			t.Fatalf("pool claim = %+v (%v), want the free job %d", j, err, free.ID)
		}
		if j, err := st.ClaimJob(ctx, "w-pool", nil, time.Minute); err != nil || j != nil {
			t.Fatalf("pool claim = %+v (%v), want nothing", j, err)
		}
	})
}

// TestClaimWhileAnotherClaimIsUncommitted is the READ COMMITTED race made
// deterministic: one claimer has claimed a conversation's due job but not
// committed; a timer of the same conversation, earlier in id order, falls
// due. A second claimer must not see the timer as free: the uncommitted
// claim is invisible to its snapshot, the conversation lock is not.
func TestClaimWhileAnotherClaimIsUncommitted(t *testing.T) {
	clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := openStore(t, clock)
	ctx := testCtx(t)
	timer := &baton.Job{Kind: baton.JobSLA, ConversationID: 7, RunAt: clock.Now().Add(time.Minute)}
	turn := &baton.Job{Kind: baton.JobTurn, ConversationID: 7}
	for _, j := range []*baton.Job{timer, turn} {
		if _, err := st.Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	err := st.Tx(ctx, func(tx baton.Store) error {
		j, err := tx.ClaimJob(ctx, "a", nil, time.Hour)
		if err != nil {
			return err
		}
		if j == nil || j.ID != turn.ID {
			return fmt.Errorf("first claim = %+v, want the due turn %d", j, turn.ID)
		}
		clock.Advance(time.Minute)
		other, err := st.ClaimJob(ctx, "b", nil, time.Hour)
		if err != nil {
			return err
		}
		if other != nil {
			return fmt.Errorf("claimed job %d of conversation 7 while job %d is being claimed", other.ID, turn.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if j, err := st.ClaimJob(ctx, "b", nil, time.Hour); err != nil || j != nil {
		t.Fatalf("claim while the turn runs = %+v (%v), want nothing", j, err)
	}
	if err := st.CompleteJob(ctx, turn.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if j, err := st.ClaimJob(ctx, "b", nil, time.Hour); err != nil || j == nil || j.ID != timer.ID {
		t.Fatalf("claim after the turn = %+v (%v), want the timer %d", j, err, timer.ID)
	}
}

// TestMigrateAppliesOnlyPending rolls the schema back to version 1 by hand
// and checks that Migrate brings it forward again without re-running 1.
func TestMigrateAppliesOnlyPending(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	if _, err := st.pool.Exec(ctx, `DROP TABLE gaps, chunk_terms, chunk_corpus, chunk_postings, article_sources, decisions, handoff_packets, csat, agent_tokens, slack_threads, slack_events;
		DROP INDEX jobs_finished, conversations_open_agent, conversations_bot_created, conversations_created, jobs_lane_live, jobs_lane_running;
		ALTER TABLE jobs DROP COLUMN lane;
		ALTER TABLE conversations DROP COLUMN queued_at, DROP COLUMN assigned_at, DROP COLUMN first_response_due, DROP COLUMN next_response_due,
			DROP COLUMN first_agent_reply_at, DROP COLUMN last_agent_reply_at, DROP COLUMN resolutions;
		ALTER TABLE agents DROP COLUMN last_assigned_at;
		DELETE FROM schema_migrations WHERE version > 1`); err != nil {
		t.Fatal(err)
	}
	if code := baton.ErrorCode(st.Ping(ctx)); code != baton.EUNAVAILABLE {
		t.Fatalf("Ping behind the code = %q, want unavailable", code)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping after Migrate: %v", err)
	}
	if err := st.RecordGap(ctx, &baton.Gap{BotID: "shop", Question: "q", Reason: baton.GapUnanswered}); err != nil {
		t.Fatalf("gaps table not back: %v", err)
	}
	if _, err := st.ListDecisions(ctx, 1, 0); err != nil {
		t.Fatalf("decisions table not back: %v", err)
	}
}

// TestKeywordRanking checks the BM25 scoring: a rare word outweighs a common
// one repeated, and a repeated query word counts once.
func TestKeywordRanking(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	texts := map[string]string{
		"refund":  "Your refund reaches the card within days.",
		"express": "Express parcels arrive in two working days, working days only, days counted from dispatch.",
		"filler1": "Standard parcels take five days.",
		"filler2": "Pickup points keep parcels for ten days.",
		"filler3": "Lockers keep parcels for three days.",
	}
	for slug, text := range texts {
		a := &baton.Article{BotID: "shop", Slug: slug, Title: slug, Language: "en", Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: text}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		query string
		first string
	}{
		{"refund to my card, how many working days", "refund"},
		{"refund refund refund days", "refund"},
		{"working days", "express"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Language: "en", Text: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].Slug != tt.first {
				var got []string
				for _, h := range hits {
					got = append(got, fmt.Sprintf("%s=%.3f", h.Slug, h.Score))
				}
				t.Fatalf("hits %v, want %s first", got, tt.first)
			}
			if hits[0].Score <= 0 {
				t.Fatalf("score %v, want positive", hits[0].Score)
			}
		})
	}
}

// TestTxPanic checks that a panic inside Tx rolls the transaction back and
// returns its connection to the pool in a usable state.
func TestTxPanic(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	id := baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWebChat, Address: "v-panic"}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not propagate")
			}
		}()
		_ = st.Tx(ctx, func(tx baton.Store) error {
			if _, err := tx.UpsertCustomerByIdentity(ctx, id, ""); err != nil {
				return err
			}
			panic("handler bug")
		})
	}()
	if _, err := st.GetIdentity(ctx, "shop", baton.ChannelWebChat, "v-panic"); baton.ErrorCode(err) != baton.ENOTFOUND {
		t.Fatalf("write of the panicking transaction visible: %v", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("store unusable after a panic: %v", err)
	}
}

// keywordIndexDrift counts the rows where the keyword index tables kept by
// ReplaceChunks differ from a recount over the chunks themselves.
const keywordIndexDrift = `
	WITH terms AS (
		SELECT c.bot_id, c.language, l.lexeme, count(*)::int AS df
		FROM chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv)) AS l(lexeme) GROUP BY 1, 2, 3
	), corpus AS (
		SELECT bot_id, language, tsconfig, count(*)::bigint AS chunks, sum(lexemes)::bigint AS lexemes FROM chunks GROUP BY 1, 2, 3
	), postings AS (
		SELECT c.bot_id, c.language, u.lexeme, c.id AS chunk_id, c.article_id, greatest(cardinality(u.positions), 1) AS tf, c.lexemes AS len
		FROM chunks c CROSS JOIN LATERAL unnest(c.tsv) AS u
	)
	SELECT
		(SELECT count(*) FROM ((SELECT * FROM terms EXCEPT SELECT * FROM chunk_terms WHERE df <> 0)
			UNION ALL (SELECT * FROM chunk_terms WHERE df <> 0 EXCEPT SELECT * FROM terms)) x),
		(SELECT count(*) FROM ((SELECT * FROM corpus EXCEPT SELECT * FROM chunk_corpus WHERE chunks <> 0)
			UNION ALL (SELECT * FROM chunk_corpus WHERE chunks <> 0 EXCEPT SELECT * FROM corpus)) x),
		(SELECT count(*) FROM ((SELECT * FROM postings EXCEPT SELECT * FROM chunk_postings)
			UNION ALL (SELECT * FROM chunk_postings EXCEPT SELECT * FROM postings)) x),
		(SELECT count(*) FROM chunk_postings)`

// TestKeywordIndexFollowsChunks checks that the postings, document
// frequencies and corpus sizes that keyword search ranks from always equal
// a recount over the chunks: after first imports, replacements with other
// text, fewer chunks, none, new versions, other languages, and imports of
// many articles into one bot at once (the writers share frequent words).
func TestKeywordIndexFollowsChunks(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	newArticle := func(t *testing.T, bot, slug, lang string) int64 {
		t.Helper()
		a := &baton.Article{BotID: bot, Slug: slug, Title: slug, Language: lang, Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	chunks := func(texts ...string) []baton.Chunk {
		out := make([]baton.Chunk, len(texts))
		for i, s := range texts {
			out[i] = baton.Chunk{Ord: i, Text: s}
		}
		return out
	}
	refund := newArticle(t, "shop", "refund", "en")
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"first import", func(t *testing.T) {
			if err := st.ReplaceChunks(ctx, refund, chunks("Refunds reach the card in five days.", "Refunds of refunds: days and days.")); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by other text and fewer chunks", func(t *testing.T) {
			if err := st.ReplaceChunks(ctx, refund, chunks("Store credit arrives at once.")); err != nil {
				t.Fatal(err)
			}
		}},
		{"other languages and bots", func(t *testing.T) {
			if err := st.ReplaceChunks(ctx, newArticle(t, "shop", "iade", "tr"), chunks("İade kartınıza beş günde ulaşır.")); err != nil {
				t.Fatal(err)
			}
			if err := st.ReplaceChunks(ctx, newArticle(t, "other", "refund", "en"), chunks("Refunds take a week here.")); err != nil {
				t.Fatal(err)
			}
		}},
		{"new version keeps the old one's chunks", func(t *testing.T) {
			if err := st.ReplaceChunks(ctx, newArticle(t, "shop", "refund", "en"), chunks("Refunds reach the card in three days.")); err != nil {
				t.Fatal(err)
			}
		}},
		{"emptied", func(t *testing.T) {
			if err := st.ReplaceChunks(ctx, refund, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"concurrent imports into one bot", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 16 {
				id := newArticle(t, "shop", fmt.Sprintf("bulk-%d", i), "en")
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := range 3 {
						text := fmt.Sprintf("Parcels and refunds and days, round %d of article %d; returns within thirty days.", round, i)
						if err := st.ReplaceChunks(ctx, id, chunks(text, "Days, parcels, refunds.")); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t)
			var terms, corpus, postings, total int64
			if err := st.pool.QueryRow(ctx, keywordIndexDrift).Scan(&terms, &corpus, &postings, &total); err != nil {
				t.Fatal(err)
			}
			if terms != 0 || corpus != 0 || postings != 0 {
				t.Fatalf("rows differing from a recount: %d document frequencies, %d corpus sizes, %d postings", terms, corpus, postings)
			}
			if total == 0 && tt.name != "emptied" {
				t.Fatal("no postings at all: the recount compares nothing")
			}
		})
	}
}

// TestKeywordPlanWithStaleStatistics checks that a keyword search reads
// each query word's postings by index, however out of date the planner's
// statistics are. A bot added after the last ANALYZE looks empty to the
// planner; a plan built on that estimate read all of the bot's postings
// and filtered them against the words, which on a real KB costs tens of
// milliseconds per question.
func TestKeywordPlanWithStaleStatistics(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	rng := rand.New(rand.NewPCG(5, 5))
	seed := func(bot string, articles, perArticle int) {
		for i := range articles {
			a := &baton.Article{BotID: bot, Slug: fmt.Sprintf("a%d", i), Title: "t", Language: "en", Status: baton.ArticlePublished}
			if err := st.CreateArticleVersion(ctx, a); err != nil {
				t.Fatal(err)
			}
			chunks := make([]baton.Chunk, perArticle)
			for j := range chunks {
				words := make([]string, 12)
				for w := range words {
					words[w] = fmt.Sprintf("word%d", rng.IntN(400))
				}
				chunks[j] = baton.Chunk{Ord: j, Text: strings.Join(words, " ")}
			}
			if err := st.ReplaceChunks(ctx, a.ID, chunks); err != nil {
				t.Fatal(err)
			}
		}
	}
	seed("big", 40, 25)
	if _, err := st.pool.Exec(ctx, `ANALYZE chunks, articles, chunk_postings, chunk_terms, chunk_corpus`); err != nil {
		t.Fatal(err)
	}
	seed("small", 2, 5)
	var analyzed bool
	if err := st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stats WHERE tablename = 'chunk_postings' AND schemaname = current_schema()
		AND attname = 'bot_id' AND 'small' = ANY(most_common_vals::text::text[]))`).Scan(&analyzed); err != nil {
		t.Fatal(err)
	}
	if analyzed {
		t.Fatal("the statistics already know the small bot; the test needs them stale")
	}
	rows, err := st.pool.Query(ctx, `EXPLAIN `+keywordSQL(), "small", "en", []string{"word1", "word2", "word3"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	scans := 0
	for i, l := range lines {
		if !strings.Contains(l, " on chunk_postings ") {
			continue
		}
		scans++
		if i+1 >= len(lines) || !strings.Contains(lines[i+1], "Index Cond:") || !strings.Contains(lines[i+1], "lexeme") {
			t.Fatalf("postings are not looked up by word:\n%s", plan)
		}
	}
	if scans == 0 {
		t.Fatalf("no index scan on chunk_postings:\n%s", plan)
	}
}

// TestKeywordPublishedCheckIsHashed: a keyword search checks that its
// scored chunks are published against one hash of the bot's published
// article ids, not with a lookup per scored chunk (the planner, guessing a
// few dozen scored chunks where a common word scores thousands, chose the
// lookups).
func TestKeywordPublishedCheckIsHashed(t *testing.T) {
	st := openStore(t, nil)
	ctx := testCtx(t)
	for i := range 30 {
		a := &baton.Article{BotID: "shop", Slug: fmt.Sprintf("a%d", i), Title: "t", Language: "en", Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: "where is my order"}, {Text: fmt.Sprintf("order number %d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.pool.Exec(ctx, `ANALYZE chunks, articles, chunk_postings, chunk_terms, chunk_corpus`); err != nil {
		t.Fatal(err)
	}
	rows, err := st.pool.Query(ctx, `EXPLAIN `+keywordSQL(), "shop", "en", []string{"order"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if plan := strings.Join(lines, "\n"); !strings.Contains(plan, "(hashed SubPlan") {
		t.Fatalf("the published check is not a hashed subplan:\n%s", plan)
	}
	hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Language: "en", Text: "order", K: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 10 {
		t.Fatalf("%d hits, want 10", len(hits))
	}
}

// TestHandoffMigrationBackfill writes conversations with a history into a
// schema at version 7 and opens it: migration 8 keeps every row and fills
// the SLA clocks from the events and messages.
func TestHandoffMigrationBackfill(t *testing.T) {
	url := pgtest.Schema(t)
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	for _, m := range ms {
		if m.version >= 8 {
			break
		}
		exec(m.sql)
		exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
	}
	l := storetest.LegacyHistory()
	exec(`INSERT INTO customers (id, bot_id, created_at, updated_at) OVERRIDING SYSTEM VALUE VALUES (1, 'shop', $1, $1)`, l.Start)
	for _, c := range l.Conversations {
		exec(`INSERT INTO conversations (id, bot_id, customer_id, channel, address, state, queue_id, agent_id, version, created_at, updated_at)
			OVERRIDING SYSTEM VALUE VALUES ($1, 'shop', 1, 'whatsapp', '+100', $2, $3, $4, $5, $6, $6)`,
			c.ID, string(c.State), c.QueueID, c.AgentID, c.Version, l.Start)
	}
	exec(`SELECT setval(pg_get_serial_sequence('conversations', 'id'), 100)`)
	for _, e := range l.Events {
		exec(`INSERT INTO events (conversation_id, type, from_state, to_state, at) VALUES ($1, $2, $3, $4, $5)`,
			e.ConversationID, e.Type, string(e.From), string(e.To), e.At)
	}
	for _, m := range l.Messages {
		exec(`INSERT INTO messages (conversation_id, bot_id, channel, direction, author, type, status, created_at, updated_at)
			VALUES ($1, 'shop', 'whatsapp', $2, $3, 'text', 'sent', $4, $4)`, m.ConversationID, string(m.Direction), string(m.Author), m.At)
	}
	exec(`INSERT INTO agents (id, status, updated_at) VALUES ($1, 'online', $2)`, l.AgentID, l.Start)
	storetest.CheckLegacy(t, openURL(t, url, nil), l)
}
