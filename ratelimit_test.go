package main

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"stores-api/internal/redistest"
	"stores-api/internal/testdb"
)

// Three replicas with REDIS_URL spend one sign-in budget per client
// address; with Redis down they let sign-ins through and say so once;
// with Redis back they limit again.
func TestReplicasShareOneSignInBudgetInRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	redis := redistest.Start(t)
	env := map[string]string{
		"DATABASE_URL":    testdb.NewURL(t),
		"JWT_SECRET_KEY":  "shared-secret-of-all-replicas-0123456789",
		"REDIS_URL":       redis.URL(),
		"AUTH_RATE_LIMIT": "6",
	}
	procs := startReplicas(t, env)
	wrong := map[string]string{"email": "someone@example.com", "password": "not the password"}
	login := func(p *serverProcess) int {
		t.Helper()
		status, body, err := p.post("/login", "", wrong)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
			t.Fatalf("login answered %d %v", status, body)
		}
		return status
	}
	spendBudget := func() {
		t.Helper()
		for i := range 6 {
			if status := login(procs[i%3]); status != http.StatusUnauthorized {
				t.Fatalf("try %d of 6 answered %d, want 401", i+1, status)
			}
		}
		for i, p := range procs {
			if status := login(p); status != http.StatusTooManyRequests {
				t.Fatalf("past the budget, replica %d answered %d, want 429", i, status)
			}
		}
	}
	spendBudget()

	redis.Stop()
	for range 3 {
		for i, p := range procs {
			if status := login(p); status != http.StatusUnauthorized {
				t.Fatalf("with Redis down, replica %d answered %d, want 401 (fail open)", i, status)
			}
			if status, _, err := p.send("GET", "/readyz", "", nil); err != nil || status != http.StatusOK {
				t.Fatalf("with Redis down, replica %d /readyz = %d %v", i, status, err)
			}
		}
	}
	for i, p := range procs {
		if n := strings.Count(p.logs.String(), "cannot reach Redis"); n != 1 {
			t.Fatalf("replica %d logged the outage %d times, want once:\n%s", i, n, p.logs)
		}
	}
	if up, errs := metric(t, procs[0], "rate_limiter_redis_up"), metric(t, procs[0], "rate_limiter_redis_errors_total"); up != "0" || errs != "3" {
		t.Fatalf("during the outage: rate_limiter_redis_up %s, rate_limiter_redis_errors_total %s; want 0 and 3", up, errs)
	}

	redis.Restart(t) // empty: the budget starts again
	// Thirty tries at once through all replicas: the count is atomic, so
	// exactly the budget passes.
	statuses := make(chan int, 30)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, err := procs[i%3].post("/login", "", wrong)
			if err != nil {
				t.Error(err)
			}
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	passed := 0
	for s := range statuses {
		if s == http.StatusUnauthorized {
			passed++
		}
	}
	if passed != 6 {
		t.Fatalf("%d of 30 concurrent tries passed, want exactly 6", passed)
	}
	if up := metric(t, procs[0], "rate_limiter_redis_up"); up != "1" {
		t.Fatalf("after the outage: rate_limiter_redis_up %s, want 1", up)
	}
	for i, p := range procs {
		if !strings.Contains(p.logs.String(), "reaches Redis again") {
			t.Fatalf("replica %d did not log the end of the outage:\n%s", i, p.logs)
		}
	}
}

// metric is the value of an unlabelled metric on p's /metrics.
func metric(t *testing.T, p *serverProcess, name string) string {
	t.Helper()
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			return value
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return ""
}
