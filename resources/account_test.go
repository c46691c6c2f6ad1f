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
	all := map[string]string{"MAIL_URL": smtp.URL(), "PUBLIC_URL": publicURL}
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
