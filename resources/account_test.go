package resources_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"stores-api/internal/smtptest"
)

// mailWait is how long a test waits for an email: the workers poll every
// 50 ms, so it arrives in well under a second unless something is wrong.
const mailWait = 20 * time.Second

// newMailEnv is an app whose workers run and send through a real SMTP
// server, with links pointing at publicURL.
func newMailEnv(t *testing.T, vars map[string]string) (*testEnv, *smtptest.Server) {
	t.Helper()
	smtp := smtptest.Start(t)
	all := map[string]string{"MAIL_URL": smtp.URL(), "MAIL_DISABLED": "false", "PUBLIC_URL": publicURL}
	for k, v := range vars {
		all[k] = v
	}
	e := newEnvWith(t, all)
	e.startWorkers()
	return e, smtp
}

const publicURL = "https://api.example.test"

// linkToken is the token of the link to path in an email, checked to be
// the same in its text and HTML parts.
func linkToken(t *testing.T, msg smtptest.Received, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(publicURL+path) + `\?token=([A-Za-z0-9%]+)`)
	text, html := re.FindStringSubmatch(msg.Text), re.FindStringSubmatch(msg.HTML)
	if text == nil || html == nil || text[1] != html[1] {
		t.Fatalf("no matching %s link in both parts:\ntext: %s\nhtml: %s", path, msg.Text, msg.HTML)
	}
	token, err := url.QueryUnescape(text[1])
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (e *testEnv) me(token string) map[string]any {
	e.t.Helper()
	r := e.do("GET", "/me", nil, token)
	expect(e.t, r, http.StatusOK)
	return r.JSON(e.t)
}

func TestRegisteringSendsAWelcomeEmailWhoseLinkVerifies(t *testing.T) {
	e, smtp := newMailEnv(t, nil)
	r := e.do("POST", "/register", map[string]string{"email": userEmail, "password": password}, "")
	expect(t, r, http.StatusCreated)
	if user := r.JSON(t)["user"].(map[string]any); user["email_verified"] != false {
		t.Fatalf("a new user is verified: %v", user)
	}

	msg := smtp.Next(t, mailWait)
	if len(msg.To) != 1 || msg.To[0] != userEmail || !strings.Contains(msg.Subject, "Welcome") {
		t.Fatalf("welcome email to %v, subject %q", msg.To, msg.Subject)
	}
	token := linkToken(t, msg, "/verify-email")
	access, _ := e.login(userEmail)
	if me := e.me(access); me["email_verified"] != false || me["email"] != userEmail {
		t.Fatalf("GET /me before verifying = %v", me)
	}

	expect(t, e.do("GET", "/verify-email?token="+url.QueryEscape(token), nil, ""), http.StatusOK)
	if me := e.me(access); me["email_verified"] != true {
		t.Fatalf("GET /me after verifying = %v", me)
	}
	// The link works once.
	body := expectError(t, e.do("GET", "/verify-email?token="+url.QueryEscape(token), nil, ""), http.StatusBadRequest, "")
	if body["error"] != "invalid_link" {
		t.Fatalf("a used link: %v", body)
	}
	if n := smtp.Count(); n != 1 {
		t.Fatalf("%d emails sent, want 1", n)
	}
}

func TestVerificationLinksThatDoNotWork(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/verify-email", "/verify-email?token=", "/verify-email?token=WRONG",
		"/verify-email?token=" + strings.Repeat("A", 65)} {
		body := expectError(t, e.do("GET", path, nil, ""), http.StatusBadRequest, "")
		if body["error"] != "invalid_link" {
			t.Fatalf("%s: %v", path, body)
		}
	}
}

// nextLink waits for the next email, checks its recipient and subject,
// and returns the token of its link to path.
func nextLink(t *testing.T, smtp *smtptest.Server, to, subject, path string) string {
	t.Helper()
	msg := smtp.Next(t, mailWait)
	if len(msg.To) != 1 || msg.To[0] != to || !strings.Contains(msg.Subject, subject) {
		t.Fatalf("email to %v, subject %q; want %s, %q", msg.To, msg.Subject, to, subject)
	}
	return linkToken(t, msg, path)
}

