package resources

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// adminSessionTTL is how long a panel sign-in lasts: a working day. The
// session is a cookie a script cannot read, bound to this site by
// SameSite and CSRF tokens, so it may outlive an API access token.
const adminSessionTTL = 8 * time.Hour

// adminSessionType is the "type" claim of a panel session. The API's
// token middleware accepts only access and refresh tokens, so a session
// cookie is useless as a bearer token, and a bearer token cannot be
// planted as a session cookie.
const adminSessionType = "admin_session"

// errSessionEnded means the cookie names no usable session: malformed,
// expired, signed out, or its user was deleted.
var errSessionEnded = errors.New("admin session ended")

// adminUser is the signed-in admin.
type adminUser struct {
	ID     int64
	Email  string
	claims *Claims
}

// sessionClaims are the API's claims plus the email the panel shows. An
// account's email never changes and ids are never reused, so the session
// may carry it, and checking a session on each request takes the API's
// one query (tokenState) instead of also reading the user's row.
type sessionClaims struct {
	Claims
	Email string `json:"email"`
}

// currentAdmin is the admin requireSession let through, or nil.
func currentAdmin(c *fiber.Ctx) *adminUser {
	u, _ := c.Locals(localsAdmin).(*adminUser)
	return u
}

// issueSession starts a session for user (ended by sign-out, like the
// API's) and signs its cookie with the API's key and claims.
func (a *adminPanel) issueSession(c *fiber.Ctx, user models.User, now time.Time) (string, *sessionClaims, error) {
	claims := &sessionClaims{
		Claims: Claims{RegisteredClaims: newRegisteredClaims(user.ID, now, adminSessionTTL), Type: adminSessionType},
		Email:  user.Email,
	}
	sid, err := a.Sessions.Start(c.UserContext(), user.ID, "", claims.ExpiresAt.Time)
	if err != nil {
		return "", nil, err
	}
	claims.SessionID = sid
	signed, err := a.sign(claims)
	return signed, claims, err
}

// parseSession verifies the cookie's signature, expiry and claims. A
// session without an email predates sessionClaims: it must sign in again.
func (a *adminPanel) parseSession(raw string) (*sessionClaims, int64, error) {
	claims := &sessionClaims{}
	err := a.parseSigned(raw, claims)
	if err != nil || claims.Type != adminSessionType || claims.ID == "" || claims.SessionID == "" || claims.Email == "" {
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
func (a *adminPanel) sessionJTI(c *fiber.Ctx) string {
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
// every request: signature and expiry, then, in the API's one query, the
// blocklist and the user's row, so a sign-out, a deleted user or a
// demotion applies at once. It returns errSessionEnded when there is no
// usable session.
func (a *adminPanel) readSession(c *fiber.Ctx) (*sessionClaims, models.User, error) {
	var user models.User
	raw := c.Cookies(sessionCookie)
	if raw == "" {
		return nil, user, errSessionEnded
	}
	claims, userID, err := a.parseSession(raw)
	if err != nil {
		return nil, user, err
	}
	state, err := a.tokenState(c, claims.SessionID, userID)
	if err != nil {
		return nil, user, err
	}
	if state.Revoked || !state.UserExists {
		return nil, user, errSessionEnded
	}
	return claims, models.User{ID: userID, Email: claims.Email, IsAdmin: state.IsAdmin}, nil
}

// requireSession lets a signed-in admin through. Anyone else is sent to
// the sign-in page; a signed-in user who is no longer an admin sees why.
func (a *adminPanel) requireSession(c *fiber.Ctx) error {
	claims, user, err := a.readSession(c)
	switch {
	case errors.Is(err, errSessionEnded):
		notice := ""
		if c.Cookies(sessionCookie) != "" {
			notice = "Your session has ended. Sign in again."
			c.Cookie(a.cookie(c, sessionCookie, "", cookieDeleted))
		}
		next := adminPrefix
		if c.Method() == fiber.MethodGet {
			next = c.OriginalURL()
		}
		return a.redirectWith(c, adminPrefix+"/login?next="+url.QueryEscape(next), notice)
	case err != nil:
		return err
	case !user.IsAdmin:
		return a.render(c, fiber.StatusForbidden, "denied", &deniedView{
			adminPage: adminPage{Title: "Admin access required"}, Email: user.Email, SignedIn: true,
		})
	}
	c.Locals(localsAdmin, &adminUser{ID: user.ID, Email: user.Email, claims: &claims.Claims})
	return c.Next()
}

// loginView is the sign-in page. HTTPSNeeded, when set, explains why
// signing in cannot work over the plain-HTTP address the page came from.
type loginView struct {
	adminPage
	Form        *adminForm
	Next        string
	HTTPSNeeded string
}

// deniedView tells a signed-in user who is not an admin why the panel is
// closed to them.
type deniedView struct {
	adminPage
	Email    string
	SignedIn bool // has a session to sign out of
}

// loginPage handles GET /admin/login.
func (a *adminPanel) loginPage(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if _, user, err := a.readSession(c); err == nil && user.IsAdmin {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	v := &loginView{adminPage: adminPage{Title: "Sign in"}, Form: newForm("login", nil), Next: next}
	if a.cookiesLost(c) {
		v.HTTPSNeeded = httpsNeeded(c)
	}
	return a.render(c, fiber.StatusOK, "login", v)
}

// signIn handles POST /admin/login with the same checks as POST /login.
// Only admins get a session.
func (a *adminPanel) signIn(c *fiber.Ctx) error {
	in := schemas.LoginIn{Email: formText(c, "email"), Password: formValue(c, "password")}
	next := safeNext(formValue(c, "next"))
	f := newForm("login", map[string]string{"email": in.Email}) // never echo a password
	v := &loginView{adminPage: adminPage{Title: "Sign in"}, Form: f, Next: next}
	if errs := schemas.ValidateStruct(a.Validate, &in, nil); errs != nil {
		f.addAll(errs)
		return a.render(c, fiber.StatusUnprocessableEntity, "login", v)
	}
	user, err := a.authenticate(a.DB.WithContext(c.UserContext()), in)
	if errors.Is(err, errInvalidCredentials) {
		f.Error = "Wrong email or password."
		return a.render(c, fiber.StatusUnauthorized, "login", v)
	}
	if err != nil {
		return err
	}
	if !user.IsAdmin {
		return a.render(c, fiber.StatusForbidden, "denied", &deniedView{
			adminPage: adminPage{Title: "Admin access required"}, Email: user.Email,
		})
	}
	token, claims, err := a.issueSession(c, user, time.Now())
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
func (a *adminPanel) signOut(c *fiber.Ctx) error {
	if claims, userID, err := a.parseSession(c.Cookies(sessionCookie)); err == nil {
		if err := a.Sessions.End(c.UserContext(), userID, claims.SessionID); err != nil {
			return err
		}
	}
	c.Cookie(a.cookie(c, sessionCookie, "", cookieDeleted))
	a.renewCSRF(c, "")
	return a.redirectWith(c, adminPrefix+"/login", "Signed out.")
}

// safeNext keeps a post-sign-in redirect inside the panel, so a crafted
// link cannot send someone elsewhere after they sign in.
func safeNext(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(raw, "\\\r\n") ||
		!(u.Path == adminPrefix || strings.HasPrefix(u.Path, adminPrefix+"/")) ||
		strings.HasPrefix(u.Path, adminPrefix+"/login") || strings.HasPrefix(u.Path, adminPrefix+"/logout") {
		return adminPrefix
	}
	return u.RequestURI()
}
