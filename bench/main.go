// Command bench measures the API against what PostgreSQL alone can do, in
// one run on one machine:
//
//	go run ./bench
//
// It creates a fresh PostgreSQL database (BENCH_DATABASE_URL, default the
// local server), builds and starts the server on it in production mode,
// seeds it through the API (10 stores x 100 items, 2 tags per store, every
// other item tagged), drives each endpoint with 32 concurrent connections
// using vegeta, runs pgbench with prepared statements on the SQL behind
// GET /items/{id} and POST /stores, and prints requests a second, p50, p99,
// errors, the API ÷ database ratios and the server's peak RSS. A run in
// which any request fails exits non-zero.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const (
	stores        = 10
	itemsPerStore = 100
	connections   = 32
	adminEmail    = "bench@example.com"
	adminPassword = "benchmark password"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// settings come from the environment so anyone can rerun with other values.
type settings struct {
	serverURL string        // PostgreSQL server, any database
	duration  time.Duration // per endpoint
}

func loadSettings() (settings, error) {
	s := settings{
		serverURL: envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		duration:  10 * time.Second,
	}
	if v := os.Getenv("BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return s, fmt.Errorf("BENCH_DURATION: %w", err)
		}
		s.duration = d
	}
	return s, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	cfg, err := loadSettings()
	if err != nil {
		return err
	}
	dbURL, drop, err := createDatabase(cfg.serverURL)
	if err != nil {
		return err
	}
	defer drop()

	srv, err := startServer(dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()

	api := &client{base: srv.base, http: &http.Client{Timeout: 10 * time.Second}}
	if err := api.login(); err != nil {
		return err
	}
	seed, err := api.seed()
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}

	fmt.Printf("Stores API benchmark: %d connections, %s per endpoint, %d stores x %d items\n\n",
		connections, cfg.duration, stores, itemsPerStore)
	fmt.Printf("%-34s %10s %9s %9s %7s\n", "endpoint", "req/s", "p50", "p99", "errors")

	results := map[string]result{}
	failed := false
	for _, ep := range endpoints(api.token, seed) {
		r := attack(srv.base, ep, cfg.duration)
		results[ep.name] = r
		failed = failed || r.errors > 0
		fmt.Printf("%-34s %10.0f %9s %9s %7d\n", ep.name, r.rps, r.p50.Round(10*time.Microsecond),
			r.p99.Round(10*time.Microsecond), r.errors)
	}

	fmt.Println("\nPostgreSQL alone (pgbench, prepared statements, same connections and duration):")
	itemTPS, err := pgbench(dbURL, itemReadSQL(seed), cfg.duration)
	if err != nil {
		return err
	}
	insertTPS, err := pgbench(dbURL, storeInsertSQL, cfg.duration)
	if err != nil {
		return err
	}
	fmt.Printf("%-34s %10.0f\n", "SQL of GET /items/{id}", itemTPS)
	fmt.Printf("%-34s %10.0f\n", "INSERT of POST /stores", insertTPS)

	fmt.Println("\nRatios (API ÷ database, same run):")
	fmt.Printf("%-34s %10.2f  (target >= 0.80)\n", "GET /items/{id}", results["GET /items/{id}"].rps/itemTPS)
	fmt.Printf("%-34s %10.2f  (target >= 0.50)\n", "POST /stores", results["POST /stores"].rps/insertTPS)

	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("\nServer peak RSS: %.1f MiB (target < 64 MiB)\n", float64(rss)/(1<<20))
	if failed {
		return errors.New("some requests failed: this run does not count")
	}
	return nil
}

// createDatabase makes a fresh database on the server and returns its URL
// and a function that drops it.
func createDatabase(serverURL string) (string, func(), error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	name := "bench_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating the benchmark database: %w", err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// server is the built binary running in production mode.
type server struct {
	cmd  *exec.Cmd
	base string
	logs bytes.Buffer
}

func startServer(dbURL string) (*server, error) {
	dir, err := os.MkdirTemp("", "stores-api-bench")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "stores-api")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://127.0.0.1:" + port}
	s.cmd = exec.Command(bin)
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(),
		"APP_ENV=production",
		"HOST=127.0.0.1",
		"PORT="+port,
		"DATABASE_URL="+dbURL,
		"JWT_SECRET_KEY="+rand.Text()+rand.Text(),
		"ADMIN_EMAILS="+adminEmail,
		"AUTH_RATE_LIMIT=0",
		"LOG_LEVEL=warn",
		"DB_MAX_OPEN_CONNS="+strconv.Itoa(connections),
		"DB_MAX_IDLE_CONNS="+strconv.Itoa(connections),
	)
	s.cmd.Stdout, s.cmd.Stderr = &s.logs, &s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("the server did not start:\n%s", s.logs.String())
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
	}
}

