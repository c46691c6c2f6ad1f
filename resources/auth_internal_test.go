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

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/internal/testdb"
	"stores-api/middleware"
	"stores-api/models"
)

// A guarded handler that never reaches the data layer still cannot answer
// a revoked token: its token was not proven by a statement, so it is
// checked after the handler, and its failure replaces the handler's
// answer. No route of the API does this; the test keeps the fallback
// honest for one that might.
func TestGuardedRouteWithoutAStatement(t *testing.T) {
	db := testdb.Open(t)
	vars := map[string]string{"JWT_SECRET_KEY": "test-secret-test-secret-test-secret!", "BCRYPT_COST": "4"}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stack, err := middleware.New(middleware.Options{Config: cfg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Data: models.New(db.Gorm, cfg.BcryptCost), Sessions: blocklist.New(db.Gorm), Config: cfg, Log: log,
		Stack: stack}
	s := newServer(d)
	app := fiber.New(d.Stack.AppConfig(s.errorHandler))
	app.Get("/unguarded", s.guarded(anyToken, func(c *fiber.Ctx, _ *models.Guarded) error { return c.SendString("secret") }))

	user, err := d.Data.Users.Create(context.Background(), "probe@example.com", "correct horse", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := d.Sessions.Start(context.Background(), user.ID, "r", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := s.newTokenPair(user, sid, "r", true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/unguarded", nil)
		req.Header.Set("Authorization", "Bearer "+pair.access)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get(); status != http.StatusOK || body != "secret" {
		t.Fatalf("good token: %d %s, want 200 secret", status, body)
	}
	if err := d.Sessions.End(context.Background(), user.ID, sid); err != nil {
		t.Fatal(err)
	}
	status, body := get()
	if status != http.StatusUnauthorized || !strings.Contains(body, "token_revoked") || strings.Contains(body, "secret") {
		t.Errorf("revoked token: %d %s, want 401 token_revoked without the handler's body", status, body)
	}
}
