package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"stores-api/config"
	"stores-api/internal/testdb"
	"stores-api/models"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

// strongKey is a JWT_SECRET_KEY production accepts (32 bytes).
const strongKey = "0123456789abcdef0123456789abcdef"

// syncBuffer is a log sink the server goroutine writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestProductionRefusesWeakKey: with APP_ENV=production, run stops before
// touching the database when JWT_SECRET_KEY is missing or short.
func TestProductionRefusesWeakKey(t *testing.T) {
	for _, key := range []string{"", "short", strongKey[:31]} {
		t.Run(fmt.Sprintf("%d bytes", len(key)), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "never.db")
			vars := map[string]string{
				"APP_ENV":        "production",
				"JWT_SECRET_KEY": key,
				"DATABASE_URL":   "sqlite:///" + dbPath,
				"PORT":           strconv.Itoa(freeLoopbackPort(t)),
			}
			for _, args := range [][]string{nil, {"serve"}, {"promote-admin", "a@example.com"}} {
				err := run(context.Background(), args, envFrom(vars), io.Discard)
				if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_KEY") {
					t.Fatalf("run %q = %v, want an error naming JWT_SECRET_KEY", args, err)
				}
				if key != "" && strings.Contains(err.Error(), key) {
					t.Fatalf("the error shows the key: %v", err)
				}
			}
			if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the database was opened before the configuration was checked (stat: %v)", err)
			}
		})
	}
}

// TestBinaryRefusesWeakKey: the real binary exits non-zero with a message
// naming the variable.
func TestBinaryRefusesWeakKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir() // no stray .env is read
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"APP_ENV=production",
		"JWT_SECRET_KEY=too-short",
		"DATABASE_URL=sqlite:///" + filepath.Join(cmd.Dir, "never.db"),
		"PORT=" + strconv.Itoa(freeLoopbackPort(t)),
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the binary started serving with a 9-byte key")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit = %v, want a non-zero exit status", err)
	}
	if msg := stderr.String(); !strings.Contains(msg, "JWT_SECRET_KEY") || !strings.Contains(msg, "32") {
		t.Fatalf("stderr does not explain the key rule:\n%s", msg)
	}
}

// serveUntilUp runs the server in the background until the test ends and
// waits until it answers.
func serveUntilUp(t *testing.T, vars map[string]string, logs io.Writer) {
	t.Helper()
	port := strconv.Itoa(freeLoopbackPort(t))
	vars["HOST"], vars["PORT"] = "127.0.0.1", port
	vars["DATABASE_URL"] = "sqlite:///" + filepath.Join(t.TempDir(), "data.db")
	vars["BCRYPT_COST"] = "4"

	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- run(ctx, nil, envFrom(vars), logs) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not return after its context was cancelled")
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/stores")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("GET /stores without a token: %d, want 401", resp.StatusCode)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer within 20s: %v", err)
		}
		select {
		case err := <-served:
			t.Fatalf("serve stopped before answering: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestDevelopmentKeyWarning: without JWT_SECRET_KEY, development starts on
// the public key and says so in the log; with a key, no warning, and the
// key never appears in the log.
func TestDevelopmentKeyWarning(t *testing.T) {
	t.Run("no key", func(t *testing.T) {
		var logs syncBuffer
		serveUntilUp(t, map[string]string{}, &logs)
		if !strings.Contains(logs.String(), "JWT_SECRET_KEY is not set") {
			t.Fatalf("no warning about the development key in the log:\n%s", logs.String())
		}
	})
	t.Run("production with a key", func(t *testing.T) {
		var logs syncBuffer
		serveUntilUp(t, map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": strongKey, "MAIL_DISABLED": "true"}, &logs)
		out := logs.String()
		if strings.Contains(out, "JWT_SECRET_KEY is not set") || strings.Contains(out, strongKey) {
			t.Fatalf("the log warns about, or shows, the key:\n%s", out)
		}
		if !strings.Contains(out, "listening") {
			t.Fatalf("no start-up line in the log:\n%s", out)
		}
	})
}

// appOn is the app on db, as a running server would serve it.
func appOn(t *testing.T, db *testdb.DB) (do func(method, path, token string, body any) (int, map[string]any)) {
	t.Helper()
	cfg, err := config.Load(envFrom(map[string]string{"BCRYPT_COST": "4", "AUTH_RATE_LIMIT": "0", "JWT_SECRET_KEY": strongKey}))
	if err != nil {
		t.Fatal(err)
	}
	app := serviceOn(t, db, cfg).app
	return func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		raw := ""
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			raw = string(b)
		}
		r := call(t, app, method, path, token, raw, nil)
		var out map[string]any
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v", method, path, err)
		}
		return r.status, out
	}
}

// isAdmin reads the is_admin column of a user.
func isAdmin(t *testing.T, db *testdb.DB, email string) bool {
	t.Helper()
	var user models.User
	if err := db.Gorm.Where("email = ?", email).Take(&user).Error; err != nil {
		t.Fatal(err)
	}
	return user.IsAdmin
}

