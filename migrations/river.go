package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// riverVersion is the version of River's own schema (its "main" migration
// line) that riverMigration brings, pinned like any migration that has
// shipped: a River upgrade that needs a newer schema gets a migration of
// its own that raises it.
const riverVersion = 8

// riverMigration creates the tables of the job queue (river_job,
// river_queue, river_leader, …) with River's own migrations, run as one of
// ours so the schema comes from `migrate up` like every other table, never
// from a process at run time. River applies each of its versions in a
// transaction of its own (some PostgreSQL changes, such as a new enum
// value, must commit before the next one uses them), so the goose step
// runs outside a transaction.
func riverMigration(version int64, dialect string) *goose.Migration {
	run := func(opts *rivermigrate.MigrateOpts, direction rivermigrate.Direction) *goose.GoFunc {
		return &goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			migrator, err := riverMigrator(dialect, db)
			if err != nil {
				return err
			}
			if _, err := migrator.Migrate(ctx, direction, opts); err != nil {
				return fmt.Errorf("river schema: %w", err)
			}
			return nil
		}}
	}
	return goose.NewGoMigration(version,
		run(&rivermigrate.MigrateOpts{TargetVersion: riverVersion}, rivermigrate.DirectionUp),
		run(&rivermigrate.MigrateOpts{TargetVersion: -1}, rivermigrate.DirectionDown))
}

// riverMigrator is River's migrator for db.
func riverMigrator(dialect string, db *sql.DB) (*rivermigrate.Migrator[*sql.Tx], error) {
	var driver riverdriver.Driver[*sql.Tx]
	switch dialect {
	case "postgres":
		driver = riverdatabasesql.New(db)
	case "sqlite":
		driver = riversqlite.New(db)
	default:
		return nil, fmt.Errorf("no job queue for dialect %q", dialect)
	}
	return rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
}
