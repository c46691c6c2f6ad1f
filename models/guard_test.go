package models_test

import (
	"testing"
	"time"

	"stores-api/blocklist"
	"stores-api/models"
)

// TestGuarded: a guarded statement reads or writes only while the token's
// session lasts, and says so: Proven holds only after one that found or
// wrote its rows.
func TestGuarded(t *testing.T) {
	m, db := data(t)
	shop := mustStore(t, m, "Shop")
	item := mustItem(t, m, shop.ID, "Chair", 100)
	user, err := m.Users.Create(ctx, "a@example.com", "correct horse", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := blocklist.New(db.Gorm)
	sid, err := sessions.Start(ctx, user.ID, "r", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	live := m.Guarded(models.NewGuard(sid, user.ID))
	if live.Proven() {
		t.Fatal("proven before any statement")
	}
	if _, err := live.Item(ctx, 999999); err == nil || live.Proven() {
		t.Fatalf("a missing item: %v, proven %t; want not found, unproven", err, live.Proven())
	}
	if got, err := live.Item(ctx, item.ID); err != nil || got.ID != item.ID || !live.Proven() {
		t.Fatalf("a live session's read: %+v, %v, proven %t", got, err, live.Proven())
	}

	if err := sessions.End(ctx, user.ID, sid); err != nil {
		t.Fatal(err)
	}
	for what, read := range map[string]func(*models.Guarded) error{
		"item":  func(d *models.Guarded) error { _, err := d.Item(ctx, item.ID); return err },
		"store": func(d *models.Guarded) error { _, err := d.Store(ctx, shop.ID); return err },
	} {
		ended := m.Guarded(models.NewGuard(sid, user.ID))
		if err := read(ended); err == nil || ended.Proven() {
			t.Errorf("an ended session read the %s (err %v, proven %t)", what, err, ended.Proven())
		}
	}
	ended := m.Guarded(models.NewGuard(sid, user.ID))
	_, err = ended.CreateStore(ctx, "Forbidden")
	expectErr(t, "a store created for an ended session", err, models.ErrGuardFailed)
	_, err = ended.CreateItem(ctx, models.Item{Name: "Forbidden", PriceCents: 1, StoreID: shop.ID})
	expectErr(t, "an item created for an ended session", err, models.ErrGuardFailed)
	if n := count(t, db, "stores") + count(t, db, "items"); n != 2 || ended.Proven() {
		t.Fatalf("an ended session wrote: %d rows, proven %t", n, ended.Proven())
	}
	// A guard of another user's id never holds, even with a live session.
	sid2, _ := sessions.Start(ctx, user.ID, "r2", time.Now().Add(time.Hour))
	forged := m.Guarded(models.NewGuard(sid2, user.ID+1))
	_, err = forged.CreateStore(ctx, "Forged")
	expectErr(t, "a session of another user", err, models.ErrGuardFailed)
}
