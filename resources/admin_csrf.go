package resources

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// csrfTTL is how long a CSRF token is accepted. It outlives the admin
// session, so a form fails because the session ended (and says so), not
// because its token did.
const csrfTTL = adminSessionTTL + time.Hour

// errBadCSRF is what the CSRF middleware reports for a missing, forged or
// expired token; the panel shows it as a page that says what to do.
var errBadCSRF = errors.New("missing or invalid CSRF token")

// csrfTokens is the CSRF middleware's token storage, without state: a
// token is random bytes, an expiry and an HMAC of both, so it is valid
// wherever the secret is known. The middleware's default, a map in
// memory, forgets tokens on restart and does not share them between
// replicas, so a form served by one replica would be refused by another.
type csrfTokens struct {
	key []byte
}

// newCSRFToken returns "<random>.<expiry>.<mac>".
func newCSRFToken(key []byte) string {
	body := rand.Text() + "." + strconv.FormatInt(time.Now().Add(csrfTTL).Unix(), 10)
	return body + "." + csrfMAC(key, body)
}

func csrfMAC(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Get answers whether token is one we issued and still valid: a non-nil
// value means yes.
func (t csrfTokens) Get(token string) ([]byte, error) {
	body, mac, ok := cutLast(token, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(csrfMAC(t.key, body))) {
		return nil, nil
	}
	_, expiry, _ := cutLast(body, ".")
	exp, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || time.Now().Unix() >= exp {
		return nil, nil
	}
	return []byte{1}, nil
}

// Set, Delete, Reset and Close have nothing to store or forget.
func (csrfTokens) Set(string, []byte, time.Duration) error { return nil }

// Delete is a no-op: a token stays valid until it expires.
func (csrfTokens) Delete(string) error { return nil }

// Reset is a no-op.
func (csrfTokens) Reset() error { return nil }

// Close is a no-op.
func (csrfTokens) Close() error { return nil }

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// deriveKey derives a key for one purpose from the JWT secret, so a CSRF
// token can never double as a signature of anything else.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
