package resources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/jackc/pgx/v5/pgconn"
)

// defaultDBTimeout bounds the database work of one request when
// Server.DBTimeout is zero. A database that stops answering then costs a
// client a few seconds and a 503, never a connection hung until the load
// balancer gives up; it is well above SQLite's busy waits under load.
const defaultDBTimeout = 5 * time.Second

// maxRequestIDLen caps an X-Request-ID taken from a client: it is copied
// into every log line of the request.
const maxRequestIDLen = 128

// Locals keys of the middleware.
const (
	localsRequestID  = "request_id"
	localsPanicStack = "panic_stack"
	localsLogNote    = "log_note"
)

// noteForLog adds a note to the request's access log line: something an
// operator may look for that is still no error of the server's, such as
// a refresh token used twice.
func noteForLog(c *fiber.Ctx, note string) { c.Locals(localsLogNote, note) }

// unmatchedRoute labels requests that matched no route (404, 405, CORS
// preflights): labelling them with the raw path would let any client
// create unbounded metric series.
const unmatchedRoute = "unmatched"

// contentSecurityPolicy lets a page load scripts, styles, images and data
// from this origin only. JSON responses do not care; the Swagger UI and
// the admin panel (which sets a stricter policy of its own) serve every
// file they use themselves. Inline styles are allowed because the Swagger
// UI's page carries one; inline scripts are not.
const contentSecurityPolicy = "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; " +
	"script-src 'self'; style-src 'self' 'unsafe-inline'"

// trustProxies sets how the app finds the client's address. Fiber then
// honours X-Forwarded-For (and X-Forwarded-Proto) only on connections from
// TRUSTED_PROXIES; with none set, no forwarding header is believed, so a
// client cannot choose its own address for the rate limits and the logs.
func (s *Server) trustProxies(cfg *fiber.Config) {
	cfg.EnableTrustedProxyCheck = true
	if len(s.Config.TrustedProxies) == 0 {
		return
	}
	cfg.TrustedProxies = s.Config.TrustedProxies
	cfg.ProxyHeader = fiber.HeaderXForwardedFor
	cfg.EnableIPValidation = true
}

// useMiddleware installs what runs around every route, outermost first.
func (s *Server) useMiddleware(app *fiber.App) {
	app.Use(s.requestID())
	app.Use(s.observe())
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: keepPanicStack}))
	if len(s.Config.TrustedProxies) > 0 {
		app.Use(forwardedClient(s.Config.TrustedProxies))
	}
	app.Use(func(c *fiber.Ctx) error {
		setSecurityHeaders(c)
		return c.Next()
	})
	if origins := s.corsOrigins(); len(origins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins: strings.Join(origins, ","),
			AllowHeaders: "Authorization, Content-Type, If-None-Match, X-Request-ID",
			// What a browser script may read from a response.
			ExposeHeaders: "ETag, Link, Retry-After, X-Request-ID, X-Total-Count",
			MaxAge:        600,
			// Tokens travel in the Authorization header, never in cookies,
			// so credentialed CORS is never needed.
			AllowCredentials: false,
		}))
	}
	// Bodies under 200 bytes are sent as they are; large lists shrink a lot.
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	app.Use(decodeBody(maxBodyBytes))
	app.Use(s.dbDeadline)
}

// hstsMaxAge is how long a browser that saw the API over HTTPS keeps to
// HTTPS: 180 days.
const hstsMaxAge = "max-age=15552000"

// setSecurityHeaders sets the headers every answer carries: helmet's
// defaults, with frames denied and this API's Content-Security-Policy.
// The middleware sets them before the handler runs; the error handler sets
// them on answers the HTTP server makes before routing (400, 408, 413,
// 431), which no middleware sees. HSTS goes only over HTTPS, which the app
// sees only through a trusted proxy's X-Forwarded-Proto; subdomains are
// not the API's call.
func setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.Set(fiber.HeaderXXSSProtection, "0")
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set("Cross-Origin-Embedder-Policy", "require-corp")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Origin-Agent-Cluster", "?1")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set("X-DNS-Prefetch-Control", "off")
	h.Set("X-Download-Options", "noopen")
	h.Set("X-Permitted-Cross-Domain-Policies", "none")
	if c.Protocol() == "https" {
		h.Set(fiber.HeaderStrictTransportSecurity, hstsMaxAge)
	}
	h.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
}

// requestID takes X-Request-ID from the request when it is sane, else
// makes one, and echoes it on the response, so a client's report, the
// access log and an error log line can be matched.
func (s *Server) requestID() fiber.Handler {
	assign := requestid.New(requestid.Config{
		Header:     fiber.HeaderXRequestID,
		Generator:  utils.UUIDv4,
		ContextKey: localsRequestID,
	})
	return func(c *fiber.Ctx) error {
		if id := c.Get(fiber.HeaderXRequestID); id != "" && !validRequestID(id) {
			c.Request().Header.Del(fiber.HeaderXRequestID) // a fresh one is generated instead
		}
		return assign(c)
	}
}

// validRequestID accepts ids that are safe to copy into logs and headers:
// UUIDs, trace ids and the like, not arbitrary text.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("-_.:+=/@", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// requestIDOf is the id the requestID middleware assigned, "" outside it.
func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(localsRequestID).(string)
	return id
}

