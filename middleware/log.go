package middleware

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/gofiber/fiber/v2/utils"
)

// maxRequestIDLen caps an X-Request-ID taken from a client: it is copied
// into every log line of the request.
const maxRequestIDLen = 128

// Locals keys of the stack.
const (
	localsRequestID  = "request_id"
	localsPanicStack = "panic_stack"
	localsLogNote    = "log_note"
	localsUserID     = "user_id"
)

// unmatchedRoute labels requests that matched no route (404, 405, CORS
// preflights): labelling them with the raw path would let any client
// create unbounded metric series.
const unmatchedRoute = "unmatched"

// RequestID is the id of the request, "" outside the stack.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localsRequestID).(string)
	return id
}

// NoteForLog adds a note to the request's access log line: something an
// operator may look for that is still no error of the server's, such as
// a refresh token used twice.
func NoteForLog(c *fiber.Ctx, note string) { c.Locals(localsLogNote, note) }

// SetUserID names the signed-in user on the request's access log line.
func SetUserID(c *fiber.Ctx, id int64) { c.Locals(localsUserID, id) }

// PanicStack is the stack of a panic the stack recovered from while
// serving c, nil if none: the front end's error handler logs it with the
// request id, in the one line of any other 500.
func PanicStack(c *fiber.Ctx) []byte {
	stack, _ := c.Locals(localsPanicStack).([]byte)
	return stack
}

func keepPanicStack(c *fiber.Ctx, _ any) {
	c.Locals(localsPanicStack, debug.Stack())
}

// requestID takes X-Request-ID from the request when it is sane, else
// makes one, and echoes it on the response, so a client's report, the
// access log and an error log line can be matched.
func requestID() fiber.Handler {
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

// observe writes the one access log line of each request and records its
// metrics. It turns an error into its answer itself, through the app's
// error handler (the API's envelope, or the admin panel's page under
// /admin), so the line and the metrics carry the status the client got.
func (s *Stack) observe() fiber.Handler {
	var routes routeIndex
	return func(c *fiber.Ctx) error {
		start := time.Now()
		// The id may point into the request's header buffer, which Fiber
		// reuses; keep a copy of our own for the rest of the request.
		id := utils.CopyString(RequestID(c))
		c.Locals(localsRequestID, id)

		if err := c.Next(); err != nil {
			if err := c.App().ErrorHandler(c, err); err != nil {
				s.log.Error("writing the error response failed", "request_id", id, "err", err)
				c.Status(fiber.StatusInternalServerError)
			}
		}

		elapsed := time.Since(start)
		status := c.Response().StatusCode()
		route := routes.pattern(c)
		s.metrics.observe(c.Method(), route, status, elapsed)
		if !s.log.Enabled(context.Background(), slog.LevelInfo) {
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
		if userID, ok := c.Locals(localsUserID).(int64); ok {
			attrs = append(attrs, slog.Int64("user_id", userID))
		}
		if note, ok := c.Locals(localsLogNote).(string); ok {
			attrs = append(attrs, slog.String("note", note))
		}
		s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
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
	if r := c.Route(); r != nil && set.routes[r.Method+" "+r.Path] && fixedPathMatches(r.Path, c.Path()) {
		return r.Path
	}
	return unmatchedRoute
}

// fixedPathMatches rules out the route Fiber reports for a request no
// route matched: the last middleware it ran, whose path ("/") may also be
// a route's (GET /). A pattern without parameters matches its own path
// only, as Fiber compares them: case aside, trailing slash aside.
func fixedPathMatches(pattern, path string) bool {
	if strings.ContainsAny(pattern, ":*+") {
		return true
	}
	return strings.EqualFold(strings.TrimSuffix(pattern, "/"), strings.TrimSuffix(path, "/"))
}