// peakRSS reads the process's high-water mark of resident memory.
func (s *server) peakRSS() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return 0, errors.New("no VmHWM in /proc status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb * 1024, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// client seeds the database through the API, as a user would.
type client struct {
	base  string
	http  *http.Client
	token string
}

func (c *client) call(method, path string, body any, want int) (map[string]any, error) {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out, nil
}

func (c *client) login() error {
	creds := map[string]string{"email": adminEmail, "password": adminPassword}
	if _, err := c.call("POST", "/register", creds, http.StatusCreated); err != nil {
		return err
	}
	out, err := c.call("POST", "/login", creds, http.StatusOK)
	if err != nil {
		return err
	}
	c.token = out["access_token"].(string)
	return nil
}

// seeded is what the load targets pick from.
type seeded struct {
	storeIDs []int64
	itemIDs  []int64
	tagName  string // a tag carried by half the items of its store
}

func (c *client) seed() (seeded, error) {
	var s seeded
	for i := 1; i <= stores; i++ {
		store, err := c.call("POST", "/stores", map[string]any{"name": fmt.Sprintf("Store %d", i)}, http.StatusCreated)
		if err != nil {
			return s, err
		}
		storeID := int64(store["id"].(float64))
		s.storeIDs = append(s.storeIDs, storeID)
		var tagIDs []int64
		for _, name := range []string{fmt.Sprintf("sale-%d", i), fmt.Sprintf("new-%d", i)} {
			tag, err := c.call("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": name}, http.StatusCreated)
			if err != nil {
				return s, err
			}
			tagIDs = append(tagIDs, int64(tag["id"].(float64)))
		}
		for j := 1; j <= itemsPerStore; j++ {
			item, err := c.call("POST", "/items", map[string]any{
				"name": fmt.Sprintf("Item %d-%d", i, j), "price": float64(j) + 0.99, "store_id": storeID,
				"description": "A seeded item for the benchmark.",
			}, http.StatusCreated)
			if err != nil {
				return s, err
			}
			itemID := int64(item["id"].(float64))
			s.itemIDs = append(s.itemIDs, itemID)
			if j%2 == 0 {
				if _, err := c.call("POST", fmt.Sprintf("/items/%d/tags", itemID), map[string]any{"tag_ids": tagIDs}, http.StatusOK); err != nil {
					return s, err
				}
			}
		}
	}
	s.tagName = "sale-1"
	return s, nil
}

// endpoint is one load test: a name and a targeter.
type endpoint struct {
	name     string
	targeter vegeta.Targeter
	want     int
}

func endpoints(token string, s seeded) []endpoint {
	header := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	get := func(pathFor func() string) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			*t = vegeta.Target{Method: "GET", URL: pathFor(), Header: header}
			return nil
		}
	}
	var counter atomic.Int64
	post := func(path string, bodyFor func(n int64) any) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			body, _ := json.Marshal(bodyFor(counter.Add(1)))
			*t = vegeta.Target{Method: "POST", URL: path, Header: header, Body: body}
			return nil
		}
	}
	return []endpoint{
		{"GET /items/{id}", get(func() string { return fmt.Sprintf("/items/%d", pick(s.itemIDs)) }), 200},
		{"GET /stores/{id}", get(func() string { return fmt.Sprintf("/stores/%d", pick(s.storeIDs)) }), 200},
		{"GET /items?per_page=100", get(func() string { return "/items?per_page=100" }), 200},
		{"GET /items?tag=…&min_price=…", get(func() string { return "/items?tag=" + s.tagName + "&min_price=10" }), 200},
		{"POST /stores", post("/stores", func(n int64) any { return map[string]any{"name": fmt.Sprintf("Bench store %d", n)} }), 201},
		{"POST /items", post("/items", func(n int64) any {
			return map[string]any{"name": fmt.Sprintf("Bench item %d", n), "price": 9.99, "store_id": pick(s.storeIDs)}
		}), 201},
	}
}

func pick(ids []int64) int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(ids))))
	return ids[n.Int64()]
}

// result summarises one endpoint's run.
type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// attack drives one endpoint with a fixed number of connections, each
// sending its next request as soon as the last one is answered.
func attack(base string, ep endpoint, d time.Duration) result {
	withBase := func(t *vegeta.Target) error {
		if err := ep.targeter(t); err != nil {
			return err
		}
		t.URL = base + t.URL
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.Workers(connections), vegeta.MaxWorkers(connections),
		vegeta.Connections(connections), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	var m vegeta.Metrics
	errs := 0
	for res := range attacker.Attack(withBase, vegeta.Rate{Freq: 0}, d, ep.name) {
		m.Add(res)
		if int(res.Code) != ep.want || res.Error != "" {
			errs++
		}
	}
	m.Close()
	return result{rps: float64(m.Requests) / m.Duration.Seconds(), p50: m.Latencies.P50, p99: m.Latencies.P99, errors: errs}
}

// pgbench runs a script with prepared statements on the same number of
// connections and returns transactions a second.
func pgbench(dbURL, script string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp("", "bench-*.sql")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	f.WriteString(script)
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(connections), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-f", f.Name(), dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench (install it with: apt-get install -y postgresql-client): %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([\d.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// itemReadSQL is what GET /items/{id} needs from the database: the token's
// revocation and user check, then the item, its store and its tags.
func itemReadSQL(s seeded) string {
	// Items were seeded store by store, so an item's store follows from its id.
	return fmt.Sprintf(`\set id random(%d, %d)
\set sid (:id - %d) / %d + %d
SELECT u.is_admin, EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = 'BENCHMARKJTI') AS revoked FROM users u WHERE u.id = 1;
SELECT * FROM items WHERE items.id = :id LIMIT 1;
SELECT * FROM stores WHERE stores.id = :sid;
SELECT * FROM items_tags WHERE items_tags.item_id = :id;
SELECT * FROM tags WHERE tags.id IN (SELECT tag_id FROM items_tags WHERE item_id = :id) ORDER BY id;
`, s.itemIDs[0], s.itemIDs[len(s.itemIDs)-1], s.itemIDs[0], itemsPerStore, s.storeIDs[0])
}

// storeInsertSQL is the INSERT behind POST /stores.
const storeInsertSQL = `INSERT INTO stores (name) VALUES ('pgbench ' || md5(random()::text)) RETURNING id;
`
