// Package middleware holds what both front ends, the JSON API (resources)
// and the admin panel (admin), run behind: request ids, the access log,
// metrics, panic recovery, security headers, CORS, compression, limits on
// request bodies and database time, the client's address behind trusted
// proxies, and the sign-in rate limit they share.
package middleware

import (
	"database/sql"
	"log/slog"
	"strings"
	"time"

	"github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"stores-api/config"
)

// MaxBodyBytes caps request bodies, as sent and once decoded; larger ones
// get 413.
const MaxBodyBytes = 1 << 20

// defaultDBTimeout bounds the database work of one request when
// Options.DBTimeout is zero. A database that stops answering then costs a
// client a few seconds and a 503, never a connection hung until the load
// balancer gives up; it is well above SQLite's busy waits under load.
const defaultDBTimeout = 5 * time.Second

// Options are what the stack is built from.
type Options struct {
	Config config.Config
	Log    *slog.Logger
	// DB is the pool whose statistics the metrics export; Dialect names it.
	DB      *sql.DB
	Dialect string
	// DBTimeout bounds the database work of one request (zero: 5s).
	DBTimeout time.Duration
}

// Stack is the middleware of one app: one set of metrics and one sign-in
// rate limit, whichever front end a request is for.
type Stack struct {
	cfg       config.Config
	log       *slog.Logger
	dbTimeout time.Duration
	metrics   *metrics      // nil when METRICS_ENABLED=false
	signIn    fiber.Handler // the sign-in rate limit
	shared    *sharedLimit  // its counters in Redis, when REDIS_URL is set
}

// New builds the stack; Close releases what it holds.
func New(o Options) (*Stack, error) {
	s := &Stack{cfg: o.Config, log: o.Log, dbTimeout: o.DBTimeout}
	if s.dbTimeout <= 0 {
		s.dbTimeout = defaultDBTimeout
	}
	if o.Config.MetricsEnabled {
		s.metrics = newMetrics(o.DB, o.Dialect)
	}
	s.signIn = signInLimit(o.Config.AuthRateLimit)
	if o.Config.RedisURL != "" && o.Config.AuthRateLimit > 0 {
		shared, err := newSharedLimit(o.Config.RedisURL, o.Config.AuthRateLimit, o.Log)
		if err != nil {
			return nil, err
		}
		if s.metrics != nil {
			s.metrics.registry.MustRegister(shared.collectors()...)
		}
		s.shared, s.signIn = shared, shared.handler
	}
	return s, nil
}

// Close closes the stack's connection to Redis, if any.
func (s *Stack) Close() error {
	if s.shared == nil {
		return nil
	}
	return s.shared.close()
}

// AppConfig is the fiber.Config of the app the stack serves, with
// errorHandler answering every error, those the HTTP server meets before
// routing included.
func (s *Stack) AppConfig(errorHandler fiber.ErrorHandler) fiber.Config {
	cfg := fiber.Config{
		AppName:               "stores-api",
		ErrorHandler:          errorHandler,
		BodyLimit:             MaxBodyBytes,
		JSONEncoder:           json.Marshal,
		DisableStartupMessage: true,
		// A client that sends its request slowly, or nothing at all, or
		// keeps an idle connection open, is cut off after these; without
		// them each would hold a connection forever.
		ReadTimeout:  s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout,
		IdleTimeout:  s.cfg.IdleTimeout,
	}
	trustProxies(&cfg, s.cfg.TrustedProxies)
	return cfg
}

// Install puts the stack in front of every route of app, outermost first,
// and adds GET /metrics where the configuration serves it there.
func (s *Stack) Install(app *fiber.App) {
	app.Use(requestID())
	app.Use(s.observe())
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: keepPanicStack}))
	if len(s.cfg.TrustedProxies) > 0 {
		app.Use(forwardedClient(s.cfg.TrustedProxies))
	}
	app.Use(func(c *fiber.Ctx) error {
		SetSecurityHeaders(c)
		return c.Next()
	})
	if origins := s.corsOrigins(); len(origins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins: strings.Join(origins, ","),
			AllowHeaders: "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-ID",
			// What a browser script may read from a response.
			ExposeHeaders: "ETag, Idempotent-Replayed, Link, Location, Retry-After, X-Request-ID, X-Total-Count",
			MaxAge:        600,
			// Tokens travel in the Authorization header, never in cookies,
			// so credentialed CORS is never needed.
			AllowCredentials: false,
		}))
	}
	// Bodies under 200 bytes are sent as they are; large lists shrink a lot.
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	app.Use(decodeBody(MaxBodyBytes))
	app.Use(s.dbDeadline)
	app.Use(httpCaching) // ETag, 304 and Cache-Control on every route (caching.go)
	s.registerMetricsRoute(app)
}

// SignInLimit limits /register, /login, /refresh and the admin panel's
// sign-in per client address, together: one budget for every way to
// guess a password.
func (s *Stack) SignInLimit() fiber.Handler { return s.signIn }

// corsOrigins is CORS_ORIGINS without the entries the CORS middleware
// would reject: an origin is scheme://host[:port] or "*".
func (s *Stack) corsOrigins() []string {
	var ok []string
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || validOrigin(o) {
			ok = append(ok, o)
		} else {
			s.log.Error("CORS_ORIGINS: ignoring an entry that is not an origin such as https://app.example.com", "origin", o)
		}
	}
	return ok
}

func validOrigin(o string) bool {
	scheme, host, found := strings.Cut(o, "://")
	return found && (scheme == "http" || scheme == "https") && host != "" &&
		!strings.ContainsAny(strings.TrimSuffix(host, "/"), "/?#*@ ")
}
