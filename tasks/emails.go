package tasks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"stores-api/mail"
	"stores-api/models"
)

// emailMaxAttempts is how often an email is tried before its job is
// discarded: with River's backoff (attempt⁴ seconds) the last try comes
// about four hours after the first.
const emailMaxAttempts = 10

// emailOpts are the insert options of every email job.
var emailOpts = river.InsertOpts{MaxAttempts: emailMaxAttempts}

// WelcomeEmail greets a new user and asks them to verify their email; its
// job is inserted with the user (POST /register).
type WelcomeEmail struct {
	UserID int64 `json:"user_id"`
}

// Kind names the job in the queue.
func (WelcomeEmail) Kind() string { return "welcome_email" }

// InsertOpts are the email jobs' options.
func (WelcomeEmail) InsertOpts() river.InsertOpts { return emailOpts }

// VerificationEmail sends a new verification link
// (POST /verify-email/resend).
type VerificationEmail struct {
	UserID int64 `json:"user_id"`
}

// Kind names the job in the queue.
func (VerificationEmail) Kind() string { return "verification_email" }

// InsertOpts are the email jobs' options.
func (VerificationEmail) InsertOpts() river.InsertOpts { return emailOpts }

// PasswordResetEmail sends a link that sets a new password
// (POST /password-reset).
type PasswordResetEmail struct {
	UserID int64 `json:"user_id"`
}

// Kind names the job in the queue.
func (PasswordResetEmail) Kind() string { return "password_reset_email" }

// InsertOpts are the email jobs' options.
func (PasswordResetEmail) InsertOpts() river.InsertOpts { return emailOpts }

// Jobs carry a user's id, not the token of the link: a token is made when
// the email is sent, and only its hash is stored, so nothing in the
// database opens the link.

// emailer sends the emails with a link: each issues a token of the link's
// purpose, renders the email and sends it.
type emailer struct {
	data      *models.Models
	mail      mail.Sender
	publicURL string
}

// link is one kind of email with a link.
type link struct {
	purpose models.TokenPurpose
	path    string // where the link points, under PUBLIC_URL
	render  func(to, url string) (mail.Message, error)
}

var (
	welcomeLink      = link{models.PurposeVerifyEmail, "/verify-email", mail.Welcome}
	verificationLink = link{models.PurposeVerifyEmail, "/verify-email", mail.VerifyEmail}
	passwordReset    = link{models.PurposeResetPassword, "/password-reset", mail.PasswordReset}
)

// send emails the user a new link. A user deleted since the job was
// inserted gets nothing, and a verified one no new verification link:
// the job completes with nothing to do. A token whose email could not be
// sent is withdrawn, and the error makes River try again later.
func (e *emailer) send(ctx context.Context, userID int64, l link) error {
	user, err := e.data.Users.Get(ctx, userID)
	if errors.Is(err, models.ErrUserNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if l.purpose == models.PurposeVerifyEmail && user.EmailVerified {
		return nil
	}
	token, err := e.data.AccountTokens.Issue(ctx, user.ID, l.purpose, time.Now())
	if err != nil {
		return err
	}
	msg, err := l.render(user.Email, e.publicURL+l.path+"?token="+url.QueryEscape(token))
	if err == nil {
		err = e.mail.Send(ctx, msg)
	}
	if err != nil {
		// A job cancelled at shutdown still withdraws its token.
		if werr := e.data.AccountTokens.Withdraw(context.WithoutCancel(ctx), token); werr != nil {
			err = errors.Join(err, werr)
		}
		return fmt.Errorf("sending %s email to user %d: %w", l.purpose, user.ID, err)
	}
	return nil
}

// emailWorker works the jobs of one kind of email.
type emailWorker[T interface {
	river.JobArgs
	user() int64
}] struct {
	river.WorkerDefaults[T]
	e    *emailer
	link link
}

func (w *emailWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return w.e.send(ctx, job.Args.user(), w.link)
}

func (a WelcomeEmail) user() int64       { return a.UserID }
func (a VerificationEmail) user() int64  { return a.UserID }
func (a PasswordResetEmail) user() int64 { return a.UserID }

// registerWorkers adds the worker of every job kind.
func registerWorkers(workers *river.Workers, e *emailer) {
	river.AddWorker(workers, &emailWorker[WelcomeEmail]{e: e, link: welcomeLink})
	river.AddWorker(workers, &emailWorker[VerificationEmail]{e: e, link: verificationLink})
	river.AddWorker(workers, &emailWorker[PasswordResetEmail]{e: e, link: passwordReset})
}
