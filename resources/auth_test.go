package resources_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"stores-api/internal/apptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// in returns a copy of e that reports failures to t, so subtests can share
// one app without failing their parent from another goroutine.
func (e *testEnv) in(t testing.TB) *testEnv {
	c := *e
	c.t = t
	return &c
}

// expectAuthError checks an auth failure: the status, the envelope and its
// machine-readable "error" code.
func expectAuthError(t testing.TB, r response, status int, code string) {
	t.Helper()
	body := expectError(t, r, status, "")
	if body["error"] != code {
		t.Fatalf("error = %v, want %q: %s", body["error"], code, r.Body)
	}
}

// secret is the key the test apps sign with.
func (e *testEnv) secret() []byte { return e.Config.JWTSecret }

// claimsFor are the claims of a valid token of userID, as the app issues
// them, in a session of its own; tests delete or change one claim to build
// a bad token.
func (e *testEnv) claimsFor(userID int64, tokenType string) jwt.MapClaims {
	e.t.Helper()
	now := time.Now()
	jti := rand.Text()
	sid, err := e.Sessions.Start(context.Background(), userID, jti, now.Add(time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return jwt.MapClaims{
		"sub":      strconv.FormatInt(userID, 10),
		"sid":      sid,
		"jti":      jti,
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(time.Hour).Unix(),
		"type":     tokenType,
		"fresh":    true,
		"is_admin": false,
	}
}

// sign signs claims with key.
func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	signed, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// without returns a copy of claims with one claim removed.
func without(claims jwt.MapClaims, name string) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range claims {
		if k != name {
			out[k] = v
		}
	}
	return out
}

// with returns a copy of claims with one claim set.
func with(claims jwt.MapClaims, name string, value any) jwt.MapClaims {
	out := without(claims, name)
	out[name] = value
	return out
}

// withHeader sends GET path with a raw Authorization header ("" sends none).
func (e *testEnv) withHeader(method, path, authorization string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return e.send(req)
}

// TestBadAuthorization covers the 401 rows of the error table that a token
// can trigger on its own, before anything about its user is known.
func TestBadAuthorization(t *testing.T) {
	e := newEnv(t)
	userID := e.register(userEmail)
	good := e.claimsFor(userID, "access")
	key := e.secret()

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good)
	valid := sign(t, jwt.SigningMethodHS256, key, good)
	tampered := valid[:len(valid)-4] + "AAAA"
	if tampered == valid {
		tampered = valid[:len(valid)-4] + "BBBB"
	}

	tests := []struct {
		name          string
		authorization string
		status        int
		code          string
	}{
		{"control: a well-formed token is accepted", "Bearer " + valid, http.StatusOK, ""},
		{"no header", "", http.StatusUnauthorized, "authorization_required"},
		{"empty bearer", "Bearer ", http.StatusUnauthorized, "authorization_required"},
		{"basic scheme", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, "authorization_required"},
		{"token without scheme", valid, http.StatusUnauthorized, "authorization_required"},
		{"bad signature", "Bearer " + tampered, http.StatusUnauthorized, "invalid_token"},
		{"signed with another key", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-1234"), good), http.StatusUnauthorized, "invalid_token"},
		{"alg none", "Bearer " + none, http.StatusUnauthorized, "invalid_token"},
		{"alg HS512 with the right key", "Bearer " + sign(t, jwt.SigningMethodHS512, key, good), http.StatusUnauthorized, "invalid_token"},
		{"alg RS256", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey, good), http.StatusUnauthorized, "invalid_token"},
		{"garbage", "Bearer garbage", http.StatusUnauthorized, "invalid_token"},
		{"three garbage parts", "Bearer a.b.c", http.StatusUnauthorized, "invalid_token"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, key, without(good, "exp")), http.StatusUnauthorized, "invalid_token"},
		{"no jti", "Bearer " + sign(t, jwt.SigningMethodHS256, key, without(good, "jti")), http.StatusUnauthorized, "invalid_token"},
		{"empty jti", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "jti", "")), http.StatusUnauthorized, "invalid_token"},
		{"no sid", "Bearer " + sign(t, jwt.SigningMethodHS256, key, without(good, "sid")), http.StatusUnauthorized, "invalid_token"},
		{"unknown sid", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "sid", "no-such-session")), http.StatusUnauthorized, "token_revoked"},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodHS256, key, without(good, "sub")), http.StatusUnauthorized, "invalid_token"},
		{"non-numeric sub", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "sub", "admin")), http.StatusUnauthorized, "invalid_token"},
		{"negative sub", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "sub", "-1")), http.StatusUnauthorized, "invalid_token"},
		{"sub as a JSON number", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "sub", userID)), http.StatusUnauthorized, "invalid_token"},
		{"unknown type", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "type", "id")), http.StatusUnauthorized, "invalid_token"},
		{"no type", "Bearer " + sign(t, jwt.SigningMethodHS256, key, without(good, "type")), http.StatusUnauthorized, "invalid_token"},
		{"not valid yet", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "nbf", time.Now().Add(time.Hour).Unix())), http.StatusUnauthorized, "invalid_token"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "exp", time.Now().Add(-time.Minute).Unix())), http.StatusUnauthorized, "token_expired"},
		{"refresh token", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "type", "refresh")), http.StatusUnauthorized, "wrong_token_type"},
		{"unknown user", "Bearer " + sign(t, jwt.SigningMethodHS256, key, with(good, "sub", "999999")), http.StatusUnauthorized, "user_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.in(t).withHeader("GET", "/stores", tt.authorization)
			if tt.code == "" {
				expect(t, r, tt.status)
				return
			}
			expectAuthError(t, r, tt.status, tt.code)
		})
	}
}

