package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/stem"
	"github.com/batonhq/baton/store/storetest"
)

func TestFTSQuery(t *testing.T) {
	tr, _ := stem.For("tr")
	ru, _ := stem.For("ru")
	cases := []struct {
		in       string
		stemmers []stem.Stemmer
		want     string
	}{
		{"refund", nil, `"refund"`},
		{"Refund my ORDER", nil, `"refund" OR "my" OR "order"`},
		{`refund" OR (*) NEAR/2 -`, nil, `"refund" OR "or" OR "near" OR "2"`},
		{"text:refund", nil, `"text" OR "refund"`},
		{"refund refund REFUND", nil, `"refund"`},
		{"¿dónde está?", nil, `"dónde" OR "está"`},
		{`"*()-:^`, nil, ``},
		{"   ", nil, ``},
		{"", nil, ``},
		{"KARTIMA nerede", []stem.Stemmer{tr}, `"kartima" OR "kart" OR "nerede" OR "nere"`},
		{"Где возврата?", []stem.Stemmer{ru}, `"где" OR "возврата" OR "возврат"`},
		{"kargonuz возврата", []stem.Stemmer{tr, ru}, `"kargonuz" OR "kargo" OR "возврата" OR "возврат"`},
		{`"kargo" OR (*)`, []stem.Stemmer{tr}, `"kargo" OR "or"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := ftsQuery(tc.in, tc.stemmers); got != tc.want {
				t.Fatalf("ftsQuery(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	long := strings.Repeat("word ", 10) + strings.Repeat("x", 10)
	for i := 0; i < 100; i++ {
		long += " w" + itoa(int64(i))
	}
	if n := strings.Count(ftsQuery(long, []stem.Stemmer{tr}), " OR ") + 1; n != maxQueryTerms {
		t.Fatalf("long query has %d terms, want the cap %d", n, maxQueryTerms)
	}
}

func TestFTSText(t *testing.T) {
	cases := []struct{ lang, in, want string }{
		{"en", "Refunds reach your card.", "Refunds reach your card."},
		{"tr", "Kargonuz kartınıza ulaşır.", "kargo kart ulaşır"},
		{"ru", "Возврата денег на карту.", "возврат денег на карт"},
		{"xx", "Words as written.", "Words as written."},
		{"", "No language.", "No language."},
	}
	for _, tc := range cases {
		t.Run(tc.lang, func(t *testing.T) {
			if got := ftsText(tc.lang, tc.in); got != tc.want {
				t.Fatalf("ftsText(%q, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
			}
		})
	}
}

// TestHostileKeywordQueries runs every line of testdata/hostile_queries.txt
// through a real FTS5 index: none may cause an error.
func TestHostileKeywordQueries(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, baton.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	a := &baton.Article{BotID: "shop", Slug: "refunds", Title: "Refunds", Language: "en", Status: baton.ArticlePublished}
	if err := st.CreateArticleVersion(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: "refund parcel courier reembolso возврат"}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/hostile_queries.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	lines = append(lines, strings.Repeat("refund ", 5000), strings.Repeat(`"(`, 3000))
	for _, q := range lines {
		name := q
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Text: q, K: 5})
			if err != nil {
				t.Fatalf("SearchKeyword(%q): %v", q, err)
			}
			wantHit := strings.Contains(strings.ToLower(q), "refund") || strings.Contains(q, "возврат") || strings.Contains(q, "reembolso")
			if wantHit != (len(hits) == 1) {
				t.Fatalf("SearchKeyword(%q) = %d hits, want a hit: %v", q, len(hits), wantHit)
			}
		})
	}
}

func openTest(t *testing.T, clock baton.Clock) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"), Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestReopenKeepsDataAndDoesNotRemigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "baton.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	first := baton.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st, err := Open(ctx, path, Options{Clock: first})
	if err != nil {
		t.Fatal(err)
	}
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelSMS, Address: "+1555"}, "Kim")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	second := baton.NewManualClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	st, err = Open(ctx, path, Options{Clock: second})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	got, err := st.GetCustomer(ctx, cust.ID)
	if err != nil || got.Name != "Kim" {
		t.Fatalf("after reopen: customer = %+v, %v; want Kim", got, err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a migrated file: %v", err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.read.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		if v != ms[n].version || !fromTS(at).Equal(first.Now()) {
			t.Errorf("migration row %d = version %d applied %v; want version %d applied at first open %v", n, v, fromTS(at), ms[n].version, first.Now())
		}
		n++
	}
	if n != len(ms) {
		t.Fatalf("%d schema_migrations rows, want %d", n, len(ms))
	}
}

