// Package postgres is the production baton.Store: a pgx/v5 connection pool,
// pgvector HNSW indexes for vector search, tsvector full-text search, and a
// job queue claimed with FOR UPDATE SKIP LOCKED so that any number of
// `baton serve` replicas share one database.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvector "github.com/pgvector/pgvector-go/pgx"

	"github.com/batonhq/baton"
)

// Options tunes Open.
type Options struct {
	// Clock is the source of every "now" the store writes or compares
	// (leases, run_at, timestamps); nil means baton.SystemClock{}.
	Clock baton.Clock
	// Logger receives migration and index notices; nil discards them.
	Logger *slog.Logger
	// MaxConns caps the pool; 0 keeps pool_max_conns from the URL or, when
	// the URL does not say, defaultMaxConns.
	MaxConns int32
}

// defaultMaxConns is larger than pgxpool's own default (4 on small
// machines) because webhook handlers and job workers each hold a
// connection for a whole transaction.
const defaultMaxConns = 16

// Store is a baton.Store on PostgreSQL. Outside Tx it runs each call on the
// pool; inside Tx it is a copy bound to the transaction.
type Store struct {
	pool   *pgxpool.Pool
	cfg    *pgxpool.Config
	clock  baton.Clock
	log    *slog.Logger
	tx     pgx.Tx // nil outside Tx
	vector *vectorInfo
}

// vectorInfo is what the store learnt about the installed pgvector.
type vectorInfo struct {
	version       string
	iterativeScan bool // hnsw.iterative_scan exists (pgvector >= 0.8)
	halfvec       bool // the halfvec type exists (pgvector >= 0.7)
}

var _ baton.Store = (*Store)(nil)

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Open connects to the database at url, applies pending migrations and
// returns the store. The URL may carry any pgx/libpq parameter, including
// pool_* settings and search_path.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may echo the URL, password included: keep it out.
		return nil, baton.Errorf(baton.EINVALID, "postgres: the database URL is not valid (expected postgres://user:pass@host:port/db?options)")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if _, set := cfg.ConnConfig.RuntimeParams["client_min_messages"]; !set {
		// Nobody reads notices on a pool; text search sends one for every
		// stop word of a question ("the", "is") it parses.
		cfg.ConnConfig.RuntimeParams["client_min_messages"] = "warning"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		// The vector type's OID differs per database: register it on every
		// new connection so embeddings travel in binary.
		return pgxvector.RegisterTypes(ctx, c)
	}
	s := &Store{cfg: cfg, clock: opts.Clock, log: opts.Logger}
	if s.clock == nil {
		s.clock = baton.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Migrate before the pool connects: AfterConnect needs the vector type
	// that the first migration creates.
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrapErr(err, "postgres: open pool")
	}
	s.pool = pool
	vi, err := s.loadVectorInfo(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.vector = vi
	s.log.Info("postgres store open", "pgvector", vi.version, "max_conns", cfg.MaxConns)
	return s, nil
}

func (s *Store) loadVectorInfo(ctx context.Context) (*vectorInfo, error) {
	vi := &vectorInfo{}
	err := s.pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'vector'`).Scan(&vi.version)
	if err != nil {
		return nil, wrapErr(err, "postgres: read the vector extension version")
	}
	var major, minor int
	if _, err := fmt.Sscanf(vi.version, "%d.%d", &major, &minor); err == nil {
		vi.iterativeScan = major > 0 || minor >= 8
		vi.halfvec = major > 0 || minor >= 7
	}
	return vi, nil
}

// VectorVersion is the installed pgvector extension version.
func (s *Store) VectorVersion() string { return s.vector.version }

// q is where statements run: the transaction inside Tx, the pool outside.
func (s *Store) q() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.pool
}

func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Tx runs fn in one transaction. Nested calls run in a savepoint of the
// outer transaction, so that a failed inner block can be recovered from by
// the outer one; everything commits only with the outermost call.
func (s *Store) Tx(ctx context.Context, fn func(tx baton.Store) error) error {
	var (
		tx  pgx.Tx
		err error
	)
	if s.tx != nil {
		tx, err = s.tx.Begin(ctx)
	} else {
		tx, err = s.pool.Begin(ctx)
	}
	if err != nil {
		return wrapErr(err, "postgres: begin")
	}
	// Rolls back when fn fails or panics; after a commit it does nothing.
	// Its error, if any, matters less than why fn failed.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	inner := *s
	inner.tx = tx
	if err := fn(&inner); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrapErr(err, "postgres: commit")
	}
	return nil
}

// inTx runs fn atomically: in the current transaction when there is one
// (a failed statement aborts it anyway), in a new one otherwise.
func (s *Store) inTx(ctx context.Context, fn func(q querier) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(tx) })
}

// Ping reports whether the database answers and has every migration.
func (s *Store) Ping(ctx context.Context) error {
	var applied int
	err := s.q().QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied)
	if err != nil {
		return wrapErr(err, "postgres: ping")
	}
	want, err := latestMigration()
	if err != nil {
		return err
	}
	if applied < want {
		return baton.Errorf(baton.EUNAVAILABLE, "postgres: schema at version %d, want %d (run baton migrate)", applied, want)
	}
	return nil
}

// Close releases the pool. Closing a transaction-bound copy does nothing.
func (s *Store) Close() error {
	if s.tx == nil && s.pool != nil {
		s.pool.Close()
	}
	return nil
}

// wrapErr maps a driver error to a domain error; domain errors pass through.
func wrapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *baton.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		// The driver's "no rows in result set" tells the caller nothing.
		return &baton.Error{Code: baton.ENOTFOUND, Message: what + ": not found", Err: err}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return baton.WrapError(baton.ECONFLICT, err, what+": already exists")
		case pe.Code == "23503": // foreign_key_violation: a referenced row is missing
			return baton.WrapError(baton.ENOTFOUND, err, what+": refers to something that does not exist")
		case pe.Code == "40001" || pe.Code == "40P01": // serialization failure, deadlock
			return baton.WrapError(baton.EUNAVAILABLE, err, what+": concurrent update, retry")
		case pe.Code[:2] == "22" || pe.Code == "23502" || pe.Code == "23514": // data exceptions, not null, check
			return baton.WrapError(baton.EINVALID, err, what+": invalid value")
		case pe.Code[:2] == "08" || pe.Code[:2] == "53" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03":
			return baton.WrapError(baton.EUNAVAILABLE, err, what+": database unavailable")
		}
		return baton.WrapError(baton.EINTERNAL, err, what)
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return baton.WrapError(baton.EUNAVAILABLE, err, what+": database unavailable")
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return baton.WrapError(baton.EUNAVAILABLE, err, what+": cannot connect")
	}
	return baton.WrapError(baton.EINTERNAL, err, what)
}
