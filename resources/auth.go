package resources

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"strconv"
	"time"

	jwtware "github.com/gofiber/contrib/jwt"
	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

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
	// pending is set on routes whose handler carries the token's database
	// check in its own statement (requireAccessInline); IsAdmin is unknown
	// there.
	pending *pendingCheck
}

// localsPrincipal is where the auth middleware leaves the principal.
const localsPrincipal = "principal"

// Auth errors, each with its machine-readable code.
var (
	errAuthRequired  = authError("authorization_required", "Request does not contain an access token.")
	errInvalidToken  = authError("invalid_token", "Signature verification failed or the token is malformed.")
	errTokenExpired  = authError("token_expired", "The token has expired.")
	errTokenRevoked  = authError("token_revoked", "The token has been revoked.")
	errWrongType     = authError("wrong_token_type", "This endpoint needs a different type of token.")
	errFreshRequired = authError("fresh_token_required", "The token is not fresh: log in again.")
	errUserNotFound  = authError("user_not_found", "The user of this token no longer exists.")
	errAdminRequired = &Error{Status: fiber.StatusForbidden, Code: "admin_required", Message: "Admin privilege required."}
)

func authError(code, msg string) *Error {
	return &Error{Status: fiber.StatusUnauthorized, Code: code, Message: msg}
}

// newTokenMiddleware verifies the bearer token (HS256 only) and then checks
// what contrib/jwt does not: the claims we rely on, the token type, the
// blocklist and that the user still exists. With inline set, the last two
// are left to the handler's statement (see requireAccessInline).
func (s *Server) newTokenMiddleware(tokenType string, inline bool) fiber.Handler {
	return jwtware.New(jwtware.Config{
		SigningKey:   jwtware.SigningKey{JWTAlg: jwtware.HS256, Key: s.Config.JWTSecret},
		Claims:       &Claims{},
		ErrorHandler: tokenError,
		SuccessHandler: func(c *fiber.Ctx) error {
			claims, userID, err := verifiedClaims(c, tokenType)
			switch {
			case err != nil:
				return err
			case inline:
				return s.checkTokenInline(c, claims, userID)
			}
			return s.checkToken(c, claims, userID)
		},
	})
}

// tokenError tells a missing header, an expired token and any other bad
// token apart.
func tokenError(_ *fiber.Ctx, err error) error {
	switch {
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

// checkToken does the token's database check before the handler runs.
func (s *Server) checkToken(c *fiber.Ctx, claims *Claims, userID int64) error {
	p, err := s.lookUpToken(c, claims, userID)
	if err != nil {
		return err
	}
	c.Locals(localsPrincipal, p)
	return c.Next()
}

// lookUpToken is the database half of a token check, as a query of its
// own: the token's user must still exist and its session must not have
// ended. It also reads whether the user is an admin now.
func (s *Server) lookUpToken(c *fiber.Ctx, claims *Claims, userID int64) (*principal, error) {
	state, err := s.tokenState(c, claims.SessionID, userID)
	switch {
	case err != nil:
		return nil, err
	case !state.UserExists:
		return nil, errUserNotFound
	case state.Revoked:
		return nil, errTokenRevoked
	}
	return &principal{UserID: userID, IsAdmin: state.IsAdmin, Claims: claims}, nil
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

// tokenState answers "has this token's session ended, and does its user
// still exist (and is it an admin)?" in one round trip.
type tokenState struct {
	UserExists bool
	IsAdmin    bool
	Revoked    bool
}

func (s *Server) tokenState(c *fiber.Ctx, sid string, userID int64) (tokenState, error) {
	// Every authenticated request runs this, so it scans the row directly
	// rather than through GORM's reflection.
	state := tokenState{UserExists: true}
	var live bool
	err := s.DB.WithContext(c.UserContext()).Raw(
		`SELECT u.is_admin, EXISTS (SELECT 1 FROM sessions s WHERE s.id = ? AND s.user_id = u.id) AS live
		 FROM users u WHERE u.id = ?`, sid, userID).Row().Scan(&state.IsAdmin, &live)
	if errors.Is(err, sql.ErrNoRows) {
		return tokenState{}, nil
	}
	if err != nil {
		return tokenState{}, err
	}
	state.Revoked = !live
	return state, nil
}

// requireFresh follows the access-token middleware where a token from
// /login is needed, as jwt_required(fresh=True) does in the course.
func requireFresh(c *fiber.Ctx) error {
	if !caller(c).Claims.Fresh {
		return errFreshRequired
	}
	return c.Next()
}

// requireAdmin follows the access-token middleware where an admin is needed.
func requireAdmin(c *fiber.Ctx) error {
	p := caller(c)
	if p.pending != nil {
		// A route's mistake, not the client's: the inline check does not
		// read the user's admin flag.
		return errors.New("requireAdmin after requireAccessInline")
	}
	if !p.IsAdmin {
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
	refreshJTI      string
	expires         time.Time // when the later of the two expires
}

// newRefreshJTI and newTokenPair are the two halves of issuing tokens: the
// session must know its refresh token's jti before the tokens, which carry
// the session's id, can be signed.
func newRefreshJTI() string { return rand.Text() }

// newTokenPair signs an access token (fresh from a password, or not) and
// the refresh token refreshJTI of session sid for user.
func (s *Server) newTokenPair(user models.User, sid, refreshJTI string, fresh bool, now time.Time) (tokenPair, error) {
	isAdmin := user.IsAdmin
	access := &Claims{RegisteredClaims: newRegisteredClaims(user.ID, now, s.Config.JWTAccessTTL),
		SessionID: sid, Type: accessToken, Fresh: fresh, IsAdmin: &isAdmin}
	refresh := &Claims{RegisteredClaims: newRegisteredClaims(user.ID, now, s.Config.JWTRefreshTTL),
		SessionID: sid, Type: refreshToken}
	refresh.ID = refreshJTI
	pair := tokenPair{refreshJTI: refreshJTI, expires: s.sessionExpiry(now)}
	var err error
	if pair.access, err = s.sign(access); err != nil {
		return pair, err
	}
	pair.refresh, err = s.sign(refresh)
	return pair, err
}

// sessionExpiry is when the tokens issued now expire, the later of the
// two: after that a session has nothing left to revoke.
func (s *Server) sessionExpiry(now time.Time) time.Time {
	return now.Add(max(s.Config.JWTAccessTTL, s.Config.JWTRefreshTTL))
}

// newRegisteredClaims are the standard claims of every token we sign: the
// user, a random jti for the blocklist, and its lifetime.
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
func (s *Server) sign(claims jwt.Claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.Config.JWTSecret)
}

// parseSigned verifies a token that does not come through the bearer
// middleware (a body, a cookie) into claims: HS256 only, exp required.
func (s *Server) parseSigned(raw string, claims jwt.Claims) error {
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return s.Config.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
	return err
}

// parseRefreshToken verifies a refresh token given in a body (logout).
func (s *Server) parseRefreshToken(raw string) (*Claims, int64, error) {
	claims := &Claims{}
	if err := s.parseSigned(raw, claims); err != nil {
		return nil, 0, err
	}
	userID, err := validClaims(claims)
	if err != nil || claims.Type != refreshToken {
		return nil, 0, errInvalidToken
	}
	return claims, userID, nil
}
