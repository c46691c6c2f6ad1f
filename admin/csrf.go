package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"

	"stores-api/middleware"
)

// csrfTTL is how long a CSRF token is accepted. It outlives the admin
// session, so a form fails because the session ended (and says so), not
// because its token did.
const csrfTTL = sessionTTL + time.Hour

// errBadCSRF is what the CSRF middleware reports for a missing, forged or
// expired token; the panel shows it as a page that says what to do.
var errBadCSRF = errors.New("missing or invalid CSRF token")

// csrfTokens is the CSRF middleware's token storage, without state: a
// token is random bytes, an expiry, the session it belongs to and an HMAC
// of all three, so it is valid wherever the secret is known. The
// middleware's default, a map in memory, forgets tokens on restart and
// does not share them between replicas, so a form served by one replica
// would be refused by another.
type csrfTokens struct {
	key []byte
	now func() time.Time
}

// newCSRFToken returns "<random>.<expiry>.<session>.<mac>" for the session
// whose jti is given, "" when signed out.
func newCSRFToken(key []byte, jti string, now time.Time) string {
	body := rand.Text() + "." + strconv.FormatInt(now.Add(csrfTTL).Unix(), 10) + "." + csrfSession(key, jti)
	return body + "." + csrfMAC(key, body)
}

func csrfMAC(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfSession names a session in a token without showing its jti. The NUL
// keeps it apart from a token's MAC: token bodies never contain one.
func csrfSession(key []byte, jti string) string {
	return csrfMAC(key, "session\x00"+jti)[:22]
}

// checkCSRFToken returns the session a token was issued for, if the token
// is one we issued and it has not expired.
func checkCSRFToken(key []byte, token string, now time.Time) (session string, ok bool) {
	body, mac, ok := cutLast(token, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(csrfMAC(key, body))) {
		return "", false
	}
	rest, session, _ := cutLast(body, ".")
	_, expiry, _ := cutLast(rest, ".")
	exp, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || now.Unix() >= exp {
		return "", false
	}
	return session, true
}

// Get answers whether token is one we issued and still valid: a non-nil
// value means yes. Whether it belongs to the request's session is checked
// before, by matchCSRFToSession, which can see the request.
func (t csrfTokens) Get(token string) ([]byte, error) {
	if _, ok := checkCSRFToken(t.key, token, t.now()); !ok {
		return nil, nil
	}
	return []byte{1}, nil
}

// Set, Delete, Reset and Close have nothing to store or forget.
func (csrfTokens) Set(string, []byte, time.Duration) error { return nil }

// Delete is a no-op: a token stays valid until it expires.
func (csrfTokens) Delete(string) error { return nil }

// Reset is a no-op.
func (csrfTokens) Reset() error { return nil }

// Close is a no-op.
func (csrfTokens) Close() error { return nil }

// matchCSRFToSession runs before the CSRF middleware and lets it see the
// CSRF cookie only if it holds a valid token of the request's session (the
// jti of a session cookie with a good signature, or none). Otherwise a
// form is refused, as the cookie no longer matches its field, and a page
// gets a fresh token of its session in place of the cookie, which the
// middleware then sends back. So a token seen before sign-in, or during a
// session that has ended, is worthless: it cannot be planted in a browser
// ahead of a sign-in, and it does not outlive a sign-out.
func (a *panel) matchCSRFToSession(c *fiber.Ctx) {
	jti := a.sessionJTI(c)
	cookie := c.Cookies(csrfCookie)
	session, ok := checkCSRFToken(a.csrfKey, cookie, a.now())
	switch {
	case ok && session == csrfSession(a.csrfKey, jti):
		return
	case cookie == "":
		c.Locals(localsCSRFRefusal, "the browser sent no CSRF cookie")
	case !ok:
		c.Locals(localsCSRFRefusal, "the CSRF cookie has expired or was not issued here")
	default:
		c.Locals(localsCSRFRefusal, "the CSRF cookie belongs to another session")
	}
	c.Request().Header.DelCookie(csrfCookie)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		c.Request().Header.SetCookie(csrfCookie, newCSRFToken(a.csrfKey, jti, a.now()))
	}
}

// renewCSRF replaces the CSRF token at sign-in and sign-out with one of
// the session now starting (jti) or of none (""). matchCSRFToSession would
// refuse the old token from now on anyway; this spares the next page a
// round of replacing it.
func (a *panel) renewCSRF(c *fiber.Ctx, jti string) {
	token := newCSRFToken(a.csrfKey, jti, a.now())
	c.Cookie(a.cookie(c, csrfCookie, token, a.now().Add(csrfTTL)))
	c.Locals(localsCSRF, token)
}

// refuseCSRF is the CSRF middleware's answer to a form it refuses. The
// reason goes to the log at WARN: a refused form is a visitor's problem,
// or an attack, never the server's fault, but an operator whose admins
// cannot sign in needs to see why.
func (a *panel) refuseCSRF(c *fiber.Ctx, err error) error {
	reason, _ := c.Locals(localsCSRFRefusal).(string)
	switch {
	case reason != "":
	case errors.Is(err, csrf.ErrNoReferer), errors.Is(err, csrf.ErrBadReferer):
		reason = "over HTTPS, the form's Referer is missing or from another site"
	case c.FormValue(csrfField) == "":
		reason = "the form carries no CSRF token"
	default:
		reason = "the form's CSRF token does not match the cookie"
	}
	a.log.Warn("admin form refused: CSRF check failed", "reason", reason, "method", c.Method(),
		"path", c.Path(), "ip", c.IP(), "request_id", middleware.RequestID(c))
	return errBadCSRF
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// deriveKey derives a key for one purpose from the JWT secret, so a CSRF
// token can never double as a signature of anything else.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// csrfProtection is Fiber's CSRF middleware, with the token in a hidden
// form field checked against a cookie (double submit) and signed so that
// every replica accepts the tokens any replica issued. A token is bound to
// the session it was issued for (see matchCSRFToSession), so signing in
// or out makes every earlier token useless. The cookie is Secure on HTTPS
// and in production, which needs two configurations.
func (a *panel) csrfProtection() fiber.Handler {
	newHandler := func(secure bool) fiber.Handler {
		return csrf.New(csrf.Config{
			Next:           func(c *fiber.Ctx) bool { return !inPanel(c) },
			KeyLookup:      "form:" + csrfField,
			CookieName:     csrfCookie,
			CookiePath:     Prefix,
			CookieHTTPOnly: true,
			CookieSecure:   secure,
			CookieSameSite: fiber.CookieSameSiteLaxMode,
			Expiration:     csrfTTL,
			// matchCSRFToSession hands every safe request a valid token of
			// its session, so the middleware never needs to make one; if
			// it did, a signed-out token is the harmless choice.
			KeyGenerator: func() string { return newCSRFToken(a.csrfKey, "", a.now()) },
			Storage:      csrfTokens{key: a.csrfKey, now: a.now},
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
