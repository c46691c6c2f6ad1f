package resources

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func tokenExpiringAt(exp time.Time) *jwt.Token {
	return &jwt.Token{Claims: &Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}}, Valid: true}
}

func TestVerifiedTokens(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	v := newVerifiedTokens(8)
	token := tokenExpiringAt(now.Add(time.Minute))
	v.add("a.b.c", token, now)
	if got, ok := v.get("a.b.c", now.Add(59*time.Second)); !ok || got != token {
		t.Fatal("a verified token is not found before it expires")
	}
	if _, ok := v.get("a.b.c", now.Add(time.Minute)); ok {
		t.Fatal("an expired token is found")
	}
	if _, ok := v.get("a.b.d", now); ok {
		t.Fatal("another token is found")
	}

	// "No token" is never remembered, whatever is added under it.
	v.add("", token, now)
	if _, ok := v.get("", now); ok {
		t.Fatal("the empty token is found")
	}
	// Tokens already expired, or without an expiry, are not kept.
	v.add("old", tokenExpiringAt(now.Add(-time.Second)), now)
	v.add("forever", &jwt.Token{Claims: &Claims{}}, now)
	if _, ok := v.get("old", now.Add(-2*time.Second)); ok {
		t.Fatal("an expired token was kept")
	}
	if _, ok := v.get("forever", now); ok {
		t.Fatal("a token without exp was kept")
	}

	// The cache stays within its bound.
	for i := range 100 {
		v.add(fmt.Sprint("token-", i), tokenExpiringAt(now.Add(time.Hour)), now)
		if n := len(v.entries); n > 8 {
			t.Fatalf("%d entries, bound 8", n)
		}
	}
	if _, ok := v.get("token-99", now); !ok {
		t.Fatal("the newest token was evicted")
	}
}
