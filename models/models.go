// Package models is the data layer: the GORM models and every query about
// them, as the course's models own their queries (ItemModel.query…). Each
// resource has a file with its struct and a small type whose methods read
// and write it (Stores, Items, Tags, Users); they return models or the
// sentinel errors of errors.go, and know nothing of HTTP. Where raw SQL
// earns its place (the hot reads), it sits next to the GORM calls for the
// same table, and each shape is scanned in one function.
//
// The schema comes from the SQL migrations in migrations/, not from
// AutoMigrate, so constraints such as case-insensitive unique names live
// in the database.
package models

import (
	"context"

	"gorm.io/gorm"
)

// Models is the data layer of one database.
type Models struct {
	Stores Stores
	Items  Items
	Tags   Tags
	Users  Users
	// IdempotencyKeys keeps the answers of requests sent with an
	// Idempotency-Key.
	IdempotencyKeys IdempotencyKeys
	// AccountTokens issues the tokens of the links we email.
	AccountTokens AccountTokens
	db            *gorm.DB
}

// New returns the data layer on db. bcryptCost is the cost of the password
// hashes it makes (4 to 31).
func New(db *gorm.DB, bcryptCost int) *Models {
	return &Models{
		Stores:          newStores(db),
		Items:           Items{db: db},
		Tags:            Tags{db: db},
		Users:           newUsers(db, bcryptCost),
		IdempotencyKeys: IdempotencyKeys{db: db},
		AccountTokens:   AccountTokens{db: db},
		db:              db,
	}
}

// Ping reports whether the database answers.
func (m *Models) Ping(ctx context.Context) error {
	sqlDB, err := m.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// All lists every model, for checks that the migrated schema matches them.
func All() []any {
	return []any{&Store{}, &Item{}, &Tag{}, &ItemTag{}, &User{}, &IdempotencyKey{}, &AccountToken{}}
}
