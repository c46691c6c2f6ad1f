package resources_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches GET /metrics and parses the text format.
func scrape(t *testing.T, e *testEnv) map[string]*dto.MetricFamily {
	t.Helper()
	r := e.do("GET", "/metrics", nil, "")
	expect(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the Prometheus text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, r.Body)
	}
	return families
}

// series finds the metric of family name with exactly these labels.
func series(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m
	}
	return nil
}

func requestCount(families map[string]*dto.MetricFamily, route, method, status string) float64 {
	m := series(families, "http_requests_total", map[string]string{"route": route, "method": method, "status": status})
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Measured")
	for range 2 {
		expectError(t, e.do("GET", "/stores/999999", nil, token), http.StatusNotFound, "")
	}
	expect(t, e.do("GET", fmt.Sprintf("/stores/%d", storeID), nil, token), http.StatusOK)
	expectError(t, e.do("GET", "/secret-path-xyz", nil, ""), http.StatusNotFound, "")

	families := scrape(t, e)
	for _, c := range []struct {
		route, method, status string
		want                  float64
	}{
		{"/stores/:id", "GET", "404", 2},
		{"/stores/:id", "GET", "200", 1},
		{"/stores", "POST", "201", 1},
		{"/register", "POST", "201", 1},
		{"unmatched", "GET", "404", 1},
	} {
		if got := requestCount(families, c.route, c.method, c.status); got != c.want {
			t.Errorf("http_requests_total{route=%q,method=%q,status=%q} = %v, want %v", c.route, c.method, c.status, got, c.want)
		}
	}
	h := series(families, "http_request_duration_seconds", map[string]string{"route": "/stores/:id", "method": "GET", "status": "404"})
	if h == nil || h.GetHistogram().GetSampleCount() != 2 || h.GetHistogram().GetSampleSum() <= 0 || len(h.GetHistogram().GetBucket()) == 0 {
		t.Errorf("latency histogram of GET /stores/:id 404: %v", h)
	}
	for name := range families {
		for _, m := range families[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "secret-path-xyz") || strings.Contains(l.GetValue(), "999999") {
					t.Errorf("%s has a raw path as a label: %v", name, l)
				}
			}
		}
	}

	// Database pool, Go runtime and process.
	pool := series(families, "go_sql_max_open_connections", map[string]string{"db_name": e.DB.Dialect})
	if pool == nil || pool.GetGauge().GetValue() != 8 { // testdb's pool size
		t.Errorf("go_sql_max_open_connections{db_name=%q} = %v, want 8", e.DB.Dialect, pool)
	}
	for _, name := range []string{"go_sql_open_connections", "go_sql_wait_count_total", "go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}

// Two apps in one process each count their own requests: no global
// registry is shared (registering twice in one would panic).
func TestMetricsPerApp(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	for range 3 {
		expect(t, a.do("GET", "/healthz", nil, ""), http.StatusOK)
	}
	expect(t, b.do("GET", "/healthz", nil, ""), http.StatusOK)
	if got := requestCount(scrape(t, a), "/healthz", "GET", "200"); got != 3 {
		t.Errorf("app a counted %v GET /healthz, want 3", got)
	}
	if got := requestCount(scrape(t, b), "/healthz", "GET", "200"); got != 1 {
		t.Errorf("app b counted %v GET /healthz, want 1", got)
	}
}

func TestMetricsDisabled(t *testing.T) {
	e := newEnvWith(t, map[string]string{"METRICS_ENABLED": "false"})
	expectError(t, e.do("GET", "/metrics", nil, ""), http.StatusNotFound, "")
	expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK) // requests still work without metrics
}

