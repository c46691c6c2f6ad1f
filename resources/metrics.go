package resources

import (
	"strconv"
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

// registerMetricsRoute adds GET /metrics unless METRICS_ENABLED=false.
//
// It needs no token, as Prometheus scrapers expect. The numbers reveal
// traffic and capacity, not data, but operators should still keep the
// route off the public internet: scrape it on the internal network and
// have the load balancer or ingress refuse /metrics from outside.
func (s *Server) registerMetricsRoute(r fiber.Router) {
	if !s.Config.MetricsEnabled {
		return
	}
	s.metrics = s.newMetrics()
	r.Get("/metrics", s.serveMetrics)
}

// serveMetrics handles GET /metrics: every metric in the Prometheus text
// format.
func (s *Server) serveMetrics(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.metrics.handler(c)
}