func TestPingRejectsNewerSchema(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, nil)
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := st.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Fatalf("Ping on a newer schema = %v, want %s", err, baton.EUNAVAILABLE)
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"", "  ", ":memory:", "file:x.db?mode=memory"} {
		t.Run(p, func(t *testing.T) {
			if _, err := Open(ctx, p, Options{}); baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("Open(%q) = %v, want %s", p, err, baton.EINVALID)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		_, err := Open(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "baton.db"), Options{})
		if baton.ErrorCode(err) != baton.EINVALID {
			t.Fatalf("Open in a missing directory = %v, want %s", err, baton.EINVALID)
		}
	})
	t.Run("path with spaces and a question mark", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "my data?x=1")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		st, err := Open(ctx, filepath.Join(dir, "baton.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "baton.db-wal")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("write-ahead log: %v, %v; want mode 0600", fi, err)
		}
		st.Close()
		fi, err := os.Stat(filepath.Join(dir, "baton.db"))
		if err != nil {
			t.Fatalf("database not created where asked: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("database file mode = %v, want 0600 (it holds customer messages)", fi.Mode().Perm())
		}
	})
}

// TestFailedMethodInsideTxLeavesNothing checks that a store method failing
// inside a caller's transaction undoes its own partial writes (savepoint),
// even when the caller goes on and commits.
func TestFailedMethodInsideTxLeavesNothing(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, nil)
	a := &baton.Article{BotID: "shop", Slug: "s", Status: baton.ArticlePublished}
	if err := st.CreateArticleVersion(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: "kept"}}); err != nil {
		t.Fatal(err)
	}
	err := st.Tx(ctx, func(tx baton.Store) error {
		// The second chunk's id clashes with the first's: the insert fails
		// after the old chunks were deleted and the first new one stored.
		inner := tx.(*Store)
		return inner.writeTx(ctx, "test", func(q querier) error {
			if _, err := q.ExecContext(ctx, `DELETE FROM chunks WHERE article_id = ?`, a.ID); err != nil {
				return err
			}
			_, err := q.ExecContext(ctx, `INSERT INTO chunks (id, article_id, ord, text) VALUES (1000, ?, 0, 'a'), (1000, ?, 1, 'b')`, a.ID, a.ID)
			return err
		})
	})
	if baton.ErrorCode(err) != baton.ECONFLICT {
		t.Fatalf("Tx error = %v, want %s", err, baton.ECONFLICT)
	}
	err = st.Tx(ctx, func(tx baton.Store) error {
		inner := tx.(*Store)
		_ = inner.writeTx(ctx, "test", func(q querier) error {
			if _, err := q.ExecContext(ctx, `DELETE FROM chunks WHERE article_id = ?`, a.ID); err != nil {
				return err
			}
			return sql.ErrConnDone
		})
		return nil // the caller ignores the failure and commits
	})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := st.ListChunks(ctx, a.ID)
	if err != nil || len(chunks) != 1 || chunks[0].Text != "kept" {
		t.Fatalf("chunks = %+v, %v; want the one kept chunk", chunks, err)
	}
}

// TestKeywordWindowWidens checks that chunks filtered out (another bot, a
// draft) cannot crowd the right ones out of the first FTS5 window.
func TestKeywordWindowWidens(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, nil)
	add := func(bot, slug string, status baton.ArticleStatus, text string) {
		t.Helper()
		a := &baton.Article{BotID: bot, Slug: slug, Language: "en", Status: status}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: text}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 30; i++ {
		add("acme", "acme-"+itoa(int64(i)), baton.ArticlePublished, "refund refund refund")
		add("shop", "draft-"+itoa(int64(i)), baton.ArticleDraft, "refund refund refund")
	}
	add("shop", "weak", baton.ArticlePublished, "refund policy for parcels sent abroad by courier")
	add("shop", "weaker", baton.ArticlePublished, "refund policy for parcels sent abroad by courier with a longer text about vouchers")
	hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Text: "refund", K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Slug != "weak" || hits[1].Slug != "weaker" || hits[0].Rank != 1 || hits[1].Rank != 2 {
		t.Fatalf("hits = %+v, want weak then weaker", hits)
	}
}

