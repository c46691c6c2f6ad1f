package models_test

import (
	"testing"
	"time"

	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/migrations"
	"stores-api/models"
)

// TestHotStatementsAreLogged: the statements the data layer sends past
// GORM (the hot reads and creates) reach the logger as GORM's own do, so a
// slow one is logged with its SQL and never with its values.
func TestHotStatementsAreLogged(t *testing.T) {
	var logs apptest.Logs
	target, err := models.ParseURL(testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	every := models.Options{MaxOpen: 2, MaxIdle: 2, SlowQuery: time.Nanosecond} // every statement is slow
	db, err := models.Open(ctx, target, every, logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) })
	if target.Dialect == models.SQLite {
		sqlDB, _ := db.DB()
		if _, err := migrations.Up(ctx, target.Dialect, sqlDB); err != nil {
			t.Fatal(err)
		}
	}
	m := models.New(db, 4)
	store := mustStore(t, m, "Secret store")
	mustItem(t, m, store.ID, "Secret item", 98765431)
	if _, err := m.Stores.Get(ctx, store.ID); err != nil {
		t.Fatal(err)
	}
	lines := logs.Take(t, "")
	for _, sql := range []string{"INSERT INTO stores", "INSERT INTO items", "FROM items i", "FROM stores s", "FROM tags WHERE store_id"} {
		if !logs.LastContains(sql) {
			t.Errorf("no slow statement %q logged: %v", sql, lines)
		}
	}
	for _, value := range []string{"Secret", "secret", "98765431"} {
		if logs.LastContains(value) {
			t.Errorf("the log holds the value %q: %v", value, lines)
		}
	}
}
