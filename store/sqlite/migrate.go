package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Files are
// named NNNN_name.sql; the number is the version.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "sqlite: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, baton.Errorf(baton.EINTERNAL, "sqlite: migration file %q: want NNNN_name.sql", e.Name())
		}
		body, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "sqlite: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, baton.Errorf(baton.EINTERNAL, "sqlite: two migrations with version %d", out[i].version)
		}
	}
	return out, nil
}

func latestMigration() (int, error) {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}

// Migrate applies pending migrations, each in its own transaction together
// with its schema_migrations row, so a crash never leaves one half-applied.
// The write lock taken by BEGIN IMMEDIATE keeps two processes from applying
// the same migration.
func (s *Store) Migrate(ctx context.Context) error {
	if s.tx != nil {
		return baton.Errorf(baton.EINVALID, "sqlite: Migrate called inside a transaction")
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return translate(err, "create schema_migrations")
	}
	for _, m := range ms {
		applied := false
		err := s.writeTx(ctx, fmt.Sprintf("migration %d", m.version), func(q querier) error {
			var one int
			switch err := q.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.version).Scan(&one); err {
			case nil:
				return nil
			case sql.ErrNoRows:
			default:
				return err
			}
			if _, err := q.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, ts(s.now())); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return err
		}
		if applied {
			s.log.Info("sqlite: applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}
