package blocklist_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"stores-api/blocklist"
	"stores-api/internal/testdb"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

func newStore(t *testing.T) (*blocklist.Store, *testdb.DB) {
	t.Helper()
	db := testdb.Open(t)
	return blocklist.New(db.Gorm), db
}

func mustRevoked(t *testing.T, s *blocklist.Store, jti string, want bool) {
	t.Helper()
	got, err := s.IsRevoked(context.Background(), jti)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("IsRevoked(%q) = %t, want %t", jti, got, want)
	}
}

func TestRevoke(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	mustRevoked(t, s, "a", false)
	if err := s.Revoke(ctx, nil, "a", exp); err != nil {
		t.Fatal(err)
	}
	mustRevoked(t, s, "a", true)
	mustRevoked(t, s, "b", false)
	// Revoking twice (a logout repeated) is not an error.
	if err := s.Revoke(ctx, nil, "a", exp); err != nil {
		t.Fatalf("second Revoke: %v", err)
	}
	mustRevoked(t, s, "a", true)
}

func TestRevokeOnce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	if err := s.RevokeOnce(ctx, nil, "refresh-1", exp); err != nil {
		t.Fatalf("first RevokeOnce: %v", err)
	}
	mustRevoked(t, s, "refresh-1", true)
	if err := s.RevokeOnce(ctx, nil, "refresh-1", exp); !errors.Is(err, blocklist.ErrAlreadyRevoked) {
		t.Fatalf("second RevokeOnce = %v, want ErrAlreadyRevoked", err)
	}
	// Revoke followed by RevokeOnce: the token was already spent.
	if err := s.Revoke(ctx, nil, "refresh-2", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeOnce(ctx, nil, "refresh-2", exp); !errors.Is(err, blocklist.ErrAlreadyRevoked) {
		t.Fatalf("RevokeOnce after Revoke = %v, want ErrAlreadyRevoked", err)
	}
}

// TestRevokeInTransaction: a revocation made in a transaction that rolls
// back never happened, so a refused logout revokes nothing.
func TestRevokeInTransaction(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	rollback := errors.New("rollback")

	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := s.Revoke(ctx, tx, "in-tx", exp); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	mustRevoked(t, s, "in-tx", false)

	err = db.Gorm.Transaction(func(tx *gorm.DB) error { return s.Revoke(ctx, tx, "in-tx", exp) })
	if err != nil {
		t.Fatal(err)
	}
	mustRevoked(t, s, "in-tx", true)
}

func TestPrune(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Now()

	// Expiry times in several zones: the store compares instants.
	berlin := time.FixedZone("UTC+2", 2*60*60)
	entries := map[string]time.Time{
		"expired-long-ago": now.Add(-48 * time.Hour),
		"expired-just-now": now.Add(-time.Second).In(berlin),
		"valid-soon":       now.Add(time.Second),
		"valid-later":      now.Add(720 * time.Hour).In(berlin),
	}
	for jti, exp := range entries {
		if err := s.Revoke(ctx, nil, jti, exp); err != nil {
			t.Fatal(err)
		}
	}

	n, err := s.Prune(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("Prune removed %d entries, want 2", n)
	}
	mustRevoked(t, s, "expired-long-ago", false)
	mustRevoked(t, s, "expired-just-now", false)
	mustRevoked(t, s, "valid-soon", true)
	mustRevoked(t, s, "valid-later", true)

	// Nothing left to prune at the same instant.
	if n, err := s.Prune(ctx, now); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0, nil", n, err)
	}
	// Once they expire, the rest go too.
	if n, err := s.Prune(ctx, now.Add(721*time.Hour)); err != nil || n != 2 {
		t.Fatalf("late Prune = %d, %v; want 2, nil", n, err)
	}
}

// TestPruneEvery: the background pruner runs on its ticker and stops with
// its context.
func TestPruneEvery(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Revoke(ctx, nil, "expired", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, nil, "valid", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	go func() {
		s.PruneEvery(ctx, 10*time.Millisecond, quietLogger())
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		revoked, err := s.IsRevoked(context.Background(), "expired")
		if err != nil {
			t.Fatal(err)
		}
		if !revoked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("PruneEvery did not prune the expired entry")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustRevoked(t, s, "valid", true)

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PruneEvery did not return after its context ended")
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
