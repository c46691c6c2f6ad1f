package resources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river/rivertype"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/mail"
	"stores-api/middleware"
	"stores-api/models"
	"stores-api/resources"
	"stores-api/tasks"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

const (
	adminEmail = "admin@example.com"
	userEmail  = "user@example.com"
	password   = "correct horse"
)

// testEnv is the real app on a clean database of its own.
type testEnv struct {
	t        testing.TB
	App      *fiber.App
	DB       *testdb.DB
	Data     *models.Models
	Sessions *blocklist.Sessions
	Config   config.Config
	Stack    *middleware.Stack
	Jobs     *tasks.Queue  // inserts jobs; works them once started (startWorkers)
	logs     *apptest.Logs // everything the app logs, as production writes it
	admin    string        // cached access tokens
	user     string
}

// testVars are the settings every test app starts from; a test overrides
// some with newEnvWith.
func testVars() map[string]string {
	return map[string]string{
		"BCRYPT_COST":     "4", // the minimum: tests are about behaviour, not hashing cost
		"AUTH_RATE_LIMIT": "0",
		"ADMIN_EMAILS":    adminEmail,
		"JWT_SECRET_KEY":  "test-secret-test-secret-test-secret!",
		// Tests choose their mail sender (newQueue); production wants
		// MAIL_URL or this.
		"MAIL_DISABLED": "true",
	}
}

func newEnv(t testing.TB) *testEnv { return newEnvWith(t, nil) }

// newEnvWith builds the app with some settings changed.
func newEnvWith(t testing.TB, vars map[string]string) *testEnv {
	t.Helper()
	return newEnvOn(t, testdb.Open(t), vars)
}

// newEnvOn builds an app on an existing database: a second instance
// sharing the first one's database, as a replica would.
func newEnvOn(t testing.TB, db *testdb.DB, vars map[string]string) *testEnv {
	t.Helper()
	return buildEnv(t, db, mustConfig(t, vars), 0, &apptest.Logs{})
}

