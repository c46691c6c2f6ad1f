package models

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in      string
		dialect string
		dsn     string
	}{
		{"", SQLite, "data.db"},
		{"sqlite:///data.db", SQLite, "data.db"},
		{"sqlite:///sub/dir/app.db", SQLite, "sub/dir/app.db"},
		{"sqlite:////var/lib/app.db", SQLite, "/var/lib/app.db"},
		{"postgres://u:p@db:5432/stores", Postgres, "postgres://u:p@db:5432/stores"},
		{"postgresql://u@localhost/stores?sslmode=disable", Postgres, "postgresql://u@localhost/stores?sslmode=disable"},
	}
	for _, c := range cases {
		got, err := ParseURL(c.in)
		if err != nil || got.Dialect != c.dialect || got.DSN != c.dsn {
			t.Errorf("ParseURL(%q) = %+v, %v; want %s %s", c.in, got, err, c.dialect, c.dsn)
		}
	}
	for _, bad := range []string{"mysql://x", "data.db", "sqlite://", "sqlite:///", "sqlite:///x.db?mode=ro"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// TestQueryLogging checks that the GORM logger writes a line for a failed
// or slow statement, and for every statement under db.Debug(), but none
// for a statement that went well or a row that is simply missing.
func TestQueryLogging(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	db, err := Open(context.Background(), Target{Dialect: SQLite, DSN: filepath.Join(t.TempDir(), "log.db")},
		Options{MaxOpen: 1, MaxIdle: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(db)
	if err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	logged := func() string { s := out.String(); out.Reset(); return s }

	var n int64
	db.Raw("SELECT count(*) FROM t").Scan(&n)
	var row struct{ ID int64 }
	if err := db.Table("t").Take(&row).Error; !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("Take on an empty table: %v", err)
	}
	if s := logged(); s != "" {
		t.Errorf("statements that went well were logged:\n%s", s)
	}

	db.Exec("SELECT * FROM no_such_table")
	if s := logged(); !strings.Contains(s, "no_such_table") {
		t.Errorf("a failed statement was not logged with its SQL: %q", s)
	}

	db.Debug().Raw("SELECT 42").Scan(&n)
	if s := logged(); !strings.Contains(s, "SELECT 42") {
		t.Errorf("db.Debug() did not log the statement: %q", s)
	}

	db.Logger.Trace(context.Background(), time.Now().Add(-2*defaultSlowQuery), func() (string, int64) { return "SELECT slow", 1 }, nil)
	if s := logged(); !strings.Contains(s, "SELECT slow") {
		t.Errorf("a slow statement was not logged: %q", s)
	}
}

// TestSQLiteFilesArePrivate: the database and the -wal and -shm files
// SQLite makes beside it are readable by their owner only, whatever the
// umask allows; they hold password hashes.
func TestSQLiteFilesArePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := Open(context.Background(), Target{Dialect: SQLite, DSN: path}, Options{MaxOpen: 1, MaxIdle: 1},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer Close(db)
	if err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO t (id) VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %s, want -rw-------", filepath.Base(name), mode)
		}
	}
}

// TestWorldReadableSQLiteFileIsReported: a file the operator made readable
// by others keeps its mode, with a warning.
func TestWorldReadableSQLiteFileIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	db, err := Open(context.Background(), Target{Dialect: SQLite, DSN: path}, Options{MaxOpen: 1, MaxIdle: 1},
		slog.New(slog.NewTextHandler(&out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	Close(db)
	if !strings.Contains(out.String(), "level=WARN") || !strings.Contains(out.String(), "chmod 600") {
		t.Fatalf("no warning about a world-readable database:\n%s", out.String())
	}
}