// TestStemmedKeywordIndexMigration upgrades a file whose chunks were
// indexed before migration 5 (words as written): they still match the words
// as written, and once their article is saved again, inflections too.
func TestStemmedKeywordIndexMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "baton.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version >= 5 {
			break
		}
		if _, err := db.ExecContext(ctx, m.sql); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	const text = "Возврата денег ждите пять дней."
	if _, err := db.ExecContext(ctx, `INSERT INTO articles (id, bot_id, slug, version, title, body, language, status, author, hash, created_at)
		VALUES (1, 'shop', 'vozvrat', 1, 'Возврат', 'x', 'ru', 'published', 'test', 'h', 0)`); err != nil {
		t.Fatalf("old-schema article: %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO chunks (article_id, ord, text, hash) VALUES (1, 0, ?, 'h')`, text); err != nil {
		t.Fatalf("old-schema chunk: %v", err)
	}
	db.Close()

	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer st.Close()
	search := func(words string) int {
		t.Helper()
		hits, err := st.SearchKeyword(ctx, baton.ChunkQuery{BotID: "shop", Language: "ru", Text: words})
		if err != nil {
			t.Fatal(err)
		}
		return len(hits)
	}
	if search("возврата") != 1 {
		t.Fatal("a chunk indexed before the migration no longer matches its own words")
	}
	if err := st.ReplaceChunks(ctx, 1, []baton.Chunk{{Text: text, Hash: "h"}}); err != nil {
		t.Fatal(err)
	}
	if search("возврат") != 1 {
		t.Fatal("after its article is saved again, the chunk does not match another inflection")
	}
}

// TestClaimWalksLiveJobsOnly checks the plan of both claim walks, with a
// kind filter and no statistics (a new file): each must walk its partial
// index of live jobs, never the (kind, id) index of every job ever run.
func TestClaimWalksLiveJobsOnly(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, nil)
	for i := 0; i < 200; i++ {
		j := &baton.Job{Kind: baton.JobDeliver}
		if _, err := st.Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	for i, q := range claimQueries(" AND j.kind IN (?, ?)") {
		rows, err := st.read.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, sql.Named("now", int64(1)<<40), baton.JobDeliver, baton.JobTurn)
		if err != nil {
			t.Fatalf("walk %d: %v", i, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		want := []string{"jobs_pending", "jobs_running"}[i]
		if !strings.Contains(plan[0], "SEARCH j USING INDEX "+want) {
			t.Errorf("walk %d starts with %q, want the %s index:\n%s", i, plan[0], want, strings.Join(plan, "\n"))
		}
	}
}

// TestKeywordFilterLooksUpCandidates: the filter of a keyword search's
// candidates looks each one up by id, whatever the size of the bot's KB,
// rather than walking the bot's articles and chunks to match them against
// the list.
func TestKeywordFilterLooksUpCandidates(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, nil)
	for i := 0; i < 50; i++ {
		a := &baton.Article{BotID: "shop", Slug: "a-" + itoa(int64(i)), Language: "en", Status: baton.ArticlePublished}
		if err := st.CreateArticleVersion(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceChunks(ctx, a.ID, []baton.Chunk{{Text: "refund one"}, {Text: "refund two"}}); err != nil {
			t.Fatal(err)
		}
	}
	// A hybrid search's window: 8 × 30 candidates.
	args := []any{"shop", "en", "en"}
	for id := 1; id <= 240; id++ {
		args = append(args, id)
	}
	rows, err := st.read.QueryContext(ctx, `EXPLAIN QUERY PLAN `+keywordFilterSQL(240), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"SEARCH c USING INTEGER PRIMARY KEY (rowid=?)", "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)"}
	if strings.Join(plan, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(plan, "\n"), strings.Join(want, "\n"))
	}
}

// TestHandoffMigrationBackfill writes conversations with a history into a
// file at schema version 7 and opens it: migration 8 keeps every row and
// fills the SLA clocks from the events and messages.
func TestHandoffMigrationBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "baton.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	for _, m := range ms {
		if m.version >= 8 {
			break
		}
		exec(m.sql)
		exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, m.version, m.name)
	}
	l := storetest.LegacyHistory()
	start := ts(l.Start)
	exec(`INSERT INTO customers (id, bot_id, created_at, updated_at) VALUES (1, 'shop', ?, ?)`, start, start)
	for _, c := range l.Conversations {
		exec(`INSERT INTO conversations (id, bot_id, customer_id, channel, address, state, queue_id, agent_id, version, created_at, updated_at)
			VALUES (?, 'shop', 1, 'whatsapp', '+100', ?, ?, ?, ?, ?, ?)`, c.ID, string(c.State), c.QueueID, c.AgentID, c.Version, start, start)
	}
	for _, e := range l.Events {
		exec(`INSERT INTO events (conversation_id, type, from_state, to_state, at) VALUES (?, ?, ?, ?, ?)`,
			e.ConversationID, e.Type, string(e.From), string(e.To), ts(e.At))
	}
	for _, m := range l.Messages {
		exec(`INSERT INTO messages (conversation_id, bot_id, channel, direction, author, type, status, created_at, updated_at)
			VALUES (?, 'shop', 'whatsapp', ?, ?, 'text', 'sent', ?, ?)`, m.ConversationID, string(m.Direction), string(m.Author), ts(m.At), ts(m.At))
	}
	exec(`INSERT INTO agents (id, status, updated_at) VALUES (?, 'online', ?)`, l.AgentID, start)
	db.Close()

	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer st.Close()
	storetest.CheckLegacy(t, st, l)
}