// TestIssuedClaims checks the claims /login and /refresh put in tokens.
func TestIssuedClaims(t *testing.T) {
	e := newEnvWith(t, map[string]string{"JWT_ACCESS_TTL": "10m", "JWT_REFRESH_TTL": "48h"})
	adminID := e.register(adminEmail)
	r := e.do("POST", "/login", map[string]string{"email": adminEmail, "password": password}, "")
	expect(t, r, http.StatusOK)
	body := r.JSON(t)
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(600) {
		t.Fatalf("token_type/expires_in = %v/%v, want Bearer/600", body["token_type"], body["expires_in"])
	}
	access := apptest.DecodeClaims(t, body["access_token"].(string))
	refresh := apptest.DecodeClaims(t, body["refresh_token"].(string))

	check := func(name string, c jwt.MapClaims, tokenType string, fresh bool, ttl time.Duration) {
		t.Helper()
		if c["sub"] != strconv.FormatInt(adminID, 10) {
			t.Errorf("%s: sub = %#v, want the user id as a string", name, c["sub"])
		}
		if jti, _ := c["jti"].(string); jti == "" {
			t.Errorf("%s: no jti", name)
		}
		if c["type"] != tokenType || c["fresh"] != fresh {
			t.Errorf("%s: type/fresh = %v/%v, want %s/%t", name, c["type"], c["fresh"], tokenType, fresh)
		}
		iat, _ := c["iat"].(float64)
		nbf, _ := c["nbf"].(float64)
		exp, _ := c["exp"].(float64)
		if iat == 0 || nbf == 0 || time.Duration(exp-iat)*time.Second != ttl {
			t.Errorf("%s: iat/nbf/exp = %v/%v/%v, want a lifetime of %s", name, iat, nbf, exp, ttl)
		}
	}
	check("login access", access, "access", true, 10*time.Minute)
	check("login refresh", refresh, "refresh", false, 48*time.Hour)
	if access["is_admin"] != true {
		t.Errorf("admin's access token: is_admin = %v", access["is_admin"])
	}
	if access["jti"] == refresh["jti"] {
		t.Error("access and refresh tokens share a jti")
	}
	if sid, _ := access["sid"].(string); sid == "" || refresh["sid"] != sid {
		t.Errorf("sid = %v and %v, want one session for both tokens", access["sid"], refresh["sid"])
	}
	if _, ok := refresh["is_admin"]; ok {
		t.Error("a refresh token carries is_admin, a claim of access tokens")
	}
	// is_admin is in every access token, false included.
	e.register(userEmail)
	userAccess, _ := e.login(userEmail)
	if v, ok := apptest.DecodeClaims(t, userAccess)["is_admin"]; !ok || v != false {
		t.Errorf("a user's access token: is_admin = %v (present %t), want false", v, ok)
	}

	r = e.do("POST", "/refresh", nil, body["refresh_token"].(string))
	expect(t, r, http.StatusOK)
	refreshed := r.JSON(t)
	if len(refreshed) != 4 || refreshed["token_type"] != "Bearer" {
		t.Errorf("refresh answered %s, want the fields of /login", r.Body)
	}
	refreshedAccess := apptest.DecodeClaims(t, refreshed["access_token"].(string))
	check("refreshed access", refreshedAccess, "access", false, 10*time.Minute)
	if refreshedAccess["is_admin"] != true || refreshedAccess["sid"] != access["sid"] {
		t.Errorf("refreshed access token: is_admin/sid = %v/%v, want true/%v", refreshedAccess["is_admin"], refreshedAccess["sid"], access["sid"])
	}
	check("refreshed refresh", apptest.DecodeClaims(t, refreshed["refresh_token"].(string)), "refresh", false, 48*time.Hour)
}

