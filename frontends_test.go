package main

// The JSON API and the admin panel in one app, as serve builds it: what
// only the two together show.

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"stores-api/config"
	"stores-api/internal/testdb"
)

// wholeApp is the app serve builds, on a fresh database.
func wholeApp(t *testing.T, vars map[string]string) *fiber.App {
	t.Helper()
	all := map[string]string{"BCRYPT_COST": "4", "AUTH_RATE_LIMIT": "0", "JWT_SECRET_KEY": strongKey, "ADMIN_EMAILS": "admin@example.com"}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.Load(envFrom(all))
	if err != nil {
		t.Fatal(err)
	}
	db := testdb.Open(t)
	app := serviceOn(t, db, cfg).app
	return app
}

// serviceOn is the whole service on db, as serve builds it; its job
// queue inserts jobs but works none until started.
func serviceOn(t *testing.T, db *testdb.DB, cfg config.Config) *service {
	t.Helper()
	svc, err := newService(db.Gorm, db.Dialect, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// answer is one response of the app.
type answer struct {
	status int
	header http.Header
	body   string
}

// call sends a request to app. body is JSON unless form is set.
func call(t *testing.T, app *fiber.App, method, path, token, body string, header http.Header) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(raw)}
}

// panelSignIn opens the panel's sign-in page, as a browser would, and
// posts its form as the admin.
func panelSignIn(t *testing.T, app *fiber.App) answer {
	t.Helper()
	page := call(t, app, "GET", "/admin/login", "", "", nil)
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	var csrf string
	for _, c := range (&http.Response{Header: page.header}).Cookies() {
		header.Add("Cookie", c.Name+"="+c.Value)
		if c.Name == "admin_csrf" {
			csrf = c.Value
		}
	}
	form := url.Values{"email": {"admin@example.com"}, "password": {"correct horse"}, "_csrf": {csrf}}
	return call(t, app, "POST", "/admin/login", "", form.Encode(), header)
}

// signInToPanel signs the admin in to the panel and returns its cookies.
func signInToPanel(t *testing.T, app *fiber.App) http.Header {
	t.Helper()
	r := panelSignIn(t, app)
	if r.status != http.StatusSeeOther {
		t.Fatalf("panel sign-in: %d %.300s", r.status, r.body)
	}
	signedIn := http.Header{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		signedIn.Add("Cookie", c.Name+"="+c.Value)
	}
	return signedIn
}

func register(t *testing.T, app *fiber.App, email string) {
	t.Helper()
	if r := call(t, app, "POST", "/register", "", `{"email":"`+email+`","password":"correct horse"}`, nil); r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
}

// Fiber runs a mounted app's middleware for every path that merely starts
// with its prefix. Those paths are the API's: its JSON 404, not the
// panel's sign-in redirect, CSRF page or HTML 404.
func TestPathsThatOnlyStartWithAdminBelongToTheAPI(t *testing.T) {
	app := wholeApp(t, nil)
	register(t, app, "admin@example.com")
	want := call(t, app, "GET", "/no-such-route", "", "", nil)
	for name, cookies := range map[string]http.Header{"signed out": nil, "signed in": signInToPanel(t, app)} {
		t.Run(name, func(t *testing.T) {
			form := cookies.Clone()
			if form == nil {
				form = http.Header{}
			}
			form.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, r := range []answer{
				call(t, app, "GET", "/adminx", "", "", cookies),
				call(t, app, "GET", "/administrator", "", "", cookies),
				call(t, app, "GET", "/admin.php", "", "", cookies),
				call(t, app, "GET", "/adminfoo/login", "", "", cookies),
				call(t, app, "POST", "/adminfoo", "", "_csrf=x", form),
				call(t, app, "POST", "/administrator/login", "", "", form),
				call(t, app, "DELETE", "/adminx", "", "", cookies),
			} {
				if r.status != http.StatusNotFound || r.body != want.body {
					t.Fatalf("got %d %s, want the API's 404 %s", r.status, r.body, want.body)
				}
				if cookies := r.header.Values("Set-Cookie"); len(cookies) > 0 {
					t.Fatalf("a path outside the panel set cookies: %v", cookies)
				}
			}
		})
	}
	// The panel itself, with or without a trailing slash or capitals, is
	// still the panel.
	for path, location := range map[string]string{"/admin": "/admin/login?next=%2Fadmin", "/admin/": "/admin/login?next=%2Fadmin%2F"} {
		if r := call(t, app, "GET", path, "", "", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != location {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, r.status, r.header.Get("Location"), location)
		}
	}
	if r := call(t, app, "GET", "/ADMIN/login", "", "", nil); r.status != http.StatusOK || !strings.Contains(r.body, "Sign in") {
		t.Errorf("GET /ADMIN/login: %d", r.status)
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if r := call(t, app, "POST", "/admin/nope", "", "", form); r.status != http.StatusForbidden || !strings.Contains(r.body, "This form has expired") {
		t.Errorf("POST /admin/nope: %d %.200s", r.status, r.body)
	}
}

// The admin sign-in and the API's /register, /login and /refresh share one
// budget per client: a second limiter would double what a guesser gets.
func TestAdminSignInSharesTheAPIRateLimit(t *testing.T) {
	app := wholeApp(t, map[string]string{"AUTH_RATE_LIMIT": "3"}) // register, two logins, then the panel
	register(t, app, "admin@example.com")
	for range 2 {
		if r := call(t, app, "POST", "/login", "", `{"email":"admin@example.com","password":"wrong password"}`, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.status)
		}
	}
	r := panelSignIn(t, app)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many attempts") || r.header.Get("Retry-After") == "" {
		t.Fatalf("the panel past the shared budget: %d %.200s", r.status, r.body)
	}
	r = call(t, app, "POST", "/login", "", `{"email":"admin@example.com","password":"correct horse"}`, nil)
	var envelope map[string]any
	if r.status != http.StatusTooManyRequests || json.Unmarshal([]byte(r.body), &envelope) != nil || envelope["code"] != float64(429) {
		t.Fatalf("the API past the shared budget: %d %s", r.status, r.body)
	}
}

// A panel session cookie is no bearer token of the API.
func TestAdminSessionIsNotABearerToken(t *testing.T) {
	app := wholeApp(t, nil)
	register(t, app, "admin@example.com")
	var session string
	for _, c := range (&http.Request{Header: signInToPanel(t, app)}).Cookies() {
		if c.Name == "admin_session" {
			session = c.Value
		}
	}
	if session == "" {
		t.Fatal("no session cookie")
	}
	if r := call(t, app, "GET", "/stores", session, "", nil); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "invalid_token") {
		t.Fatalf("the cookie as a bearer token: %d %s", r.status, r.body)
	}
}