func TestPasswordResetEndToEnd(t *testing.T) {
	e, smtp := newMailEnv(t, nil)
	e.register(userEmail)
	nextLink(t, smtp, userEmail, "Welcome", "/verify-email")
	access, refresh := e.login(userEmail)

	// Known and unknown emails get the same answer; only the known one
	// gets an email.
	known := e.do("POST", "/password-reset", map[string]string{"email": " User@Example.com "}, "")
	unknown := e.do("POST", "/password-reset", map[string]string{"email": "nobody@example.com"}, "")
	expect(t, known, http.StatusAccepted)
	expect(t, unknown, http.StatusAccepted)
	if string(known.Body) != string(unknown.Body) {
		t.Fatalf("known and unknown emails answered differently:\n%s\n%s", known.Body, unknown.Body)
	}
	token := nextLink(t, smtp, userEmail, "Reset", "/password-reset")
	if n := e.countWhere("river_job", "kind = ?", "password_reset_email"); n != 1 {
		t.Fatalf("%d reset jobs, want 1: the unknown email must queue none", n)
	}

	// A password that breaks the rules is refused, and the token survives it.
	for _, weak := range []string{"password", userEmail, "short"} {
		r := e.do("POST", "/password-reset/confirm", map[string]string{"token": token, "password": weak}, "")
		expectFieldError(t, r, "json", "password")
	}
	const newPassword = "a brand new horse"
	r := e.do("POST", "/password-reset/confirm", map[string]string{"token": token, "password": newPassword}, "")
	expect(t, r, http.StatusOK)

	// Every session of the user ended; the token worked once.
	expectError(t, e.do("GET", "/me", nil, access), http.StatusUnauthorized, "")
	expectError(t, e.do("POST", "/refresh", nil, refresh), http.StatusUnauthorized, "")
	r = e.do("POST", "/password-reset/confirm", map[string]string{"token": token, "password": newPassword + "!"}, "")
	if body := expectError(t, r, http.StatusBadRequest, ""); body["error"] != "invalid_link" {
		t.Fatalf("a used token: %v", body)
	}
	// The new password logs in, the old one does not.
	expect(t, e.do("POST", "/login", map[string]string{"email": userEmail, "password": password}, ""), http.StatusUnauthorized)
	expect(t, e.do("POST", "/login", map[string]string{"email": userEmail, "password": newPassword}, ""), http.StatusOK)
}

func TestPasswordResetTokensExpire(t *testing.T) {
	e, smtp := newMailEnv(t, nil)
	e.register(userEmail)
	nextLink(t, smtp, userEmail, "Welcome", "/verify-email")
	expect(t, e.do("POST", "/password-reset", map[string]string{"email": userEmail}, ""), http.StatusAccepted)
	token := nextLink(t, smtp, userEmail, "Reset", "/password-reset")

	// An hour later …
	if err := e.DB.Gorm.Exec("UPDATE account_tokens SET expires_at = ?", time.Now().Add(-time.Second).UTC()).Error; err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/password-reset/confirm", map[string]string{"token": token, "password": "a brand new horse"}, "")
	if body := expectError(t, r, http.StatusBadRequest, ""); body["error"] != "invalid_link" {
		t.Fatalf("an expired token: %v", body)
	}
	expect(t, e.do("POST", "/login", map[string]string{"email": userEmail, "password": password}, ""), http.StatusOK)
}

