package resources_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"
)

func TestHealthzNeedsNoToken(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", nil, "")
	expect(t, r, http.StatusOK)
	if got := r.JSON(t)["status"]; got != "ok" {
		t.Errorf("status = %v, want ok", got)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store: a cached probe answer hides an outage", cc)
	}
}

func TestReadyzWhenDatabaseAnswers(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/readyz", nil, "")
	expect(t, r, http.StatusOK)
	if got := r.JSON(t)["status"]; got != "ready" {
		t.Errorf("status = %v, want ready", got)
	}
}

// With the pool closed the database cannot be reached: the replica is
// unready, but still alive, so an orchestrator does not restart it.
func TestReadyzWhenDatabaseClosed(t *testing.T) {
	e := newEnv(t)
	sqlDB, err := e.DB.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
	expectError(t, e.do("GET", "/readyz", nil, ""), http.StatusServiceUnavailable, "Database unavailable.")
	expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK)
}

// A database that does not answer must not hang the probe: with every
// pooled connection taken, the ping waits for one and gives up after the
// short readiness timeout. Once connections come back the same process is
// ready again.
func TestReadyzTimesOutWhenNoConnectionIsFree(t *testing.T) {
	e := newEnv(t)
	sqlDB, err := e.DB.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	max := sqlDB.Stats().MaxOpenConnections
	if max <= 0 {
		t.Fatal("the test database pool has no connection limit; this test needs one")
	}
	held := make([]*sql.Conn, 0, max)
	for range max {
		conn, err := sqlDB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}

	start := time.Now()
	r := e.do("GET", "/readyz", nil, "")
	elapsed := time.Since(start)
	expectError(t, r, http.StatusServiceUnavailable, "Database unavailable.")
	if elapsed < time.Second || elapsed > 5*time.Second {
		t.Errorf("readyz answered after %s, want about 2s (its timeout)", elapsed)
	}

	for _, conn := range held {
		conn.Close()
	}
	expect(t, e.do("GET", "/readyz", nil, ""), http.StatusOK)
}
