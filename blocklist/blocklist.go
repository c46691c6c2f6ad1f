// Package blocklist keeps revoked tokens (logout, refresh rotation) in the
// database, the counterpart of the course's BLOCKLIST set. A set in memory
// forgets on restart and is not seen by other replicas; a table is both.
package blocklist

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"stores-api/models"
)

// ErrAlreadyRevoked is returned by RevokeOnce when the token was revoked
// before: a refresh token presented twice.
var ErrAlreadyRevoked = errors.New("token already revoked")

// Store is the database-backed blocklist.
type Store struct {
	db *gorm.DB
}

// New returns a blocklist on db.
func New(db *gorm.DB) *Store { return &Store{db: db} }

// Revoke blocks the token id jti until expiresAt; revoking twice is fine.
func (s *Store) Revoke(ctx context.Context, db *gorm.DB, jti string, expiresAt time.Time) error {
	row := models.RevokedToken{JTI: jti, ExpiresAt: expiresAt.UTC()}
	return s.conn(db).WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
}

// RevokeOnce blocks jti, or fails with ErrAlreadyRevoked if it already was.
// Refresh rotation relies on it: of two requests racing with one refresh
// token, exactly one wins.
func (s *Store) RevokeOnce(ctx context.Context, db *gorm.DB, jti string, expiresAt time.Time) error {
	row := models.RevokedToken{JTI: jti, ExpiresAt: expiresAt.UTC()}
	err := s.conn(db).WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrAlreadyRevoked
	}
	return err
}

// IsRevoked reports whether jti was revoked.
func (s *Store) IsRevoked(ctx context.Context, jti string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.RevokedToken{}).Where("jti = ?", jti).Count(&n).Error
	return n > 0, err
}

// Prune deletes entries whose tokens have expired anyway.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Delete(&models.RevokedToken{})
	return res.RowsAffected, res.Error
}

// PruneEvery prunes every interval until ctx ends.
func (s *Store) PruneEvery(ctx context.Context, interval time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			if n, err := s.Prune(ctx, now); err != nil {
				log.Warn("pruning the token blocklist failed", "err", err)
			} else if n > 0 {
				log.Info("pruned the token blocklist", "removed", n)
			}
		}
	}
}

// conn lets a caller revoke inside its own transaction.
func (s *Store) conn(tx *gorm.DB) *gorm.DB {
	if tx != nil {
		return tx
	}
	return s.db
}
