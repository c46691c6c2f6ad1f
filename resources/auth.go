package resources

import (
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	jwtware "github.com/gofiber/contrib/jwt"
	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"stores-api/middleware"
	"stores-api/models"
)

// Token types, the "type" claim.
const (
	accessToken  = "access"
	refreshToken = "refresh"
)

// Claims are the claims of every token we issue. SessionID names the
// sign-in the token comes from: the token is good while that session
// lasts (blocklist). RegisteredClaims.ID, the jti, tells the refresh
// tokens of one session apart. IsAdmin is set in every access token,
// true or false, and in no other.
type Claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Type      string `json:"type"`
	Fresh     bool   `json:"fresh"`
	IsAdmin   *bool  `json:"is_admin,omitempty"`
}

// principal is the authenticated caller, as checked against the database
// (so a demoted admin loses admin rights at once).
type principal struct {
	UserID  int64
	IsAdmin bool
	Claims  *Claims
}

// localsPrincipal is where the auth middleware leaves the principal.
const localsPrincipal = "principal"

// Auth errors, each with its machine-readable code.
var (
	errAuthRequired = authError("authorization_required", "Request does not contain an access token.")
	// The header is there, but not as "Bearer <token>": a client that
	// sends the token alone learns what is missing.
	errNoBearerScheme = authError("authorization_required",
		`The Authorization header must be "Bearer <token>": the Bearer scheme is missing.`)
	errInvalidToken     = authError("invalid_token", "Signature verification failed or the token is malformed.")
	errTokenExpired     = authError("token_expired", "The token has expired.")
	errTokenRevoked     = authError("token_revoked", "The token has been revoked.")
	errWrongType        = authError("wrong_token_type", "This endpoint needs a different type of token.")
	errFreshRequired    = authError("fresh_token_required", "The token is not fresh: log in again.")
	errUserNotFound     = authError("user_not_found", "The user of this token no longer exists.")
	errAdminRequired    = &Error{Status: fiber.StatusForbidden, Code: "admin_required", Message: "Admin privilege required."}
	errEmailNotVerified = &Error{Status: fiber.StatusForbidden, Code: "email_not_verified",
		Message: "Verify your email first: follow the link we sent, or ask for a new one with POST /verify-email/resend."}
)

func authError(code, msg string) *Error {
	return &Error{Status: fiber.StatusUnauthorized, Code: code, Message: msg}
}

// verifyToken is contrib/jwt's bearer middleware (HS256 only), with then
// run after a good signature. A token it verified before, and that has not
// expired, is taken from s.verified instead of being parsed again.
func (s *server) verifyToken(then fiber.Handler) fiber.Handler {
	verify := jwtware.New(jwtware.Config{
		SigningKey:   jwtware.SigningKey{JWTAlg: jwtware.HS256, Key: s.cfg.JWTSecret},
		Claims:       &Claims{},
		ErrorHandler: tokenError,
		SuccessHandler: func(c *fiber.Ctx) error {
			if token, ok := c.Locals("user").(*jwt.Token); ok {
				s.verified.add(bearerToken(c), token, time.Now())
			}
			return then(c)
		},
	})
	return func(c *fiber.Ctx) error {
		if token, ok := s.verified.get(bearerToken(c), time.Now()); ok {
			c.Locals("user", token)
			return then(c)
		}
		return verify(c)
	}
}

// emailGate says whether a route refuses users who have not verified
// their email (when REQUIRE_VERIFIED_EMAIL is on).
type emailGate bool

// The two gates: every route has the first but the few that get a user
// verified (and /me, /logout, /refresh).
const (
	verifiedEmail emailGate = true
	anyEmail      emailGate = false
)