func TestTokensAreStoredOnlyAsHashes(t *testing.T) {
	e, smtp := newMailEnv(t, nil)
	e.register(userEmail)
	token := nextLink(t, smtp, userEmail, "Welcome", "/verify-email")
	var stored []string
	if err := e.DB.Gorm.Raw("SELECT token_hash FROM account_tokens").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	var args []string
	if err := e.DB.Gorm.Raw("SELECT CAST(args AS TEXT) FROM river_job").Scan(&args).Error; err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] == token || strings.Contains(strings.Join(args, " "), token) {
		t.Fatalf("the token %q is stored: tokens %v, job args %v", token, stored, args)
	}
}

func TestRequireVerifiedEmailGatesEveryRouteButTheWayToVerify(t *testing.T) {
	e, smtp := newMailEnv(t, map[string]string{"REQUIRE_VERIFIED_EMAIL": "true"})
	e.register(userEmail)
	nextLink(t, smtp, userEmail, "Welcome", "/verify-email")
	access, refresh := e.login(userEmail)

	for _, r := range []response{
		e.do("GET", "/stores", nil, access),
		e.do("POST", "/stores", map[string]string{"name": "Shop"}, access), // a guarded route
		e.do("GET", "/items/1", nil, access),                               // another one
	} {
		if body := expectError(t, r, http.StatusForbidden, ""); body["error"] != "email_not_verified" {
			t.Fatalf("an unverified user: %v", body)
		}
	}
	expect(t, e.do("GET", "/me", nil, access), http.StatusOK)

	// A new link; the old one dies with the first that is used.
	expect(t, e.do("POST", "/verify-email/resend", nil, access), http.StatusAccepted)
	token := nextLink(t, smtp, userEmail, "Confirm your email", "/verify-email")
	expect(t, e.do("GET", "/verify-email?token="+url.QueryEscape(token), nil, ""), http.StatusOK)

	expect(t, e.do("POST", "/stores", map[string]string{"name": "Shop"}, access), http.StatusCreated)
	expect(t, e.do("GET", "/stores", nil, access), http.StatusOK)
	if body := expectError(t, e.do("POST", "/verify-email/resend", nil, access), http.StatusConflict, ""); body["error"] != "email_already_verified" {
		t.Fatalf("resend when verified: %v", body)
	}
	expect(t, e.do("POST", "/refresh", nil, refresh), http.StatusOK)
	expect(t, e.do("POST", "/logout", nil, access), http.StatusOK)
}

func TestWithoutTheGateUnverifiedUsersUseEveryRoute(t *testing.T) {
	e := newEnv(t)
	expect(t, e.do("POST", "/stores", map[string]string{"name": "Shop"}, e.userToken()), http.StatusCreated)
}

// The mail server is down when the user registers: the email is retried,
// through a restart of the service, and delivered once the server is back.
func TestWelcomeEmailSurvivesAMailServerOutageAndARestart(t *testing.T) {
	smtp := smtptest.Start(t)
	smtp.Stop()
	vars := map[string]string{"MAIL_URL": smtp.URL(), "PUBLIC_URL": publicURL}
	first := newEnvWith(t, vars)
	first.startWorkers()
	first.register(userEmail)
	waitFor(t, "two failed attempts", func() bool {
		return first.countWhere("river_job", "kind = ? AND attempt >= 2 AND state <> ?", "welcome_email", "completed") == 1
	})
	first.stopWorkers() // the service stops …

	smtp.Restart(t) // … the mail server comes back …
	second := newEnvOn(t, first.DB, vars)
	second.startWorkers() // … and so does the service.
	token := nextLink(t, smtp, userEmail, "Welcome", "/verify-email")
	expect(t, second.do("GET", "/verify-email?token="+url.QueryEscape(token), nil, ""), http.StatusOK)
	waitFor(t, "the job to complete", func() bool {
		return second.countWhere("river_job", "kind = ? AND state = ?", "welcome_email", "completed") == 1
	})
	// The failed attempts withdrew their tokens: only a used one ever existed.
	if n := second.count("account_tokens"); n != 0 {
		t.Fatalf("%d tokens left", n)
	}
}

// waitFor polls cond until it holds, failing the test after mailWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
