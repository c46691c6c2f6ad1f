package schemas

import (
	"strings"

	"stores-api/models"
)

// RegisterIn is the body of POST /register. The password is at least 8
// characters (not bytes) and at most the 72 bytes bcrypt reads; the rules
// of password.go apply too.
type RegisterIn struct {
	Email    string `json:"email" validate:"required,max=254,nocontrol,email"`
	Password string `json:"password" validate:"required,min=8,maxbytes=72"`
}

// Normalize trims and lower-cases the email; the password is kept as typed.
func (in *RegisterIn) Normalize() { in.Email = normalizeEmail(in.Email) }

// LoginIn is the body of POST /login. It checks only what could never
// match, so a login never explains which rule a registered password follows.
type LoginIn struct {
	Email    string `json:"email" validate:"required,max=254,nocontrol"`
	Password string `json:"password" validate:"required,maxbytes=72"`
}

// Normalize trims and lower-cases the email.
func (in *LoginIn) Normalize() { in.Email = normalizeEmail(in.Email) }

// LogoutIn is the optional body of POST /logout.
type LogoutIn struct {
	RefreshToken string `json:"refresh_token" validate:"max=4096"`
}

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// UserOut is a user as responses show it: never the password hash.
type UserOut struct {
	ID            int64  `json:"id"`
	Email         string `json:"email"`
	IsAdmin       bool   `json:"is_admin"`
	EmailVerified bool   `json:"email_verified"`
}

// NewUserOut maps a user model.
func NewUserOut(u models.User) UserOut {
	return UserOut{ID: u.ID, Email: u.Email, IsAdmin: u.IsAdmin, EmailVerified: u.EmailVerified}
}

// PasswordResetIn is the body of POST /password-reset.
type PasswordResetIn struct {
	Email string `json:"email" validate:"required,max=254,nocontrol"`
}

// Normalize trims and lower-cases the email.
func (in *PasswordResetIn) Normalize() { in.Email = normalizeEmail(in.Email) }

// PasswordResetConfirmIn is the body of POST /password-reset/confirm: the
// token of the emailed link and the new password, which follows the rules
// of a registration (NewPassword checks the ones that need the email).
type PasswordResetConfirmIn struct {
	Token    string `json:"token" validate:"required,max=64,nocontrol"`
	Password string `json:"password" validate:"required,min=8,maxbytes=72"`
}

// NewPassword is a new password of the account email, for the password
// rules that depend on the account (password.go).
type NewPassword struct {
	Email    string `json:"-"`
	Password string `json:"password"`
}

// UserCreatedOut answers POST /register.
type UserCreatedOut struct {
	Message string  `json:"message"`
	User    UserOut `json:"user"`
}

// TokensOut answers POST /login.
type TokensOut struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}
