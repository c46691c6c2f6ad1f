package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"stores-api/blocklist"
)

// TokenPurpose says what the link an account token is in does.
type TokenPurpose string

// The purposes of account tokens, and how long each one lasts.
const (
	PurposeVerifyEmail   TokenPurpose = "verify_email"
	PurposeResetPassword TokenPurpose = "reset_password"

	VerifyEmailTTL   = 48 * time.Hour
	ResetPasswordTTL = time.Hour
)

// ttl is how long a token of the purpose stays good.
func (p TokenPurpose) ttl() time.Duration {
	if p == PurposeResetPassword {
		return ResetPasswordTTL
	}
	return VerifyEmailTTL
}

// AccountToken is a single-use token of a link we email. Only the SHA-256
// hash of the token is stored: the token itself is in the email alone.
type AccountToken struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    int64
	Purpose   TokenPurpose
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ErrTokenInvalid: no unexpired, unused token of that purpose matches.
// Whether it never existed, was used or expired is not told apart: the
// answer would help only someone guessing tokens.
var ErrTokenInvalid = errors.New("the token is wrong, used or expired")

// AccountTokens issues the tokens of the links we email.
type AccountTokens struct {
	db *gorm.DB
}

// Issue makes a token for the user's link, good for its purpose's time
// from now, and returns it; only its hash is stored.
func (s AccountTokens) Issue(ctx context.Context, userID int64, purpose TokenPurpose, now time.Time) (string, error) {
	token := rand.Text() // 26 base32 characters: 130 random bits
	row := AccountToken{TokenHash: hashToken(token), UserID: userID, Purpose: purpose,
		CreatedAt: now.UTC(), ExpiresAt: now.Add(purpose.ttl()).UTC()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return "", err
	}
	return token, nil
}

// Withdraw deletes a token whose email could not be sent, so no token
// stays good that nobody was given.
func (s AccountTokens) Withdraw(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&AccountToken{}).Error
}

// Prune deletes the tokens that expired before now.
func (s AccountTokens) Prune(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Delete(&AccountToken{})
	return res.RowsAffected, res.Error
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenOwner reads the user a good token of the purpose belongs to, or
// answers ErrTokenInvalid.
func tokenOwner(db *gorm.DB, token string, purpose TokenPurpose, now time.Time) (User, error) {
	var user User
	err := db.Where("id = (SELECT user_id FROM account_tokens WHERE token_hash = ? AND purpose = ? AND expires_at > ?)",
		hashToken(token), purpose, now.UTC()).Take(&user).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return user, ErrTokenInvalid
	}
	return user, err
}

// redeem uses up a good token of the purpose, with every other token of
// the same purpose of its user: one link works, once. Of two requests
// racing with one token, only one redeems it.
func redeem(tx *gorm.DB, token string, purpose TokenPurpose, now time.Time) (User, error) {
	user, err := tokenOwner(tx, token, purpose, now)
	if err != nil {
		return user, err
	}
	res := tx.Where("token_hash = ? AND expires_at > ?", hashToken(token), now.UTC()).Delete(&AccountToken{})
	switch {
	case res.Error != nil:
		return user, res.Error
	case res.RowsAffected == 0:
		return user, ErrTokenInvalid // redeemed by another request a moment ago
	}
	err = tx.Where("user_id = ? AND purpose = ?", user.ID, purpose).Delete(&AccountToken{}).Error
	return user, err
}

// VerifyEmail redeems a token of a verification link and marks its user's
// email verified.
func (s Users) VerifyEmail(ctx context.Context, token string, now time.Time) (User, error) {
	var user User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if user, err = redeem(tx, token, PurposeVerifyEmail, now); err != nil {
			return err
		}
		user.EmailVerified = true
		return tx.Model(&user).Update("email_verified", true).Error
	})
	return user, err
}

// TokenOwner reads the user of a good token of the purpose without using
// it up, so a front end can check what the token is for first (a new
// password is checked against the account's email).
func (s Users) TokenOwner(ctx context.Context, token string, purpose TokenPurpose, now time.Time) (User, error) {
	return tokenOwner(s.db.WithContext(ctx), token, purpose, now)
}

// ResetPassword redeems a token of a password-reset link, sets the user's
// new password and ends every session of the user, in one transaction: a
// thief signed in with the old password is out once the owner resets it.
func (s Users) ResetPassword(ctx context.Context, token, password string, now time.Time) (User, error) {
	hash, err := s.hash(password) // slow: before the transaction, which would hold its locks meanwhile
	if err != nil {
		return User{}, err
	}
	var user User
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if user, err = redeem(tx, token, PurposeResetPassword, now); err != nil {
			return err
		}
		if err := tx.Model(&user).Update("password_hash", hash).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ?", user.ID).Delete(&blocklist.Session{}).Error
	})
	return user, err
}

// sqlTx is the database/sql transaction under a GORM transaction, for
// libraries that join it (the job queue).
func sqlTx(tx *gorm.DB) (*sql.Tx, error) {
	if sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx); ok {
		return sqlTx, nil
	}
	return nil, fmt.Errorf("not in a database/sql transaction: %T", tx.Statement.ConnPool)
}
