package admin

import (
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"stores-api/middleware"
	"stores-api/models"
	"stores-api/schemas"
)

// sessionTTL is how long a panel sign-in lasts: a working day. The
// session is a cookie a script cannot read, bound to this site by
// SameSite and CSRF tokens, so it may outlive an API access token.
const sessionTTL = 8 * time.Hour

// sessionType is the "type" claim of a panel session. The API accepts
// only access and refresh tokens, so a session cookie is useless as a
// bearer token, and a bearer token cannot be planted as a session cookie.
const sessionType = "admin_session"

// Names of the panel's cookies, form fields and locals.
const (
	sessionCookie = "admin_session"
	csrfCookie    = "admin_csrf"
	noticeCookie  = "admin_notice"
	csrfField     = "_csrf"
	localsCSRF    = "admin_csrf"
	localsAdmin   = "admin_user"
	// localsCSRFRefusal is why the CSRF cookie was not accepted.
	localsCSRFRefusal = "admin_csrf_refusal"
)

// cookieDeleted, as an expiry, deletes a cookie.
var cookieDeleted = time.Unix(0, 0)

// errSessionEnded means the cookie names no usable session: malformed,
// expired, signed out, or its user was deleted.
var errSessionEnded = errors.New("admin session ended")

// adminUser is the signed-in admin.
type adminUser struct {
	ID    int64
	Email string
}

// sessionClaims are a panel session's cookie: a JWT signed with the API's
// key, naming a session of the sessions table (blocklist), so signing out
// or ending a user's sessions ends it as it ends API tokens. An account's
// email never changes and ids are never reused, so the cookie may carry
// the email, and checking a session takes the API's one query.
type sessionClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Type      string `json:"type"`
	Email     string `json:"email"`
}

// currentAdmin is the admin requireSession let through, or nil.
func currentAdmin(c *fiber.Ctx) *adminUser {
	u, _ := c.Locals(localsAdmin).(*adminUser)
	return u
}

// startSession starts a session for user and signs its cookie.
func (a *panel) startSession(c *fiber.Ctx, user models.User, now time.Time) (string, *sessionClaims, error) {
	claims := &sessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(user.ID, 10),
			ID:        rand.Text(),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(sessionTTL)),
		},
		Type:  sessionType,
		Email: user.Email,
	}
	sid, err := a.sessions.Start(c.UserContext(), user.ID, "", claims.ExpiresAt.Time)
	if err != nil {
		return "", nil, err
	}
	claims.SessionID = sid
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.cfg.JWTSecret)
	return signed, claims, err
}

// parseSession verifies the cookie's signature (HS256 only), expiry and
// claims.
func (a *panel) parseSession(raw string) (*sessionClaims, int64, error) {
	claims := &sessionClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return a.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
	if err != nil || claims.Type != sessionType || claims.ID == "" || claims.SessionID == "" || claims.Email == "" {
		return nil, 0, errSessionEnded
	}
	userID, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || userID <= 0 {
		return nil, 0, errSessionEnded
	}
	return claims, userID, nil
}

// sessionJTI is the jti of the request's session cookie if its signature
// and expiry are good, "" otherwise. It does not ask the database: the
// CSRF check uses it to tell sessions apart, and requireSession decides
// whether the session is still usable.
func (a *panel) sessionJTI(c *fiber.Ctx) string {
	raw := c.Cookies(sessionCookie)
	if raw == "" {
		return ""
	}
	claims, _, err := a.parseSession(raw)
	if err != nil {
		return ""
	}
	return claims.ID
}

// readSession checks the session cookie as the API checks its tokens, on
// every request: signature and expiry, then, in one query, the session and
// the user's row, so a sign-out, a deleted user or a demotion applies at
// once. It returns errSessionEnded when there is no usable session.
func (a *panel) readSession(c *fiber.Ctx) (models.User, error) {
	raw := c.Cookies(sessionCookie)
	if raw == "" {
		return models.User{}, errSessionEnded
	}
	claims, userID, err := a.parseSession(raw)
	if err != nil {
		return models.User{}, err
	}
	state, err := a.sessions.Check(c.UserContext(), claims.SessionID, userID)
	if err != nil {
		return models.User{}, err
	}
	if state.Ended || !state.UserExists {
		return models.User{}, errSessionEnded
	}
	return models.User{ID: userID, Email: claims.Email, IsAdmin: state.IsAdmin}, nil
}

