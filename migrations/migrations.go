// Package migrations holds the versioned SQL schema, one directory per
// dialect, embedded in the binary and applied with goose (the Go
// counterpart of Flask-Migrate/Alembic).
//
// To change the schema, add the next numbered file to both postgres/ and
// sqlite/ (for example 00002_add_items_sku.sql) with "-- +goose Up" and
// "-- +goose Down" sections. Never edit a migration that has shipped.
//
// Versions 5 and 7 are Go migrations, so the files skip them: 5 makes the
// job queue's tables with River's own migrations (river.go), 7 the
// Unicode-aware unique keys of names, which only Go can compute
// (names.go).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// NewProvider returns a goose provider for dialect ("postgres" or "sqlite")
// over db. On PostgreSQL it takes an advisory lock, so several replicas
// starting at once apply each migration exactly once.
func NewProvider(dialect string, db *sql.DB) (*goose.Provider, error) {
	var (
		gooseDialect goose.Dialect
		opts         []goose.ProviderOption
	)
	switch dialect {
	case "postgres":
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case "sqlite":
		gooseDialect = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	opts = append(opts, goose.WithGoMigrations(riverMigration(5, dialect), nameKeyMigration(7, dialect)))
	dir, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gooseDialect, db, dir, opts...)
}

// Applied says what Up did: how many migrations it applied, and the
// version the schema is at.
type Applied struct {
	Count   int
	Version int64
}

// Up applies every pending migration.
func Up(ctx context.Context, dialect string, db *sql.DB) (Applied, error) {
	p, err := NewProvider(dialect, db)
	if err != nil {
		return Applied{}, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return Applied{}, fmt.Errorf("applying migrations: %w", err)
	}
	version, err := p.GetDBVersion(ctx)
	return Applied{Count: len(results), Version: version}, err
}
