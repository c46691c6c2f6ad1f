package models_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"stores-api/internal/testdb"
	"stores-api/migrations"
	"stores-api/models"
)

// lockedBuffer is a log destination safe for the pool's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHotStatementsAreLogged: the statements the data layer sends past
// GORM (the hot reads and creates) reach the logger as GORM's own do, so a
// slow one is logged with its SQL and never with its values.
func TestHotStatementsAreLogged(t *testing.T) {
	var out lockedBuffer
	target, err := models.ParseURL(testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	every := models.Options{MaxOpen: 2, MaxIdle: 2, SlowQuery: time.Nanosecond} // every statement is slow
	db, err := models.Open(ctx, target, every, slog.New(slog.NewTextHandler(&out, nil)))
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
	mustItem(t, m, store.ID, "Secret item", 1234)
	if _, err := m.Stores.Get(ctx, store.ID); err != nil {
		t.Fatal(err)
	}
	logged := out.String()
	for _, sql := range []string{"INSERT INTO stores", "INSERT INTO items", "FROM items i", "FROM stores s", "FROM tags WHERE store_id"} {
		if !strings.Contains(logged, sql) {
			t.Errorf("no slow statement %q logged:\n%s", sql, logged)
		}
	}
	for _, value := range []string{"Secret", "secret", "1234"} {
		if strings.Contains(logged, value) {
			t.Errorf("the log holds the value %q:\n%s", value, logged)
		}
	}
}
