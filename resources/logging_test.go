package resources_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/models"
)

// newCapturingEnv is the app on a fresh database, with everything it logs,
// the SQL logger's lines included, captured as production writes them.
func newCapturingEnv(t *testing.T, vars map[string]string) (*testEnv, *apptest.Logs) {
	t.Helper()
	db := testdb.Open(t)
	cfg := mustConfig(t, vars)
	logs := &apptest.Logs{}
	log := logs.Logger()
	target, err := models.ParseURL(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	g, err := models.Open(context.Background(), target, models.Options{MaxOpen: 8, MaxIdle: 8, MaxLifetime: time.Hour,
		SlowQuery: cfg.DBSlowQuery}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(g) })
	return buildEnv(t, &testdb.DB{Gorm: g, Dialect: db.Dialect, URL: db.URL}, cfg, 0, logs), logs
}

// TestClientMistakesAreNotErrors: a conflict, a foreign key miss, a
// validation failure, a revoked token or a missing row is the client's
// doing: one access-log line at INFO, no ERROR or WARN line, and none of
// the SQL, the client's text or the token's ids.
func TestClientMistakesAreNotErrors(t *testing.T) {
	e, logs := newCapturingEnv(t, nil)
	admin := e.adminToken()
	storeID := e.mustCreateStore("Taken Name")
	e.mustCreateItem(storeID, "Taken Item", "1")
	ended, refresh := e.login(adminEmail)
	r := e.do("POST", "/refresh", nil, refresh)
	expect(t, r, http.StatusOK)
	sid := apptest.DecodeClaims(t, admin)["sid"].(string)
	logs.Take(t, "")

	mistakes := []struct {
		method, path string
		body         any
		token        string
		status       int
	}{
		{"POST", "/stores", map[string]any{"name": "taken name"}, admin, http.StatusConflict},
		{"POST", "/items", map[string]any{"name": "taken item", "price": 2, "store_id": storeID}, admin, http.StatusConflict},
		{"POST", "/items", map[string]any{"name": "Orphan", "price": 2, "store_id": 987654}, admin, http.StatusUnprocessableEntity},
		{"POST", "/stores/987654/tags", map[string]any{"name": "secret-tag-text"}, admin, http.StatusNotFound},
		{"POST", "/register", map[string]any{"email": adminEmail, "password": "another password"}, "", http.StatusConflict},
		{"GET", "/items/987654", nil, admin, http.StatusNotFound},
		{"POST", "/refresh", nil, refresh, http.StatusUnauthorized}, // replayed: the session ends
		{"GET", "/stores", nil, ended, http.StatusUnauthorized},
		{"POST", "/stores", map[string]any{"name": "After the end"}, ended, http.StatusUnauthorized},
	}
	for _, m := range mistakes {
		expectError(t, e.do(m.method, m.path, m.body, m.token), m.status, "")
		var levels []string
		all := logs.Take(t, "")
		for _, line := range all {
			levels = append(levels, line["level"].(string)+" "+line["msg"].(string))
		}
		if len(all) != 1 || all[0]["msg"] != "request" || all[0]["level"] != "INFO" {
			t.Errorf("%s %s (%d) logged %v, want one INFO request line", m.method, m.path, m.status, levels)
			continue
		}
		if m.path == "/refresh" && all[0]["note"] != "refresh token reused: session ended" {
			t.Errorf("the access log line of a replayed refresh token has no note: %v", all[0])
		}
		for _, secret := range []string{"SQL executed", "sql", "taken name", "secret-tag-text", sid, adminEmail} {
			if logs.LastContains(secret) {
				t.Errorf("%s %s: the log shows %q", m.method, m.path, secret)
			}
		}
	}
}

// TestSlowStatementsAreLoggedWithoutValues: a slow statement is logged at
// WARN with its SQL, placeholders in place of every value: no email,
// password hash or session id reaches the log.
func TestSlowStatementsAreLoggedWithoutValues(t *testing.T) {
	e, logs := newCapturingEnv(t, map[string]string{"DB_SLOW_QUERY": "1ns"}) // every statement is slow
	const email = "slow.secret@example.com"
	r := e.do("POST", "/register", map[string]string{"email": email, "password": password}, "")
	expect(t, r, http.StatusCreated)
	access, _ := e.login(email)
	storeID := e.mustCreateStore("Slow Store")
	expect(t, e.do("GET", fmt.Sprint("/stores/", storeID), nil, access), http.StatusOK)
	sid := apptest.DecodeClaims(t, access)["sid"].(string)

	lines := logs.Take(t, "SQL executed")
	var sawInsert, sawGuard bool
	for _, line := range lines {
		trace, _ := line["trace"].(map[string]any)
		sql, _ := trace["sql"].(string)
		if line["level"] != "WARN" {
			t.Errorf("a slow statement logged at %v", line["level"])
		}
		sawInsert = sawInsert || strings.Contains(sql, "users") && strings.Contains(sql, "password_hash")
		sawGuard = sawGuard || strings.Contains(sql, "sessions")
		for _, secret := range []string{email, "$2a$", sid, "Slow Store", password} {
			if strings.Contains(sql, secret) {
				t.Errorf("logged SQL shows %q: %s", secret, sql)
			}
		}
	}
	if !sawInsert || !sawGuard {
		t.Fatalf("the slow insert of the user and the session check were not both logged: %v", lines)
	}
}