// observe writes the one access log line of each request and records its
// metrics. It turns an error into the envelope itself, through the error
// handler, so the line and the metrics carry the status the client got.
func (s *Server) observe() fiber.Handler {
	var routes routeIndex
	return func(c *fiber.Ctx) error {
		start := time.Now()
		// The id may point into the request's header buffer, which Fiber
		// reuses; keep a copy of our own for the rest of the request.
		id := utils.CopyString(requestIDOf(c))
		c.Locals(localsRequestID, id)

		if err := c.Next(); err != nil {
			if err := s.errorHandler(c, err); err != nil {
				s.Log.Error("writing the error response failed", "request_id", id, "err", err)
				c.Status(fiber.StatusInternalServerError)
			}
		}

		elapsed := time.Since(start)
		status := c.Response().StatusCode()
		route := routes.pattern(c)
		s.metrics.observe(c.Method(), route, status, elapsed)
		if !s.Log.Enabled(context.Background(), slog.LevelInfo) {
			return nil // LOG_LEVEL=warn or above: no access log
		}

		attrs := []slog.Attr{
			slog.String("method", c.Method()),
			slog.String("route", route),
			slog.String("path", c.Path()),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", len(c.Response().Body())),
			slog.String("ip", c.IP()),
			slog.String("request_id", id),
		}
		if p := caller(c); p != nil {
			attrs = append(attrs, slog.Int64("user_id", p.UserID))
		}
		if note, ok := c.Locals(localsLogNote).(string); ok {
			attrs = append(attrs, slog.String("note", note))
		}
		s.Log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// routeIndex tells routes from middleware. After the handlers ran,
// c.Route() is the last thing that matched: the route's pattern, such as
// /items/:id, or, when no route matched (404, 405, a CORS preflight), a
// middleware prefix. Fiber does not expose which, so the index keeps the
// set of real routes, rebuilt whenever a handler is registered.
type routeIndex struct {
	current atomic.Pointer[routeSet]
}

type routeSet struct {
	handlers uint32          // app.HandlersCount() when built
	routes   map[string]bool // "GET /items/:id"
}

// pattern is the route pattern that handled the request, or
// unmatchedRoute.
func (x *routeIndex) pattern(c *fiber.Ctx) string {
	app := c.App()
	set := x.current.Load()
	if set == nil || set.handlers != app.HandlersCount() {
		set = &routeSet{handlers: app.HandlersCount(), routes: map[string]bool{}}
		for _, r := range app.GetRoutes(true) { // true: without Use middleware
			set.routes[r.Method+" "+r.Path] = true
		}
		x.current.Store(set)
	}
	if r := c.Route(); r != nil && set.routes[r.Method+" "+r.Path] {
		return r.Path
	}
	return unmatchedRoute
}

// keepPanicStack runs when the recover middleware catches a panic. The
// error handler logs the stack with the request id, in the same single
// line as any other 500, and answers with the envelope.
func keepPanicStack(c *fiber.Ctx, _ any) {
	c.Locals(localsPanicStack, debug.Stack())
}

// forwardedClient resolves the client behind trusted proxies. Proxies
// append the address they received the request from to X-Forwarded-For,
// so everything left of the last untrusted address was written by the
// client and may be forged. The header is rewritten to that one address,
// which c.IP() (and so the rate limiter and the logs) then reports.
func forwardedClient(trusted []string) fiber.Handler {
	var prefixes []netip.Prefix
	for _, t := range trusted {
		if p, err := netip.ParsePrefix(t); err == nil {
			prefixes = append(prefixes, p.Masked())
		} else if a, err := netip.ParseAddr(t); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		header := &c.Request().Header
		values := header.PeekAll(fiber.HeaderXForwardedFor)
		if len(values) == 0 || !c.IsProxyTrusted() {
			return c.Next() // Fiber ignores the header for untrusted peers
		}
		var hops []string
		for _, v := range values {
			hops = append(hops, strings.Split(string(v), ",")...)
		}
		client := ""
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // garbage: nothing further left can be trusted
			}
			client = a.Unmap().String()
			if !isTrusted(a) {
				break
			}
		}
		header.Del(fiber.HeaderXForwardedFor)
		if client != "" { // else c.IP() falls back to the proxy's own address
			header.Set(fiber.HeaderXForwardedFor, client)
		}
		return c.Next()
	}
}

// corsOrigins is CORS_ORIGINS without the entries the CORS middleware
// would reject: an origin is scheme://host[:port] or "*".
func (s *Server) corsOrigins() []string {
	var ok []string
	for _, o := range s.Config.CORSOrigins {
		if o == "*" || validOrigin(o) {
			ok = append(ok, o)
		} else {
			s.Log.Error("CORS_ORIGINS: ignoring an entry that is not an origin such as https://app.example.com", "origin", o)
		}
	}
	return ok
}

func validOrigin(o string) bool {
	scheme, host, found := strings.Cut(o, "://")
	return found && (scheme == "http" || scheme == "https") && host != "" &&
		!strings.ContainsAny(strings.TrimSuffix(host, "/"), "/?#*@ ")
}

// dbDeadline gives the request's database work a deadline, through the
// user context that handlers pass to GORM. See defaultDBTimeout.
func (s *Server) dbDeadline(c *fiber.Ctx) error {
	timeout := s.DBTimeout
	if timeout <= 0 {
		timeout = defaultDBTimeout
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), timeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// errDatabaseUnavailable answers a request that failed because the
// database could not be reached: the client may retry, nothing is wrong
// with the request.
var errDatabaseUnavailable = &Error{
	Status:     fiber.StatusServiceUnavailable,
	Code:       "database_unavailable",
	Message:    "Database unavailable.",
	RetryAfter: "5",
}

// dbUnavailable tells a database that cannot be reached (down, restarting,
// unreachable, too slow for the request's deadline, out of connections,
// SQLite locked beyond its busy timeout) from a bug. The former is a 503:
// the same process serves again as soon as the database is back.
func dbUnavailable(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
		netErr     net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &connectErr),
		errors.As(err, &netErr),
		pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 53300: too many connections;
		// 57P01-57P03: the server is shutting down or starting up.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "53300" ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}
