package resources_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/migrations"
	"stores-api/models"
)

// ciPostgresURL is the server CI runs (.ci/run starts it). Under CI=true
// the PostgreSQL fault test uses it even in the SQLite pass, so it never
// skips there.
const ciPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresServer is the PostgreSQL server to test against, or a skip.
func postgresServer(t *testing.T) string {
	t.Helper()
	if u := os.Getenv(testdb.EnvURL); u != "" {
		return u
	}
	if os.Getenv("CI") == "true" {
		return ciPostgresURL
	}
	t.Skipf("needs PostgreSQL: set %s (CI always runs this test)", testdb.EnvURL)
	return ""
}

// newPostgresDatabase creates a migrated database of its own on server,
// dropped when the test ends, and returns its URL.
func newPostgresDatabase(t *testing.T, server string) string {
	t.Helper()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "faults_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("PostgreSQL at %s: %v", server, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", server)
		if err == nil {
			admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrations.Up(context.Background(), models.Postgres, db); err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// tcpProxy stands between the app's pool and PostgreSQL, so a test can
// take the database away and bring it back without touching the server
// other tests use.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu         sync.Mutex
	ln         net.Listener
	forwarding bool
	clients    map[net.Conn]bool // the app's side
	upstreams  map[net.Conn]bool // PostgreSQL's side
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0", clients: map[net.Conn]bool{}, upstreams: map[net.Conn]bool{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

// up forwards again, listening on the same address as before.
func (p *tcpProxy) up() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConns() // stalled connections are dead to the pool already
	p.forwarding = true
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	go p.accept(ln)
}

// stall keeps accepting connections but never answers, and cuts off the
// open ones without closing them: the pool sees a database that hangs,
// as with a network partition.
func (p *tcpProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forwarding = false
	for u := range p.upstreams {
		u.Close()
		delete(p.upstreams, u)
	}
}

// down refuses connections and kills the open ones, as when PostgreSQL
// stops.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forwarding = false
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.closeConns()
}

func (p *tcpProxy) closeConns() {
	for c := range p.clients {
		c.Close()
		delete(p.clients, c)
	}
	for u := range p.upstreams {
		u.Close()
		delete(p.upstreams, u)
	}
}

func (p *tcpProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	p.clients[c] = true
	forwarding := p.forwarding
	p.mu.Unlock()
	if !forwarding {
		return // held open, silent
	}
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if !p.forwarding || !p.clients[c] {
		p.mu.Unlock()
		u.Close()
		return
	}
	p.upstreams[u] = true
	p.mu.Unlock()
	go func() {
		io.Copy(u, c)
		u.Close()
	}()
	go func() {
		io.Copy(c, u)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.forwarding { // PostgreSQL closed it: pass that on; when stalled, stay silent
			c.Close()
			delete(p.clients, c)
		}
	}()
}

// The database goes away: requests fail fast with a 503 in the envelope,
// GET /readyz says 503, nothing crashes, and the same app serves again
// once the database is back.
func TestDatabaseGoesAway(t *testing.T) {
	server := postgresServer(t)
	dbURL := newPostgresDatabase(t, server)
	u, _ := url.Parse(dbURL)
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	db, err := models.Open(context.Background(), models.Target{Dialect: models.Postgres, DSN: u.String()},
		models.Options{MaxOpen: 8, MaxIdle: 8, MaxLifetime: time.Hour}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) })

	const dbTimeout = time.Second
	e := buildEnv(t, &testdb.DB{Gorm: db, Dialect: models.Postgres, URL: u.String()}, mustConfig(t, nil), dbTimeout, &apptest.Logs{})
	token := e.adminToken()
	storeID := e.mustCreateStore("Before the outage")
	logs := captureLogs(e)

	requests := func() []*http.Request {
		return []*http.Request{
			request("GET", fmt.Sprintf("/stores/%d", storeID), "", token),
			request("POST", "/stores", `{"name":"During the outage"}`, token),
			request("GET", "/stores", "", token),
			request("POST", "/login", fmt.Sprintf(`{"email":%q,"password":%q}`, adminEmail, password), ""),
		}
	}
	// Each phase must answer every request within limit.
	const limit = dbTimeout + 2*time.Second
	expectUnavailable := func(t *testing.T) {
		t.Helper()
		for _, req := range requests() {
			start := time.Now()
			r, err := e.rawWithin(req, 2*limit)
			if err != nil {
				t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
			}
			if took := time.Since(start); took > limit {
				t.Errorf("%s %s took %v, want under %v", req.Method, req.URL.Path, took, limit)
			}
			body := expectError(t, r, http.StatusServiceUnavailable, "Database unavailable.")
			if body["error"] != "database_unavailable" || r.Header.Get("Retry-After") == "" {
				t.Errorf("%s %s: error %v, Retry-After %q", req.Method, req.URL.Path, body["error"], r.Header.Get("Retry-After"))
			}
		}
		start := time.Now()
		r, err := e.rawWithin(httptest.NewRequest("GET", "/readyz", nil), 2*limit)
		if err != nil {
			t.Fatal(err)
		}
		expectError(t, r, http.StatusServiceUnavailable, "")
		if took := time.Since(start); took > limit {
			t.Errorf("GET /readyz took %v", took)
		}
		expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK) // alive: no restart wanted
	}
	expectServing := func(t *testing.T) {
		t.Helper()
		r := e.do("GET", fmt.Sprintf("/stores/%d", storeID), nil, token)
		expect(t, r, http.StatusOK)
		if r.JSON(t)["name"] != "Before the outage" {
			t.Fatalf("store: %s", r.Body)
		}
		expect(t, e.do("GET", "/readyz", nil, ""), http.StatusOK)
	}

	t.Run("the database hangs", func(t *testing.T) {
		proxy.stall()
		expectUnavailable(t)
	})
	t.Run("back after hanging", func(t *testing.T) {
		proxy.up()
		expectServing(t)
	})
	t.Run("the database stops", func(t *testing.T) {
		proxy.down()
		expectUnavailable(t)
		// A burst at once: every request answered 503, none hangs.
		var wg sync.WaitGroup
		statuses := make(chan int, 40)
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.rawWithin(request("GET", fmt.Sprintf("/stores/%d", storeID), "", token), 2*limit)
				if err != nil {
					statuses <- 0
					return
				}
				statuses <- r.Status
			}()
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != http.StatusServiceUnavailable {
				t.Errorf("burst: status %d, want 503", s)
			}
		}
	})
	t.Run("back after stopping", func(t *testing.T) {
		proxy.up()
		expectServing(t)
		expect(t, e.do("POST", "/stores", map[string]any{"name": "After the outage"}, token), http.StatusCreated)
	})

	// An outage is logged as a warning per request, never as a 500.
	if errs := logs.Take(t, "request failed"); len(errs) > 0 {
		t.Errorf("outage logged as failures: %v", errs)
	}
}