// TestTokenExpiresAfterTTL uses a real short lifetime rather than a minted
// token, so JWT_ACCESS_TTL is what makes the token expire.
func TestTokenExpiresAfterTTL(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, map[string]string{"JWT_ACCESS_TTL": "1s"})
	e.register(userEmail)
	access, refresh := e.login(userEmail)
	expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)
	time.Sleep(1500 * time.Millisecond)
	expectAuthError(t, e.do("GET", "/stores", nil, access), http.StatusUnauthorized, "token_expired")

	// The refresh token outlives it and gets a working access token.
	r := e.do("POST", "/refresh", nil, refresh)
	expect(t, r, http.StatusOK)
	expect(t, e.do("GET", "/stores", nil, r.JSON(t)["access_token"].(string)), http.StatusOK)
}

// TestExpiredRefreshToken: an expired refresh token cannot be rotated.
func TestExpiredRefreshToken(t *testing.T) {
	e := newEnv(t)
	userID := e.register(userEmail)
	expired := sign(t, jwt.SigningMethodHS256, e.secret(),
		with(e.claimsFor(userID, "refresh"), "exp", time.Now().Add(-time.Second).Unix()))
	expectAuthError(t, e.do("POST", "/refresh", nil, expired), http.StatusUnauthorized, "token_expired")
}

// TestWrongTokenType: a refresh token is no access token and the reverse.
func TestWrongTokenType(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	access, refresh := e.login(userEmail)
	expectAuthError(t, e.do("GET", "/stores", nil, refresh), http.StatusUnauthorized, "wrong_token_type")
	expectAuthError(t, e.do("POST", "/logout", nil, refresh), http.StatusUnauthorized, "wrong_token_type")
	expectAuthError(t, e.do("POST", "/refresh", nil, access), http.StatusUnauthorized, "wrong_token_type")
	// Neither attempt spent the tokens.
	expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)
	expect(t, e.do("POST", "/refresh", nil, refresh), http.StatusOK)
}

// TestLogoutEndsTheSession: after /logout with no body, every token of
// the session is refused; other sessions of the same user are not.
func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	access, refresh := e.login(userEmail)
	rotated := e.do("POST", "/refresh", nil, refresh)
	expect(t, rotated, http.StatusOK)
	access2, refresh2 := rotated.JSON(t)["access_token"].(string), rotated.JSON(t)["refresh_token"].(string)
	other, otherRefresh := e.login(userEmail)

	r := e.do("POST", "/logout", nil, access)
	expect(t, r, http.StatusOK)
	if msg := r.JSON(t)["message"]; msg != "Successfully logged out." {
		t.Fatalf("message = %v", msg)
	}
	for _, token := range []string{access, access2} {
		expectAuthError(t, e.do("GET", "/stores", nil, token), http.StatusUnauthorized, "token_revoked")
	}
	expectAuthError(t, e.do("POST", "/logout", nil, access2), http.StatusUnauthorized, "token_revoked")
	expectAuthError(t, e.do("POST", "/refresh", nil, refresh2), http.StatusUnauthorized, "token_revoked")
	expect(t, e.do("GET", "/stores", nil, other), http.StatusOK)
	expect(t, e.do("POST", "/refresh", nil, otherRefresh), http.StatusOK)
}

