package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/internal/testdb"
	"stores-api/middleware"
	"stores-api/models"
)

// clock is a settable clock for the panel's CSRF tokens.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestCSRFTokensExpire: a token the panel signed itself is refused once its
// time is up, and accepted just before. Only the CSRF clock moves: the
// session stays good throughout.
func TestCSRFTokensExpire(t *testing.T) {
	db := testdb.Open(t)
	vars := map[string]string{"JWT_SECRET_KEY": "test-secret-test-secret-test-secret!", "BCRYPT_COST": "4", "AUTH_RATE_LIMIT": "0"}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := models.New(db.Gorm, cfg.BcryptCost)
	if _, err := data.Users.Create(context.Background(), "admin@example.com", "correct horse", true, nil); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	stack, err := middleware.New(middleware.Options{Config: cfg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(stack.AppConfig(func(c *fiber.Ctx, err error) error { return c.SendStatus(fiber.StatusNotFound) }))
	stack.Install(app)
	app.Mount(Prefix, newPanel(Deps{Data: data, Sessions: blocklist.New(db.Gorm), Config: cfg, Log: log,
		SignInLimit: stack.SignInLimit()}, clk.Now))

	cookies := map[string]string{}
	send := func(method, path string, form url.Values) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.Cookies() {
			cookies[c.Name] = c.Value
		}
		return resp
	}
	send("GET", "/admin/login", nil)
	resp := send("POST", "/admin/login", url.Values{"email": {"admin@example.com"}, "password": {"correct horse"},
		"_csrf": {cookies[csrfCookie]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	send("GET", "/admin/stores", nil) // a page, which leaves a token of the session
	token := cookies[csrfCookie]
	issued := clk.Now()

	clk.Set(issued.Add(csrfTTL - time.Minute))
	if resp := send("POST", "/admin/stores", url.Values{"name": {"In time"}, "_csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a token a minute before it expires: %d, want it accepted", resp.StatusCode)
	}
	clk.Set(issued.Add(csrfTTL + time.Minute))
	cookies[csrfCookie] = token
	resp = send("POST", "/admin/stores", url.Values{"name": {"Too late"}, "_csrf": {token}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "This form has expired") {
		t.Fatalf("an expired token: %d %.200s, want 403 and the expired-form page", resp.StatusCode, body)
	}
	if n, _ := data.Stores.Count(context.Background()); n != 1 {
		t.Fatalf("%d stores, want only the one made in time", n)
	}
}
