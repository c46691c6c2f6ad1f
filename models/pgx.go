package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The hot statements on PostgreSQL go to pgx directly, on a connection of
// the pool GORM uses: database/sql's layer, with its conversion of every
// column to a driver.Value and back, cost about 7 % of the server's CPU on
// GET /items/{id}, and GORM's statement building about 6 % (BENCHMARKS.md).
// The statements are the same; only the layers between them and the wire
// are fewer.

// badConnRetries is how many more connections a statement is tried on
// when it never reached the server (a connection found dead as it was
// used), as database/sql does for its own statements.
const badConnRetries = 2

// runPgx runs queries through pgx on one connection of pool, held only for
// them.
func runPgx(ctx context.Context, pool *sql.DB, queries []query) error {
	for attempt := 0; ; attempt++ {
		err := runPgxOnce(ctx, pool, queries)
		if !errors.Is(err, driver.ErrBadConn) || attempt == badConnRetries {
			return err
		}
	}
}

func runPgxOnce(ctx context.Context, pool *sql.DB, queries []query) error {
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
		if len(queries) == 1 {
			q := queries[0]
			rows, err := c.Conn().Query(ctx, q.st.numbered, q.args...)
			if err != nil {
				return retryable(err)
			}
			defer rows.Close()
			return scanEach(rows, q.scan)
		}
		return runBatch(ctx, c.Conn(), queries)
	})
}

// runBatch sends several queries in one round trip, as one implicit
// transaction, so they also read one snapshot: a store's page is its items
// and its tags at one moment.
func runBatch(ctx context.Context, conn *pgx.Conn, queries []query) error {
	var batch pgx.Batch
	for _, q := range queries {
		batch.Queue(q.st.numbered, q.args...)
	}
	results := conn.SendBatch(ctx, &batch)
	defer results.Close()
	for _, q := range queries {
		rows, err := results.Query()
		if err != nil {
			return retryable(err)
		}
		err = scanEach(rows, q.scan)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return results.Close()
}

// retryable turns an error pgx met before anything was sent into
// driver.ErrBadConn, as database/sql's pgx driver does: the pool then drops
// the connection, and runPgx tries another.
func retryable(err error) error {
	if pgconn.SafeToRetry(err) {
		return driver.ErrBadConn
	}
	return err
}