// TestRefreshRotation: a refresh token works once; /refresh keeps the
// session, so the tokens it hands out are of the same family.
func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	_, refresh := e.login(userEmail)

	r := e.do("POST", "/refresh", nil, refresh)
	expect(t, r, http.StatusOK)
	next := r.JSON(t)["refresh_token"].(string)
	r = e.do("POST", "/refresh", nil, next)
	expect(t, r, http.StatusOK)
	last := r.JSON(t)
	if a, b := apptest.DecodeClaims(t, refresh)["sid"], apptest.DecodeClaims(t, last["access_token"].(string))["sid"]; a != b || a == "" {
		t.Fatalf("sid %v after login, %v after two refreshes: want one session", a, b)
	}
	expect(t, e.do("GET", "/stores", nil, last["access_token"].(string)), http.StatusOK)
}

// TestRefreshTokenReuseEndsTheSession: replaying a refresh token that was
// already rotated ends its whole session, so whoever rotated first (the
// client, or a thief) loses the tokens that rotation gave; other sessions
// of the user live on.
func TestRefreshTokenReuseEndsTheSession(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	access, stolen := e.login(userEmail)
	other, _ := e.login(userEmail)

	r := e.do("POST", "/refresh", nil, stolen) // the thief rotates first
	expect(t, r, http.StatusOK)
	thiefAccess, thiefRefresh := r.JSON(t)["access_token"].(string), r.JSON(t)["refresh_token"].(string)
	expect(t, e.do("GET", "/stores", nil, thiefAccess), http.StatusOK)

	// The client presents the same token: reuse is detected.
	expectAuthError(t, e.do("POST", "/refresh", nil, stolen), http.StatusUnauthorized, "token_revoked")
	for _, token := range []string{access, thiefAccess} {
		expectAuthError(t, e.do("GET", "/stores", nil, token), http.StatusUnauthorized, "token_revoked")
	}
	expectAuthError(t, e.do("POST", "/refresh", nil, thiefRefresh), http.StatusUnauthorized, "token_revoked")
	expect(t, e.do("GET", "/stores", nil, other), http.StatusOK)
}

// TestConcurrentRefresh: of several requests racing with one refresh token,
// exactly one gets new tokens; the others are refused, and, the token being
// used twice, the session ends. The requests are released together, in
// several rounds, so they overlap.
func TestConcurrentRefresh(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	const rounds, n = 5, 8
	for round := range rounds {
		_, refresh := e.login(userEmail)
		answers := make([]response, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				answers[i], errs[i] = e.raw(request("POST", "/refresh", "", refresh))
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, r := range answers {
			var body struct{ Error string }
			switch {
			case errs[i] != nil:
				t.Fatalf("round %d, request %d: %v", round, i, errs[i])
			case r.Status == http.StatusOK:
				ok++
			case r.Status != http.StatusUnauthorized || json.Unmarshal(r.Body, &body) != nil || body.Error != "token_revoked":
				t.Fatalf("round %d, request %d: %d %s, want 200 or 401 token_revoked", round, i, r.Status, r.Body)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d concurrent refreshes succeeded, want exactly 1", round, ok, n)
		}
	}
}

// TestRevocationSharedBetweenInstances: two app instances on one database,
// as two replicas (or a restart) would be.
func TestRevocationSharedBetweenInstances(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.DB, nil)
	a.register(userEmail)
	access, refresh := a.login(userEmail)
	expect(t, b.do("GET", "/stores", nil, access), http.StatusOK)

	r := b.do("POST", "/refresh", nil, refresh)
	expect(t, r, http.StatusOK)
	rotated := r.JSON(t)["access_token"].(string)
	expect(t, a.do("GET", "/stores", nil, rotated), http.StatusOK)

	// A replay on one instance ends the session on both.
	expectAuthError(t, a.do("POST", "/refresh", nil, refresh), http.StatusUnauthorized, "token_revoked")
	expectAuthError(t, b.do("GET", "/stores", nil, rotated), http.StatusUnauthorized, "token_revoked")

	access, _ = b.login(userEmail)
	expect(t, a.do("POST", "/logout", nil, access), http.StatusOK)
	expectAuthError(t, b.do("GET", "/stores", nil, access), http.StatusUnauthorized, "token_revoked")
}

// TestFreshTokenRequired: POST /items needs a token from /login; one from
// /refresh works everywhere else.
func TestFreshTokenRequired(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Fresh")
	_, refresh := e.login(adminEmail)
	r := e.do("POST", "/refresh", nil, refresh)
	expect(t, r, http.StatusOK)
	stale := r.JSON(t)["access_token"].(string)

	item := fmt.Sprintf(`{"name": "Chair", "price": 10, "store_id": %d}`, storeID)
	expectAuthError(t, e.do("POST", "/items", item, stale), http.StatusUnauthorized, "fresh_token_required")
	if n := e.count("items"); n != 0 {
		t.Fatalf("%d items after a refused create", n)
	}
	expect(t, e.do("GET", "/stores", nil, stale), http.StatusOK)
	expect(t, e.do("POST", "/stores", map[string]any{"name": "Other"}, stale), http.StatusCreated)
	expect(t, e.do("POST", "/items", item, e.adminToken()), http.StatusCreated)
}

// TestDeletedUserTokens: once a user is deleted, its outstanding tokens fail.
func TestDeletedUserTokens(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	userID := e.register(userEmail)
	access, refresh := e.login(userEmail)
	expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)

	expect(t, e.do("DELETE", fmt.Sprintf("/user/%d", userID), nil, admin), http.StatusOK)
	expectAuthError(t, e.do("GET", "/stores", nil, access), http.StatusUnauthorized, "user_not_found")
	expectAuthError(t, e.do("POST", "/refresh", nil, refresh), http.StatusUnauthorized, "user_not_found")
	expectAuthError(t, e.do("POST", "/logout", nil, access), http.StatusUnauthorized, "user_not_found")

}