// buildEnv builds the API as main does, on db, with its log written to
// logs, in JSON as in production, and the database work of a request
// bounded by dbTimeout (zero: the default).
func buildEnv(t testing.TB, db *testdb.DB, cfg config.Config, dbTimeout time.Duration, logs *apptest.Logs) *testEnv {
	t.Helper()
	log := logs.Logger()
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := middleware.New(middleware.Options{Config: cfg, Log: log, DB: sqlDB, Dialect: db.Dialect, DBTimeout: dbTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	e := &testEnv{t: t, DB: db, Data: models.New(db.Gorm, cfg.BcryptCost), Sessions: blocklist.New(db.Gorm), Config: cfg, logs: logs,
		Stack: stack}
	e.Jobs = newQueue(t, db, e.Data, cfg, log)
	e.App = resources.New(resources.Deps{Data: e.Data, Sessions: e.Sessions, Config: cfg, Log: log, Stack: e.Stack,
		Jobs: e.Jobs})
	return e
}

// fastRetries retries a failed job after a tenth of a second, so tests
// see a retry without waiting out River's backoff.
type fastRetries struct{}

func (fastRetries) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}

// newQueue is the job queue of a test app: it sends through MAIL_URL (a
// test SMTP server) or, without one, writes emails to the log, and polls
// for jobs often so tests see them worked soon.
func newQueue(t testing.TB, db *testdb.DB, data *models.Models, cfg config.Config, log *slog.Logger) *tasks.Queue {
	t.Helper()
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	var sender mail.Sender = mail.NewLog(log)
	if cfg.MailURL != "" {
		if sender, err = mail.NewSMTP(cfg.MailURL, cfg.MailFrom); err != nil {
			t.Fatal(err)
		}
	}
	q, err := tasks.New(tasks.Config{Dialect: db.Dialect, DB: sqlDB, Data: data, Mail: sender, PublicURL: cfg.PublicURL,
		Workers: cfg.Workers, Log: log, RetryPolicy: fastRetries{}, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// startWorkers starts the app's job workers until the test ends.
func (e *testEnv) startWorkers() {
	e.t.Helper()
	if err := e.Jobs.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(e.stopWorkers)
}

// stopWorkers stops the app's job workers as a shutdown does.
func (e *testEnv) stopWorkers() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Jobs.Stop(ctx); err != nil {
		e.t.Errorf("stopping the workers: %v", err)
	}
}

func mustConfig(t testing.TB, vars map[string]string) config.Config {
	t.Helper()
	all := testVars()
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.Load(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// response is what the app answered.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes an object body.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// List decodes an array body.
func (r response) List(t testing.TB) []any {
	t.Helper()
	var l []any
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("body is not a JSON array: %v\n%s", err, r.Body)
	}
	return l
}

// do sends a request. body may be nil (no body), a string or []byte (sent
// as is, as JSON) or anything else (encoded to JSON).
func (e *testEnv) do(method, path string, body any, token string) response {
	e.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, reader)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// send runs a prepared request through the app.
func (e *testEnv) send(req *http.Request) response {
	e.t.Helper()
	resp, err := e.App.Test(req, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.checkResponse(req, resp.StatusCode, resp.Header, body) // against openapi.json (openapi_test.go)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// expect fails the test unless the response has the status.
func expect(t testing.TB, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
}

// expectError checks the status and the error envelope; message may be ""
// to skip comparing it. It returns the decoded envelope.
func expectError(t testing.TB, r response, status int, message string) map[string]any {
	t.Helper()
	expect(t, r, status)
	body := r.JSON(t)
	if body["code"] != float64(status) || body["status"] != http.StatusText(status) {
		t.Fatalf("envelope code/status = %v/%v, want %d/%q: %s", body["code"], body["status"], status, http.StatusText(status), r.Body)
	}
	if msg, _ := body["message"].(string); msg == "" || (message != "" && msg != message) {
		t.Fatalf("message = %q, want %q", body["message"], message)
	}
	return body
}

// expectFieldError checks a 422 names field under location ("json", "query").
func expectFieldError(t testing.TB, r response, location, field string) {
	t.Helper()
	body := expectError(t, r, http.StatusUnprocessableEntity, "")
	errs, _ := body["errors"].(map[string]any)
	fields, _ := errs[location].(map[string]any)
	if msgs, _ := fields[field].([]any); len(msgs) == 0 {
		t.Fatalf("errors.%s.%s missing: %s", location, field, r.Body)
	}
}

// register creates a user and returns its id.
func (e *testEnv) register(email string) int64 {
	e.t.Helper()
	r := e.do("POST", "/register", map[string]string{"email": email, "password": password}, "")
	expect(e.t, r, http.StatusCreated)
	return int64(r.JSON(e.t)["user"].(map[string]any)["id"].(float64))
}

// login returns a fresh access token and a refresh token.
func (e *testEnv) login(email string) (access, refresh string) {
	e.t.Helper()
	r := e.do("POST", "/login", map[string]string{"email": email, "password": password}, "")
	expect(e.t, r, http.StatusOK)
	body := r.JSON(e.t)
	return body["access_token"].(string), body["refresh_token"].(string)
}

// adminToken is a fresh access token of an admin (registered on first use).
func (e *testEnv) adminToken() string {
	if e.admin == "" {
		e.register(adminEmail)
		e.admin, _ = e.login(adminEmail)
	}
	return e.admin
}

// userToken is a fresh access token of a user who is not an admin.
func (e *testEnv) userToken() string {
	if e.user == "" {
		e.register(userEmail)
		e.user, _ = e.login(userEmail)
	}
	return e.user
}

// id reads the "id" of a created resource.
func id(t testing.TB, r response) int64 {
	t.Helper()
	v, ok := r.JSON(t)["id"].(float64)
	if !ok {
		t.Fatalf("no id in %s", r.Body)
	}
	return int64(v)
}

func (e *testEnv) mustCreateStore(name string) int64 {
	e.t.Helper()
	r := e.do("POST", "/stores", map[string]any{"name": name}, e.adminToken())
	expect(e.t, r, http.StatusCreated)
	return id(e.t, r)
}

func (e *testEnv) mustCreateItem(storeID int64, name string, price string) int64 {
	e.t.Helper()
	body := fmt.Sprintf(`{"name": %q, "price": %s, "store_id": %d}`, name, price, storeID)
	r := e.do("POST", "/items", body, e.adminToken())
	expect(e.t, r, http.StatusCreated)
	return id(e.t, r)
}

func (e *testEnv) mustCreateTag(storeID int64, name string) int64 {
	e.t.Helper()
	r := e.do("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": name}, e.adminToken())
	expect(e.t, r, http.StatusCreated)
	return id(e.t, r)
}

func (e *testEnv) mustLink(itemID int64, tagIDs ...int64) {
	e.t.Helper()
	r := e.do("POST", fmt.Sprintf("/items/%d/tags", itemID), map[string]any{"tag_ids": tagIDs}, e.adminToken())
	expect(e.t, r, http.StatusOK)
}

// count counts rows of a table.
func (e *testEnv) count(table string) int64 {
	e.t.Helper()
	var n int64
	if err := e.DB.Gorm.Table(table).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// countWhere counts the rows of a table that meet a condition.
func (e *testEnv) countWhere(table, condition string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.DB.Gorm.Table(table).Where(condition, args...).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func containsBytes(b []byte, s string) bool { return strings.Contains(string(b), s) }

// priceLiteral is the price of an item body as its JSON text, exactly as
// sent: 5, not 5.00; 19.99, not 19.990000000000002.
func priceLiteral(t testing.TB, body []byte) string {
	t.Helper()
	var item struct{ Price json.RawMessage }
	if err := json.Unmarshal(body, &item); err != nil || item.Price == nil {
		t.Fatalf("no price in %s: %v", body, err)
	}
	return string(item.Price)
}

// listen serves the app on a real loopback listener until the test ends
// and returns its base URL.
func (e *testEnv) listen() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go e.App.Listener(ln)
	e.t.Cleanup(func() { e.App.Shutdown() })
	return "http://" + ln.Addr().String()
}
