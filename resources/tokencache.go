package resources

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
)

// verifiedTokens remembers the tokens whose signature and claims have been
// verified, until each expires, so that a client's next requests with the
// same token skip the HMAC and the JSON decode of the claims: a tenth of
// the server's CPU on GET /items/{id} (BENCHMARKS.md). Only that half of
// the check is remembered. Whether the token's session lasts and its user
// exists is asked of the database on every request, as before, so no
// answer changes: a revoked token is refused at once, cached or not.
//
// Entries are keyed by the SHA-256 of the token (a collision would let one
// token pass for another, so the hash must be a cryptographic one), hold
// the parsed token, and are bounded: a full cache drops its expired
// entries, then, if still full, a quarter of the others.
type verifiedTokens struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]verifiedToken
	max     int
}

type verifiedToken struct {
	token   *jwt.Token // verified; shared read-only by the requests that present it
	expires time.Time
}

// maxVerifiedTokens bounds the cache: a few MiB at most.
const maxVerifiedTokens = 10_000

func newVerifiedTokens(max int) *verifiedTokens {
	return &verifiedTokens{entries: make(map[[sha256.Size]byte]verifiedToken), max: max}
}

// get returns the verified token raw was, unless it has expired since.
// No token ("") is never found.
func (v *verifiedTokens) get(raw string, now time.Time) (*jwt.Token, bool) {
	if raw == "" {
		return nil, false
	}
	key := sha256.Sum256([]byte(raw))
	v.mu.RLock()
	e, ok := v.entries[key]
	v.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.token, true
}

// add remembers a token that has just been verified. A token without an
// expiry is never cached (validClaims refuses it anyway).
func (v *verifiedTokens) add(raw string, token *jwt.Token, now time.Time) {
	if raw == "" {
		return // never remember a token under "no token"
	}
	exp, err := token.Claims.GetExpirationTime()
	if err != nil || exp == nil || !now.Before(exp.Time) {
		return
	}
	key := sha256.Sum256([]byte(raw))
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= v.max {
		v.evict(now)
	}
	v.entries[key] = verifiedToken{token: token, expires: exp.Time}
}

// evict drops the expired entries and, if the cache is still full, a
// quarter of the rest (map order is random, so which ones is too).
func (v *verifiedTokens) evict(now time.Time) {
	for k, e := range v.entries {
		if !now.Before(e.expires) {
			delete(v.entries, k)
		}
	}
	for k := range v.entries {
		if len(v.entries) < v.max*3/4 {
			return
		}
		delete(v.entries, k)
	}
}

// bearerToken is the token of an "Authorization: Bearer <token>" header,
// the scheme in any case, or "": it reads the header as contrib/jwt does,
// so the cache sees the token contrib/jwt verified.
func bearerToken(c *fiber.Ctx) string {
	auth := c.Get(fiber.HeaderAuthorization)
	const scheme = "Bearer "
	if len(auth) <= len(scheme)+1 || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return ""
	}
	return strings.TrimSpace(auth[len(scheme):])
}
