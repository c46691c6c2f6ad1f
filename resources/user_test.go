package resources_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// expectNoSecrets fails if a response body shows a password hash, a hash
// field, or one of the passwords the test sent.
func expectNoSecrets(t testing.TB, r response, passwords ...string) {
	t.Helper()
	leaks := append([]string{"hash", "$2a$", "$2b$", "$2y$", password}, passwords...)
	for _, leak := range leaks {
		if bytes.Contains(bytes.ToLower(r.Body), bytes.ToLower([]byte(leak))) {
			t.Fatalf("response shows %q: %s", leak, r.Body)
		}
	}
	if bytes.Contains(r.Body, []byte(`"password":"`)) {
		t.Fatalf("response has a password value: %s", r.Body)
	}
}

// TestAuthFlow walks register → login → use → refresh → logout → rejected,
// the way a client does.
func TestAuthFlow(t *testing.T) {
	e := newEnv(t)

	r := e.do("POST", "/register", map[string]string{"email": "flow@example.com", "password": password}, "")
	expect(t, r, http.StatusCreated)
	expectNoSecrets(t, r)
	created := r.JSON(t)
	if created["message"] != "User created successfully." {
		t.Fatalf("register message = %v", created["message"])
	}
	user, _ := created["user"].(map[string]any)
	if user["email"] != "flow@example.com" || user["is_admin"] != false || user["email_verified"] != false ||
		user["id"] == nil || len(user) != 4 {
		t.Fatalf("register user = %v, want {id, email, is_admin, email_verified}", user)
	}

	r = e.do("POST", "/login", map[string]string{"email": "flow@example.com", "password": password}, "")
	expect(t, r, http.StatusOK)
	expectNoSecrets(t, r)
	tokens := r.JSON(t)
	access, refresh := tokens["access_token"].(string), tokens["refresh_token"].(string)
	if tokens["token_type"] != "Bearer" || tokens["expires_in"] != float64(15*60) {
		t.Fatalf("token_type/expires_in = %v/%v, want Bearer/900", tokens["token_type"], tokens["expires_in"])
	}

	r = e.do("POST", "/stores", map[string]any{"name": "Flow"}, access)
	expect(t, r, http.StatusCreated)
	storeID := id(t, r)
	r = e.do("POST", "/items", fmt.Sprintf(`{"name": "Pen", "price": 1.25, "store_id": %d}`, storeID), access)
	expect(t, r, http.StatusCreated)
	expect(t, e.do("GET", "/items", nil, access), http.StatusOK)

	r = e.do("POST", "/refresh", nil, refresh)
	expect(t, r, http.StatusOK)
	rotated := r.JSON(t)
	access2, refresh2 := rotated["access_token"].(string), rotated["refresh_token"].(string)
	if access2 == access || refresh2 == refresh {
		t.Fatal("refresh returned the tokens it was given")
	}
	if rotated["token_type"] != "Bearer" || rotated["expires_in"] != float64(15*60) || len(rotated) != 4 {
		t.Fatalf("/refresh answered %v, want the fields of /login", rotated)
	}
	expect(t, e.do("GET", fmt.Sprintf("/stores/%d", storeID), nil, access2), http.StatusOK)
	expectAuthError(t, e.do("POST", "/items", fmt.Sprintf(`{"name": "Ink", "price": 2, "store_id": %d}`, storeID), access2),
		http.StatusUnauthorized, "fresh_token_required")

	// Logging out ends the whole session, with or without the refresh
	// token in the body: every token of it is refused from then on.
	r = e.do("POST", "/logout", nil, access2)
	expect(t, r, http.StatusOK)
	if r.JSON(t)["message"] != "Successfully logged out." {
		t.Fatalf("logout answered %s", r.Body)
	}
	for _, token := range []string{access, access2} {
		expectAuthError(t, e.do("GET", "/stores", nil, token), http.StatusUnauthorized, "token_revoked")
	}
	expectAuthError(t, e.do("POST", "/refresh", nil, refresh2), http.StatusUnauthorized, "token_revoked")

	// Logging in again starts a new session.
	r = e.do("POST", "/login", map[string]string{"email": "flow@example.com", "password": password}, "")
	expect(t, r, http.StatusOK)
	expect(t, e.do("GET", "/stores", nil, r.JSON(t)["access_token"].(string)), http.StatusOK)
}