// TestDeletedUserIDNotReused: a new account must not inherit the id, and so
// the outstanding tokens, of a deleted one.
func TestDeletedUserIDNotReused(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	userID := e.register(userEmail)
	access, _ := e.login(userEmail)
	expect(t, e.do("DELETE", fmt.Sprintf("/user/%d", userID), nil, admin), http.StatusOK)

	newID := e.register("newcomer@example.com")
	if newID == userID {
		t.Errorf("the new user got the deleted user's id %d", userID)
	}
	expectAuthError(t, e.do("GET", "/stores", nil, access), http.StatusUnauthorized, "user_not_found")
}

// TestForgedAdminClaim: is_admin in a token signed with another key is
// refused outright; in a genuine token it is not trusted over the database.
func TestForgedAdminClaim(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Target")
	userID := e.register(userEmail)
	path := fmt.Sprintf("/stores/%d", storeID)

	claims := with(e.claimsFor(userID, "access"), "is_admin", true)
	forged := sign(t, jwt.SigningMethodHS256, []byte("attacker-secret-attacker-secret-1"), claims)
	expectAuthError(t, e.do("DELETE", path, nil, forged), http.StatusUnauthorized, "invalid_token")

	stale := sign(t, jwt.SigningMethodHS256, e.secret(), claims)
	expectAuthError(t, e.do("DELETE", path, nil, stale), http.StatusForbidden, "admin_required")

	if n := e.count("stores"); n != 1 {
		t.Fatalf("%d stores, want the store untouched", n)
	}
}

// TestAdminRightsFollowTheDatabase: a demoted admin loses admin rights at
// once, even with a token that still says is_admin.
func TestAdminRightsFollowTheDatabase(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Demoted")
	token := e.adminToken()
	admin, err := e.Data.Users.ByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Data.Users.SetAdmin(context.Background(), admin.ID, false); err != nil {
		t.Fatal(err)
	}
	expectAuthError(t, e.do("DELETE", fmt.Sprintf("/stores/%d", storeID), nil, token), http.StatusForbidden, "admin_required")
}

// route is one protected endpoint and the rules it follows.
type route struct {
	name         string // the route pattern, for the subtest name
	method, path string
	body         string
	admin        bool // DELETE of stores, items, tags
	fresh        bool // POST /items
	created      bool // answers 201, not 200
}

