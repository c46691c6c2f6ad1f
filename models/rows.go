package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
)

// The helpers of the hot statements (the reads and creates of the busiest
// routes), whose rows are scanned directly rather than through GORM's
// reflection, and which skip GORM's statement building too.

// rowScanner is one row of a result, from database/sql or from pgx.
type rowScanner interface {
	Scan(dest ...any) error
}

// A query is a statement with its arguments and what to do with each of
// its rows.
type query struct {
	st   statement
	args []any
	scan func(rowScanner) error
}

// eachRow runs statement st with args on db (the pool, or a transaction)
// and calls scan for each row (run).
func eachRow(db *gorm.DB, st statement, args []any, scan func(rowScanner) error) error {
	return run(db, query{st: st, args: args, scan: scan})
}

// run runs queries in order on db (the pool, or a transaction). Outside a
// transaction on PostgreSQL they go to pgx directly, on one connection of
// the same pool, all in one round trip (pgx.go); otherwise through
// database/sql, one after another. Every statement is reported to GORM's
// logger as GORM's own are, so slow and failed ones are logged alike; the
// queries of one run are reported together, with its time and its error.
//
// Scan targets must suit both drivers: plain values, and pgtype's
// nullable types for columns that may be NULL.
func run(db *gorm.DB, queries ...query) error {
	ctx, begin := db.Statement.Context, time.Now()
	dialect := db.Dialector.Name()
	var err error
	if pool, ok := db.Statement.ConnPool.(*sql.DB); ok && dialect == Postgres {
		err = runPgx(ctx, pool, queries)
	} else {
		for _, q := range queries {
			if err = eachSQLRow(ctx, db.Statement.ConnPool, q.st.sql(dialect), q.args, q.scan); err != nil {
				break
			}
		}
	}
	for _, q := range queries {
		db.Logger.Trace(ctx, begin, func() (string, int64) { return q.st.text, -1 }, err)
	}
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
