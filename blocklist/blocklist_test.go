package blocklist_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"stores-api/blocklist"
	"stores-api/internal/testdb"
	"stores-api/models"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

// newSessions returns the sessions of a fresh database with one user in it.
func newSessions(t *testing.T) (*blocklist.Sessions, *testdb.DB, int64) {
	t.Helper()
	db := testdb.Open(t)
	user := models.User{Email: "user@example.com", PasswordHash: "x"}
	if err := db.Gorm.Create(&user).Error; err != nil {
		t.Fatal(err)
	}
	return blocklist.New(db.Gorm), db, user.ID
}

func mustStart(t *testing.T, s *blocklist.Sessions, userID int64, refreshJTI string, exp time.Time) string {
	t.Helper()
	sid, err := s.Start(context.Background(), userID, refreshJTI, exp)
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

// live reports whether the session's row exists.
func live(t *testing.T, db *testdb.DB, sid string) bool {
	t.Helper()
	var n int64
	if err := db.Gorm.Model(&blocklist.Session{}).Where("id = ?", sid).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestStartAndEnd(t *testing.T) {
	s, db, userID := newSessions(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	a := mustStart(t, s, userID, "refresh-a", exp)
	b := mustStart(t, s, userID, "", exp) // an admin panel sign-in
	if a == b || len(a) < 20 {
		t.Fatalf("session ids %q and %q: want distinct random ids", a, b)
	}
	if err := s.End(ctx, userID, a); err != nil {
		t.Fatal(err)
	}
	if live(t, db, a) || !live(t, db, b) {
		t.Fatalf("after End(a): a live %t, b live %t; want false, true", live(t, db, a), live(t, db, b))
	}
	// Ending twice (a logout repeated) is not an error; another user's
	// session is out of reach.
	if err := s.End(ctx, userID, a); err != nil {
		t.Fatalf("second End: %v", err)
	}
	if err := s.End(ctx, userID+1, b); err != nil || !live(t, db, b) {
		t.Fatalf("End with another user's id: %v, live %t; want nil, true", err, live(t, db, b))
	}
}

func TestRotate(t *testing.T) {
	s, db, userID := newSessions(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	sid := mustStart(t, s, userID, "r1", exp)

	if err := s.Rotate(ctx, sid, userID, "r1", "r2", exp); err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	if err := s.Rotate(ctx, sid, userID, "r2", "r3", exp); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	// r1 again: a replay. The session ends, r3 with it.
	if err := s.Rotate(ctx, sid, userID, "r1", "r4", exp); !errors.Is(err, blocklist.ErrReused) {
		t.Fatalf("replayed token: %v, want ErrReused", err)
	}
	if live(t, db, sid) {
		t.Fatal("the session outlived a replayed refresh token")
	}
	if err := s.Rotate(ctx, sid, userID, "r3", "r5", exp); !errors.Is(err, blocklist.ErrEnded) {
		t.Fatalf("rotation of an ended session: %v, want ErrEnded", err)
	}
}

// TestConcurrentRotate: of many requests racing with one refresh token,
// exactly one rotates it; the others see a replay.
func TestConcurrentRotate(t *testing.T) {
	s, _, userID := newSessions(t)
	const n = 8
	for round := range 5 {
		sid := mustStart(t, s, userID, "r", time.Now().Add(time.Hour))
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.Rotate(context.Background(), sid, userID, "r", "next", time.Now().Add(time.Hour))
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, blocklist.ErrReused) && !errors.Is(err, blocklist.ErrEnded):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of %d rotations succeeded, want exactly 1 (%v)", round, won, n, errs)
		}
	}
}

func TestEndAll(t *testing.T) {
	s, db, userID := newSessions(t)
	other := models.User{Email: "other@example.com", PasswordHash: "x"}
	if err := db.Gorm.Create(&other).Error; err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	mine := []string{mustStart(t, s, userID, "a", exp), mustStart(t, s, userID, "", exp)}
	theirs := mustStart(t, s, other.ID, "b", exp)
	n, err := s.EndAll(context.Background(), userID)
	if err != nil || n != 2 {
		t.Fatalf("EndAll = %d, %v; want 2, nil", n, err)
	}
	for _, sid := range mine {
		if live(t, db, sid) {
			t.Errorf("session %s outlived EndAll", sid)
		}
	}
	if !live(t, db, theirs) {
		t.Error("EndAll ended another user's session")
	}
}

// TestDeletingAUserEndsItsSessions: the foreign key cascades.
func TestDeletingAUserEndsItsSessions(t *testing.T) {
	s, db, userID := newSessions(t)
	sid := mustStart(t, s, userID, "a", time.Now().Add(time.Hour))
	if err := db.Gorm.Delete(&models.User{}, userID).Error; err != nil {
		t.Fatal(err)
	}
	if live(t, db, sid) {
		t.Fatal("a deleted user's session lives on")
	}
}

func TestPrune(t *testing.T) {
	s, db, userID := newSessions(t)
	ctx := context.Background()
	now := time.Now()

	// Expiry times in several zones: the table compares instants.
	berlin := time.FixedZone("UTC+2", 2*60*60)
	sessions := map[string]time.Time{}
	for _, exp := range []time.Time{now.Add(-48 * time.Hour), now.Add(-time.Second).In(berlin),
		now.Add(time.Second), now.Add(720 * time.Hour).In(berlin)} {
		sessions[mustStart(t, s, userID, "", exp)] = exp
	}

	n, err := s.Prune(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2, nil", n, err)
	}
	for sid, exp := range sessions {
		if want := exp.After(now); live(t, db, sid) != want {
			t.Errorf("session expiring %s: live %t, want %t", exp, !want, want)
		}
	}
	if n, err := s.Prune(ctx, now); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.Prune(ctx, now.Add(721*time.Hour)); err != nil || n != 2 {
		t.Fatalf("late Prune = %d, %v; want 2, nil", n, err)
	}
}
