// Package testdb gives each test a clean, migrated database: a SQLite file
// in a temporary directory, or a fresh PostgreSQL database when
// TEST_DATABASE_URL is set (CI always sets it).
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the admin connection
	"gorm.io/gorm"

	"stores-api/migrations"
	"stores-api/models"
)

// EnvURL names the variable that points the tests at a PostgreSQL server.
const EnvURL = "TEST_DATABASE_URL"

// DB is a clean, migrated database for one test.
type DB struct {
	Gorm    *gorm.DB
	Dialect string
	URL     string // a DATABASE_URL for a server process of its own
}

// Open returns a migrated database that is dropped when the test ends.
func Open(t testing.TB) *DB {
	t.Helper()
	rawURL := NewURL(t)
	target, err := models.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := models.Open(context.Background(), target, models.Options{MaxOpen: 8, MaxIdle: 8, MaxLifetime: time.Hour}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) })
	if target.Dialect == models.SQLite {
		sqlDB, _ := db.DB()
		if _, err := migrations.Up(context.Background(), target.Dialect, sqlDB); err != nil {
			t.Fatal(err)
		}
	}
	return &DB{Gorm: db, Dialect: target.Dialect, URL: rawURL}
}

// NewURL returns the DATABASE_URL of a database for this test alone: a
// migrated PostgreSQL database copied from a template, or the path of a new
// SQLite file (not yet migrated, so a server started on it migrates it).
func NewURL(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvURL)
	if server == "" {
		return "sqlite:///" + filepath.Join(t.TempDir(), "test.db")
	}
	return createFromTemplate(t, server)
}

// quietLogger drops GORM's warnings; tests assert on responses instead.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	createMu     sync.Mutex // CREATE DATABASE … TEMPLATE needs the template to itself
)

// createFromTemplate copies a template database that was migrated once per
// test binary: much faster than migrating each test's database.
func createFromTemplate(t testing.TB, serverURL string) string {
	t.Helper()
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		t.Fatalf("%s is set but PostgreSQL does not answer: %v", EnvURL, err)
	}
	templateOnce.Do(func() { templateName, templateErr = createTemplate(admin, serverURL) })
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	name := "test_" + strings.ToLower(rand.Text())
	createMu.Lock()
	_, err = admin.Exec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName))
	createMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropDatabase(serverURL, name) })
	return withDatabase(serverURL, name)
}

func createTemplate(admin *sql.DB, serverURL string) (string, error) {
	name := "test_template_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	db, err := sql.Open("pgx", withDatabase(serverURL, name))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := migrations.Up(context.Background(), models.Postgres, db); err != nil {
		return "", err
	}
	// The template outlives this test binary only if it crashes; mark it
	// so a later cleanup can find it.
	_, err = admin.Exec("COMMENT ON DATABASE " + name + " IS 'stores-api test template'")
	return name, err
}

// DropTemplate removes the template; TestMain calls it after m.Run.
func DropTemplate() {
	if templateName != "" {
		dropDatabase(os.Getenv(EnvURL), templateName)
	}
}

func dropDatabase(serverURL, name string) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return
	}
	defer admin.Close()
	admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
}

// withDatabase swaps the database name in a PostgreSQL URL.
func withDatabase(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return serverURL
	}
	u.Path = "/" + name
	return u.String()
}
