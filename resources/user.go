package resources

import (
	"errors"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"stores-api/blocklist"
	"stores-api/models"
	"stores-api/schemas"
)

var (
	errEmailTaken         = conflict("A user with that email already exists.")
	errInvalidCredentials = authError("invalid_credentials", "Invalid credentials.")
	errUserNotExists      = notFound("User not found.")
	errBadRefreshToken    = invalidField("refresh_token", "Not a valid refresh token of this user.")
)

// registerUserRoutes is the user blueprint.
func (s *Server) registerUserRoutes(r fiber.Router) {
	r.Post("/register", s.authLimiter, s.register)
	r.Post("/login", s.authLimiter, s.login)
	r.Post("/refresh", s.authLimiter, s.requireRefresh, s.refresh)
	r.Post("/logout", s.requireAccess, s.logout)
	if !s.Config.Production() { // development helpers, as in the course
		r.Get("/user/:id", s.requireAccess, requireAdmin, s.getUser)
		r.Delete("/user/:id", s.requireAccess, requireAdmin, s.deleteUser)
	}
}

// authRateLimit limits /register, /login, /refresh and the admin sign-in
// per client IP, together, to slow down password guessing. The count lives
// in process memory, so each replica keeps its own. AUTH_RATE_LIMIT=0
// turns it off.
func (s *Server) authRateLimit() fiber.Handler {
	if s.Config.AuthRateLimit == 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max:        s.Config.AuthRateLimit,
		Expiration: time.Minute,
		LimitReached: func(c *fiber.Ctx) error { // Retry-After is already set
			return &Error{Status: fiber.StatusTooManyRequests, Message: "Too many requests: try again later."}
		},
	})
}

// register handles POST /register.
func (s *Server) register(c *fiber.Ctx) error {
	var in schemas.RegisterIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.Config.BcryptCost)
	if err != nil {
		return err
	}
	user := models.User{
		Email:        in.Email,
		PasswordHash: string(hash),
		IsAdmin:      slices.Contains(s.Config.AdminEmails, in.Email),
	}
	if err := s.DB.WithContext(c.UserContext()).Create(&user).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return errEmailTaken
		}
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(schemas.UserCreated{
		Message: "User created successfully.",
		User:    schemas.NewUser(user),
	})
}

// login handles POST /login: a new session, and an access and a refresh
// token of it.
func (s *Server) login(c *fiber.Ctx) error {
	var in schemas.LoginIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	user, err := s.authenticate(s.DB.WithContext(c.UserContext()), in)
	if err != nil {
		return err
	}
	now := time.Now()
	refreshJTI := newRefreshJTI()
	sid, err := s.Sessions.Start(c.UserContext(), user.ID, refreshJTI, s.sessionExpiry(now))
	if err != nil {
		return err
	}
	pair, err := s.newTokenPair(user, sid, refreshJTI, true, now)
	if err != nil {
		return err
	}
	return c.JSON(schemas.Tokens{
		AccessToken:  pair.access,
		RefreshToken: pair.refresh,
		TokenType:    "Bearer",
		ExpiresIn:    int64(s.Config.JWTAccessTTL / time.Second),
	})
}

// authenticate checks an email and password; /login and the admin panel's
// sign-in share it. An unknown email costs the same bcrypt comparison as a
// wrong password, so timing does not reveal which emails are registered.
func (s *Server) authenticate(db *gorm.DB, in schemas.LoginIn) (models.User, error) {
	var user models.User
	err := db.Where("email = ?", in.Email).Take(&user).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		bcrypt.CompareHashAndPassword(s.dummyHash, []byte(in.Password))
		return models.User{}, errInvalidCredentials
	case err != nil:
		return models.User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(in.Password)) != nil {
		return models.User{}, errInvalidCredentials
	}
	return user, nil
}

// refresh handles POST /refresh: a new non-fresh access token and a new
// refresh token of the same session. The refresh token used works once: a
// second use ends the session, so every token of it, including the ones
// the first use got, is refused from then on.
func (s *Server) refresh(c *fiber.Ctx) error {
	p := caller(c)
	now := time.Now()
	next := newRefreshJTI()
	err := s.Sessions.Rotate(c.UserContext(), p.Claims.SessionID, p.UserID, p.Claims.ID, next, s.sessionExpiry(now))
	switch {
	case errors.Is(err, blocklist.ErrReused):
		// A client's 401, but one a security review looks for: the
		// access log line says so.
		noteForLog(c, "refresh token reused: session ended")
		return errTokenRevoked
	case errors.Is(err, blocklist.ErrEnded):
		return errTokenRevoked // ended while this request ran
	case err != nil:
		return err
	}
	pair, err := s.newTokenPair(models.User{ID: p.UserID, IsAdmin: p.IsAdmin}, p.Claims.SessionID, next, false, now)
	if err != nil {
		return err
	}
	return c.JSON(schemas.RefreshedTokens{AccessToken: pair.access, RefreshToken: pair.refresh})
}

// logout handles POST /logout: ends the session of the access token, so
// every token of it is refused from then on, with or without a body. A
// refresh token of the same user in the body ends its session too.
func (s *Server) logout(c *fiber.Ctx) error {
	p := caller(c)
	sessions := []string{p.Claims.SessionID}
	if len(c.Body()) > 0 {
		var in schemas.LogoutIn
		if err := s.bind(c, &in); err != nil {
			return err
		}
		if in.RefreshToken != "" {
			claims, userID, err := s.parseRefreshToken(in.RefreshToken)
			switch {
			case errors.Is(err, jwt.ErrTokenExpired):
				// Already unusable: nothing to end.
			case err != nil || userID != p.UserID:
				return errBadRefreshToken
			default:
				sessions = append(sessions, claims.SessionID)
			}
		}
	}
	if err := s.Sessions.End(c.UserContext(), p.UserID, sessions...); err != nil {
		return err
	}
	return c.JSON(schemas.Message{Message: "Successfully logged out."})
}

// getUser handles GET /user/:id (admins, outside production).
func (s *Server) getUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errUserNotExists)
	if err != nil {
		return err
	}
	var user models.User
	err = s.DB.WithContext(c.UserContext()).Take(&user, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errUserNotExists
	}
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewUser(user))
}

// deleteUser handles DELETE /user/:id (admins, outside production). The
// user's outstanding tokens fail from then on: every request checks that
// its user still exists.
func (s *Server) deleteUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errUserNotExists)
	if err != nil {
		return err
	}
	if err := s.deleteUserRow(s.DB.WithContext(c.UserContext()), id); err != nil {
		return err
	}
	return c.JSON(schemas.Message{Message: "User deleted."})
}

// deleteUserRow deletes a user; DELETE /user/:id and the admin panel
// share it.
func (s *Server) deleteUserRow(db *gorm.DB, id int64) error {
	res := db.Delete(&models.User{}, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errUserNotExists
	}
	return nil
}

// setUserAdmin grants or withdraws admin rights. Every request checks
// is_admin in the database, so the change applies to the user's
// outstanding tokens and admin sessions at once.
func (s *Server) setUserAdmin(db *gorm.DB, id int64, admin bool) error {
	res := db.Model(&models.User{}).Where("id = ?", id).Update("is_admin", admin)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errUserNotExists
	}
	return nil
}