// TestRegister covers the validation and normalisation of POST /register.
func TestRegister(t *testing.T) {
	e := newEnv(t)

	t.Run("email trimmed and lower-cased", func(t *testing.T) {
		r := e.in(t).do("POST", "/register", map[string]string{"email": "  Mixed.Case@Example.COM \t", "password": password}, "")
		expect(t, r, http.StatusCreated)
		user := r.JSON(t)["user"].(map[string]any)
		if user["email"] != "mixed.case@example.com" {
			t.Fatalf("email = %v, want mixed.case@example.com", user["email"])
		}
		// Login normalises the same way.
		expect(t, e.in(t).do("POST", "/login", map[string]string{"email": " MIXED.case@example.com", "password": password}, ""), http.StatusOK)
	})

	t.Run("duplicate in any case", func(t *testing.T) {
		e := e.in(t)
		expect(t, e.do("POST", "/register", map[string]string{"email": "dup@example.com", "password": password}, ""), http.StatusCreated)
		for _, email := range []string{"dup@example.com", "DUP@example.com", " Dup@Example.Com "} {
			r := e.do("POST", "/register", map[string]string{"email": email, "password": "another password"}, "")
			expectError(t, r, http.StatusConflict, "A user with that email already exists.")
		}
		var n int64
		if err := e.DB.Gorm.Table("users").Where("email = ?", "dup@example.com").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d users with the email, want 1", n)
		}
	})

	local := strings.Repeat("a", 64)
	label := strings.Repeat("b", 63)
	// 64 + 1 + 189: the longest address allowed, with valid labels.
	domain := label + "." + label + "." + strings.Repeat("c", 189-2*64-len(".com")) + ".com"
	longest := local + "@" + domain
	if len(longest) != 254 {
		t.Fatalf("test email has %d characters", len(longest))
	}
	t.Run("254-character email accepted", func(t *testing.T) {
		expect(t, e.in(t).do("POST", "/register", map[string]string{"email": longest, "password": password}, ""), http.StatusCreated)
	})

	invalid := []struct {
		name  string
		body  any
		field string
	}{
		{"email over 254 characters", map[string]string{"email": local + "@d." + domain, "password": password}, "email"},
		{"email without @", map[string]string{"email": "not-an-email", "password": password}, "email"},
		{"email without local part", map[string]string{"email": "@example.com", "password": password}, "email"},
		{"blank email", map[string]string{"email": "   ", "password": password}, "email"},
		{"missing email", map[string]string{"password": password}, "email"},
		{"email not a string", `{"email": 42, "password": "correct horse"}`, "email"},
		{"password of 7 characters", map[string]string{"email": "short@example.com", "password": "kq3v-x8"}, "password"},
		{"password of 4 characters but 8 bytes", map[string]string{"email": "utf8-short@example.com", "password": "éééé"}, "password"},
		{"password of 73 bytes", map[string]string{"email": "long@example.com", "password": strings.Repeat("p", 73)}, "password"},
		{"password of 37 characters but 74 bytes", map[string]string{"email": "utf8@example.com", "password": strings.Repeat("é", 37)}, "password"},
		{"missing password", map[string]string{"email": "nopass@example.com"}, "password"},
		{"null password", `{"email": "null@example.com", "password": null}`, "password"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			r := e.in(t).do("POST", "/register", tt.body, "")
			expectFieldError(t, r, "json", tt.field)
			expectNoSecrets(t, r, "kq3v-x8", "éééé", strings.Repeat("p", 73), strings.Repeat("é", 37))
		})
	}

	valid := []struct{ name, email, password string }{
		{"password of 8 characters", "eight@example.com", "kq3v-x8m"},
		{"password of 72 bytes", "seventy-two@example.com", strings.Repeat("kq3v-x8m!", 8)},
		{"password of 8 characters but 16 bytes", "utf8-ok@example.com", "éçàüöñßø"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			expect(t, e.do("POST", "/register", map[string]string{"email": tt.email, "password": tt.password}, ""), http.StatusCreated)
			expect(t, e.do("POST", "/login", map[string]string{"email": tt.email, "password": tt.password}, ""), http.StatusOK)
		})
	}

	t.Run("no user was created by an invalid request", func(t *testing.T) {
		var emails []string
		if err := e.DB.Gorm.Table("users").Order("email").Pluck("email", &emails).Error; err != nil {
			t.Fatal(err)
		}
		want := 2 + 1 + len(valid) // mixed.case, dup, the 254-character one, the valid ones
		if len(emails) != want {
			t.Fatalf("users %v, want %d", emails, want)
		}
	})

	t.Run("malformed JSON and wrong content type", func(t *testing.T) {
		e := e.in(t)
		expectError(t, e.do("POST", "/register", `{"email":`, ""), http.StatusBadRequest, "")
		expectError(t, e.do("POST", "/register", nil, ""), http.StatusUnsupportedMediaType, "")
	})
}

