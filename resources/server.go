// Package resources holds the HTTP layer: one file per course blueprint
// (store, item, tag, user), the error envelope and the app factory New,
// the counterpart of the course's create_app.
package resources

import (
	"log/slog"
	"mime"
	"strconv"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/models"
	"stores-api/schemas"
)

// maxBodyBytes caps request bodies; larger ones get 413.
const maxBodyBytes = 1 << 20

// Server holds what the handlers depend on. main builds one; tests build
// their own, so two apps on two databases can live in one process.
type Server struct {
	DB       *gorm.DB
	Dialect  string // models.Postgres or models.SQLite
	Config   config.Config
	Log      *slog.Logger
	Validate *validator.Validate
	Sessions *blocklist.Sessions // revocation, per sign-in
	// DBTimeout bounds the database work of one request (zero: 5s), so
	// an unreachable database yields a prompt 503 (middleware.go).
	DBTimeout time.Duration

	// Built by New.
	requireAccess  fiber.Handler // a valid access token
	requireRefresh fiber.Handler // a valid refresh token
	// requireAccessInline is requireAccess for the busiest routes, whose
	// handlers check the token in their own statement (tokenguard.go).
	requireAccessInline fiber.Handler
	authLimiter         fiber.Handler // one budget per client IP for every sign-in route
	dummyHash           []byte        // compared against when a login email is unknown
	metrics             *metrics      // nil when METRICS_ENABLED=false
}

// New builds the Fiber app with every route registered.
func New(s *Server) *fiber.App {
	if s.Validate == nil {
		s.Validate = schemas.NewValidator()
	}
	if s.Sessions == nil {
		s.Sessions = blocklist.New(s.DB)
	}
	s.requireAccess = s.newTokenMiddleware(accessToken, false)
	s.requireAccessInline = s.newTokenMiddleware(accessToken, true)
	s.requireRefresh = s.newTokenMiddleware(refreshToken, false)
	s.authLimiter = s.authRateLimit()
	s.dummyHash = mustHash("not-a-real-password", s.Config.BcryptCost)
	cfg := fiber.Config{
		AppName:      "stores-api",
		ErrorHandler: s.errorHandler,
		BodyLimit:    maxBodyBytes,
		// A client that sends its request slowly, or nothing at all, or
		// keeps an idle connection open, is cut off after these; without
		// them each would hold a connection forever.
		ReadTimeout:           s.Config.ReadTimeout,
		WriteTimeout:          s.Config.WriteTimeout,
		IdleTimeout:           s.Config.IdleTimeout,
		JSONEncoder:           json.Marshal,
		DisableStartupMessage: true,
	}
	s.trustProxies(&cfg) // TRUSTED_PROXIES (middleware.go)
	app := fiber.New(cfg)
	s.useMiddleware(app)        // request id, access log, metrics, recover, headers, CORS, compression
	app.Use(httpCaching)        // ETag, 304 and Cache-Control on every route (caching.go)
	s.registerMetricsRoute(app) // GET /metrics (metrics.go)
	s.registerDocRoutes(app)
	s.registerHealthRoutes(app)
	s.registerUserRoutes(app)
	s.registerStoreRoutes(app)
	s.registerItemRoutes(app)
	s.registerTagRoutes(app)
	s.registerAdminRoutes(app) // the HTML admin panel under /admin (admin.go)
	return app
}

// mustHash hashes a fixed password once at start-up; bcrypt fails only for
// a cost out of range, which config.Load already refuses.
func mustHash(password string, cost int) []byte {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		panic(err)
	}
	return hash
}

// bind checks the content type, then decodes and validates the JSON body
// into in, reporting every bad field at once.
func (s *Server) bind(c *fiber.Ctx, in any) error {
	mediaType, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mediaType != fiber.MIMEApplicationJSON {
		return &Error{Status: fiber.StatusUnsupportedMediaType, Message: "The request body must be JSON (Content-Type: application/json)."}
	}
	return schemas.Decode(s.Validate, c.Body(), in)
}

// pathID reads a positive 64-bit id from the path. Anything else cannot
// name a row, so it is the resource's 404 rather than a 400.
func pathID(c *fiber.Ctx, param string, notFound *Error) (int64, error) {
	raw := c.Params(param)
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return 0, notFound
		}
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound
	}
	return id, nil
}

// forUpdate locks the selected rows until the transaction ends on
// PostgreSQL. SQLite needs no row locks: its transactions begin
// IMMEDIATE, so writers already run one at a time.
func (s *Server) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.Dialect == models.Postgres {
		return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return tx
}

// forShare keeps the selected rows from being changed or deleted until the
// transaction ends on PostgreSQL (SQLite: see forUpdate).
func (s *Server) forShare(tx *gorm.DB) *gorm.DB {
	if s.Dialect == models.Postgres {
		return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthShare})
	}
	return tx
}

// byID orders preloaded children, so every list in a response is ordered
// by id.
func byID(db *gorm.DB) *gorm.DB { return db.Order("id") }