// tokenMiddleware verifies the bearer token and then checks what
// contrib/jwt does not: the claims we rely on, the token type, and, in one
// query, that its session lasts, its user exists and, behind the gate,
// has verified its email.
func (s *server) tokenMiddleware(tokenType string, gate emailGate) fiber.Handler {
	return s.verifyToken(func(c *fiber.Ctx) error {
		claims, userID, err := verifiedClaims(c, tokenType)
		if err != nil {
			return err
		}
		p, err := s.lookUpToken(c, claims, userID, gate)
		if err != nil {
			return err
		}
		c.Locals(localsPrincipal, p)
		middleware.SetUserID(c, userID)
		return c.Next()
	})
}

// tokenError tells a missing header, one without the Bearer scheme, an
// expired token and any other bad token apart.
func tokenError(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, jwtware.ErrJWTMissingOrMalformed) && c.Get(fiber.HeaderAuthorization) != "":
		return errNoBearerScheme
	case errors.Is(err, jwtware.ErrJWTMissingOrMalformed):
		return errAuthRequired
	case errors.Is(err, jwt.ErrTokenExpired):
		return errTokenExpired
	}
	return errInvalidToken
}

// verifiedClaims are the claims of the token whose signature contrib/jwt
// has just verified, if they are complete and of the type the route needs.
func verifiedClaims(c *fiber.Ctx, tokenType string) (*Claims, int64, error) {
	token, ok := c.Locals("user").(*jwt.Token)
	if !ok {
		return nil, 0, errInvalidToken
	}
	claims, _ := token.Claims.(*Claims)
	userID, err := validClaims(claims)
	if err != nil {
		return nil, 0, err
	}
	if claims.Type != tokenType {
		return nil, 0, errWrongType
	}
	return claims, userID, nil
}

// validClaims requires exp, jti, sid, a numeric string sub and a known
// type: the library accepts a token without exp, which would never expire.
func validClaims(claims *Claims) (int64, error) {
	if claims == nil || claims.ExpiresAt == nil || claims.ID == "" || claims.SessionID == "" ||
		(claims.Type != accessToken && claims.Type != refreshToken) {
		return 0, errInvalidToken
	}
	userID, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || userID <= 0 {
		return 0, errInvalidToken
	}
	return userID, nil
}

// lookUpToken is the database half of a token check, as a query of its
// own: the token's user must still exist and its session must not have
// ended; behind the gate, with REQUIRE_VERIFIED_EMAIL on, the user must
// have verified its email. It also reads whether the user is an admin now.
func (s *server) lookUpToken(c *fiber.Ctx, claims *Claims, userID int64, gate emailGate) (*principal, error) {
	state, err := s.sessions.Check(c.UserContext(), claims.SessionID, userID)
	switch {
	case err != nil:
		return nil, err
	case !state.UserExists:
		return nil, errUserNotFound
	case state.Ended:
		return nil, errTokenRevoked
	case gate == verifiedEmail && s.cfg.RequireVerifiedEmail && !state.EmailVerified:
		return nil, errEmailNotVerified
	}
	return &principal{UserID: userID, IsAdmin: state.IsAdmin, Claims: claims}, nil
}

// guardedHandler handles a route whose token check rides on its first
// statement. It reaches the data layer only through data, whose every
// method carries the check: see guardedRoutes.
type guardedHandler func(c *fiber.Ctx, data *models.Guarded) error

// guardedRoutes holds the handlers of the busiest routes, which save the
// round trip of the token check by leaving it to their own first
// statement (models.Guarded). The type holds the body parser and nothing
// of the data layer, so the compiler keeps such a handler from reading or
// writing around its guard.
type guardedRoutes struct {
	bind func(c *fiber.Ctx, in any) error
}

// tokenAge says whether a guarded route takes any access token, or only a
// fresh one, straight from /login (the course's jwt_required(fresh=True)).
type tokenAge bool

// The ages of token a guarded route takes.
const (
	anyToken   tokenAge = false
	freshToken tokenAge = true
)

