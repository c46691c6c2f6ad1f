package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
	moderncsqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// LogAttrs say where the database is, for the start-up log: the file of an
// SQLite database, the host and name of a PostgreSQL one (never its
// password or user).
func (t Target) LogAttrs() []any {
	if t.Dialect == SQLite {
		path, err := filepath.Abs(t.DSN)
		if err != nil {
			path = t.DSN
		}
		return []any{"dialect", t.Dialect, "file", path}
	}
	u, err := url.Parse(t.DSN)
	if err != nil {
		return []any{"dialect", t.Dialect}
	}
	return []any{"dialect", t.Dialect, "host", u.Host, "database", strings.TrimPrefix(u.Path, "/")}
}

// Options size the connection pool and say when a statement is slow.
type Options struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	// SlowQuery is how long a statement may take before it is logged
	// (zero: defaultSlowQuery).
	SlowQuery time.Duration
	// Pooled: the PostgreSQL connection goes through a transaction pooler
	// (PgBouncer), which hands each transaction to any server connection:
	// no named prepared statements, no session settings (openPostgres).
	Pooled bool
}

// Open connects to the target with errors translated (unique and foreign
// key violations arrive as gorm.ErrDuplicatedKey / gorm.ErrForeignKeyViolated
// on both dialects) and checks that the database answers.
func Open(ctx context.Context, t Target, opts Options, log *slog.Logger) (*gorm.DB, error) {
	var dialector gorm.Dialector
	var conn *sql.DB // the PostgreSQL pool, closed here if GORM refuses it
	switch t.Dialect {
	case Postgres:
		var err error
		if conn, err = openPostgres(t.DSN, opts.Pooled); err != nil {
			return nil, err
		}
		dialector = postgres.New(postgres.Config{Conn: conn})
	case SQLite:
		if err := createPrivate(t.DSN, log); err != nil {
			return nil, err
		}
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
		Logger:                 newGormLogger(log, opts.SlowQuery, dialector),
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("opening %s database: %w%s", t.Dialect, err, poolerHint(err, opts.Pooled))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpen)
	sqlDB.SetMaxIdleConns(opts.MaxIdle)
	sqlDB.SetConnMaxLifetime(opts.MaxLifetime)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connecting to %s database: %w%s", t.Dialect, err, poolerHint(err, opts.Pooled))
	}
	return db, nil
}

// createPrivate creates the SQLite database file, readable and writable by
// its owner only, unless it exists: it holds password hashes. SQLite gives
// the -wal and -shm files it makes beside it the same mode. A file that
// exists keeps the mode its operator chose, but one that others may read
// is worth a warning.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating the SQLite database %s: %w", path, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("the SQLite database file is readable by other users: it holds password hashes (chmod 600 it)",
			"path", path, "mode", info.Mode().Perm().String())
	}
	return nil
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
//
// Through a transaction pooler (pooled), consecutive transactions of one
// client connection run on different server connections, so nothing may
// outlive a transaction: a statement prepared by name on one server
// connection is unknown on the next, and a session setting sent at
// connection start is refused by PgBouncer 1.18 (and would not follow
// the client anyway). So pooled connections run each statement with pgx's
// exec mode (an unnamed statement, prepared and executed in one round
// trip), unless DATABASE_URL names a default_query_exec_mode (PgBouncer
// 1.21+ can keep named statements: cache_statement), and send no
// plan_cache_mode, which concerns named statements only.
func openPostgres(dsn string, pooled bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if pooled && !strings.Contains(dsn, "default_query_exec_mode=") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	_, set := cfg.RuntimeParams["plan_cache_mode"]
	if !set && cfg.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		cfg.RuntimeParams["plan_cache_mode"] = genericPlans
	}
	return stdlib.OpenDB(*cfg), nil
}

