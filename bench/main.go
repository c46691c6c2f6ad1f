// Command bench measures the API against what PostgreSQL alone can do, in
// one run on one machine:
//
//	go run ./bench
//
// It creates a fresh PostgreSQL database (BENCH_DATABASE_URL, default the
// local server), builds and starts the server on it in production mode,
// seeds it through the API (10 stores x 100 items, 2 tags per store, every
// other item tagged), and drives each endpoint with 32 concurrent
// connections using wrk. For GET /items/{id}, GET /stores/{id},
// GET /items?per_page=100, POST /stores and POST /items it first records,
// from the wire, exactly the statements one request sends (reference.go,
// capture.go), and runs them with pgbench -M prepared right after the
// endpoint, in BENCH_ROUNDS rounds. It prints requests a second, p50, p99,
// errors, the API ÷ database ratios, the server's peak RSS, and exits
// non-zero when a request fails or a target is missed.
package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
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
	// pgbouncerURL, when set, is a PgBouncer in transaction mode in front
	// of the same server: the pooled mode is measured against the direct.
	pgbouncerURL string
}

func loadSettings() (settings, error) {
	s := settings{
		serverURL: envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		duration:  10 * time.Second,
		rounds:    3,

		pgbouncerURL: os.Getenv("BENCH_PGBOUNCER_URL"),
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

	secret := rand.Text() + rand.Text()
	srv, err := startServer(dbURL, secret)
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
	refs, err := recordReferences(dbURL, secret, api.token, seed)
	if err != nil {
		return fmt.Errorf("recording the references: %w", err)
	}
	if dir := os.Getenv("BENCH_REFERENCES_DIR"); dir != "" {
		if err := saveReferences(dir, refs); err != nil {
			return err
		}
	}
	comparisons := []comparison{
		{endpoint: "GET /items/{id}", ref: refs["GET /items/{id}"], target: 0.6},
		{endpoint: "GET /stores/{id}", ref: refs["GET /stores/{id}"], target: 0.5},
		{endpoint: "GET /items?per_page=100", ref: refs["GET /items?per_page=100"]},
		{endpoint: "POST /stores", ref: refs["POST /stores"], target: 0.8},
		{endpoint: "POST /items", ref: refs["POST /items"]},
	}
	references := map[string]reference{}
	for _, c := range comparisons {
		references[c.endpoint] = c.ref
	}
	measured := map[string][]round{}
	failed := false
	for _, ep := range endpoints(api.token, seed) {
		// A short unmeasured run first: the pool opens its connections and
		// each prepares its statements.
		if _, err := attack(srv.base, ep, 2*time.Second); err != nil {
			return err
		}
		ref, compared := references[ep.name]
		rounds := 1
		if compared {
			rounds = cfg.rounds
		}
		var all []round
		for range rounds {
			rd, err := measureRound(srv, ep, dbURL, ref, compared, cfg.duration)
			if err != nil {
				return err
			}
			failed = failed || rd.api.errors > 0
			all = append(all, rd)
		}
		measured[ep.name] = all
		r := medianRound(all).api
		fmt.Printf("%-34s %10.0f %9s %9s %7d\n", ep.name, r.rps, r.p50.Round(10*time.Microsecond),
			r.p99.Round(10*time.Microsecond), totalErrors(all))
	}

	fmt.Printf("\nAPI ÷ PostgreSQL alone running exactly the statements of one request (pgbench, prepared\n")
	fmt.Printf("statements, same connections and duration), in %d rounds of the endpoint followed by pgbench;\n", cfg.rounds)
	fmt.Printf("the median is the result:\n")
	var missed []string
	for _, c := range comparisons {
		all := measured[c.endpoint]
		fmt.Printf("%s\n", c.endpoint)
		for i, rd := range all {
			fmt.Printf("  round %d: %6.0f req/s ÷ %6.0f tps = %.2f (p99 %s)\n", i+1, rd.api.rps, rd.tps, rd.ratio(),
				rd.api.p99.Round(10*time.Microsecond))
		}
		median := medianRound(all)
		printCPU(median)
		if c.target == 0 {
			fmt.Printf("  median ratio %.2f (reported)\n", median.ratio())
			continue
		}
		fmt.Printf("  median ratio %.2f (target >= %.2f)\n", median.ratio(), c.target)
		if median.ratio() < c.target {
			missed = append(missed, fmt.Sprintf("%s at %.2f of its reference (target %.2f)", c.endpoint, median.ratio(), c.target))
		}
	}
	if p99 := medianRound(measured["GET /items/{id}"]).api.p99; p99 > maxItemP99 {
		missed = append(missed, fmt.Sprintf("GET /items/{id} p99 %s (target <= %s)", p99.Round(10*time.Microsecond), maxItemP99))
	}

	if cfg.pgbouncerURL != "" {
		if err := comparePooled(cfg, dbURL, secret, api.token, seed, srv); err != nil {
			return err
		}
	}

	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("\nServer peak RSS: %.1f MiB (target < %d MiB)\n", float64(rss)/(1<<20), maxRSS>>20)
	if rss >= maxRSS {
		missed = append(missed, fmt.Sprintf("peak RSS %.1f MiB (target < %d MiB)", float64(rss)/(1<<20), maxRSS>>20))
	}
	if failed {
		return errors.New("some requests failed: this run does not count")
	}
	if len(missed) > 0 {
		return fmt.Errorf("targets missed:\n  %s", strings.Join(missed, "\n  "))
	}
	fmt.Println("Every target met.")
	return nil
}

// measureRound runs the endpoint, then its reference if it has one, and
// reads what each cost the machine's processes.
func measureRound(srv *server, ep endpoint, dbURL string, ref reference, compared bool, d time.Duration) (round, error) {
	pid := srv.cmd.Process.Pid
	before := readCPU(pid)
	r, err := attack(srv.base, ep, d)
	if err != nil {
		return round{}, err
	}
	rd := round{api: r}
	rd.apiCPU, rd.cpuKnown = share(before, readCPU(pid), r.loadCPU, r.requests)
	if !compared {
		return rd, nil
	}
	before = readCPU(pid)
	p, err := pgbench(dbURL, ref, d)
	if err != nil {
		return round{}, err
	}
	rd.tps = p.tps
	rd.refCPU, _ = share(before, readCPU(pid), p.loadCPU, p.transactions)
	return rd, nil
}

// printCPU says what one request cost each process in a round, and the
// ratio a server that cost nothing would reach.
func printCPU(rd round) {
	if !rd.cpuKnown {
		return
	}
	a, p := rd.apiCPU, rd.refCPU
	fmt.Printf("  median round, CPU per request: server %s, PostgreSQL %s, wrk %s; per pgbench transaction: PostgreSQL %s, pgbench %s\n",
		micros(a.server), micros(a.postgres), micros(a.load), micros(p.postgres), micros(p.load))
	if c := a.ceiling(); c > 0 && rd.tps > 0 {
		fmt.Printf("  a server that cost no CPU would reach at most %.0f req/s here: a ratio of %.2f\n", c, c/rd.tps)
	}
}

// The targets besides the ratios: the item read's tail latency at 32
// connections, and the server's peak resident memory.
const (
	maxItemP99 = 15 * time.Millisecond
	maxRSS     = 64 << 20
)
