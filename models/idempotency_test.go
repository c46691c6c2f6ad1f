package models_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"stores-api/models"
)

// TestIdempotencyKeys: a key is claimed once; while its request runs, a
// retry waits; once answered, the same request gets the answer and another
// request is refused; a request that stopped without an answer lets a
// retry take the key over after a minute; keys expire after a day.
func TestIdempotencyKeys(t *testing.T) {
	m, db := data(t)
	keys := m.IdempotencyKeys
	now := time.Now()

	if a, err := keys.Claim(ctx, "user:1", "k", "h1", now); a != nil || err != nil {
		t.Fatalf("first claim: %v, %v; want it claimed", a, err)
	}
	if _, err := keys.Claim(ctx, "user:1", "k", "h1", now.Add(time.Second)); !errors.Is(err, models.ErrKeyInProgress) {
		t.Fatalf("a retry while it runs: %v, want ErrKeyInProgress", err)
	}
	if _, err := keys.Claim(ctx, "user:1", "k", "h2", now.Add(time.Second)); !errors.Is(err, models.ErrKeyReused) {
		t.Fatalf("another request with the key: %v, want ErrKeyReused", err)
	}
	if a, err := keys.Claim(ctx, "user:2", "k", "h2", now); a != nil || err != nil {
		t.Fatalf("another scope's key of the same name: %v, %v; want it claimed", a, err)
	}

	answer := models.Answer{Status: 201, Headers: map[string]string{"Location": "/stores/7"}, Body: []byte(`{"id":7}`)}
	if err := keys.Record(ctx, "user:1", "k", answer); err != nil {
		t.Fatal(err)
	}
	got, err := keys.Claim(ctx, "user:1", "k", "h1", now.Add(time.Hour))
	if err != nil || got == nil || got.Status != 201 || !bytes.Equal(got.Body, answer.Body) || got.Headers["Location"] != "/stores/7" {
		t.Fatalf("a retry after the answer: %+v, %v; want the answer", got, err)
	}
	if _, err := keys.Claim(ctx, "user:1", "k", "h1", now.Add(25*time.Hour)); err != nil {
		t.Fatalf("a day later the key is new again: %v", err)
	}

	// A request that stopped without an answer (a crashed process).
	if _, err := keys.Claim(ctx, "user:1", "lost", "h", now); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Claim(ctx, "user:1", "lost", "h", now.Add(30*time.Second)); !errors.Is(err, models.ErrKeyInProgress) {
		t.Fatalf("within the lease: %v, want ErrKeyInProgress", err)
	}
	if a, err := keys.Claim(ctx, "user:1", "lost", "h", now.Add(2*time.Minute)); a != nil || err != nil {
		t.Fatalf("after the lease: %v, %v; want it taken over", a, err)
	}

	if err := keys.Release(ctx, "user:2", "k"); err != nil {
		t.Fatal(err)
	}
	if a, err := keys.Claim(ctx, "user:2", "k", "h3", now); a != nil || err != nil {
		t.Fatalf("a released key: %v, %v; want it claimed afresh", a, err)
	}
	n, err := keys.Prune(ctx, now.Add(50*time.Hour))
	if err != nil || n != 3 || count(t, db, "idempotency_keys") != 0 {
		t.Fatalf("Prune = %d, %v; want all 3 keys gone", n, err)
	}
}