// requireSession lets a signed-in admin through. Anyone else is sent to
// the sign-in page; a signed-in user who is no longer an admin sees why.
func (a *panel) requireSession(c *fiber.Ctx) error {
	user, err := a.readSession(c)
	switch {
	case errors.Is(err, errSessionEnded):
		notice := ""
		if c.Cookies(sessionCookie) != "" {
			notice = "Your session has ended. Sign in again."
			c.Cookie(a.cookie(c, sessionCookie, "", cookieDeleted))
		}
		next := Prefix
		if c.Method() == fiber.MethodGet {
			next = c.OriginalURL()
		}
		return a.redirectWith(c, Prefix+"/login?next="+url.QueryEscape(next), notice)
	case err != nil:
		return err
	case !user.IsAdmin:
		return a.render(c, fiber.StatusForbidden, "denied", &deniedView{
			page: page{Title: "Admin access required"}, Email: user.Email, SignedIn: true,
		})
	}
	c.Locals(localsAdmin, &adminUser{ID: user.ID, Email: user.Email})
	middleware.SetUserID(c, user.ID)
	return c.Next()
}

// loginView is the sign-in page. HTTPSNeeded, when set, explains why
// signing in cannot work over the plain-HTTP address the page came from.
type loginView struct {
	page
	Form        *form
	Next        string
	HTTPSNeeded string
}

// deniedView tells a signed-in user who is not an admin why the panel is
// closed to them.
type deniedView struct {
	page
	Email    string
	SignedIn bool // has a session to sign out of
}

// loginPage handles GET /admin/login.
func (a *panel) loginPage(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if user, err := a.readSession(c); err == nil && user.IsAdmin {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	v := &loginView{page: page{Title: "Sign in"}, Form: newForm("login", nil), Next: next}
	if a.cookiesLost(c) {
		v.HTTPSNeeded = httpsNeeded(c)
	}
	return a.render(c, fiber.StatusOK, "login", v)
}

// signIn handles POST /admin/login with the same checks as POST /login.
// Only admins get a session.
func (a *panel) signIn(c *fiber.Ctx) error {
	in := schemas.LoginIn{Email: formText(c, "email"), Password: formValue(c, "password")}
	next := safeNext(formValue(c, "next"))
	f := newForm("login", map[string]string{"email": in.Email}) // never echo a password
	v := &loginView{page: page{Title: "Sign in"}, Form: f, Next: next}
	if err := a.validateForm(&in, nil); err != nil {
		status, _ := f.fail(err)
		return a.render(c, status, "login", v)
	}
	user, err := a.data.Users.Authenticate(c.UserContext(), in.Email, in.Password)
	if errors.Is(err, models.ErrInvalidCredentials) {
		f.Error = "Wrong email or password."
		return a.render(c, fiber.StatusUnauthorized, "login", v)
	}
	if err != nil {
		return err
	}
	if !user.IsAdmin {
		return a.render(c, fiber.StatusForbidden, "denied", &deniedView{
			page: page{Title: "Admin access required"}, Email: user.Email,
		})
	}
	token, claims, err := a.startSession(c, user, time.Now())
	if err != nil {
		return err
	}
	c.Cookie(a.cookie(c, sessionCookie, token, claims.ExpiresAt.Time))
	a.renewCSRF(c, claims.ID)
	return a.redirectWith(c, next, "Signed in as "+user.Email+".")
}

// signOut handles POST /admin/logout: the session ends as the API's
// logout ends one, so a copy of the cookie stops working too, and the
// session's CSRF token is replaced. It works for a demoted admin as well.
func (a *panel) signOut(c *fiber.Ctx) error {
	if claims, userID, err := a.parseSession(c.Cookies(sessionCookie)); err == nil {
		if err := a.sessions.End(c.UserContext(), userID, claims.SessionID); err != nil {
			return err
		}
	}
	c.Cookie(a.cookie(c, sessionCookie, "", cookieDeleted))
	a.renewCSRF(c, "")
	return a.redirectWith(c, Prefix+"/login", "Signed out.")
}

// safeNext keeps a post-sign-in redirect inside the panel, so a crafted
// link cannot send someone elsewhere after they sign in.
func safeNext(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(raw, "\\\r\n") ||
		!(u.Path == Prefix || strings.HasPrefix(u.Path, Prefix+"/")) ||
		strings.HasPrefix(u.Path, Prefix+"/login") || strings.HasPrefix(u.Path, Prefix+"/logout") {
		return Prefix
	}
	return u.RequestURI()
}

// secureCookies is true when the panel's cookies must be Secure: the
// request came over HTTPS, or the service runs in production (behind a
// proxy that ends TLS, the request itself may look like plain HTTP).
func (a *panel) secureCookies(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || a.cfg.Production()
}

// cookie builds one of the panel's cookies: HttpOnly, SameSite=Lax, for
// the panel's paths only, kept until expires.
func (a *panel) cookie(c *fiber.Ctx, name, value string, expires time.Time) *fiber.Cookie {
	return &fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     Prefix,
		Expires:  expires,
		Secure:   a.secureCookies(c),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	}
}

// cookiesLost reports a request whose browser will not keep the panel's
// cookies: they are Secure (production), but the page came over plain
// HTTP from a host other than this machine. Browsers keep Secure cookies
// only from HTTPS pages and from localhost, so every form would fail.
func (a *panel) cookiesLost(c *fiber.Ctx) bool {
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
