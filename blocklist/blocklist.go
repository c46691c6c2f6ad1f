// Package blocklist decides which tokens are revoked, the counterpart of
// the course's BLOCKLIST. The course remembers each revoked token in a set
// in memory, which forgets on restart and is not seen by other replicas.
// Here revocation lives in the database and works per session: every
// token carries the id of the sign-in it comes from (its "sid"), and is
// good only while that session's row exists. Ending a session (logout, a
// refresh token used twice, an admin ending a user's sessions) deletes the
// row, which revokes every access and refresh token of it at once.
package blocklist

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Why Rotate refused a refresh token. Either way it is revoked.
var (
	// ErrReused: the token was rotated before, so two parties hold tokens
	// of the session (a stolen token, most likely). The session ended.
	ErrReused = errors.New("refresh token used twice: its session is ended")
	// ErrEnded: the session was ended before.
	ErrEnded = errors.New("session ended")
)

// Session is one sign-in. Every token issued from it carries its ID (the
// "sid" claim) and is good only while the row exists: deleting it revokes
// them all. RefreshJTI is the one refresh token of the session that may
// still be used, nil for sessions without refresh tokens (the admin
// panel's). Rows are pruned once ExpiresAt, when the last token of the
// session expires, has passed.
type Session struct {
	ID         string
	UserID     int64
	RefreshJTI *string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// LiveCondition is a SQL condition that holds while session ? of user ?
// lasts, for statements that check a token as they run (models.Guard).
// The session's primary key serves it; the subquery is uncorrelated, so
// the database evaluates it once per statement.
const LiveCondition = "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND user_id = ?)"

// Sessions is the table of live sessions.
type Sessions struct {
	db *gorm.DB
}

// New returns the sessions kept in db.
func New(db *gorm.DB) *Sessions { return &Sessions{db: db} }

// Start records a new session of a user and returns its id. refreshJTI is
// the session's first refresh token, "" for a session without refresh
// tokens; expiresAt is when its last token expires.
func (s *Sessions) Start(ctx context.Context, userID int64, refreshJTI string, expiresAt time.Time) (string, error) {
	row := Session{
		ID:         rand.Text(),
		UserID:     userID,
		RefreshJTI: nonEmpty(refreshJTI),
		CreatedAt:  time.Now().UTC(),
		ExpiresAt:  expiresAt.UTC(),
	}
	return row.ID, s.db.WithContext(ctx).Create(&row).Error
}

// Rotate replaces the session's current refresh token, usedJTI, with
// nextJTI and extends the session to expiresAt. The swap is one UPDATE
// that matches only the current token, so of two requests racing with one
// refresh token exactly one succeeds. A token that is not the current one
// was rotated before: the session ends (refresh token reuse detection, as
// the OAuth 2.0 Security Best Current Practice describes) and Rotate
// answers ErrReused; a session already ended answers ErrEnded.
func (s *Sessions) Rotate(ctx context.Context, sid string, userID int64, usedJTI, nextJTI string, expiresAt time.Time) error {
	db := s.db.WithContext(ctx)
	res := db.Model(&Session{}).
		Where("id = ? AND user_id = ? AND refresh_jti = ?", sid, userID, usedJTI).
		Updates(map[string]any{"refresh_jti": nextJTI, "expires_at": expiresAt.UTC()})
	switch {
	case res.Error != nil:
		return res.Error
	case res.RowsAffected == 1:
		return nil
	}
	ended, err := s.end(db, userID, sid)
	switch {
	case err != nil:
		return err
	case ended:
		return ErrReused
	}
	return ErrEnded
}

// End ends sessions of a user; ending one that has ended is not an error.
func (s *Sessions) End(ctx context.Context, userID int64, sids ...string) error {
	_, err := s.end(s.db.WithContext(ctx), userID, sids...)
	return err
}

func (s *Sessions) end(db *gorm.DB, userID int64, sids ...string) (bool, error) {
	res := db.Where("user_id = ? AND id IN ?", userID, sids).Delete(&Session{})
	return res.RowsAffected > 0, res.Error
}

// EndAll ends every session of a user (the API's tokens and the admin
// panel's sign-ins alike) and returns how many there were.
func (s *Sessions) EndAll(ctx context.Context, userID int64) (int64, error) {
	res := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{})
	return res.RowsAffected, res.Error
}

// TokenState is what a token's check needs to know from the database.
type TokenState struct {
	UserExists bool
	IsAdmin    bool // the user's rights now, whatever the token says
	Ended      bool // the session is over: its tokens are revoked
	// EmailVerified: the user has verified their email.
	EmailVerified bool
}

// Check answers "does the user of session sid still exist, is it an admin,
// has it verified its email, and has the session ended?" in one round
// trip. Every authenticated
// request runs it, so it scans the row directly rather than through
// GORM's reflection.
func (s *Sessions) Check(ctx context.Context, sid string, userID int64) (TokenState, error) {
	state := TokenState{UserExists: true}
	var live bool
	err := s.db.WithContext(ctx).Raw(
		`SELECT u.is_admin, u.email_verified,
		   EXISTS (SELECT 1 FROM sessions s WHERE s.id = ? AND s.user_id = u.id) AS live
		 FROM users u WHERE u.id = ?`, sid, userID).Row().Scan(&state.IsAdmin, &state.EmailVerified, &live)
	if errors.Is(err, sql.ErrNoRows) {
		return TokenState{}, nil
	}
	if err != nil {
		return TokenState{}, err
	}
	state.Ended = !live
	return state, nil
}

// CountLive counts the unexpired sessions of each of some users.
func (s *Sessions) CountLive(ctx context.Context, userIDs []int64) (map[int64]int64, error) {
	var rows []struct {
		UserID int64
		N      int64
	}
	err := s.db.WithContext(ctx).Model(&Session{}).Select("user_id, count(*) AS n").
		Where("user_id IN ? AND expires_at > ?", userIDs, time.Now().UTC()).Group("user_id").Scan(&rows).Error
	counts := make(map[int64]int64, len(rows))
	for _, r := range rows {
		counts[r.UserID] = r.N
	}
	return counts, err
}

// Prune deletes sessions whose tokens have all expired.
func (s *Sessions) Prune(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Delete(&Session{})
	return res.RowsAffected, res.Error
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