// TestMetricsOffThePublicPortInProduction: in production the public port
// serves /metrics only to the bearer of METRICS_TOKEN, and to no one when
// METRICS_ADDR gives the metrics a listener of their own; anyone else gets
// the 404 of a path that does not exist.
func TestMetricsOffThePublicPortInProduction(t *testing.T) {
	const token = "metrics-token-0123456789"
	production := map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": strings.Repeat("k", 32)}
	with := func(extra map[string]string) map[string]string {
		vars := map[string]string{}
		for k, v := range production {
			vars[k] = v
		}
		for k, v := range extra {
			vars[k] = v
		}
		return vars
	}
	get := func(e *testEnv, authorization string) response {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		return e.send(req)
	}

	e := newEnvWith(t, with(nil))
	expectError(t, get(e, ""), http.StatusNotFound, "The requested URL was not found on the server.")

	e = newEnvWith(t, with(map[string]string{"METRICS_TOKEN": token}))
	for _, bad := range []string{"", "Bearer wrong-token-0123456789", token, "Basic " + token, "Bearer " + token + "x"} {
		expectError(t, get(e, bad), http.StatusNotFound, "")
	}
	r := get(e, "Bearer "+token)
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), "http_requests_total") {
		t.Fatalf("the token's bearer got no metrics:\n%s", r.Body)
	}

	// A listener of their own: never on the public port, even in
	// development.
	for _, vars := range []map[string]string{with(map[string]string{"METRICS_ADDR": ":9090"}), {"METRICS_ADDR": ":9090"}} {
		e = newEnvWith(t, vars)
		expectError(t, get(e, ""), http.StatusNotFound, "")
		expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK)
		srv := httptest.NewServer(e.Stack.MetricsHandler())
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `route="/healthz"`) {
			t.Fatalf("the metrics listener: %d\n%s", resp.StatusCode, body)
		}
	}
}

// TestMetricsOpenMetrics: /metrics answers OpenMetrics 1.0 to a scraper
// that asks for it (Prometheus's own Accept header prefers it), and the
// Prometheus text format to everyone else; the listener of METRICS_ADDR
// negotiates the same way.
func TestMetricsOpenMetrics(t *testing.T) {
	const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
		"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	isOpenMetrics := func(t *testing.T, contentType string, body []byte) {
		t.Helper()
		if !strings.HasPrefix(contentType, "application/openmetrics-text;") || !strings.Contains(contentType, "version=1.0.0") {
			t.Errorf("Content-Type %q, want application/openmetrics-text; version=1.0.0", contentType)
		}
		if !bytes.HasSuffix(body, []byte("\n# EOF\n")) {
			t.Errorf("an OpenMetrics exposition ends with # EOF:\n%s", body)
		}
		if !bytes.Contains(body, []byte("# TYPE http_requests counter\n")) ||
			!bytes.Contains(body, []byte(`http_requests_total{method="GET",route="/healthz",status="200"} 1`)) {
			t.Errorf("no http_requests counter of GET /healthz:\n%s", body)
		}
	}

	e := newEnv(t)
	expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK)
	for _, accept := range []string{"application/openmetrics-text; version=1.0.0", prometheusAccept} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", accept)
		r := e.send(req)
		expect(t, r, http.StatusOK)
		isOpenMetrics(t, r.Header.Get("Content-Type"), r.Body)
	}

	// Without Accept, or with any other, the text format (scrape parses it).
	for _, accept := range []string{"", "text/plain", "*/*", "application/json"} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		r := e.send(req)
		expect(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Accept %q: Content-Type %q, want the Prometheus text format", accept, ct)
		}
		if bytes.Contains(r.Body, []byte("# EOF")) {
			t.Errorf("Accept %q: the text format has no # EOF:\n%s", accept, r.Body)
		}
	}
	if requestCount(scrape(t, e), "/healthz", "GET", "200") != 1 {
		t.Error("the text format lost the count of GET /healthz")
	}

	// The listener of their own (METRICS_ADDR).
	e = newEnvWith(t, map[string]string{"METRICS_ADDR": ":9090"})
	expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK)
	srv := httptest.NewServer(e.Stack.MetricsHandler())
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", prometheusAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the metrics listener: %d\n%s", resp.StatusCode, body)
	}
	isOpenMetrics(t, resp.Header.Get("Content-Type"), body)
}
