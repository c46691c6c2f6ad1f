package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects the service runs on.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DefaultSQLitePath is used when DATABASE_URL is empty, like the course's
// sqlite:///data.db.
const DefaultSQLitePath = "data.db"

// sqliteParams make SQLite behave under concurrent use: foreign keys on (off
// by default in SQLite), WAL so readers don't block the writer, a busy
// timeout so writers wait for each other, and BEGIN IMMEDIATE so a
// transaction takes the write lock up front instead of failing when a read
// transaction tries to upgrade.
const sqliteParams = "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
	"&_pragma=busy_timeout(10000)&_txlock=immediate"

// Target is a parsed DATABASE_URL: which dialect and the DSN its driver takes.
type Target struct {
	Dialect string
	DSN     string
}

// ParseURL understands the URL forms learners know from SQLAlchemy:
// empty (SQLite data.db), sqlite:///relative.db, sqlite:////absolute.db,
// postgres://… and postgresql://….
func ParseURL(raw string) (Target, error) {
	switch {
	case raw == "":
		return Target{Dialect: SQLite, DSN: DefaultSQLitePath}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Target{Dialect: Postgres, DSN: raw}, nil
	case strings.HasPrefix(raw, "sqlite:///"):
		path := strings.TrimPrefix(raw, "sqlite:///")
		if path == "" || strings.Contains(path, "?") {
			return Target{}, fmt.Errorf("DATABASE_URL: sqlite URL needs a file path and no query, got %q", raw)
		}
		return Target{Dialect: SQLite, DSN: path}, nil
	}
	return Target{}, fmt.Errorf("DATABASE_URL: must start with sqlite:///, postgres:// or postgresql://")
}

// Pool sizes the connection pool.
type Pool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
}

// Open connects to the target with errors translated (unique and foreign
// key violations arrive as gorm.ErrDuplicatedKey / gorm.ErrForeignKeyViolated
// on both dialects) and checks that the database answers.
func Open(ctx context.Context, t Target, pool Pool, log *slog.Logger) (*gorm.DB, error) {
	var dialector gorm.Dialector
	var conn *sql.DB // the PostgreSQL pool, closed here if GORM refuses it
	switch t.Dialect {
	case Postgres:
		var err error
		if conn, err = openPostgres(t.DSN); err != nil {
			return nil, err
		}
		dialector = postgres.New(postgres.Config{Conn: conn})
	case SQLite:
		dialector = sqlite.Open(t.DSN + "?" + sqliteParams)
	default:
		return nil, fmt.Errorf("unknown dialect %q", t.Dialect)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError: true,
		// A single INSERT, UPDATE or DELETE is atomic by itself; wrapping
		// each in BEGIN/COMMIT would triple its round trips. Writes that
		// touch several rows use an explicit Transaction.
		SkipDefaultTransaction: true,
		Logger:                 newGormLogger(log),
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("opening %s database: %w", t.Dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(pool.MaxOpen)
	sqlDB.SetMaxIdleConns(pool.MaxIdle)
	sqlDB.SetConnMaxLifetime(pool.MaxLifetime)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", t.Dialect, err)
	}
	return db, nil
}

// genericPlans is the plan_cache_mode of the service's PostgreSQL
// sessions unless DATABASE_URL sets one. Every statement the service
// prepares is a lookup by key or a filter whose best plan does not depend
// on the values bound to it, so one plan per statement and connection
// serves every execution. With the default (auto), which plans the first
// executions for their values before settling, the statement behind
// GET /items/{id} ran at about a third of the rate it reaches with generic
// plans under 32 concurrent connections on PostgreSQL 15 (BENCHMARKS.md).
const genericPlans = "force_generic_plan"

// openPostgres opens a pgx pool for dsn with the service's session
// settings.
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = genericPlans
	}
	return stdlib.OpenDB(*cfg), nil
}

// Close closes the pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// slowQuery is how long a statement may take before it is logged.
const slowQuery = 500 * time.Millisecond

// newGormLogger logs slow queries and real errors through slog. A missing
// row or a broken unique or foreign key constraint is an answer the
// handlers turn into a 404, 409 or 422, not something to log.
func newGormLogger(log *slog.Logger) logger.Interface {
	return quietLogger{Interface: logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             slowQuery,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	}), level: logger.Warn}
}

// quietLogger passes on only the statements worth a log line: those that
// failed unexpectedly or were slow. GORM's own logger renders the SQL of
// every statement before deciding whether to log it, which costs more CPU
// than some of the queries it describes. At level Info (db.Debug()) every
// statement is logged, as GORM does.
type quietLogger struct {
	logger.Interface
	level logger.LogLevel
}

func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{Interface: l.Interface.LogMode(level), level: level}
}

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if expectedError(err) {
		err = nil
	}
	if err == nil && l.level < logger.Info && time.Since(begin) < slowQuery {
		return
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

// expectedError reports the errors handlers answer themselves.
func expectedError(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, gorm.ErrDuplicatedKey) ||
		errors.Is(err, gorm.ErrForeignKeyViolated)
}
