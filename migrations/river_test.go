package migrations_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"testing"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"stores-api/internal/testdb"
	"stores-api/migrations"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

// riverVersions are the versions of River's schema applied to db, as
// River's own migrator reads them.
func riverVersions(t *testing.T, dialect string, db *sql.DB) []int {
	t.Helper()
	var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(db)
	if dialect == "postgres" {
		driver = riverdatabasesql.New(db)
	}
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		t.Fatal(err)
	}
	existing, err := migrator.ExistingVersions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, m := range existing {
		versions = append(versions, m.Version)
	}
	return versions
}

// Our migrations bring River's whole schema, recorded where River's
// migrator looks, so River (and a later River upgrade) finds it current;
// migrating down past it removes it, and up again restores it.
func TestMigrationsBringRiversSchema(t *testing.T) {
	db := testdb.Open(t)
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 2, 3, 4, 5, 6, 7, 8}
	if got := riverVersions(t, db.Dialect, sqlDB); !slices.Equal(got, want) {
		t.Fatalf("River's versions after migrating up = %v, want %v", got, want)
	}

	p, err := migrations.NewProvider(db.Dialect, sqlDB)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var tables int64
	if err := db.Gorm.Raw(tableCount(db.Dialect)).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("%d river_ tables left after migrating down past River's migration", tables)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := riverVersions(t, db.Dialect, sqlDB); !slices.Equal(got, want) {
		t.Fatalf("River's versions after migrating up again = %v, want %v", got, want)
	}
}

func tableCount(dialect string) string {
	if dialect == "postgres" {
		return "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'river%'"
	}
	return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'river%'"
}
