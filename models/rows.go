package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// The helpers of the hot statements (the reads and creates of the busiest
// routes), whose rows are scanned directly rather than through GORM's
// reflection, and which skip GORM's statement building too.

// rowScanner is one row of a result, from database/sql or from pgx.
type rowScanner interface {
	Scan(dest ...any) error
}

// eachRow runs statement st with args on db (the pool, or a transaction)
// and calls scan for each row. Outside a transaction on PostgreSQL the
// statement goes to pgx directly, on a connection of the same pool:
// database/sql's layer, with its conversion of every column to a
// driver.Value and back, costs about a tenth of the server's CPU on
// GET /items/{id} (BENCHMARKS.md). Every statement is reported to GORM's
// logger as GORM's own are, so slow and failed ones are logged alike.
//
// Scan targets must suit both drivers: plain values, and pgtype's
// nullable types for columns that may be NULL.
func eachRow(db *gorm.DB, st statement, args []any, scan func(rowScanner) error) error {
	ctx, begin := db.Statement.Context, time.Now()
	dialect := db.Dialector.Name()
	var err error
	if pool, ok := db.Statement.ConnPool.(*sql.DB); ok && dialect == Postgres {
		err = eachPgxRow(ctx, pool, st.numbered, args, scan)
	} else {
		err = eachSQLRow(ctx, db.Statement.ConnPool, st.sql(dialect), args, scan)
	}
	db.Logger.Trace(ctx, begin, func() (string, int64) { return st.text, -1 }, err)
	return err
}

// eachRowOf runs a query GORM built (the lists, whose filters vary) and
// calls scan for each row.
func eachRowOf(query *gorm.DB, scan func(rowScanner) error) error {
	rows, err := query.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanEach(rows, scan)
}

// scanEach calls scan for each row of rows, database/sql's or pgx's.
func scanEach(rows interface {
	rowScanner
	Next() bool
	Err() error
}, scan func(rowScanner) error) error {
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eachSQLRow runs a query through database/sql.
func eachSQLRow(ctx context.Context, pool gorm.ConnPool, query string, args []any, scan func(rowScanner) error) error {
	rows, err := pool.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanEach(rows, scan)
}

// badConnRetries is how many more connections a statement is tried on
// when it never reached the server (a connection found dead as it was
// used), as database/sql does for its own statements.
const badConnRetries = 2

// eachPgxRow runs a query through pgx on a connection of pool, which it
// holds only for the query.
func eachPgxRow(ctx context.Context, pool *sql.DB, query string, args []any, scan func(rowScanner) error) error {
	for attempt := 0; ; attempt++ {
		err := eachPgxRowOnce(ctx, pool, query, args, scan)
		if !errors.Is(err, driver.ErrBadConn) || attempt == badConnRetries {
			return err
		}
	}
}

func eachPgxRowOnce(ctx context.Context, pool *sql.DB, query string, args []any, scan func(rowScanner) error) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("models: the PostgreSQL pool is not pgx's")
		}
		rows, err := c.Conn().Query(ctx, query, args...)
		if err != nil {
			if pgconn.SafeToRetry(err) {
				return driver.ErrBadConn // the pool drops this connection
			}
			return err
		}
		defer rows.Close()
		return scanEach(rows, scan)
	})
}

// returningID ends the INSERTs whose new id insertReturningID reads.
const returningID = " RETURNING id"

// insertReturningID runs an INSERT … RETURNING id and returns the new id,
// or 0 when the statement inserted nothing because its guard failed. It
// translates constraint violations into gorm.ErrDuplicatedKey and
// gorm.ErrForeignKeyViolated, as GORM does for its own statements.
func insertReturningID(db *gorm.DB, st statement, args ...any) (int64, error) {
	var id int64
	err := eachRow(db, st, args, func(row rowScanner) error { return row.Scan(&id) })
	if translator, ok := db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		err = translator.Translate(err)
	}
	return id, err
}

// take reads the row of T with primary key id, or answers notFound.
func take[T any](db *gorm.DB, id int64, notFound error) (T, error) {
	var row T
	err := db.Take(&row, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, notFound
	}
	return row, err
}

// nullableItem holds the item columns of a row that may have none: a store
// without items, joined to them. pgtype's nullable types scan without
// allocating on pgx, and as sql.Scanners on database/sql.
type nullableItem struct {
	ID          pgtype.Int8
	Name        pgtype.Text
	PriceCents  pgtype.Int8
	Description pgtype.Text
}

func (n nullableItem) value(storeID int64) Item {
	return Item{ID: n.ID.Int64, Name: n.Name.String, PriceCents: n.PriceCents.Int64,
		Description: textOrNil(n.Description), StoreID: storeID}
}

// textOrNil is a nullable text column as the models hold it.
func textOrNil(t pgtype.Text) *string {
	if !t.Valid {
		return nil
	}
	return &t.String
}