// poolerHint explains the error a transaction pooler gives a connection
// made for a direct one: PgBouncer refuses the session settings sent at
// connection start.
func poolerHint(err error, pooled bool) string {
	if pooled || !strings.Contains(err.Error(), "unsupported startup parameter") {
		return ""
	}
	return "\nDATABASE_URL goes through a connection pooler: set DATABASE_DIRECT_URL to the database's own address " +
		"(for migrations), and the service uses the pooler's way of running statements"
}

// Unavailable tells a database that cannot be reached (down, restarting,
// unreachable, too slow for the caller's deadline, out of connections,
// SQLite locked beyond its busy timeout) from a bug. The former is worth a
// retry: the same process serves again as soon as the database is back.
func Unavailable(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
		netErr     net.Error
		liteErr    *moderncsqlite.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &connectErr),
		errors.As(err, &netErr),
		pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 53300: too many connections;
		// 57P01-57P03: the server is shutting down or starting up.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "53300" ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &liteErr):
		primary := liteErr.Code() & 0xff // extended codes keep the primary in the low byte
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	return false
}

// forUpdate locks the selected rows until the transaction ends on
// PostgreSQL. SQLite needs no row locks: its transactions begin
// IMMEDIATE, so writers already run one at a time.
func forUpdate(tx *gorm.DB) *gorm.DB {
	if tx.Dialector.Name() == Postgres {
		return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return tx
}

// forShare keeps the selected rows from being changed or deleted until the
// transaction ends on PostgreSQL (SQLite: see forUpdate).
func forShare(tx *gorm.DB) *gorm.DB {
	if tx.Dialector.Name() == Postgres {
		return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthShare})
	}
	return tx
}

// Close closes the pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// defaultSlowQuery is how long a statement may take before it is logged
// when Options.SlowQuery is zero.
const defaultSlowQuery = 500 * time.Millisecond

// newGormLogger logs slow statements and real errors through slog, never
// with the values bound to a statement: those are emails, password
// hashes, token ids and whatever text clients send. A missing row or a
// broken unique, foreign key or check constraint is an answer the handlers
// turn into a 404, 409 or 422, a client's doing: it is not logged at all.
func newGormLogger(log *slog.Logger, slow time.Duration, dialector gorm.Dialector) logger.Interface {
	if slow <= 0 {
		slow = defaultSlowQuery
	}
	translator, _ := dialector.(gorm.ErrorTranslator)
	return quietLogger{
		Interface: logger.NewSlogLogger(log, logger.Config{
			SlowThreshold:             slow,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true,
		}),
		level:      logger.Warn,
		slow:       slow,
		translator: translator,
	}
}

// quietLogger passes on only the statements worth a log line: those that
// failed unexpectedly or were slow. GORM's own logger renders the SQL of
// every statement before deciding whether to log it, which costs more CPU
// than some of the queries it describes. At level Info (db.Debug()) every
// statement is logged, as GORM does; still without its values.
type quietLogger struct {
	logger.Interface
	level      logger.LogLevel
	slow       time.Duration
	translator gorm.ErrorTranslator // nil if the dialect has none
}

func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	l.Interface = l.Interface.LogMode(level)
	l.level = level
	return l
}

// ParamsFilter drops the values of every statement GORM logs, whatever the
// level. GORM asks the logger it holds, so this wrapper must answer
// itself: the embedded logger's ParamsFilter is not promoted through the
// logger.Interface it is kept as.
func (quietLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.expectedError(err) {
		err = nil
	}
	if err == nil && l.level < logger.Info && time.Since(begin) < l.slow {
		return
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

// expectedError reports the errors handlers answer themselves. Statements
// GORM runs reach the logger with their errors untranslated, so they are
// translated here as GORM translates them for the caller.
func (l quietLogger) expectedError(err error) bool {
	if err == nil {
		return false
	}
	if l.translator != nil {
		err = l.translator.Translate(err)
	}
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, gorm.ErrDuplicatedKey) ||
		errors.Is(err, gorm.ErrForeignKeyViolated)
}
