package resources

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
	"stores-api/tasks"
)

// The account routes the course's last section leads to: the signed-in
// user, verifying an email and resetting a forgotten password. Their
// emails are sent by the job queue's workers, never by the request.

var (
	errInvalidLink = &Error{Status: fiber.StatusBadRequest, Code: "invalid_link",
		Message: "This link is wrong, used or expired: ask for a new one."}
	errAlreadyVerified = &Error{Status: fiber.StatusConflict, Code: "email_already_verified",
		Message: "The email is verified already."}
)

// passwordResetAccepted answers every POST /password-reset alike, whether
// an account has the email or not, so the answer tells nobody which
// emails are registered.
var passwordResetAccepted = schemas.MessageOut{
	Message: "If an account has this email, a link to reset its password is on its way."}

// me handles GET /me: the signed-in user.
func (s *server) me(c *fiber.Ctx) error {
	user, err := s.data.Users.Get(c.UserContext(), caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewUserOut(user))
}

// verifyEmail handles GET /verify-email?token=…, the link of the welcome
// email: it marks the user's email verified.
func (s *server) verifyEmail(c *fiber.Ctx) error {
	token := c.Query("token")
	if token == "" || len(token) > 64 {
		return errInvalidLink
	}
	if _, err := s.data.Users.VerifyEmail(c.UserContext(), token, time.Now()); err != nil {
		return linkError(err)
	}
	return c.JSON(schemas.MessageOut{Message: "Email verified."})
}

// resendVerification handles POST /verify-email/resend: a new link for the
// signed-in user, whose earlier links still work until they expire.
func (s *server) resendVerification(c *fiber.Ctx) error {
	user, err := s.data.Users.Get(c.UserContext(), caller(c).UserID)
	if err != nil {
		return err
	}
	if user.EmailVerified {
		return errAlreadyVerified
	}
	if err := s.jobs.EnqueueNow(c.UserContext(), tasks.VerificationEmail{UserID: user.ID}); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(schemas.MessageOut{
		Message: "A new verification link is on its way to " + user.Email + "."})
}

// requestPasswordReset handles POST /password-reset: an email with a link
// to set a new password, for the account with that email, if any.
func (s *server) requestPasswordReset(c *fiber.Ctx) error {
	var in schemas.PasswordResetIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	user, err := s.data.Users.ByEmail(c.UserContext(), in.Email)
	switch {
	case errors.Is(err, models.ErrUserNotFound):
		// The same answer as for a registered email.
	case err != nil:
		return err
	default:
		if err := s.jobs.EnqueueNow(c.UserContext(), tasks.PasswordResetEmail{UserID: user.ID}); err != nil {
			return err
		}
	}
	return c.Status(fiber.StatusAccepted).JSON(passwordResetAccepted)
}

// confirmPasswordReset handles POST /password-reset/confirm: the token of
// the emailed link sets a new password, which follows the rules of a
// registration, and every session of the user ends.
func (s *server) confirmPasswordReset(c *fiber.Ctx) error {
	var in schemas.PasswordResetConfirmIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	now := time.Now()
	owner, err := s.data.Users.TokenOwner(c.UserContext(), in.Token, models.PurposeResetPassword, now)
	if err != nil {
		return linkError(err)
	}
	if errs := schemas.ValidateStruct(s.validate, schemas.NewPassword{Email: owner.Email, Password: in.Password}, nil); errs != nil {
		return &schemas.ValidationError{Fields: errs}
	}
	if _, err := s.data.Users.ResetPassword(c.UserContext(), in.Token, in.Password, now); err != nil {
		return linkError(err)
	}
	return c.JSON(schemas.MessageOut{Message: "Password changed: log in with the new one. Every session has ended."})
}

// linkError answers a token of an emailed link that did not work.
func linkError(err error) error {
	if errors.Is(err, models.ErrTokenInvalid) {
		return errInvalidLink
	}
	return err
}
