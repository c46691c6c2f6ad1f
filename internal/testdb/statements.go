package testdb

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// StatementCounter counts the statements run through a *gorm.DB.
type StatementCounter struct {
	n atomic.Int64
}

// CountStatements starts counting every statement db runs: those GORM
// builds and those the data layer sends itself. Both report each statement
// they run to the logger (GORM's Trace), which is where they are counted;
// db's logger is wrapped for the rest of the test.
func CountStatements(t testing.TB, db *gorm.DB) *StatementCounter {
	t.Helper()
	c := &StatementCounter{}
	inner := db.Config.Logger
	db.Config.Logger = countingLogger{Interface: inner, counter: c}
	t.Cleanup(func() { db.Config.Logger = inner })
	return c
}

// Measure returns how many statements f ran.
func (c *StatementCounter) Measure(f func()) int64 {
	before := c.n.Load()
	f()
	return c.n.Load() - before
}

// countingLogger counts the statements traced through it.
type countingLogger struct {
	logger.Interface
	counter *StatementCounter
}

func (l countingLogger) LogMode(level logger.LogLevel) logger.Interface {
	return countingLogger{Interface: l.Interface.LogMode(level), counter: l.counter}
}

// ParamsFilter keeps the wrapped logger's: it is not promoted through
// logger.Interface.
func (l countingLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := l.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, params
}

func (l countingLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	l.counter.n.Add(1)
	l.Interface.Trace(ctx, begin, fc, err)
}