// TestPasswordRules: a new password is not the email and not easy to
// guess, and the answer says which rule it breaks. Passwords set before the
// rules still log in.
func TestPasswordRules(t *testing.T) {
	e := newEnv(t)
	const guessable = "Too easy to guess: a common password, or common words, names, dates or patterns. " +
		"Try a few unrelated words."
	for _, tt := range []struct{ name, email, password, message string }{
		{"a common password", "common@example.com", "password", guessable},
		{"digits in a row", "digits@example.com", "12345678", guessable},
		{"eight spaces", "spaces@example.com", "        ", guessable},
		{"a keyboard row", "keys@example.com", "qwertyuiop", guessable},
		{"a word and a year", "year@example.com", "football2024", guessable},
		{"the email", "self@example.com", "self@example.com", "Must not be your email address."},
		{"the email in another case", "case@example.com", "CASE@Example.com", "Must not be your email address."},
		{"the email's name and a digit", "margaretta@example.com", "margaretta1", guessable},
		{"too short comes first", "short@example.com", "1234567", "Must be at least 8 characters long."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.in(t).do("POST", "/register", map[string]string{"email": tt.email, "password": tt.password}, "")
			body := expectError(t, r, http.StatusUnprocessableEntity, "Validation failed.")
			got := body["errors"].(map[string]any)["json"].(map[string]any)["password"]
			if want := []any{tt.message}; !reflect.DeepEqual(got, want) {
				t.Fatalf("errors.json.password = %v, want %v", got, want)
			}
		})
	}
	if n := e.count("users"); n != 0 {
		t.Fatalf("%d users registered with passwords the rules refuse", n)
	}

	// An account from before the rules keeps its password.
	if _, err := e.Data.Users.Create(context.Background(), "old@example.com", "password", false, nil); err != nil {
		t.Fatal(err)
	}
	expect(t, e.do("POST", "/login", map[string]string{"email": "old@example.com", "password": "password"}, ""), http.StatusOK)
}

// TestAdminEmails: ADMIN_EMAILS makes an admin at registration, whatever
// the case of either side.
func TestAdminEmails(t *testing.T) {
	e := newEnvWith(t, map[string]string{"ADMIN_EMAILS": " Boss@Example.com , second@example.com"})
	for _, tt := range []struct {
		email string
		admin bool
	}{
		{"boss@example.com", true},
		{"SECOND@example.com", true},
		{"worker@example.com", false},
	} {
		r := e.do("POST", "/register", map[string]string{"email": tt.email, "password": password}, "")
		expect(t, r, http.StatusCreated)
		if got := r.JSON(t)["user"].(map[string]any)["is_admin"]; got != tt.admin {
			t.Errorf("%s: is_admin = %v, want %t", tt.email, got, tt.admin)
		}
	}
	boss, _ := e.login("boss@example.com")
	storeID := e.mustCreateStore("Admin made")
	expect(t, e.do("DELETE", fmt.Sprintf("/stores/%d", storeID), nil, boss), http.StatusOK)
}

