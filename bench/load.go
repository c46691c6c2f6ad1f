package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
		{"POST /items", post("/items", `{"name": "Bench item %s-%d-%d", "price": 9.99, "store_id": %d, "description": "`+benchDescription+`"}`)},
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
	requests int64
	loadCPU  time.Duration // wrk's own CPU time
}

// comparison pairs an endpoint with the SQL pgbench runs as its reference.
type comparison struct {
	endpoint string
	ref      reference
	target   float64 // the lowest acceptable ratio; 0: reported only
}

// round is one measurement of an endpoint and, where it has one, of its
// database-alone reference right after.
type round struct {
	api result
	tps float64 // pgbench transactions a second; 0 without a reference

	// What the endpoint's run and pgbench's cost per request; known when
	// PostgreSQL runs on this machine.
	apiCPU, refCPU cpuShare
	cpuKnown       bool
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
	cmd := exec.Command("wrk", "-t", "2", "-c", strconv.Itoa(connections), "-d", strconv.Itoa(int(d.Seconds()))+"s",
		"--timeout", "10s", "-s", f.Name(), base)
	out, err := cmd.CombinedOutput()
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
	r.requests, r.loadCPU = num(m[1]), cpuOf(cmd)
	return r, nil
}

// cpuOf is the CPU time, user and system, a finished command spent.
func cpuOf(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// pgbenchResult is one run of pgbench.
type pgbenchResult struct {
	tps          float64
	transactions int64
	loadCPU      time.Duration // pgbench's own CPU time
}

// pgbench runs a script with prepared statements on the same number of
// connections and returns transactions a second.
func pgbench(dbURL string, ref reference, d time.Duration) (pgbenchResult, error) {
	f, err := os.CreateTemp("", "bench-*.sql")
	if err != nil {
		return pgbenchResult{}, err
	}
	defer os.Remove(f.Name())
	f.WriteString(ref.script)
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(connections), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-f", f.Name()}
	for _, def := range ref.defines {
		args = append(args, "-D", def)
	}
	cmd := exec.CommandContext(ctx, "pgbench", append(args, dbURL)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench (install it with: apt-get install -y postgresql-client): %v\n%s", err, out)
	}
	tps := regexp.MustCompile(`tps = ([\d.]+)`).FindSubmatch(out)
	n := regexp.MustCompile(`number of transactions actually processed: (\d+)`).FindSubmatch(out)
	if tps == nil || n == nil {
		return pgbenchResult{}, fmt.Errorf("no tps in pgbench output:\n%s", out)
	}
	r := pgbenchResult{loadCPU: cpuOf(cmd)}
	r.tps, _ = strconv.ParseFloat(string(tps[1]), 64)
	r.transactions, _ = strconv.ParseInt(string(n[1]), 10, 64)
	return r, nil
}
