package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/sqlite"
)

// sqliteFile is the database file's name inside the data directory.
const sqliteFile = "baton.db"

// openStore opens PostgreSQL when the configuration names a postgres:// URL,
// else the embedded SQLite file under the data directory (created 0700:
// transcripts are personal data). Opening applies pending migrations.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (baton.Store, string, error) {
	if cfg.UsesPostgres() {
		st, err := postgres.Open(ctx, cfg.Server.DatabaseURL, postgres.Options{Logger: log})
		if err != nil {
			return nil, "", baton.WrapError(baton.ErrorCode(err), err, "open PostgreSQL")
		}
		return st, "postgres", nil
	}
	dir, err := dataDir(cfg)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, sqliteFile)
	st, err := sqlite.Open(ctx, path, sqlite.Options{Logger: log})
	if err != nil {
		return nil, "", baton.WrapError(baton.ErrorCode(err), err, "open SQLite database "+path)
	}
	return st, "sqlite " + path, nil
}

// dataDir resolves and creates the data directory.
func dataDir(cfg *config.Config) (string, error) {
	dir, err := filepath.Abs(cfg.Server.DataDir)
	if err != nil {
		return "", baton.Errorf(baton.EINVALID, "data directory %q: %w", cfg.Server.DataDir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", baton.Errorf(baton.EINVALID, "create data directory %s: %w", dir, err)
	}
	return dir, nil
}
