package migrations_test

import (
	"context"
	"strings"
	"testing"

	"stores-api/internal/testdb"
	"stores-api/migrations"
	"stores-api/models"
)

// Migration 7 fills the name keys of the rows there are, and refuses, naming
// them, rows whose names the Unicode rule makes one; undone, it leaves the
// old unique indexes.
func TestNameKeyMigration(t *testing.T) {
	db := testdb.Open(t)
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(db.Dialect, sqlDB)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.DownTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	mustExec := func(query string, args ...any) {
		t.Helper()
		if err := db.Gorm.Exec(query, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	// lower() tells these apart on both databases; case folding does not.
	mustExec("INSERT INTO stores (name) VALUES (?), (?)", "Straße", "Café")
	mustExec("INSERT INTO items (name, price_cents, store_id) VALUES (?, 100, 1), (?, 200, 2)", "Fuß", "Fuß")
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrating rows without collisions: %v", err)
	}
	var keys []string
	if err := db.Gorm.Raw("SELECT name_key FROM stores ORDER BY id").Scan(&keys).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "strasse,café" {
		t.Fatalf("store keys = %v", keys)
	}
	data := models.New(db.Gorm, 4)
	if _, err := data.Stores.Create(ctx, "STRASSE"); err == nil {
		t.Fatal("STRASSE was created beside Straße")
	}

	// Back to 6, where lower() lets "Straße" and "STRASSE" be two stores.
	if _, err := p.DownTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	mustExec("INSERT INTO stores (name) VALUES (?)", "STRASSE")
	_, err = p.Up(ctx)
	if err == nil || !strings.Contains(err.Error(), `"Straße"`) || !strings.Contains(err.Error(), `"STRASSE"`) ||
		!strings.Contains(err.Error(), "rename one") {
		t.Fatalf("colliding names: %v", err)
	}
	if v, err := p.GetDBVersion(ctx); err != nil || v != 6 {
		t.Fatalf("after the refusal the schema is at %d (%v), want 6: nothing changed", v, err)
	}
}
