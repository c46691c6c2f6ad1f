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
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
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

	if cfg.pgbouncerURL != "" {
		if err := comparePooled(cfg, dbURL, secret, api.token, seed, srv); err != nil {
			return err
		}
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
