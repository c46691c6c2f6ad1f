package middleware

import (
	"crypto/subtle"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one app. Each app has its own
// registry, never the global default one, so two apps in one process (an
// SQLite and a PostgreSQL app in the tests) do not collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the request metrics, the statistics of the
// database pool db (when there is one) and the Go runtime and process
// collectors.
func newMetrics(db *sql.DB, dialect string) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
	}
	m.registry.MustRegister(
		m.requests,
		m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if db != nil {
		// go_sql_* gauges and counters: open, in use, idle, waits.
		m.registry.MustRegister(collectors.NewDBStatsCollector(db, dialect))
	}
	return m
}

// observe records one answered request; a nil *metrics (METRICS_ENABLED
// =false) records nothing.
func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	code := strconv.Itoa(status)
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.duration.WithLabelValues(route, method, code).Observe(elapsed.Seconds())
}

// methodLabel returns a constant string for the method: c.Method() points
// into a buffer Fiber reuses, and a metric keeps its label values forever.
func methodLabel(method string) string {
	for _, m := range []string{
		fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
		fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace,
	} {
		if method == m {
			return m
		}
	}
	return "OTHER"
}

// registerMetricsRoute serves the metrics on the app's own port at
// GET /metrics where that is allowed: in development, or with
// METRICS_TOKEN, and never when METRICS_ADDR gives them a listener of
// their own. In production they reveal traffic and capacity to anyone who
// asks, so without a token the public port answers 404, as for any path it
// does not serve.
func (s *Stack) registerMetricsRoute(r fiber.Router) {
	if s.metrics == nil || s.cfg.MetricsAddr != "" || (s.cfg.Production() && s.cfg.MetricsToken == "") {
		return
	}
	handler := adaptor.HTTPHandler(s.promHandler(true)) // the compress middleware compresses
	r.Get("/metrics", func(c *fiber.Ctx) error {
		if !s.metricsTokenMatches(c.Get(fiber.HeaderAuthorization)) {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return handler(c)
	})
}

// promHandler is promhttp's handler on the stack's registry. It answers
// in the Prometheus text format, or in OpenMetrics 1.0 to a scraper whose
// Accept header asks for application/openmetrics-text (as Prometheus
// does).
func (s *Stack) promHandler(uncompressed bool) http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{
		Registry:           s.metrics.registry, // counts its own failures too
		DisableCompression: uncompressed,
		EnableOpenMetrics:  true,
	})
}

// metricsTokenMatches checks an Authorization header against METRICS_TOKEN
// in constant time; with no token set, anything matches.
func (s *Stack) metricsTokenMatches(authorization string) bool {
	want := s.cfg.MetricsToken
	if want == "" {
		return true
	}
	got, ok := strings.CutPrefix(authorization, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// MetricsHandler serves the metrics on a listener of their own
// (METRICS_ADDR): GET /metrics, and 404 for anything else. It is nil when
// METRICS_ENABLED=false.
func (s *Stack) MetricsHandler() http.Handler {
	if s.metrics == nil {
		return nil
	}
	prom := s.promHandler(false)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if !s.metricsTokenMatches(r.Header.Get("Authorization")) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		prom.ServeHTTP(w, r)
	})
	return mux
}

// MetricsRegistry is where the rest of the service registers metrics of
// its own (the job queue's); nil when METRICS_ENABLED=false.
func (s *Stack) MetricsRegistry() prometheus.Registerer {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.registry
}
