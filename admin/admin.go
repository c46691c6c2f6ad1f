// Package admin is the HTML admin panel: a second front end over the data
// layer (models), for people who would rather click than curl. It shares
// the data layer's rules and the schemas' validation with the JSON API,
// and the middleware stack around both; its own concerns are HTML, the
// session cookie and CSRF tokens. No answer of it ever uses the JSON
// envelope.
package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/middleware"
	"stores-api/models"
	"stores-api/schemas"
	"stores-api/tasks"
)

// Prefix is where the panel is mounted.
const Prefix = "/admin"

// Deps are what the panel is built from.
type Deps struct {
	Data     *models.Models
	Sessions *blocklist.Sessions
	Config   config.Config
	Log      *slog.Logger
	// SignInLimit is the API's sign-in rate limit: one budget for every
	// way to guess a password.
	SignInLimit fiber.Handler
	// Jobs is the job queue: the Jobs page lists and retries its jobs, and
	// the users page enqueues verification emails.
	Jobs *tasks.Queue
}

// panel is the panel's handlers and what they share.
type panel struct {
	data     *models.Models
	sessions *blocklist.Sessions
	cfg      config.Config
	log      *slog.Logger
	validate *validator.Validate
	jobs     *tasks.Queue
	csrfKey  []byte           // signs CSRF tokens (csrf.go)
	now      func() time.Time // the clock CSRF tokens expire by
}

// New builds the panel as an app to mount at Prefix. Every middleware of
// it is wrapped in panelOnly (or, for the CSRF middleware, told by its
// Next option): Fiber v2 runs a mounted app's middleware for every path
// that merely starts with the prefix, such as /adminx or /administrator,
// and those belong to the API, which answers them with its JSON 404.
func New(d Deps) *fiber.App { return newPanel(d, time.Now) }

func newPanel(d Deps, now func() time.Time) *fiber.App {
	a := &panel{
		data:     d.Data,
		sessions: d.Sessions,
		cfg:      d.Config,
		log:      d.Log,
		jobs:     d.Jobs,
		validate: schemas.NewValidator(),
		csrfKey:  deriveKey(d.Config.JWTSecret, "stores-api admin csrf"),
		now:      now,
	}
	r := fiber.New(fiber.Config{ErrorHandler: a.errorPage})
	r.Use(panelOnly(panelHeaders))
	r.Get("/static/:name", serveAsset)
	r.Use(a.csrfProtection())

	r.Get("/login", a.loginPage)
	r.Post("/login", panelOnly(d.SignInLimit), a.signIn)
	r.Post("/logout", a.signOut)

	r.Use(panelOnly(a.requireSession))
	r.Get("/", a.dashboard)
	r.Get("/stores", a.listStores)
	r.Post("/stores", a.createStore)
	r.Get("/stores/:id", a.showStore)
	r.Post("/stores/:id", a.renameStore)
	r.Get("/stores/:id/delete", a.confirmDeleteStore)
	r.Post("/stores/:id/delete", a.deleteStore)
	r.Post("/stores/:id/tags", a.createTag)
	r.Post("/tags/:id", a.renameTag)
	r.Post("/tags/:id/delete", a.deleteTag)
	r.Get("/items", a.listItems)
	r.Get("/items/new", a.newItem)
	r.Post("/items", a.createItem)
	r.Get("/items/:id", a.showItem)
	r.Post("/items/:id", a.updateItem)
	r.Get("/items/:id/delete", a.confirmDeleteItem)
	r.Post("/items/:id/delete", a.deleteItem)
	r.Get("/users", a.listUsers)
	r.Post("/users/:id/admin", a.setUserAdmin)
	r.Post("/users/:id/sessions", a.endUserSessions)
	r.Get("/users/:id/delete", a.confirmDeleteUser)
	r.Post("/users/:id/delete", a.deleteUser)
	r.Post("/users/:id/verification", a.resendVerification)
	r.Get("/jobs", a.listJobs)
	r.Post("/jobs/:id/retry", a.retryJob)
	r.Use(panelOnly(func(*fiber.Ctx) error { return errNoSuchPage }))
	return r
}

