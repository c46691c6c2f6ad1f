package testdb

import (
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// StatementCounter counts the statements run through a *gorm.DB.
type StatementCounter struct {
	n atomic.Int64
}

// CountStatements starts counting every statement db runs: queries, raw
// statements and rows, creates, updates and deletes.
func CountStatements(t testing.TB, db *gorm.DB) *StatementCounter {
	t.Helper()
	c := &StatementCounter{}
	inc := func(*gorm.DB) { c.n.Add(1) }
	cb := db.Callback()
	for name, err := range map[string]error{
		"query":  cb.Query().After("gorm:query").Register("test:count_query", inc),
		"raw":    cb.Raw().After("gorm:raw").Register("test:count_raw", inc),
		"row":    cb.Row().After("gorm:row").Register("test:count_row", inc),
		"create": cb.Create().After("gorm:create").Register("test:count_create", inc),
		"update": cb.Update().After("gorm:update").Register("test:count_update", inc),
		"delete": cb.Delete().After("gorm:delete").Register("test:count_delete", inc),
	} {
		if err != nil {
			t.Fatalf("registering %s counter: %v", name, err)
		}
	}
	return c
}

// Measure returns how many statements f ran.
func (c *StatementCounter) Measure(f func()) int64 {
	before := c.n.Load()
	f()
	return c.n.Load() - before
}