// TestPromoteAndDemoteAdmin drives the promote-admin and demote-admin
// commands against a database the API uses, and checks a token issued
// before the change follows it.
func TestPromoteAndDemoteAdmin(t *testing.T) {
	db := testdb.Open(t)
	vars := map[string]string{"DATABASE_URL": db.URL}
	command := func(args ...string) error {
		return run(context.Background(), args, envFrom(vars), io.Discard)
	}
	do := appOn(t, db)

	const email = "someone@example.com"
	creds := map[string]string{"email": email, "password": "correct horse"}
	if status, body := do("POST", "/register", "", creds); status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, body)
	}
	status, body := do("POST", "/login", "", creds)
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	token := body["access_token"].(string)
	newStore := func(name string) string {
		t.Helper()
		status, body := do("POST", "/stores", token, map[string]string{"name": name})
		if status != http.StatusCreated {
			t.Fatalf("create store: %d %v", status, body)
		}
		return fmt.Sprintf("/stores/%v", body["id"])
	}

	first := newStore("First")
	if status, body := do("DELETE", first, token, nil); status != http.StatusForbidden || body["error"] != "admin_required" {
		t.Fatalf("delete before promotion: %d %v, want 403 admin_required", status, body)
	}

	// The email is matched the way registration stores it.
	if err := command("promote-admin", "  SomeOne@Example.COM "); err != nil {
		t.Fatalf("promote-admin: %v", err)
	}
	if !isAdmin(t, db, email) {
		t.Fatal("promote-admin did not make the user an admin")
	}
	if status, body := do("DELETE", first, token, nil); status != http.StatusOK {
		t.Fatalf("delete after promotion: %d %v, want 200", status, body)
	}
	// Promoting twice is harmless.
	if err := command("promote-admin", email); err != nil {
		t.Fatalf("second promote-admin: %v", err)
	}

	if err := command("demote-admin", email); err != nil {
		t.Fatalf("demote-admin: %v", err)
	}
	if isAdmin(t, db, email) {
		t.Fatal("demote-admin left the user an admin")
	}
	second := newStore("Second")
	if status, body := do("DELETE", second, token, nil); status != http.StatusForbidden || body["error"] != "admin_required" {
		t.Fatalf("delete after demotion: %d %v, want 403 admin_required", status, body)
	}
}

func TestAdminCommandErrors(t *testing.T) {
	db := testdb.Open(t)
	vars := map[string]string{"DATABASE_URL": db.URL}
	if err := db.Gorm.Create(&models.User{Email: "known@example.com", PasswordHash: "x"}).Error; err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"promote-admin"}, "usage"},
		{[]string{"demote-admin"}, "usage"},
		{[]string{"promote-admin", "a@example.com", "b@example.com"}, "usage"},
		{[]string{"promote-admin", "nobody@example.com"}, "nobody@example.com"},
		{[]string{"demote-admin", "nobody@example.com"}, "nobody@example.com"},
		{[]string{"promote-admins", "known@example.com"}, "unknown command"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, envFrom(vars), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run %q = %v, want an error mentioning %q", tt.args, err, tt.want)
		}
	}
	if isAdmin(t, db, "known@example.com") {
		t.Fatal("a failed command changed a user")
	}
	var n int64
	if err := db.Gorm.Model(&models.User{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d users, want the commands to create none", n)
	}
}

// TestEndSessionsCommand: end-sessions signs a user out everywhere, and
// no one else.
func TestEndSessionsCommand(t *testing.T) {
	db := testdb.Open(t)
	vars := map[string]string{"DATABASE_URL": db.URL}
	do := appOn(t, db)
	login := func(email string) (access, refresh string) {
		t.Helper()
		status, body := do("POST", "/login", "", map[string]string{"email": email, "password": "correct horse"})
		if status != http.StatusOK {
			t.Fatalf("login: %d %v", status, body)
		}
		return body["access_token"].(string), body["refresh_token"].(string)
	}
	for _, email := range []string{"lost@example.com", "bystander@example.com"} {
		if status, body := do("POST", "/register", "", map[string]string{"email": email, "password": "correct horse"}); status != http.StatusCreated {
			t.Fatalf("register: %d %v", status, body)
		}
	}
	laptop, laptopRefresh := login("lost@example.com")
	phone, _ := login("lost@example.com")
	bystander, _ := login("bystander@example.com")

	if err := run(context.Background(), []string{"end-sessions", " Lost@Example.com "}, envFrom(vars), io.Discard); err != nil {
		t.Fatalf("end-sessions: %v", err)
	}
	for _, token := range []string{laptop, phone} {
		if status, body := do("GET", "/stores", token, nil); status != http.StatusUnauthorized || body["error"] != "token_revoked" {
			t.Errorf("a token of an ended session: %d %v, want 401 token_revoked", status, body)
		}
	}
	if status, body := do("POST", "/refresh", laptopRefresh, nil); status != http.StatusUnauthorized {
		t.Errorf("refresh after end-sessions: %d %v, want 401", status, body)
	}
	if status, body := do("POST", "/logout", bystander, nil); status != http.StatusOK {
		t.Errorf("another user's token: %d %v, want 200", status, body)
	}
	for _, args := range [][]string{{"end-sessions"}, {"end-sessions", "nobody@example.com"}} {
		if err := run(context.Background(), args, envFrom(vars), io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}
