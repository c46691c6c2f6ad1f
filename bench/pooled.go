package main

import (
	"fmt"
	"net/url"
	"time"
)

// comparePooled measures what the pooled mode costs: a second server on
// the same database through PgBouncer (BENCH_PGBOUNCER_URL) in
// transaction mode, with DATABASE_DIRECT_URL set, so its statements run in
// pgx's exec mode (unnamed, parsed and planned each time) instead of as
// prepared statements. Rounds alternate the direct server and the pooled
// one on the same endpoint, so both see the same machine.
func comparePooled(cfg settings, dbURL, secret, token string, seed seeded, direct *server) error {
	pooledURL, err := throughBouncer(dbURL, cfg.pgbouncerURL)
	if err != nil {
		return err
	}
	pooled, err := startServer(pooledURL, secret, "DATABASE_DIRECT_URL="+dbURL)
	if err != nil {
		return err
	}
	defer pooled.stop()

	fmt.Printf("\nThrough PgBouncer (transaction mode, exec query mode) ÷ direct (prepared statements),\n")
	fmt.Printf("in %d rounds of the direct server followed by the pooled one; the median is the result:\n", cfg.rounds)
	for _, ep := range endpoints(token, seed) {
		if ep.name != "GET /items/{id}" && ep.name != "POST /stores" {
			continue
		}
		for _, s := range []*server{direct, pooled} {
			if _, err := attack(s.base, ep, 2*time.Second); err != nil {
				return err
			}
		}
		var rounds []round
		for range cfg.rounds {
			d, err := attack(direct.base, ep, cfg.duration)
			if err != nil {
				return err
			}
			p, err := attack(pooled.base, ep, cfg.duration)
			if err != nil {
				return err
			}
			if d.errors+p.errors > 0 {
				return fmt.Errorf("%s: %d errors direct, %d pooled", ep.name, d.errors, p.errors)
			}
			rounds = append(rounds, round{api: p, tps: d.rps})
		}
		fmt.Printf("%s\n", ep.name)
		for i, rd := range rounds {
			fmt.Printf("  round %d: %6.0f req/s pooled ÷ %6.0f req/s direct = %.2f (p99 %s)\n", i+1, rd.api.rps, rd.tps,
				rd.ratio(), rd.api.p99.Round(10*time.Microsecond))
		}
		fmt.Printf("  median %.2f\n", medianRound(rounds).ratio())
	}
	return nil
}

// throughBouncer is dbURL with its host and port replaced by PgBouncer's.
func throughBouncer(dbURL, bouncer string) (string, error) {
	d, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	b, err := url.Parse(bouncer)
	if err != nil {
		return "", fmt.Errorf("BENCH_PGBOUNCER_URL: %w", err)
	}
	d.Host = b.Host
	return d.String(), nil
}
