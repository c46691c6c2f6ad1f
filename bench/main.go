// Command bench measures the API against what PostgreSQL alone can do, in
// one run on one machine:
//
//	go run ./bench
//
// It creates a fresh PostgreSQL database (BENCH_DATABASE_URL, default the
// local server), builds and starts the server on it in production mode,
// seeds it through the API (10 stores x 100 items, 2 tags per store, every
// other item tagged), drives each endpoint with 32 concurrent connections
// using wrk, runs pgbench with prepared statements on the SQL behind
// GET /items/{id} and POST /stores (BENCH_ROUNDS rounds of endpoint, then
// pgbench), and prints requests a second, p50, p99, errors, the API ÷
// database ratios and the server's peak RSS. A run in which any request
// fails exits non-zero.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
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
	duration  time.Duration // per endpoint, and per round of a comparison
	rounds    int           // rounds of each comparison with pgbench
}

func loadSettings() (settings, error) {
	s := settings{
		serverURL: envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		duration:  10 * time.Second,
		rounds:    3,
	}
	if v := os.Getenv("BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return s, fmt.Errorf("BENCH_DURATION: %w", err)
		}
		s.duration = d
	}
	if v := os.Getenv("BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("BENCH_ROUNDS: want a positive number, got %q", v)
		}
		s.rounds = n
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

	// An endpoint with a database-alone reference is measured in rounds,
	// each the endpoint followed at once by pgbench, so that both figures
	// of a round see the same machine (on a shared machine the load from
	// elsewhere drifts within minutes) and the same table sizes. The round
	// with the median ratio is the one reported.
	comparisons := []comparison{
		{endpoint: "GET /items/{id}", sql: itemReadSQL(seed), described: "its SQL", target: "0.80"},
		{endpoint: "POST /stores", sql: storeInsertSQL, described: "its INSERT", target: "0.50"},
	}
	references := map[string]string{}
	for _, c := range comparisons {
		references[c.endpoint] = c.sql
	}
	measured := map[string][]round{}
	failed := false
	for _, ep := range endpoints(api.token, seed) {
		// A short unmeasured run first: the pool opens its connections and
		// each prepares its statements.
		if _, err := attack(srv.base, ep, 2*time.Second); err != nil {
			return err
		}
		reference, compared := references[ep.name]
		rounds := 1
		if compared {
			rounds = cfg.rounds
		}
		var all []round
		for range rounds {
			r, err := attack(srv.base, ep, cfg.duration)
			if err != nil {
				return err
			}
			failed = failed || r.errors > 0
			rd := round{api: r}
			if compared {
				if rd.tps, err = pgbench(dbURL, reference, cfg.duration); err != nil {
					return err
				}
			}
			all = append(all, rd)
		}
		measured[ep.name] = all
		r := medianRound(all).api
		fmt.Printf("%-34s %10.0f %9s %9s %7d\n", ep.name, r.rps, r.p50.Round(10*time.Microsecond),
			r.p99.Round(10*time.Microsecond), totalErrors(all))
	}

	fmt.Printf("\nAPI ÷ PostgreSQL alone (pgbench, prepared statements, same connections and duration),\n")
	fmt.Printf("in %d rounds of the endpoint followed by pgbench; the median is the result:\n", cfg.rounds)
	for _, c := range comparisons {
		all := measured[c.endpoint]
		fmt.Printf("%s (pgbench: %s)\n", c.endpoint, c.described)
		for i, rd := range all {
			fmt.Printf("  round %d: %6.0f req/s ÷ %6.0f tps = %.2f\n", i+1, rd.api.rps, rd.tps, rd.ratio())
		}
		fmt.Printf("  median ratio %.2f (target >= %s)\n", medianRound(all).ratio(), c.target)
	}

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
		"JWT_ACCESS_TTL=24h", // one token serves the whole run
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

// endpoint is one load test: a name and a wrk script that builds its
// requests. Any answer outside 2xx counts as an error.
type endpoint struct {
	name   string
	script string
}

