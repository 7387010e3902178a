// Package sqlite is the embedded baton.Store: one file, WAL mode, FTS5 for
// keyword search and exact cosine similarity computed in Go. It is the
// default store and needs no setup.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/batonhq/baton"
)

// Options configures Open.
type Options struct {
	Clock  baton.Clock  // nil = baton.SystemClock{}
	Logger *slog.Logger // nil = discard
}

// Store is a baton.Store on one SQLite file. All writes go through one
// connection (SQLite allows one writer at a time; queueing in the pool is
// cheaper and fairer than retrying on SQLITE_BUSY), reads use a separate pool
// and, thanks to WAL, never wait for writers.
type Store struct {
	write *sql.DB
	read  *sql.DB
	clock baton.Clock
	log   *slog.Logger
	tx    *sql.Tx // set on the Store handed to a Tx function

	vectors *vectorCache
	// readStmts and writeStmts keep the claim's statements prepared on
	// each pool.
	readStmts, writeStmts *stmtCache
}

var _ baton.Store = (*Store)(nil)

// busyTimeout bounds how long a statement waits for another process holding
// the write lock (a concurrent `baton migrate`, a backup).
const busyTimeout = 10 * time.Second

// Open opens (creating when needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if strings.TrimSpace(path) == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, baton.Errorf(baton.EINVALID, "sqlite: database path %q: want a file path (the store uses separate read and write connections)", path)
	}
	// The file holds customers' messages: create it readable by its owner
	// only (SQLite gives the -wal and -shm files the same mode).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, baton.Errorf(baton.EINVALID, "sqlite: create database file %s: %w", path, err)
	}
	if opts.Clock == nil {
		opts.Clock = baton.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"foreign_keys(1)",
		"synchronous(NORMAL)",
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range pragmas {
			q.Add("_pragma", p)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	// BEGIN IMMEDIATE takes the write lock at the start, so a write
	// transaction never fails half-way when it upgrades from reading.
	write, err := sql.Open("sqlite", dsn("_txlock", "immediate"))
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn())
	if err != nil {
		write.Close()
		return nil, baton.Errorf(baton.EINTERNAL, "sqlite: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	s := &Store{write: write, read: read, clock: opts.Clock, log: opts.Logger, vectors: newVectorCache(),
		readStmts: newStmtCache(read), writeStmts: newStmtCache(write)}
	if err := s.write.PingContext(ctx); err != nil {
		s.Close()
		return nil, translate(err, "open "+path)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	if s.tx != nil {
		return baton.Errorf(baton.EINVALID, "sqlite: Close called inside a transaction")
	}
	errS := errors.Join(s.readStmts.close(), s.writeStmts.close())
	errR := s.read.Close()
	errW := s.write.Close()
	if err := errors.Join(errS, errW, errR); err != nil {
		return baton.Errorf(baton.EINTERNAL, "sqlite: close: %w", err)
	}
	return nil
}

// Ping reports whether the file is reachable and fully migrated.
func (s *Store) Ping(ctx context.Context) error {
	var v sql.NullInt64
	if err := s.reader().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return baton.WrapError(baton.EUNAVAILABLE, translate(err, "ping"), "sqlite: database not reachable or not migrated")
	}
	latest, err := latestMigration()
	if err != nil {
		return err
	}
	if v.Int64 != int64(latest) {
		return baton.Errorf(baton.EUNAVAILABLE, "sqlite: schema at version %d, want %d: run baton migrate", v.Int64, latest)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader is where reads go: the transaction when there is one (to see its
// own writes), else the read pool.
func (s *Store) reader() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.read
}

// Tx runs fn in one write transaction; nested calls join it. fn must use
// the Store it is given: the transaction holds the one write connection, so
// a write through the outer Store inside fn waits until ctx ends.
func (s *Store) Tx(ctx context.Context, fn func(tx baton.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin")
	}
	inner := &Store{write: s.write, read: s.read, clock: s.clock, log: s.log, tx: tx, vectors: s.vectors, readStmts: s.readStmts, writeStmts: s.writeStmts}
	committed := false
	defer func() {
		if !committed {
			// The function's error (or panic) is what matters; a failed
			// rollback leaves nothing behind once the connection resets.
			_ = tx.Rollback()
		}
	}()
	if err := fn(inner); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return translate(err, "commit")
	}
	committed = true
	return nil
}

// writeTx runs fn atomically: in its own IMMEDIATE transaction, or inside
// a savepoint of the caller's transaction so that a failing method leaves
// nothing half-done in it.
func (s *Store) writeTx(ctx context.Context, what string, fn func(q querier) error) error {
	if s.tx != nil {
		if _, err := s.tx.ExecContext(ctx, `SAVEPOINT store_op`); err != nil {
			return translate(err, what)
		}
		if err := fn(s.tx); err != nil {
			_, _ = s.tx.ExecContext(ctx, `ROLLBACK TO store_op`)
			_, _ = s.tx.ExecContext(ctx, `RELEASE store_op`)
			return translate(err, what)
		}
		if _, err := s.tx.ExecContext(ctx, `RELEASE store_op`); err != nil {
			return translate(err, what)
		}
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, what)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return translate(err, what)
	}
	if err := tx.Commit(); err != nil {
		return translate(err, what)
	}
	return nil
}

// writeOne is writeTx for methods that write with a single statement
// (whatever they read around it): a failed statement undoes itself, so
// inside the caller's transaction no savepoint is needed.
func (s *Store) writeOne(ctx context.Context, what string, fn func(q querier) error) error {
	if s.tx != nil {
		return translate(fn(s.tx), what)
	}
	return s.writeTx(ctx, what, fn)
}

// translate maps driver errors to domain codes at the package boundary.
// Errors that already carry a code pass through.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var be *baton.Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return baton.Errorf(baton.ENOTFOUND, "%s: not found", what)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return baton.Errorf(baton.EUNAVAILABLE, "sqlite: %s: %w", what, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return baton.Errorf(baton.ECONFLICT, "%s: already exists: %w", what, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return baton.Errorf(baton.ENOTFOUND, "%s: refers to something that does not exist: %w", what, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return baton.Errorf(baton.EUNAVAILABLE, "sqlite: %s: database busy: %w", what, err)
		}
		if se.Code()&0xff == sqlite3.SQLITE_BUSY {
			return baton.Errorf(baton.EUNAVAILABLE, "sqlite: %s: database busy: %w", what, err)
		}
	}
	return baton.Errorf(baton.EINTERNAL, "sqlite: %s: %w", what, err)
}

// now is the store's clock, at the precision it keeps (microseconds).
func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }
