package models

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// How long an Idempotency-Key and its answer are kept, and how long a
// request may hold a key before a retry may take it over: longer than any
// request can run (its database time is bounded by seconds), so a key a
// crashed process held is not stuck for a day.
const (
	IdempotencyTTL   = 24 * time.Hour
	idempotencyLease = time.Minute
)

// IdempotencyKey is one key a client sent, with the answer of the request
// it first came with (nil Status while that request runs).
type IdempotencyKey struct {
	Scope          string `gorm:"primaryKey"`
	IdempotencyKey string `gorm:"primaryKey"`
	RequestHash    string
	Status         *int
	Headers        *string // the answer's headers kept, as a JSON object
	Body           []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// Answer is the answer to a request, as it is kept for its retries.
type Answer struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// What Claim found.
var (
	// ErrKeyInProgress: the first request with the key is still running.
	ErrKeyInProgress = errors.New("a request with this idempotency key is in progress")
	// ErrKeyReused: the key came with another request before.
	ErrKeyReused = errors.New("the idempotency key was used with another request")
)

// IdempotencyKeys keeps the answers of requests sent with an
// Idempotency-Key.
type IdempotencyKeys struct {
	db *gorm.DB
}

// Claim takes the key for the request whose hash is given, when no request
// has it: the caller then does the work and Records (or Releases) it. When
// the same request came before and was answered, Claim returns that
// answer instead, to replay; ErrKeyInProgress while it runs, ErrKeyReused
// when the key came with another request.
func (s IdempotencyKeys) Claim(ctx context.Context, scope, key, hash string, now time.Time) (*Answer, error) {
	db := s.db.WithContext(ctx)
	now = now.UTC()
	row := IdempotencyKey{Scope: scope, IdempotencyKey: key, RequestHash: hash, CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL)}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil || res.RowsAffected == 1 {
		return nil, res.Error
	}
	var found IdempotencyKey
	if err := db.Where("scope = ? AND idempotency_key = ?", scope, key).Take(&found).Error; err != nil {
		return nil, err
	}
	switch {
	case found.ExpiresAt.Before(now) || (found.Status == nil && found.CreatedAt.Before(now.Add(-idempotencyLease))):
		return s.takeOver(db, found, row)
	case found.RequestHash != hash:
		return nil, ErrKeyReused
	case found.Status == nil:
		return nil, ErrKeyInProgress
	}
	return found.answer()
}

// takeOver claims a key whose row has expired, or whose request stopped
// without an answer: of several retries doing so at once, one gets it.
func (s IdempotencyKeys) takeOver(db *gorm.DB, old, claim IdempotencyKey) (*Answer, error) {
	res := db.Model(&IdempotencyKey{}).
		Where("scope = ? AND idempotency_key = ? AND created_at = ?", old.Scope, old.IdempotencyKey, old.CreatedAt).
		Updates(map[string]any{"request_hash": claim.RequestHash, "status": nil, "headers": nil, "body": nil,
			"created_at": claim.CreatedAt, "expires_at": claim.ExpiresAt})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, ErrKeyInProgress // another retry took it first
	}
	return nil, nil
}

func (k IdempotencyKey) answer() (*Answer, error) {
	a := &Answer{Status: *k.Status, Body: k.Body, Headers: map[string]string{}}
	if k.Headers != nil {
		if err := json.Unmarshal([]byte(*k.Headers), &a.Headers); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Record keeps the answer to the request that claimed the key.
func (s IdempotencyKeys) Record(ctx context.Context, scope, key string, a Answer) error {
	headers, err := json.Marshal(a.Headers)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Model(&IdempotencyKey{}).Where("scope = ? AND idempotency_key = ?", scope, key).
		Updates(map[string]any{"status": a.Status, "headers": string(headers), "body": a.Body}).Error
}

// Release gives up a key without an answer to keep, so that a retry does
// the work.
func (s IdempotencyKeys) Release(ctx context.Context, scope, key string) error {
	return s.db.WithContext(ctx).Where("scope = ? AND idempotency_key = ?", scope, key).Delete(&IdempotencyKey{}).Error
}

// Prune deletes the keys whose time is up.
func (s IdempotencyKeys) Prune(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Delete(&IdempotencyKey{})
	return res.RowsAffected, res.Error
}
