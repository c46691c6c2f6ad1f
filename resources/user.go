package resources

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"stores-api/blocklist"
	"stores-api/middleware"
	"stores-api/models"
	"stores-api/schemas"
	"stores-api/tasks"
)

var errBadRefreshToken = invalidField("refresh_token", "Not a valid refresh token of this user.")

// registerUserRoutes is the user blueprint.
func (s *server) registerUserRoutes(r fiber.Router) {
	r.Post("/register", s.signIn, s.idempotent(byClientAddress), s.register)
	r.Post("/login", s.signIn, s.login)
	r.Post("/refresh", s.signIn, s.requireRefresh, s.refresh)
	r.Post("/logout", s.requireSignIn, s.logout)
	r.Get("/me", s.requireSignIn, s.me)
	r.Get("/verify-email", s.verifyEmail)
	r.Post("/verify-email/resend", s.signIn, s.requireSignIn, s.resendVerification)
	r.Post("/password-reset", s.signIn, s.requestPasswordReset)
	r.Post("/password-reset/confirm", s.signIn, s.confirmPasswordReset)
	if !s.cfg.Production() { // development helpers, as in the course
		r.Get("/user/:id", s.requireAccess, requireAdmin, s.getUser)
		r.Delete("/user/:id", s.requireAccess, requireAdmin, s.deleteUser)
	}
}

// register handles POST /register.
func (s *server) register(c *fiber.Ctx) error {
	var in schemas.RegisterIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	isAdmin := slices.Contains(s.cfg.AdminEmails, in.Email)
	user, err := s.data.Users.Create(c.UserContext(), in.Email, in.Password, isAdmin, s.enqueueWelcome)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(schemas.UserCreatedOut{
		Message: "User created successfully.",
		User:    schemas.NewUserOut(user),
	})
}

// enqueueWelcome queues the welcome email in the transaction that adds the
// user: the email goes out exactly when the user exists (tasks).
func (s *server) enqueueWelcome(ctx context.Context, tx *sql.Tx, user models.User) error {
	return s.jobs.Enqueue(ctx, tx, tasks.WelcomeEmail{UserID: user.ID})
}

// login handles POST /login: a new session, and an access and a refresh
// token of it.
func (s *server) login(c *fiber.Ctx) error {
	var in schemas.LoginIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	user, err := s.data.Users.Authenticate(c.UserContext(), in.Email, in.Password)
	if err != nil {
		return err
	}
	now := time.Now()
	refreshJTI := newRefreshJTI()
	sid, err := s.sessions.Start(c.UserContext(), user.ID, refreshJTI, s.sessionExpiry(now))
	if err != nil {
		return err
	}
	pair, err := s.newTokenPair(user, sid, refreshJTI, true, now)
	if err != nil {
		return err
	}
	return c.JSON(s.tokensOut(pair))
}

// tokensOut is the answer of /login and /refresh alike.
func (s *server) tokensOut(pair tokenPair) schemas.TokensOut {
	return schemas.TokensOut{
		AccessToken:  pair.access,
		RefreshToken: pair.refresh,
		TokenType:    "Bearer",
		ExpiresIn:    int64(s.cfg.JWTAccessTTL / time.Second),
	}
}

// refresh handles POST /refresh: a new non-fresh access token and a new
// refresh token of the same session. The refresh token used works once: a
// second use ends the session, so every token of it, including the ones
// the first use got, is refused from then on.
func (s *server) refresh(c *fiber.Ctx) error {
	p := caller(c)
	now := time.Now()
	next := newRefreshJTI()
	err := s.sessions.Rotate(c.UserContext(), p.Claims.SessionID, p.UserID, p.Claims.ID, next, s.sessionExpiry(now))
	switch {
	case errors.Is(err, blocklist.ErrReused):
		// A client's 401, but one a security review looks for: the
		// access log line says so.
		middleware.NoteForLog(c, "refresh token reused: session ended")
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
	return c.JSON(s.tokensOut(pair))
}

// logout handles POST /logout: ends the session of the access token, so
// every token of it is refused from then on, with or without a body. A
// refresh token of the same user in the body ends its session too.
func (s *server) logout(c *fiber.Ctx) error {
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
	if err := s.sessions.End(c.UserContext(), p.UserID, sessions...); err != nil {
		return err
	}
	return c.JSON(schemas.MessageOut{Message: "Successfully logged out."})
}

// getUser handles GET /user/:id (admins, outside production).
func (s *server) getUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrUserNotFound)
	if err != nil {
		return err
	}
	user, err := s.data.Users.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewUserOut(user))
}

// deleteUser handles DELETE /user/:id (admins, outside production). The
// user's sessions go with it, so its outstanding tokens fail from then on.
func (s *server) deleteUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrUserNotFound)
	if err != nil {
		return err
	}
	if err := s.data.Users.Delete(c.UserContext(), id); err != nil {
		return err
	}
	return c.JSON(schemas.MessageOut{Message: "User deleted."})
}
