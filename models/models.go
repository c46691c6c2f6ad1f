// Package models holds the GORM models and opens the database. The schema
// itself comes from the SQL migrations in migrations/, not from AutoMigrate,
// so constraints such as case-insensitive unique names live in the database.
package models

import "time"

// Store is a shop that owns items and tags. Deleting it deletes them too
// (ON DELETE CASCADE).
type Store struct {
	ID    int64
	Name  string
	Items []Item
	Tags  []Tag
}

// Item is a product of one store. Prices are kept in integer cents so that
// 19.99 stays 19.99: no binary float ever touches the database.
type Item struct {
	ID          int64
	Name        string
	PriceCents  int64
	Description *string
	StoreID     int64
	Store       Store
	Tags        []Tag `gorm:"many2many:items_tags"`
}

// Tag labels items of its own store; items and tags meet in items_tags.
type Tag struct {
	ID      int64
	Name    string
	StoreID int64
	Store   Store
	Items   []Item `gorm:"many2many:items_tags"`
}

// ItemTag is one row of the items_tags join table. Its primary key is
// (item_id, tag_id), so a link can exist only once.
type ItemTag struct {
	ItemID int64 `gorm:"primaryKey"`
	TagID  int64 `gorm:"primaryKey"`
}

// TableName names the join table as the course does.
func (ItemTag) TableName() string { return "items_tags" }

// User is an account that can log in. PasswordHash is a bcrypt hash; it is
// never encoded into a response because handlers only encode schemas.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	IsAdmin      bool
	CreatedAt    time.Time
}

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

// All lists every model, for checks that the migrated schema matches them.
func All() []any {
	return []any{&Store{}, &Item{}, &Tag{}, &ItemTag{}, &User{}, &Session{}}
}
