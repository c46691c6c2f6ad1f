package models

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
)

func TestStatementsNumberTheirPlaceholders(t *testing.T) {
	s := newStatement("SELECT a FROM t WHERE a = ? AND b IN (?, ?)")
	if s.sql(SQLite) != "SELECT a FROM t WHERE a = ? AND b IN (?, ?)" {
		t.Errorf("SQLite's text changed: %q", s.sql(SQLite))
	}
	if want := "SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)"; s.sql(Postgres) != want {
		t.Errorf("PostgreSQL's text is %q, want %q", s.sql(Postgres), want)
	}
	g := guardableAnd("SELECT a FROM t WHERE a = ?", " ORDER BY a")
	if want := "SELECT a FROM t WHERE a = $1 AND EXISTS (SELECT 1 FROM sessions WHERE id = $2 AND user_id = $3) ORDER BY a"; g.guarded.numbered != want {
		t.Errorf("guarded: %q, want %q", g.guarded.numbered, want)
	}
	if st, args := NewGuard("s", 7).pick(g, 1); st != g.guarded || len(args) != 3 || args[1] != "s" || args[2] != int64(7) {
		t.Errorf("a guard picked %q with %v", st.text, args)
	}
	if st, args := noGuard.pick(g, 1); st != g.open || len(args) != 1 || st.numbered != "SELECT a FROM t WHERE a = $1 ORDER BY a" {
		t.Errorf("no guard picked %q with %v", st.numbered, args)
	}
}

// TestPgxPathRetriesADeadConnection: a statement sent to pgx directly on a
// pooled connection that turns out dead before anything was sent is sent
// again on a new one, as database/sql does for its own statements, so the
// client never sees the dead connection.
func TestPgxPathRetriesADeadConnection(t *testing.T) {
	server := os.Getenv("TEST_DATABASE_URL")
	if server == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	ctx := context.Background()
	db, err := Open(ctx, Target{Dialect: Postgres, DSN: server}, Options{MaxOpen: 1, MaxIdle: 1},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer Close(db)
	pool, _ := db.DB()
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Close the socket under pgx's feet: pgx learns of it only when it
	// next writes, and then nothing of the statement has been sent.
	conn.Raw(func(driverConn any) error { return driverConn.(*stdlib.Conn).Conn().PgConn().Conn().Close() })
	conn.Close()

	var n int64
	err = eachRow(db.WithContext(ctx), newStatement("SELECT 41 + ?"), []any{1}, func(row rowScanner) error { return row.Scan(&n) })
	if err != nil || n != 42 {
		t.Fatalf("SELECT on a pool whose connection died: %d, %v", n, err)
	}
}
