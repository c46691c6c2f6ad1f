package resources

import (
	"crypto/subtle"
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

// metrics are the Prometheus metrics of one Server. Each Server has its
// own registry, never the global default one, so two apps in one process
// (an SQLite and a PostgreSQL app in the tests) do not collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  fiber.Handler // promhttp's, on registry
}

// newMetrics registers the request metrics, the database pool statistics
// and the Go runtime and process collectors.
func (s *Server) newMetrics() *metrics {
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
	if sqlDB, err := s.DB.DB(); err == nil {
		// go_sql_* gauges and counters: open, in use, idle, waits.
		m.registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, s.Dialect))
	}
	m.handler = adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:           m.registry, // counts its own failures too
		DisableCompression: true,       // the compress middleware does it
	}))
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

// registerMetricsRoute records metrics unless METRICS_ENABLED=false, and
// serves them on the public port at GET /metrics where that is allowed:
// in development, or with METRICS_TOKEN, and never when METRICS_ADDR gives
// them a listener of their own. In production they reveal traffic and
// capacity to anyone who asks, so without a token the public port answers
// 404, as for any path it does not serve.
func (s *Server) registerMetricsRoute(r fiber.Router) {
	if !s.Config.MetricsEnabled {
		return
	}
	s.metrics = s.newMetrics()
	if s.Config.MetricsAddr != "" || (s.Config.Production() && s.Config.MetricsToken == "") {
		return
	}
	r.Get("/metrics", s.serveMetrics)
}

// serveMetrics handles GET /metrics on the public port: every metric in
// the Prometheus text format. With METRICS_TOKEN, a request without it is
// answered as if the route did not exist.
func (s *Server) serveMetrics(c *fiber.Ctx) error {
	if !s.metricsTokenMatches(c.Get(fiber.HeaderAuthorization)) {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.metrics.handler(c)
}

// metricsTokenMatches checks an Authorization header against METRICS_TOKEN
// in constant time; with no token set, anything matches.
func (s *Server) metricsTokenMatches(authorization string) bool {
	want := s.Config.MetricsToken
	if want == "" {
		return true
	}
	got, ok := strings.CutPrefix(authorization, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// MetricsHandler serves the metrics on a listener of their own
// (METRICS_ADDR): GET /metrics, and 404 for anything else. It is nil when
// METRICS_ENABLED=false. New must have built s.
func (s *Server) MetricsHandler() http.Handler {
	if s.metrics == nil {
		return nil
	}
	prom := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{Registry: s.metrics.registry})
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
