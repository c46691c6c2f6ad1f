package resources

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/utils"
	"gorm.io/gorm"

	"stores-api/schemas"
)

// The admin panel is a server-rendered front end for people who would
// rather click than curl. It lives under /admin in the same app and calls
// the same row functions, validation and error values as the JSON API, so
// the business rules exist once. Its own concerns are HTML, the session
// cookie and CSRF tokens; no response of it ever uses the JSON envelope.

// adminPrefix is where the panel is mounted.
const adminPrefix = "/admin"

// adminAssets holds the templates and static files, built into the binary
// so the panel needs no files on disk, no build step and no CDN.
//
//go:embed admin/templates/*.html admin/static/*
var adminAssets embed.FS

// adminPanel is the panel's handlers: the API's Server plus what only the
// panel needs.
type adminPanel struct {
	*Server
	csrfKey []byte // signs CSRF tokens (see admin_csrf.go)
}

// registerAdminRoutes mounts the panel under /admin. Every middleware of
// the group is wrapped in panelOnly (or, for the CSRF middleware, told by
// its Next option): Fiber v2 runs a group's middleware for every path that
// merely starts with the prefix, such as /adminx or /administrator, and
// those belong to the API, which answers them with its JSON 404.
func (s *Server) registerAdminRoutes(app *fiber.App) {
	a := &adminPanel{Server: s, csrfKey: deriveKey(s.Config.JWTSecret, "stores-api admin csrf")}
	r := app.Group(adminPrefix, panelOnly(a.catchErrors), panelOnly(adminHeaders))
	r.Get("/static/:name", serveAdminAsset)
	r.Use(a.csrfProtection())

	r.Get("/login", a.loginPage)
	r.Post("/login", s.authLimiter, a.signIn) // the API's limiter: one budget for every sign-in route
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
	r.Post("/items/:id/tags", a.setItemTags)
	r.Get("/items/:id/delete", a.confirmDeleteItem)
	r.Post("/items/:id/delete", a.deleteItem)
	r.Get("/users", a.listUsers)
	r.Post("/users/:id/admin", a.setUserAdmin)
	r.Post("/users/:id/sessions", a.endUserSessions)
	r.Get("/users/:id/delete", a.confirmDeleteUser)
	r.Post("/users/:id/delete", a.deleteUser)
	r.Use(panelOnly(func(*fiber.Ctx) error { return errAdminNotFound }))
}

// inPanel reports whether the request is for the panel: /admin itself or a
// path below it. Fiber matches paths without case by default, and so does
// this.
func inPanel(c *fiber.Ctx) bool {
	p := c.Path()
	n := len(adminPrefix)
	return len(p) >= n && strings.EqualFold(p[:n], adminPrefix) && (len(p) == n || p[n] == '/')
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

// Errors only the panel shows.
var (
	errAdminNotFound = notFound("There is no such page.")
	errSelfChange    = conflict("You cannot demote or delete your own account.")
)

// adminHeaders keeps the panel out of frames and caches and lets the
// browser run only the panel's own files.
func adminHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// catchErrors renders every error of the panel, and any panic, as an HTML
// page: a person in a browser must never see the JSON envelope, a raw
// error or a stack trace.
func (a *adminPanel) catchErrors(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			a.Log.Error("panic recovered", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c), "panic", r)
			err = a.renderError(c, fiber.StatusInternalServerError, "Something went wrong",
				"The server could not complete this request. Try again in a moment.")
		}
	}()
	if err = c.Next(); err != nil {
		return a.errorPage(c, err)
	}
	return nil
}

