package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded SQL file, named NNNN_what.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// Advisory lock keys (two-int form, first int = area). They serialise work
// that must not run twice at once across processes.
const (
	lockArea        = 0x62746e // "btn"
	lockMigrate     = 1
	lockIndex       = 2
	lockAreaConv    = lockArea + 1 // second int: the conversation id's hash
	lockAreaIdent   = lockArea + 2 // second int: hash of the channel identity
	lockAreaArticle = lockArea + 3 // second int: hash of bot and slug
	lockAreaLane    = lockArea + 4 // second int: hash of a job lane
)

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "postgres: read embedded migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, baton.Errorf(baton.EINTERNAL, "postgres: migration %q is not named NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, baton.Errorf(baton.EINTERNAL, "postgres: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, baton.Errorf(baton.EINTERNAL, "postgres: two migrations with version %d", ms[i].version)
		}
	}
	return ms, nil
}

func latestMigration() (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return 0, nil
	}
	return ms[len(ms)-1].version, nil
}

// Migrate applies pending migrations in one transaction on a connection of
// its own. An advisory lock makes concurrent starts safe: the first process
// migrates, the others wait and then find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, s.cfg.ConnConfig.Copy())
	if err != nil {
		return wrapErr(err, "postgres: connect to migrate")
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var applied []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockArea, lockMigrate); err != nil {
			return wrapErr(err, "postgres: take the migration lock")
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return wrapErr(err, "postgres: create schema_migrations")
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return wrapErr(err, "postgres: read schema version")
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return baton.Errorf(baton.EINTERNAL, "postgres: migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return wrapErr(err, fmt.Sprintf("postgres: record migration %s", m.name))
			}
			applied = append(applied, m.name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range applied {
		s.log.Info("postgres migration applied", "migration", name)
	}
	return nil
}