// TestLoginFailures: a wrong password and an unknown email look the same.
func TestLoginFailures(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)

	wrong := e.do("POST", "/login", map[string]string{"email": userEmail, "password": "wrong password"}, "")
	unknown := e.do("POST", "/login", map[string]string{"email": "nobody@example.com", "password": password}, "")
	for _, r := range []response{wrong, unknown} {
		expectError(t, r, http.StatusUnauthorized, "Invalid credentials.")
		expectNoSecrets(t, r)
	}
	if !bytes.Equal(wrong.Body, unknown.Body) {
		t.Fatalf("wrong password and unknown email answer differently:\n%s\n%s", wrong.Body, unknown.Body)
	}

	// A password that register would refuse can never match: still 401,
	// so login does not explain the password rules.
	expectError(t, e.do("POST", "/login", map[string]string{"email": userEmail, "password": "short"}, ""),
		http.StatusUnauthorized, "Invalid credentials.")
	expectFieldError(t, e.do("POST", "/login", map[string]string{"email": userEmail}, ""), "json", "password")
	expectFieldError(t, e.do("POST", "/login", map[string]string{"password": password}, ""), "json", "email")
}

// TestLoginTiming: an unknown email costs a bcrypt comparison too, so
// response times do not tell which emails are registered. The cost is
// raised so that one comparison dwarfs the rest of the request.
func TestLoginTiming(t *testing.T) {
	e := newEnvWith(t, map[string]string{"BCRYPT_COST": "8"})
	e.register(userEmail)
	median := func(email string) time.Duration {
		var times []time.Duration
		for range 3 {
			start := time.Now()
			r := e.do("POST", "/login", map[string]string{"email": email, "password": "wrong password"}, "")
			times = append(times, time.Since(start))
			expectError(t, r, http.StatusUnauthorized, "Invalid credentials.")
		}
		slices.Sort(times)
		return times[len(times)/2]
	}
	known, unknown := median(userEmail), median("nobody@example.com")
	if unknown < known/3 {
		t.Fatalf("unknown email answered in %s, wrong password in %s: the difference reveals registered emails", unknown, known)
	}
}

// TestLogoutWithRefreshToken: a refresh token in the body ends its
// session too, when it belongs to the caller.
func TestLogoutWithRefreshToken(t *testing.T) {
	shared := newEnv(t)
	// session registers a user of its own and logs it in.
	session := func(e *testEnv, email string) (access, refresh string) {
		e.register(email)
		return e.login(email)
	}

	t.Run("another session of the same user", func(t *testing.T) {
		e := shared.in(t)
		access, refresh := session(e, "same@example.com")
		otherAccess, otherRefresh := e.login("same@example.com")
		untouched, _ := e.login("same@example.com")
		expect(t, e.do("POST", "/logout", map[string]string{"refresh_token": otherRefresh}, access), http.StatusOK)
		for _, token := range []string{access, otherAccess} {
			expectAuthError(t, e.do("GET", "/stores", nil, token), http.StatusUnauthorized, "token_revoked")
		}
		for _, token := range []string{refresh, otherRefresh} {
			expectAuthError(t, e.do("POST", "/refresh", nil, token), http.StatusUnauthorized, "token_revoked")
		}
		expect(t, e.do("GET", "/stores", nil, untouched), http.StatusOK)
	})

	t.Run("another user's refresh token", func(t *testing.T) {
		e := shared.in(t)
		access, _ := session(e, "attacker@example.com")
		_, victimRefresh := session(e, "victim@example.com")
		before := e.count("sessions")

		r := e.do("POST", "/logout", map[string]string{"refresh_token": victimRefresh}, access)
		expectFieldError(t, r, "json", "refresh_token")
		if n := e.count("sessions"); n != before {
			t.Fatalf("sessions %d → %d: a refused logout ended something", before, n)
		}
		expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)
		expect(t, e.do("POST", "/refresh", nil, victimRefresh), http.StatusOK)
	})

	t.Run("not a refresh token", func(t *testing.T) {
		e := shared.in(t)
		access, _ := session(e, "confused@example.com")
		other, _ := e.login("confused@example.com")
		before := e.count("sessions")
		for _, bad := range []string{other, "garbage", access + "x"} {
			expectFieldError(t, e.do("POST", "/logout", map[string]string{"refresh_token": bad}, access), "json", "refresh_token")
		}
		if n := e.count("sessions"); n != before {
			t.Fatalf("sessions %d → %d: a refused logout ended something", before, n)
		}
		expect(t, e.do("GET", "/stores", nil, other), http.StatusOK)
		expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)
	})

	t.Run("empty body object", func(t *testing.T) {
		e := shared.in(t)
		access, refresh := session(e, "empty@example.com")
		expect(t, e.do("POST", "/logout", `{}`, access), http.StatusOK)
		expectAuthError(t, e.do("GET", "/stores", nil, access), http.StatusUnauthorized, "token_revoked")
		expectAuthError(t, e.do("POST", "/refresh", nil, refresh), http.StatusUnauthorized, "token_revoked")
	})
}