// errorPage explains an error that no form could show.
func (a *adminPanel) errorPage(c *fiber.Ctx, err error) error {
	var (
		ae *Error
		fe *fiber.Error
	)
	switch {
	case errors.Is(err, errBadCSRF) && a.cookiesLost(c):
		return a.renderError(c, fiber.StatusForbidden, "Signing in needs HTTPS", httpsNeeded(c))
	case errors.Is(err, errBadCSRF):
		return a.renderError(c, fiber.StatusForbidden, "This form has expired",
			"The form was not accepted: it is too old, or it was not sent from this panel. "+
				"Go back, reload the page and try again.")
	case errors.As(err, &ae) && ae.Status == fiber.StatusTooManyRequests:
		if ae.RetryAfter != "" {
			c.Set(fiber.HeaderRetryAfter, ae.RetryAfter)
		}
		return a.renderError(c, ae.Status, "Too many attempts", "Wait a minute, then try again.")
	case errors.As(err, &ae) && ae.Status < 500:
		return a.renderError(c, ae.Status, http.StatusText(ae.Status), ae.Message)
	case errors.Is(err, gorm.ErrRecordNotFound):
		return a.renderError(c, fiber.StatusNotFound, "Not Found", "It may have been deleted meanwhile.")
	case errors.As(err, &fe) && fe.Code < 500:
		msg := fiberError(fe).Message
		if fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed {
			msg = errAdminNotFound.Message
		}
		return a.renderError(c, fe.Code, http.StatusText(fe.Code), msg)
	case dbUnavailable(err): // as the API answers it: nothing is wrong with the request
		a.Log.Warn("database unavailable", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c), "err", err)
		c.Set(fiber.HeaderRetryAfter, errDatabaseUnavailable.RetryAfter)
		return a.renderError(c, fiber.StatusServiceUnavailable, "Database unavailable",
			"The database cannot be reached right now. Try again in a moment.")
	}
	a.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c), "err", err)
	return a.renderError(c, fiber.StatusInternalServerError, "Something went wrong",
		"The server could not complete this request. Try again in a moment.")
}

// adminPage is what every page shows around its content. Page types
// embed it.
type adminPage struct {
	Title  string
	Nav    string     // the menu entry to mark as current
	Me     *adminUser // nil when signed out
	CSRF   string     // the token every data-changing form posts back
	Notice string     // a short note left by the previous action
	Asset  func(string) string
}

func (p *adminPage) base() *adminPage { return p }

// adminView is any page type: a struct embedding adminPage.
type adminView interface{ base() *adminPage }

// errorView is the page of an error no form could show.
type errorView struct {
	adminPage
	Status  int
	Message string
}

// renderError shows the error page. It never fails: if even that page
// cannot be rendered, a line of plain text goes out.
func (a *adminPanel) renderError(c *fiber.Ctx, status int, title, message string) error {
	err := a.render(c, status, "error", &errorView{adminPage: adminPage{Title: title}, Status: status, Message: message})
	if err != nil {
		a.Log.Error("rendering the admin error page failed", "err", err)
		c.Type("txt", "utf-8")
		return c.Status(status).SendString(title + ". " + message)
	}
	return nil
}

// render executes a page template into the response. The notice left by
// the previous action is shown once, by the next page a GET renders.
func (a *adminPanel) render(c *fiber.Ctx, status int, name string, v adminView) error {
	p := v.base()
	p.Me = currentAdmin(c)
	p.CSRF, _ = c.Locals(localsCSRF).(string)
	p.Asset = assetURL
	if c.Method() == fiber.MethodGet && p.Notice == "" {
		p.Notice = a.takeNotice(c)
	}
	t, ok := adminPages[name]
	if !ok {
		return errors.New("admin page template " + name + " does not exist")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.Status(status).Send(buf.Bytes())
}

// adminPages holds one template set per page: the layout, the shared
// partials and the page's own content block.
var adminPages = mustParsePages()

func mustParsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"input": inputField,
		"price": formatPrice,
		"add":   func(a, b int64) int64 { return a + b },
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(adminAssets, "admin/templates/_*.html"))
	names, err := fs.Glob(adminAssets, "admin/templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(adminAssets, file))
	}
	return pages
}

// adminStatic maps a static file's name to its content, read once.
var adminStatic, adminStaticVersion = loadStatic()

func loadStatic() (map[string][]byte, string) {
	files := map[string][]byte{}
	names, err := fs.Glob(adminAssets, "admin/static/*")
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	for _, file := range names {
		b, err := adminAssets.ReadFile(file)
		if err != nil {
			panic(err)
		}
		files[path.Base(file)] = b
		h.Write(b)
	}
	return files, hex.EncodeToString(h.Sum(nil))[:12]
}

// assetURL names a static file with a version that changes with the
// files, so browsers may cache them for a long time.
func assetURL(name string) string {
	return adminPrefix + "/static/" + name + "?v=" + adminStaticVersion
}

// serveAdminAsset handles GET /admin/static/:name.
func serveAdminAsset(c *fiber.Ctx) error {
	b, ok := adminStatic[c.Params("name")]
	if !ok {
		return errAdminNotFound
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(c.Params("name"))))
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(b)
}

// adminForm is what one HTML form shows again after a failed submit: the
// values as typed and the problems, per field (keyed like the JSON API's
// fields) or for the whole form. Its methods accept a nil form, an empty
// one.
type adminForm struct {
	ID     string // prefixes the ids of its inputs, unique on the page
	Values map[string]string
	Errors schemas.FieldErrors
	Error  string
}