// protectedRoutes lists every /stores, /items and /tags endpoint, with
// paths and bodies naming the rows seedRoutes creates.
func protectedRoutes(storeID, itemID, tagID, linkedTagID int64) []route {
	return []route{
		{name: "GET /stores", method: "GET", path: "/stores"},
		{name: "POST /stores", method: "POST", path: "/stores", body: fmt.Sprintf(`{"name": "New store %d"}`, storeID), created: true},
		{name: "GET /stores/{id}", method: "GET", path: fmt.Sprintf("/stores/%d", storeID)},
		{name: "DELETE /stores/{id}", method: "DELETE", path: fmt.Sprintf("/stores/%d", storeID), admin: true},
		{name: "GET /stores/{id}/tags", method: "GET", path: fmt.Sprintf("/stores/%d/tags", storeID)},
		{name: "POST /stores/{id}/tags", method: "POST", path: fmt.Sprintf("/stores/%d/tags", storeID), body: `{"name": "new-tag"}`, created: true},
		{name: "GET /items", method: "GET", path: "/items"},
		{name: "POST /items", method: "POST", path: "/items", body: fmt.Sprintf(`{"name": "New item", "price": 1.5, "store_id": %d}`, storeID), fresh: true, created: true},
		{name: "GET /items/{id}", method: "GET", path: fmt.Sprintf("/items/%d", itemID)},
		{name: "PUT /items/{id}", method: "PUT", path: fmt.Sprintf("/items/%d", itemID), body: `{"name": "Renamed"}`},
		{name: "DELETE /items/{id}", method: "DELETE", path: fmt.Sprintf("/items/%d", itemID), admin: true},
		{name: "POST /items/{id}/tags", method: "POST", path: fmt.Sprintf("/items/%d/tags", itemID), body: fmt.Sprintf(`{"tag_ids": [%d]}`, tagID)},
		{name: "DELETE /items/{item_id}/tags/{tag_id}", method: "DELETE", path: fmt.Sprintf("/items/%d/tags/%d", itemID, linkedTagID)},
		{name: "GET /tags/{id}", method: "GET", path: fmt.Sprintf("/tags/%d", tagID)},
		{name: "DELETE /tags/{id}", method: "DELETE", path: fmt.Sprintf("/tags/%d", tagID), admin: true},
	}
}

// seedRoutes creates a store with an item, a free tag and a tag linked to
// the item, so every protected route has something of its own to act on.
func (e *testEnv) seedRoutes(storeName string) []route {
	storeID := e.mustCreateStore(storeName)
	itemID := e.mustCreateItem(storeID, "Seed item", "9.99")
	tagID := e.mustCreateTag(storeID, "free")
	linkedTagID := e.mustCreateTag(storeID, "linked")
	e.mustLink(itemID, linkedTagID)
	return protectedRoutes(storeID, itemID, tagID, linkedTagID)
}

// TestProtectedRoutes checks, on every /stores, /items and /tags endpoint,
// that it needs a valid access token, and its admin and fresh rules. Each
// route acts on a store seeded for it alone, because a successful call
// changes the data.
func TestProtectedRoutes(t *testing.T) {
	shared := newEnv(t)
	shared.adminToken()
	shared.userToken()
	for i, named := range protectedRoutes(0, 0, 0, 0) {
		t.Run(named.name, func(t *testing.T) {
			e := shared.in(t)
			rt := e.seedRoutes(fmt.Sprintf("Seed store %d", i))[i]
			body := func() any {
				if rt.body == "" {
					return nil
				}
				return rt.body
			}

			// No token, another scheme, a refresh token, a revoked token:
			// refused before the handler runs.
			expectAuthError(t, e.do(rt.method, rt.path, body(), ""), http.StatusUnauthorized, "authorization_required")
			expectAuthError(t, e.withHeader(rt.method, rt.path, "Token abc"), http.StatusUnauthorized, "authorization_required")
			_, refresh := e.login(adminEmail)
			expectAuthError(t, e.do(rt.method, rt.path, body(), refresh), http.StatusUnauthorized, "wrong_token_type")
			revoked, _ := e.login(adminEmail)
			expect(t, e.do("POST", "/logout", nil, revoked), http.StatusOK)
			expectAuthError(t, e.do(rt.method, rt.path, body(), revoked), http.StatusUnauthorized, "token_revoked")

			success := http.StatusOK
			if rt.created {
				success = http.StatusCreated
			}

			// A fresh token of a user who is not an admin.
			r := e.do(rt.method, rt.path, body(), e.userToken())
			if rt.admin {
				expectAuthError(t, r, http.StatusForbidden, "admin_required")
			} else {
				expect(t, r, success)
			}

			// A non-fresh admin token, from /refresh, on a store of its
			// own: the user's call may have changed the first one.
			fresh := e.seedRoutes(fmt.Sprintf("Stale store %d", i))[i]
			_, refresh = e.login(adminEmail)
			rr := e.do("POST", "/refresh", nil, refresh)
			expect(t, rr, http.StatusOK)
			stale := rr.JSON(t)["access_token"].(string)
			var freshBody any
			if fresh.body != "" {
				freshBody = fresh.body
			}
			r = e.do(fresh.method, fresh.path, freshBody, stale)
			if rt.fresh {
				expectAuthError(t, r, http.StatusUnauthorized, "fresh_token_required")
			} else {
				expect(t, r, success)
			}
		})
	}
}

