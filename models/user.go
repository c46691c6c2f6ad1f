package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// User is an account that can log in. PasswordHash is a bcrypt hash; it is
// never encoded into a response because front ends only encode schemas.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	IsAdmin      bool
	// EmailVerified: the user followed the link of a verification email.
	EmailVerified bool
	CreatedAt     time.Time
}

// Users reads and writes accounts, and checks their passwords.
type Users struct {
	db         *gorm.DB
	bcryptCost int
	// dummyHash is compared against when a sign-in names an unknown
	// email, so that it costs as long as a wrong password.
	dummyHash []byte
}

func newUsers(db *gorm.DB, bcryptCost int) Users {
	hash, err := bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcryptCost)
	if err != nil {
		panic(err) // only for a cost out of range, which config.Load refuses
	}
	return Users{db: db, bcryptCost: bcryptCost, dummyHash: hash}
}

// AfterCreate runs in the transaction that adds a user, after the insert,
// with the database/sql transaction for libraries that join it: the job
// queue enqueues the welcome email there, so a user whose insert rolls
// back gets no email and a committed one always has its email queued. An
// error undoes the insert.
type AfterCreate func(ctx context.Context, tx *sql.Tx, user User) error

// Create adds an account with the password hashed; ErrEmailTaken if the
// email is registered already. The caller normalizes the email. then, if
// not nil, runs in the same transaction.
func (s Users) Create(ctx context.Context, email, password string, isAdmin bool, then AfterCreate) (User, error) {
	hash, err := s.hash(password)
	if err != nil {
		return User{}, err
	}
	user := User{Email: email, PasswordHash: hash, IsAdmin: isAdmin}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&user).Error; err != nil || then == nil {
			return err
		}
		sqlTx, err := sqlTx(tx)
		if err != nil {
			return err
		}
		return then(ctx, sqlTx, user)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return User{}, ErrEmailTaken
	}
	return user, err
}

// hash is the bcrypt hash of a password.
func (s Users) hash(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.bcryptCost)
	return string(hash), err
}

// Authenticate returns the account with this email and password, or
// ErrInvalidCredentials. An unknown email costs the same bcrypt comparison
// as a wrong password, so timing does not reveal which emails are
// registered.
func (s Users) Authenticate(ctx context.Context, email, password string) (User, error) {
	user, err := s.ByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrUserNotFound):
		bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return User{}, ErrInvalidCredentials
	case err != nil:
		return User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(password)) != nil {
		return User{}, ErrInvalidCredentials
	}
	return user, nil
}

// Get reads an account.
func (s Users) Get(ctx context.Context, id int64) (User, error) {
	return take[User](s.db.WithContext(ctx), id, ErrUserNotFound)
}

// ByEmail reads the account with this (normalized) email.
func (s Users) ByEmail(ctx context.Context, email string) (User, error) {
	var user User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&user).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return user, ErrUserNotFound
	}
	return user, err
}

// SetAdmin grants or withdraws admin rights. Every request checks is_admin
// in the database, so the change applies to the user's outstanding tokens
// and admin sessions at once.
func (s Users) SetAdmin(ctx context.Context, id int64, admin bool) error {
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Update("is_admin", admin)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrUserNotFound
	}
	return nil
}

// Delete deletes an account; its sessions cascade, so its outstanding
// tokens fail from then on.
func (s Users) Delete(ctx context.Context, id int64) error {
	return deleted(s.db.WithContext(ctx).Delete(&User{}, id), ErrUserNotFound)
}

// List reads a page of accounts by id, moved to the nearest page that
// exists, and the number of accounts there are.
func (s Users) List(ctx context.Context, page Page) ([]User, Page, int64, error) {
	total, err := s.Count(ctx)
	if err != nil {
		return nil, page, 0, err
	}
	page = page.Within(total)
	var users []User
	err = s.db.WithContext(ctx).Order("id").Limit(int(page.Size)).Offset(int(page.Offset())).Find(&users).Error
	return users, page, total, err
}

// Count counts the accounts.
func (s Users) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}