// newForm starts a form, optionally with the values to show.
func newForm(id string, values map[string]string) *adminForm {
	if values == nil {
		values = map[string]string{}
	}
	return &adminForm{ID: id, Values: values, Errors: schemas.FieldErrors{}}
}

// Value is what the field shows.
func (f *adminForm) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.Values[name]
}

// Errs lists what is wrong with a field.
func (f *adminForm) Errs(name string) []string {
	if f == nil {
		return nil
	}
	return f.Errors[name]
}

// Failed reports whether the form shows any problem.
func (f *adminForm) Failed() bool { return f != nil && (len(f.Errors) > 0 || f.Error != "") }

// fail records on the form why its submit failed and returns the status
// to show it with. An *Error from the shared row functions names fields
// (422) or the whole form (409); fields maps such an error to the field
// it is about, such as a duplicate name to "name". A missing row and any
// other error are returned: they become an error page.
func (f *adminForm) fail(err error, fields map[*Error]string) (int, error) {
	var (
		ae *Error
		ve *schemas.ValidationError
	)
	switch {
	case errors.As(err, &ve):
		f.addAll(ve.Fields)
		return fiber.StatusUnprocessableEntity, nil
	case !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == fiber.StatusNotFound:
		return 0, err
	case fields[ae] != "":
		f.Errors[fields[ae]] = append(f.Errors[fields[ae]], ae.Message)
	case len(ae.Fields) > 0:
		for _, fe := range ae.Fields {
			f.addAll(fe)
		}
	default:
		f.Error = ae.Message
	}
	return ae.Status, nil
}

func (f *adminForm) addAll(errs schemas.FieldErrors) {
	for name, msgs := range errs {
		f.Errors[name] = append(f.Errors[name], msgs...)
	}
}

// adminField is one labelled input as the "input" partial renders it.
type adminField struct {
	ID, Name, Label, Type, Value, Hint string
	InputMode, Autocomplete            string
	MaxLength                          int
	Required, Autofocus, HideLabel     bool
	Errs                               []string
}

// inputField builds an adminField in a template:
//
//	{{template "input" (input .Form "name" "Name" "required" "maxlength=80")}}
//
// Options are type=, inputmode=, autocomplete=, maxlength=, hint=,
// required, autofocus and hidelabel (for screen readers only, where the
// context already shows what the field is).
func inputField(f *adminForm, name, label string, opts ...string) adminField {
	id := name
	if f != nil && f.ID != "" {
		id = f.ID + "-" + name
	}
	v := adminField{ID: id, Name: name, Label: label, Type: "text", Value: f.Value(name), Errs: f.Errs(name)}
	for _, opt := range opts {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "type":
			v.Type = val
		case "inputmode":
			v.InputMode = val
		case "autocomplete":
			v.Autocomplete = val
		case "maxlength":
			v.MaxLength, _ = strconv.Atoi(val)
		case "hint":
			v.Hint = val
		case "required":
			v.Required = true
		case "autofocus":
			v.Autofocus = true
		case "hidelabel":
			v.HideLabel = true
		}
	}
	return v
}

// formatPrice shows cents as the decimal a price field accepts: 19.99.
func formatPrice(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "." + strconv.FormatInt(cents%100/10, 10) + strconv.FormatInt(cents%10, 10)
}

// formValue reads a form field, copied: fasthttp reuses the request's
// memory once the handler returns. Bytes that are not UTF-8 become U+FFFD,
// as encoding/json does for the API: PostgreSQL refuses them in a query.
func formValue(c *fiber.Ctx, name string) string {
	return strings.ToValidUTF8(utils.CopyString(c.FormValue(name)), "\uFFFD")
}

// formText reads a form field meant for a text column or a query. NUL
// cannot be typed into a form and PostgreSQL refuses it in text, so it is
// dropped.
func formText(c *fiber.Ctx, name string) string {
	return strings.ReplaceAll(formValue(c, name), "\x00", "")
}

// notFoundAs replaces GORM's "record not found" with the resource's own
// 404.
func notFoundAs(err error, notFound *Error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notFound
	}
	return err
}