// Many concurrent writers: every write succeeds (on SQLite the writers
// queue for the lock), so "database is locked" never reaches a client.
func TestConcurrentWriters(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	const writers, itemsPerWriter = 50, 4 // 1 store + 1 tag + 4 × (item + link) = 10 writes each

	var wg sync.WaitGroup
	failures := make(chan string, writers*10)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			write := func(method, path, body string) map[string]any {
				r, err := e.raw(request(method, path, body, token))
				if err != nil {
					failures <- fmt.Sprintf("%s %s: %v", method, path, err)
					return nil
				}
				if r.Status != http.StatusOK && r.Status != http.StatusCreated {
					failures <- fmt.Sprintf("%s %s: %d %s", method, path, r.Status, r.Body)
					return nil
				}
				var out map[string]any
				json.Unmarshal(r.Body, &out)
				return out
			}
			store := write("POST", "/stores", fmt.Sprintf(`{"name":"Writer %d"}`, w))
			if store == nil {
				return
			}
			storeID := int64(store["id"].(float64))
			tag := write("POST", fmt.Sprintf("/stores/%d/tags", storeID), `{"name":"busy"}`)
			if tag == nil {
				return
			}
			for i := range itemsPerWriter {
				item := write("POST", "/items", fmt.Sprintf(`{"name":"Item %d","price":1.25,"store_id":%d}`, i, storeID))
				if item == nil {
					return
				}
				write("POST", fmt.Sprintf("/items/%d/tags", int64(item["id"].(float64))), fmt.Sprintf(`{"tag_ids":[%d]}`, int64(tag["id"].(float64))))
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	for table, want := range map[string]int64{"stores": writers, "tags": writers, "items": writers * itemsPerWriter, "items_tags": writers * itemsPerWriter} {
		if got := e.count(table); got != want {
			t.Errorf("%d rows in %s, want %d", got, table, want)
		}
	}
}

// FuzzCreateItem sends arbitrary bodies to POST /items and PUT /items/:id
// of the real app, with a valid admin token: whatever the body, the answer
// is below 500, in the envelope when it is an error, and nothing panics
// (a recovered panic would be a 500). Seeds: testdata/fuzz/FuzzCreateItem.
func FuzzCreateItem(f *testing.F) {
	e := newEnv(f)
	token := e.adminToken()
	storeID := e.mustCreateStore("Fuzzed")
	itemID := e.mustCreateItem(storeID, "Fuzzed item", "1.00")
	f.Add([]byte(fmt.Sprintf(`{"name":"Seed","price":2.5,"store_id":%d}`, storeID)))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/items"},
			{"PUT", fmt.Sprintf("/items/%d", itemID)},
		} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			r, err := e.raw(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", target.method, target.path, body, r.Status, r.Body)
			}
			if r.Status >= 400 {
				var env map[string]any
				if json.Unmarshal(r.Body, &env) != nil || env["code"] != float64(r.Status) || env["message"] == "" {
					t.Fatalf("%s %s with %q: %d is not the envelope: %s", target.method, target.path, body, r.Status, r.Body)
				}
			}
		}
	})
}
