package resources

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/config"
	"stores-api/internal/testdb"
	"stores-api/models"
)

// A handler behind requireAccessInline that never takes the guard still
// cannot answer a revoked token: the middleware checks the token after it,
// and its failure replaces the handler's answer. No route of the API does
// this; the test keeps the fallback honest for one that might.
func TestInlineCheckWithoutGuard(t *testing.T) {
	db := testdb.Open(t)
	vars := map[string]string{"JWT_SECRET_KEY": "test-secret-test-secret-test-secret!", "BCRYPT_COST": "4"}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{DB: db.Gorm, Dialect: db.Dialect, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	app := New(s)
	app.Get("/unguarded", s.requireAccessInline, func(c *fiber.Ctx) error { return c.SendString("secret") })
	app.Get("/admin-after-inline", s.requireAccessInline, requireAdmin, func(c *fiber.Ctx) error { return c.SendString("secret") })

	user := models.User{Email: "probe@example.com", PasswordHash: "x", IsAdmin: true}
	if err := db.Gorm.Create(&user).Error; err != nil {
		t.Fatal(err)
	}
	sid, err := s.Sessions.Start(context.Background(), user.ID, "r", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := s.newTokenPair(user, sid, "r", true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	token := pair.access
	get := func(path string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	if status, body := get("/unguarded"); status != http.StatusOK || body != "secret" {
		t.Fatalf("good token: %d %s, want 200 secret", status, body)
	}
	// requireAdmin cannot know the admin flag behind an inline check: a
	// route built that way fails loudly instead of refusing every admin.
	if status, _ := get("/admin-after-inline"); status != http.StatusInternalServerError {
		t.Errorf("requireAdmin after requireAccessInline: %d, want 500", status)
	}

	if err := s.Sessions.End(context.Background(), user.ID, sid); err != nil {
		t.Fatal(err)
	}
	status, body := get("/unguarded")
	if status != http.StatusUnauthorized || !strings.Contains(body, "token_revoked") || strings.Contains(body, "secret") {
		t.Errorf("revoked token: %d %s, want 401 token_revoked without the handler's body", status, body)
	}
}
