// Package resources is the JSON API: one file per course blueprint (store,
// item, tag, user), the tokens (auth.go), the error envelope and the app
// factory New, the counterpart of the course's create_app. A handler
// parses and validates its input, calls the data layer (models), maps
// what it gets to a schema and returns it; no SQL is written here.
package resources

import (
	"log/slog"
	"mime"
	"strconv"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/middleware"
	"stores-api/models"
	"stores-api/schemas"
	"stores-api/tasks"
)

// Deps are what the API is built from. main builds them once; tests build
// their own, so two apps on two databases can live in one process.
type Deps struct {
	Data     *models.Models
	Sessions *blocklist.Sessions // revocation, per sign-in
	Config   config.Config
	Log      *slog.Logger
	Stack    *middleware.Stack // shared with the admin panel
	Jobs     *tasks.Queue      // the emails the routes cause
}

// server holds what the handlers depend on.
type server struct {
	data     *models.Models
	sessions *blocklist.Sessions
	jobs     *tasks.Queue
	cfg      config.Config
	log      *slog.Logger
	validate *validator.Validate
	signIn   fiber.Handler // one budget per client for every sign-in route

	verified       *verifiedTokens // tokens whose signature was checked already
	requireAccess  fiber.Handler   // a valid access token (of a verified user, when that is required)
	requireSignIn  fiber.Handler   // a valid access token, verified email or not
	requireRefresh fiber.Handler   // a valid refresh token
}

// New builds the Fiber app with the shared middleware and every route of
// the API. The admin panel is mounted on it under /admin by main.
func New(d Deps) *fiber.App {
	s := newServer(d)
	app := fiber.New(d.Stack.AppConfig(s.errorHandler))
	d.Stack.Install(app) // request id, access log, metrics, headers, caching, limits …
	registerDocRoutes(app)
	s.registerHealthRoutes(app)
	s.registerUserRoutes(app)
	s.registerStoreRoutes(app)
	s.registerItemRoutes(app)
	s.registerTagRoutes(app)
	registerCourseHints(app)
	return app
}

func newServer(d Deps) *server {
	s := &server{
		data:     d.Data,
		sessions: d.Sessions,
		jobs:     d.Jobs,
		cfg:      d.Config,
		log:      d.Log,
		validate: schemas.NewValidator(),
		signIn:   d.Stack.SignInLimit(),
	}
	s.verified = newVerifiedTokens(maxVerifiedTokens)
	s.requireAccess = s.tokenMiddleware(accessToken, verifiedEmail)
	s.requireSignIn = s.tokenMiddleware(accessToken, anyEmail)
	s.requireRefresh = s.tokenMiddleware(refreshToken, anyEmail)
	return s
}

// bind checks the content type, then decodes and validates the JSON body
// into in, reporting every bad field at once.
func (s *server) bind(c *fiber.Ctx, in any) error {
	return bindJSON(s.validate, c, in)
}

func bindJSON(v *validator.Validate, c *fiber.Ctx, in any) error {
	mediaType, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mediaType != fiber.MIMEApplicationJSON {
		return &Error{Status: fiber.StatusUnsupportedMediaType, Message: "The request body must be JSON (Content-Type: application/json)."}
	}
	return schemas.Decode(v, c.Body(), in)
}

// pathID reads a positive 64-bit id from the path. Anything else cannot
// name a row, so it is the resource's 404 rather than a 400: notFound is
// the data layer's error for it.
func pathID(c *fiber.Ctx, param string, notFound error) (int64, error) {
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
