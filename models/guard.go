package models

import (
	"context"

	"gorm.io/gorm"
)

// Guard is the database half of a token check, as a condition a statement
// carries: the token's session still lasts, which implies that its user
// exists (deleting a user deletes its sessions). A route whose token is
// checked this way runs one statement fewer; the front end still checks
// the token with a query of its own whenever the guarded statement did not
// prove it (see Guarded). The zero Guard, noGuard, adds nothing.
type Guard struct {
	sessionID string
	userID    int64
}

// noGuard is for statements whose caller checked the token already.
var noGuard Guard

// NewGuard is the check of a token of session sessionID of user userID.
func NewGuard(sessionID string, userID int64) Guard {
	return Guard{sessionID: sessionID, userID: userID}
}

// pick is the form of statement s for the guard, with the guard's
// arguments appended to args.
func (g Guard) pick(s guardable, args ...any) (statement, []any) {
	if g == noGuard {
		return s.open, args
	}
	return s.guarded, append(args, g.sessionID, g.userID)
}

// Guarded is the data layer as a route whose token check rides on its
// first statement sees it: every method puts the guard into that
// statement, so a revoked token can neither read nor write through it, and
// the front end needs no query of its own for the check. A handler that
// gets a Guarded, and nothing else of the data layer, cannot reach around
// the check: the compiler sees to that.
//
// A guarded statement that found or wrote its rows has proven the token
// (Proven). One that found nothing may have failed on the token or on the
// missing row: the method answers as if the token were good (a not-found,
// say), and the front end, seeing the token unproven, checks it with a
// query of its own, whose failure is then the answer.
type Guarded struct {
	db     *gorm.DB
	stores Stores
	guard  Guard
	proven bool
}

// Guarded returns the data layer behind guard g, for one request.
func (m *Models) Guarded(g Guard) *Guarded { return &Guarded{db: m.db, stores: m.Stores, guard: g} }

// Proven reports whether a guarded statement found or wrote its rows, so
// the token it carried is good.
func (d *Guarded) Proven() bool { return d.proven }

// record notes the outcome of a guarded statement: without an error, it
// found or wrote its rows.
func (d *Guarded) record(err error) { d.proven = d.proven || err == nil }

// Item reads an item with its store and tags (Items.Get).
func (d *Guarded) Item(ctx context.Context, id int64) (Item, error) {
	item, err := getItem(d.db.WithContext(ctx), d.guard, id)
	d.record(err)
	return item, err
}

// Store reads a store with its items and tags (Stores.Get).
func (d *Guarded) Store(ctx context.Context, id int64) (Store, error) {
	store, err := d.stores.get(d.db.WithContext(ctx), d.guard, id)
	d.record(err)
	return store, err
}

// CreateStore adds a store (Stores.Create); ErrGuardFailed when the guard
// stopped the insert.
func (d *Guarded) CreateStore(ctx context.Context, name string) (Store, error) {
	store, err := createStore(d.db.WithContext(ctx), d.guard, name)
	d.record(err)
	return store, err
}

// CreateItem adds an item and reads it back (Items.Create); ErrGuardFailed
// when the guard stopped the insert.
func (d *Guarded) CreateItem(ctx context.Context, item Item) (Item, error) {
	item, err := createItem(d.db.WithContext(ctx), d.guard, item)
	d.record(err)
	return item, err
}