// TestEveryAPIRouteNeedsAccessToken walks the routes the app registers, so
// an endpoint added later is covered too: every /stores, /items and /tags
// route refuses a request without a token or with a refresh token, and
// appears in protectedRoutes with its admin and fresh rules decided.
func TestEveryAPIRouteNeedsAccessToken(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	_, refresh := e.login(userEmail)

	inTable := map[string]bool{}
	for _, rt := range protectedRoutes(0, 0, 0, 0) {
		inTable[rt.name] = true
	}
	seen := map[string]bool{}
	for _, r := range e.App.GetRoutes(true) {
		if r.Method == "HEAD" || !(pathUnder(r.Path, "/stores") || pathUnder(r.Path, "/items") || pathUnder(r.Path, "/tags")) {
			continue
		}
		name := r.Method + " " + braceParams(r.Path)
		if seen[name] {
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			path := fillParams(r.Path)
			expectAuthError(t, e.in(t).do(r.Method, path, nil, ""), http.StatusUnauthorized, "authorization_required")
			expectAuthError(t, e.in(t).do(r.Method, path, nil, refresh), http.StatusUnauthorized, "wrong_token_type")
			if !inTable[name] {
				t.Errorf("%s is not in protectedRoutes: add it with its admin and fresh rules", name)
			}
		})
	}
	for name := range inTable {
		if !seen[name] {
			t.Errorf("protectedRoutes lists %s, which the app does not register", name)
		}
	}
}

// pathUnder reports whether path is prefix or below it.
func pathUnder(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// braceParams writes Fiber's ":id" parameters as "{id}", as route names do.
func braceParams(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = "{" + strings.TrimSuffix(p[1:], "?") + "}"
		}
	}
	return strings.Join(parts, "/")
}

// fillParams puts an id in every path parameter.
func fillParams(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = "1"
		}
	}
	return strings.Join(parts, "/")
}

// A token without its scheme is told what is missing.
func TestAuthorizationWithoutTheBearerScheme(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	body := expectError(t, e.withHeader("GET", "/stores", token), http.StatusUnauthorized,
		`The Authorization header must be "Bearer <token>": the Bearer scheme is missing.`)
	if body["error"] != "authorization_required" {
		t.Fatalf("error code %v", body["error"])
	}
	expectError(t, e.withHeader("GET", "/stores", ""), http.StatusUnauthorized, "Request does not contain an access token.")
	expect(t, e.withHeader("GET", "/stores", "Bearer "+token), http.StatusOK)
}

// A token verified once is remembered, but its session is still checked
// on every request: logging out refuses it at once, and a request with no
// token is never taken for the remembered one, whatever the scheme's case.
func TestRememberedTokensAreStillChecked(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	access, _ := e.login(userEmail)
	for range 2 {
		expect(t, e.withHeader("GET", "/stores", "bearer "+access), http.StatusOK)
		expect(t, e.withHeader("GET", "/items/1", "Bearer "+access), http.StatusNotFound) // a guarded route
	}
	expectError(t, e.withHeader("GET", "/stores", ""), http.StatusUnauthorized, "Request does not contain an access token.")
	expectError(t, e.withHeader("GET", "/stores", "Bearer "), http.StatusUnauthorized, "")

	expect(t, e.do("POST", "/logout", nil, access), http.StatusOK)
	expectAuthError(t, e.withHeader("GET", "/stores", "Bearer "+access), http.StatusUnauthorized, "token_revoked")
	expectAuthError(t, e.withHeader("GET", "/items/1", "Bearer "+access), http.StatusUnauthorized, "token_revoked")
}

// A remembered token that expires is refused as expired.
func TestRememberedTokensExpire(t *testing.T) {
	e := newEnvWith(t, map[string]string{"JWT_ACCESS_TTL": "1s"})
	e.register(userEmail)
	access, _ := e.login(userEmail)
	expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)
	time.Sleep(1100 * time.Millisecond) // the token's exp has one-second resolution
	expectAuthError(t, e.do("GET", "/stores", nil, access), http.StatusUnauthorized, "token_expired")
}