// guarded builds a route whose token is verified here (signature, claims,
// its age) and checked against the database by the
// handler's first statement. When that statement did not prove the token
// (the handler failed, or found nothing), the token is checked with a
// query of its own, and its failure is the answer: a revoked token gets
// the same 401 as on any other route, and never writes. With
// REQUIRE_VERIFIED_EMAIL on, the statement cannot see the gate, so the
// token is checked first, with its own query, as on other routes.
func (s *server) guarded(age tokenAge, h guardedHandler) fiber.Handler {
	return s.verifyToken(func(c *fiber.Ctx) error {
		claims, userID, err := verifiedClaims(c, accessToken)
		if err != nil {
			return err
		}
		middleware.SetUserID(c, userID)
		if s.cfg.RequireVerifiedEmail {
			if _, err := s.lookUpToken(c, claims, userID, verifiedEmail); err != nil {
				return err
			}
		}
		data := s.data.Guarded(models.NewGuard(claims.SessionID, userID))
		if age == freshToken && !claims.Fresh {
			err = errFreshRequired
		} else {
			err = h(c, data)
		}
		if err == nil && data.Proven() {
			return nil
		}
		if _, authErr := s.lookUpToken(c, claims, userID, verifiedEmail); authErr != nil {
			return authErr
		}
		return err
	})
}

// requireFresh follows the access-token middleware where a token from
// /login is needed, as jwt_required(fresh=True) does in the course.
func requireFresh(c *fiber.Ctx) error {
	if !caller(c).Claims.Fresh {
		return errFreshRequired
	}
	return c.Next()
}

// requireAdmin follows the access-token middleware where an admin is
// needed.
func requireAdmin(c *fiber.Ctx) error {
	if !caller(c).IsAdmin {
		return errAdminRequired
	}
	return c.Next()
}

// caller is the principal the token middleware stored.
func caller(c *fiber.Ctx) *principal {
	p, _ := c.Locals(localsPrincipal).(*principal)
	return p
}

// tokenPair is what /login and /refresh hand out: an access token and a
// refresh token of one session.
type tokenPair struct {
	access, refresh string
}

// newRefreshJTI and newTokenPair are the two halves of issuing tokens: the
// session must know its refresh token's jti before the tokens, which carry
// the session's id, can be signed.
func newRefreshJTI() string { return rand.Text() }

// newTokenPair signs an access token (fresh from a password, or not) and
// the refresh token refreshJTI of session sid for user.
func (s *server) newTokenPair(user models.User, sid, refreshJTI string, fresh bool, now time.Time) (tokenPair, error) {
	isAdmin := user.IsAdmin
	access := &Claims{RegisteredClaims: newRegisteredClaims(user.ID, now, s.cfg.JWTAccessTTL),
		SessionID: sid, Type: accessToken, Fresh: fresh, IsAdmin: &isAdmin}
	refresh := &Claims{RegisteredClaims: newRegisteredClaims(user.ID, now, s.cfg.JWTRefreshTTL),
		SessionID: sid, Type: refreshToken}
	refresh.ID = refreshJTI
	var pair tokenPair
	var err error
	if pair.access, err = s.sign(access); err != nil {
		return pair, err
	}
	pair.refresh, err = s.sign(refresh)
	return pair, err
}

// sessionExpiry is when the tokens issued now expire, the later of the
// two: after that a session has nothing left to revoke.
func (s *server) sessionExpiry(now time.Time) time.Time {
	return now.Add(max(s.cfg.JWTAccessTTL, s.cfg.JWTRefreshTTL))
}

// newRegisteredClaims are the standard claims of every token we sign: the
// user, a random jti, and its lifetime.
func newRegisteredClaims(userID int64, now time.Time, ttl time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		ID:        rand.Text(),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
}

// sign signs claims with HS256 and JWT_SECRET_KEY.
func (s *server) sign(claims jwt.Claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.JWTSecret)
}

// parseRefreshToken verifies a refresh token given in a body (logout):
// HS256 only, exp required.
func (s *server) parseRefreshToken(raw string) (*Claims, int64, error) {
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
	if err != nil {
		return nil, 0, err
	}
	userID, err := validClaims(claims)
	if err != nil || claims.Type != refreshToken {
		return nil, 0, errInvalidToken
	}
	return claims, userID, nil
}