// endpoints builds the wrk scripts. POSTs name what they create after the
// run's nonce, the wrk thread and a counter, so names never collide.
func endpoints(token string, s seeded) []endpoint {
	headers := fmt.Sprintf(`wrk.headers["Authorization"] = "Bearer %s"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local n = 0
`, token)
	randomPath := func(prefix string, ids []int64) string {
		return headers + fmt.Sprintf(`local ids = {%s}
request = function() return wrk.format("GET", "%s" .. ids[math.random(#ids)]) end
`, joinIDs(ids), prefix)
	}
	fixedPath := func(path string) string {
		return headers + fmt.Sprintf("request = function() return wrk.format(\"GET\", %q) end\n", path)
	}
	post := func(path, bodyFormat string) string {
		return headers + fmt.Sprintf(`local stores = {%s}
request = function()
  n = n + 1
  local body = string.format(%q, nonce, tid, n, stores[math.random(#stores)])
  return wrk.format("POST", %q, nil, body)
end
`, joinIDs(s.storeIDs), bodyFormat, path)
	}
	return []endpoint{
		{"GET /items/{id}", randomPath("/items/", s.itemIDs)},
		{"GET /stores/{id}", randomPath("/stores/", s.storeIDs)},
		{"GET /items?per_page=100", fixedPath("/items?per_page=100")},
		{"GET /items?tag=…&min_price=…", fixedPath("/items?tag=" + s.tagName + "&min_price=10")},
		{"POST /stores", post("/stores", `{"name": "Bench store %s-%d-%d"}`)},
		{"POST /items", post("/items", `{"name": "Bench item %s-%d-%d", "price": 9.99, "store_id": %d}`)},
	}
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// result summarises one endpoint's run.
type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// comparison pairs an endpoint with the SQL pgbench runs as its reference.
type comparison struct {
	endpoint  string
	sql       string // the pgbench script
	described string // what the script is, for the output
	target    string // the lowest acceptable ratio
}

// round is one measurement of an endpoint and, where it has one, of its
// database-alone reference right after.
type round struct {
	api result
	tps float64 // pgbench transactions a second; 0 without a reference
}

func (r round) ratio() float64 {
	if r.tps == 0 {
		return 0
	}
	return r.api.rps / r.tps
}

// medianRound is the round with the median ratio (the middle one of an
// odd number, the lower middle of an even one).
func medianRound(rounds []round) round {
	sorted := slices.Clone(rounds)
	slices.SortFunc(sorted, func(a, b round) int { return cmp.Compare(a.ratio(), b.ratio()) })
	return sorted[(len(sorted)-1)/2]
}

func totalErrors(rounds []round) int {
	n := 0
	for _, r := range rounds {
		n += r.api.errors
	}
	return n
}

// attack drives one endpoint with wrk: a fixed number of connections, each
// sending its next request as soon as the last one is answered. Non-2xx
// answers and socket errors count as errors.
func attack(base string, ep endpoint, d time.Duration) (result, error) {
	// nonce keeps the names a POST run creates apart from earlier runs'.
	script := fmt.Sprintf("nonce = %q\n", strings.ToLower(rand.Text()[:8])) + ep.script + `
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d\n", summary.requests, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
`
	f, err := os.CreateTemp("", "bench-*.lua")
	if err != nil {
		return result{}, err
	}
	defer os.Remove(f.Name())
	f.WriteString(script)
	f.Close()
	out, err := exec.Command("wrk", "-t", "2", "-c", strconv.Itoa(connections), "-d", strconv.Itoa(int(d.Seconds()))+"s",
		"--timeout", "10s", "-s", f.Name(), base).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk (install it with: apt-get install -y wrk): %v\n%s", err, out)
	}
	m := regexp.MustCompile(`RESULT (\d+) (\d+) (\d+) (\d+)`).FindSubmatch(out)
	rps := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out)
	if m == nil || rps == nil {
		return result{}, fmt.Errorf("unexpected wrk output:\n%s", out)
	}
	num := func(b []byte) int64 { n, _ := strconv.ParseInt(string(b), 10, 64); return n }
	r := result{p50: time.Duration(num(m[2])) * time.Microsecond, p99: time.Duration(num(m[3])) * time.Microsecond, errors: int(num(m[4]))}
	r.rps, _ = strconv.ParseFloat(string(rps[1]), 64)
	return r, nil
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
// session and user check, then the item, its store and its tags.
func itemReadSQL(s seeded) string {
	// Items were seeded store by store, so an item's store follows from its id.
	return fmt.Sprintf(`\set id random(%d, %d)
\set sid (:id - %d) / %d + %d
SELECT u.is_admin, EXISTS (SELECT 1 FROM sessions s WHERE s.id = 'BENCHMARKSID' AND s.user_id = u.id) AS live FROM users u WHERE u.id = 1;
SELECT * FROM items WHERE items.id = :id LIMIT 1;
SELECT * FROM stores WHERE stores.id = :sid;
SELECT * FROM items_tags WHERE items_tags.item_id = :id;
SELECT * FROM tags WHERE tags.id IN (SELECT tag_id FROM items_tags WHERE item_id = :id) ORDER BY id;
`, s.itemIDs[0], s.itemIDs[len(s.itemIDs)-1], s.itemIDs[0], itemsPerStore, s.storeIDs[0])
}

// storeInsertSQL is the INSERT behind POST /stores.
const storeInsertSQL = `INSERT INTO stores (name) VALUES ('pgbench ' || md5(random()::text)) RETURNING id;
`