// inPanel reports whether the request is for the panel: Prefix itself or
// a path below it. Fiber matches paths without case by default, and so
// does this.
func inPanel(c *fiber.Ctx) bool {
	p := c.Path()
	n := len(Prefix)
	return len(p) >= n && strings.EqualFold(p[:n], Prefix) && (len(p) == n || p[n] == '/')
}

// panelOnly runs h for the panel's requests and passes any other request
// on untouched, to the API's routes and its 404.
func panelOnly(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !inPanel(c) {
			return c.Next()
		}
		return h(c)
	}
}

// panelHeaders keeps the panel out of frames and caches and lets the
// browser run only the panel's own files.
func panelHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// problem is a refusal the panel explains on a page of its own: a status
// and a sentence for a person.
type problem struct {
	status  int
	message string
}

func (p *problem) Error() string { return p.message }

// Problems only the panel meets.
var (
	errNoSuchPage  = &problem{fiber.StatusNotFound, "There is no such page."}
	errSelfChange  = &problem{fiber.StatusConflict, "You cannot demote or delete your own account."}
	errChooseAdmin = &problem{fiber.StatusUnprocessableEntity, "Choose promote or demote."}
	errVerified    = &problem{fiber.StatusConflict, "This user's email is verified already."}
)

// missing words the not-found errors of the data layer and the job queue:
// the thing may have been deleted since the page that links to it was shown.
var missing = map[error]string{
	models.ErrStoreNotFound: "Store not found.",
	models.ErrItemNotFound:  "Item not found.",
	models.ErrTagNotFound:   "Tag not found.",
	models.ErrUserNotFound:  "User not found.",
	tasks.ErrJobNotFound:    "Job not found.",
}

// errorPage explains, as a page, every error no form could show: the
// panel's error handler, panics included. A person in a browser never sees
// the JSON envelope, a raw error or a stack trace.
func (a *panel) errorPage(c *fiber.Ctx, err error) error {
	var (
		p  *problem
		fe *fiber.Error
	)
	switch {
	case middleware.PanicStack(c) != nil:
		a.log.Error("panic recovered", "method", c.Method(), "path", c.Path(), "request_id", middleware.RequestID(c),
			"panic", err, "stack", string(middleware.PanicStack(c)))
	case errors.Is(err, errBadCSRF) && a.cookiesLost(c):
		return a.renderError(c, fiber.StatusForbidden, "Signing in needs HTTPS", httpsNeeded(c))
	case errors.Is(err, errBadCSRF):
		return a.renderError(c, fiber.StatusForbidden, "This form has expired",
			"The form was not accepted: it is too old, or it was not sent from this panel. "+
				"Go back, reload the page and try again.")
	case errors.As(err, &p):
		return a.renderError(c, p.status, http.StatusText(p.status), p.message)
	case notFoundMessage(err) != "":
		return a.renderError(c, fiber.StatusNotFound, "Not Found", notFoundMessage(err))
	case errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge:
		return a.renderError(c, fe.Code, http.StatusText(fe.Code), "The form is larger than 1 MiB.")
	case errors.As(err, &fe) && fe.Code == fiber.StatusTooManyRequests:
		return a.renderError(c, fe.Code, "Too many attempts", "Wait a minute, then try again.")
	case errors.As(err, &fe) && (fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed):
		return a.renderError(c, fe.Code, http.StatusText(fe.Code), errNoSuchPage.message)
	case errors.As(err, &fe) && fe.Code < 500:
		return a.renderError(c, fe.Code, http.StatusText(fe.Code), fe.Message)
	case models.Unavailable(err): // as the API answers it: nothing is wrong with the request
		a.log.Warn("database unavailable", "method", c.Method(), "path", c.Path(), "request_id", middleware.RequestID(c), "err", err)
		c.Set(fiber.HeaderRetryAfter, "5")
		return a.renderError(c, fiber.StatusServiceUnavailable, "Database unavailable",
			"The database cannot be reached right now. Try again in a moment.")
	default:
		a.log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", middleware.RequestID(c), "err", err)
	}
	return a.renderError(c, fiber.StatusInternalServerError, "Something went wrong",
		"The server could not complete this request. Try again in a moment.")
}

// notFoundMessage words a data layer not-found error, "" for any other.
func notFoundMessage(err error) string {
	for sentinel, msg := range missing {
		if errors.Is(err, sentinel) {
			return msg
		}
	}
	return ""
}