// TestAuthRateLimit: past AUTH_RATE_LIMIT requests a minute from one IP,
// /login answers 429 in the envelope with Retry-After.
func TestAuthRateLimit(t *testing.T) {
	limited := newEnvWith(t, map[string]string{"AUTH_RATE_LIMIT": "2"})
	// Register through an unlimited instance on the same database, so the
	// limited one sees only logins.
	newEnvOn(t, limited.DB, nil).register(userEmail)

	limited.login(userEmail)
	limited.login(userEmail)
	r := limited.do("POST", "/login", map[string]string{"email": userEmail, "password": password}, "")
	expectError(t, r, http.StatusTooManyRequests, "")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry <= 0 || retry > 60 {
		t.Fatalf("Retry-After = %q, want seconds up to a minute", r.Header.Get("Retry-After"))
	}
	// Register and refresh count against the same budget.
	expectError(t, limited.do("POST", "/register", map[string]string{"email": "late@example.com", "password": password}, ""),
		http.StatusTooManyRequests, "")
	expectError(t, limited.do("POST", "/refresh", nil, "x"), http.StatusTooManyRequests, "")
	// Other endpoints are not limited.
	expectAuthError(t, limited.do("GET", "/stores", nil, ""), http.StatusUnauthorized, "authorization_required")
}

// TestUserHelpers covers GET and DELETE /user/{id}, the development helpers.
func TestUserHelpers(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	userID := e.register("target@example.com")
	path := fmt.Sprintf("/user/%d", userID)

	r := e.do("GET", path, nil, admin)
	expect(t, r, http.StatusOK)
	expectNoSecrets(t, r)
	got := r.JSON(t)
	if got["id"] != float64(userID) || got["email"] != "target@example.com" || got["is_admin"] != false ||
		got["email_verified"] != false || len(got) != 4 {
		t.Fatalf("GET %s = %s", path, r.Body)
	}

	user := e.userToken()
	expectAuthError(t, e.do("GET", path, nil, user), http.StatusForbidden, "admin_required")
	expectAuthError(t, e.do("DELETE", path, nil, user), http.StatusForbidden, "admin_required")
	expectAuthError(t, e.do("GET", path, nil, ""), http.StatusUnauthorized, "authorization_required")

	for _, bad := range []string{"/user/999999", "/user/abc", "/user/0", "/user/-1", "/user/99999999999999999999"} {
		expectError(t, e.do("GET", bad, nil, admin), http.StatusNotFound, "")
		expectError(t, e.do("DELETE", bad, nil, admin), http.StatusNotFound, "")
	}

	expect(t, e.do("DELETE", path, nil, admin), http.StatusOK)
	expectError(t, e.do("GET", path, nil, admin), http.StatusNotFound, "User not found.")
	expectError(t, e.do("DELETE", path, nil, admin), http.StatusNotFound, "User not found.")
}

// TestUserHelpersHiddenInProduction: with APP_ENV=production the routes do
// not exist, for admins too.
func TestUserHelpersHiddenInProduction(t *testing.T) {
	e := newEnvWith(t, map[string]string{"APP_ENV": "production"})
	admin := e.adminToken()
	for _, method := range []string{"GET", "DELETE"} {
		expectError(t, e.do(method, "/user/1", nil, admin), http.StatusNotFound, "")
	}
	if n := e.count("users"); n != 1 {
		t.Fatalf("%d users, want the admin untouched", n)
	}
}