// queryID reads a positive whole number from the query string; anything
// else means "not given".
func queryID(c *fiber.Ctx, name string) int64 {
	n, err := strconv.ParseInt(c.Query(name), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// parseFormID reads a positive id from a form value; ok is false otherwise.
func parseFormID(raw string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	return n, err == nil && n > 0
}

// redirectWith sends the browser to location (a GET, after a POST) with a
// short notice for the next page to show.
func (a *adminPanel) redirectWith(c *fiber.Ctx, location, notice string) error {
	if notice != "" {
		c.Cookie(a.cookie(c, noticeCookie, url.QueryEscape(notice), time.Now().Add(time.Minute)))
	}
	return c.Redirect(location, fiber.StatusSeeOther)
}

// takeNotice reads the notice the previous action left, and clears it.
func (a *adminPanel) takeNotice(c *fiber.Ctx) string {
	raw := c.Cookies(noticeCookie)
	if raw == "" {
		return ""
	}
	c.Cookie(a.cookie(c, noticeCookie, "", cookieDeleted))
	notice, err := url.QueryUnescape(raw)
	if err != nil || len(notice) > 200 {
		return ""
	}
	return notice
}

// csrfProtection is Fiber's CSRF middleware, with the token in a hidden
// form field checked against a cookie (double submit) and signed so that
// every replica accepts the tokens any replica issued. A token is bound to
// the session it was issued for (see matchCSRFToSession), so signing in
// or out makes every earlier token useless. The cookie is Secure on HTTPS
// and in production, which needs two configurations.
func (a *adminPanel) csrfProtection() fiber.Handler {
	newHandler := func(secure bool) fiber.Handler {
		return csrf.New(csrf.Config{
			Next:           func(c *fiber.Ctx) bool { return !inPanel(c) },
			KeyLookup:      "form:" + csrfField,
			CookieName:     csrfCookie,
			CookiePath:     adminPrefix,
			CookieHTTPOnly: true,
			CookieSecure:   secure,
			CookieSameSite: fiber.CookieSameSiteLaxMode,
			Expiration:     csrfTTL,
			// matchCSRFToSession hands every safe request a valid token of
			// its session, so the middleware never needs to make one; if
			// it did, a signed-out token is the harmless choice.
			KeyGenerator: func() string { return newCSRFToken(a.csrfKey, "") },
			Storage:      csrfTokens{key: a.csrfKey},
			ContextKey:   localsCSRF,
			ErrorHandler: a.refuseCSRF,
		})
	}
	plain, secure := newHandler(false), newHandler(true)
	return func(c *fiber.Ctx) error {
		if inPanel(c) {
			a.matchCSRFToSession(c)
		}
		if a.secureCookies(c) {
			return secure(c)
		}
		return plain(c)
	}
}

// secureCookies is true when the panel's cookies must be Secure: the
// request came over HTTPS, or the service runs in production (behind a
// proxy that ends TLS, the request itself may look like plain HTTP).
func (a *adminPanel) secureCookies(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || a.Config.Production()
}

// cookiesLost reports a request whose browser will not keep the panel's
// cookies: they are Secure (production), but the page came over plain
// HTTP from a host other than this machine. Browsers keep Secure cookies
// only from HTTPS pages and from localhost, so every form would fail.
func (a *adminPanel) cookiesLost(c *fiber.Ctx) bool {
	return a.secureCookies(c) && c.Protocol() != "https" && !loopbackHost(c.Hostname())
}

// loopbackHost reports a host name browsers treat as this machine, whose
// plain-HTTP pages may keep Secure cookies.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// httpsNeeded explains what an admin who opened the panel over plain HTTP
// must do to sign in.
func httpsNeeded(c *fiber.Ctx) string {
	return "This page came over plain HTTP from " + c.Hostname() + ". In production the panel's cookies are " +
		"Secure, and a browser keeps those only from HTTPS pages (or from localhost), so signing in cannot work " +
		"here. Open the panel over HTTPS: put a proxy that ends TLS (Caddy, nginx, Traefik) in front of the " +
		"API and set TRUSTED_PROXIES to its address, so the API sees X-Forwarded-Proto: https. On the server " +
		"itself, http://localhost works as it is."
}

// cookieDeleted, as an expiry, deletes a cookie.
var cookieDeleted = time.Unix(0, 0)

// cookie builds one of the panel's cookies: HttpOnly, SameSite=Lax, for
// /admin only, kept until expires.
func (a *adminPanel) cookie(c *fiber.Ctx, name, value string, expires time.Time) *fiber.Cookie {
	return &fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     adminPrefix,
		Expires:  expires,
		Secure:   a.secureCookies(c),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	}
}

// Names of the panel's cookies, form fields and locals.
const (
	sessionCookie = "admin_session"
	csrfCookie    = "admin_csrf"
	noticeCookie  = "admin_notice"
	csrfField     = "_csrf"
	localsCSRF    = "admin_csrf"
	// localsCSRFRefusal is why the CSRF cookie was not accepted.
	localsCSRFRefusal = "admin_csrf_refusal"
	localsAdmin       = "admin_user"
)
