package admin_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"stores-api/admin"
	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/mail"
	"stores-api/middleware"
	"stores-api/models"
	"stores-api/schemas"
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

// testEnv is the admin panel, mounted as main mounts it, behind the
// middleware both front ends share, on a clean database of its own. Its
// data is seeded through the data layer; the JSON API is not part of it.
type testEnv struct {
	t        testing.TB
	App      *fiber.App
	DB       *testdb.DB
	Data     *models.Models
	Sessions *blocklist.Sessions
	// Jobs is the job queue, without workers: its jobs stay available.
	Jobs   *tasks.Queue
	Config config.Config
	logs   *apptest.Logs
}

func newEnv(t testing.TB) *testEnv { return newEnvWith(t, nil) }

// newEnvWith builds the panel with some settings changed.
func newEnvWith(t testing.TB, vars map[string]string) *testEnv {
	t.Helper()
	return newEnvOn(t, testdb.Open(t), vars)
}

// newEnvOn builds the panel on an existing database, as a replica would.
func newEnvOn(t testing.TB, db *testdb.DB, vars map[string]string) *testEnv {
	t.Helper()
	return buildEnv(t, db, vars, 0)
}

// buildEnv builds the panel with the database work of a request bounded by
// dbTimeout (zero: the default).
func buildEnv(t testing.TB, db *testdb.DB, vars map[string]string, dbTimeout time.Duration) *testEnv {
	t.Helper()
	all := map[string]string{
		"BCRYPT_COST":     "4",
		"AUTH_RATE_LIMIT": "0",
		"ADMIN_EMAILS":    adminEmail,
		"JWT_SECRET_KEY":  "test-secret-test-secret-test-secret!",
		// The panel sends no email itself; production wants it decided.
		"MAIL_DISABLED": "true",
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.Load(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &apptest.Logs{}
	log := logs.Logger()
	e := &testEnv{t: t, DB: db, Data: models.New(db.Gorm, cfg.BcryptCost), Sessions: blocklist.New(db.Gorm),
		Config: cfg, logs: logs}
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	// Workers 0: jobs are inserted only, so a test sees them as they were
	// enqueued.
	e.Jobs, err = tasks.New(tasks.Config{Dialect: db.Dialect, DB: sqlDB, Data: e.Data, Mail: mail.NewLog(log),
		PublicURL: "http://localhost:5000", Workers: 0, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	stack, err := middleware.New(middleware.Options{Config: cfg, Log: log, DBTimeout: dbTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	// What is not the panel's gets a bare 404, as the API would answer it.
	e.App = fiber.New(stack.AppConfig(func(c *fiber.Ctx, err error) error { return c.SendStatus(fiber.StatusNotFound) }))
	stack.Install(e.App)
	e.App.Mount(admin.Prefix, admin.New(admin.Deps{Data: e.Data, Sessions: e.Sessions, Config: cfg, Log: log,
		SignInLimit: stack.SignInLimit(), Jobs: e.Jobs}))
	return e
}

// response is what the app answered.
type response struct {
	Status int
	Header http.Header
	Body   []byte
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
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// expect fails the test unless the response has the status.
func expect(t testing.TB, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %.500s", r.Status, status, r.Body)
	}
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

// register creates an account with the test password, an admin when
// ADMIN_EMAILS names it, and returns its id.
func (e *testEnv) register(email string) int64 {
	e.t.Helper()
	isAdmin := strings.Contains(","+strings.Join(e.Config.AdminEmails, ",")+",", ","+email+",")
	user, err := e.Data.Users.Create(context.Background(), email, password, isAdmin, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return user.ID
}

// userID is the id of the account with this email.
func (e *testEnv) userID(email string) int64 {
	e.t.Helper()
	user, err := e.Data.Users.ByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return user.ID
}

// startSession signs a user in elsewhere (an API login, say) and returns
// the session's id.
func (e *testEnv) startSession(userID int64) string {
	e.t.Helper()
	sid, err := e.Sessions.Start(context.Background(), userID, "refresh", timeIn(1))
	if err != nil {
		e.t.Fatal(err)
	}
	return sid
}

// sessionEnded reports whether a session is over.
func (e *testEnv) sessionEnded(sid string, userID int64) bool {
	e.t.Helper()
	state, err := e.Sessions.Check(context.Background(), sid, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	return state.Ended || !state.UserExists
}

func (e *testEnv) mustCreateStore(name string) int64 {
	e.t.Helper()
	store, err := e.Data.Stores.Create(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return store.ID
}

func (e *testEnv) mustCreateItem(storeID int64, name, price string) int64 {
	e.t.Helper()
	cents, err := schemas.ParsePrice(price)
	if err != nil {
		e.t.Fatal(err)
	}
	item, err := e.Data.Items.Create(context.Background(), models.Item{Name: name, PriceCents: cents, StoreID: storeID})
	if err != nil {
		e.t.Fatal(err)
	}
	return item.ID
}

func (e *testEnv) mustCreateTag(storeID int64, name string) int64 {
	e.t.Helper()
	tag, err := e.Data.Tags.Create(context.Background(), storeID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return tag.ID
}

func (e *testEnv) mustLink(itemID int64, tagIDs ...int64) {
	e.t.Helper()
	if _, err := e.Data.Items.LinkTags(context.Background(), itemID, tagIDs, nil); err != nil {
		e.t.Fatal(err)
	}
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

// captureLogs returns what the app logs from now on.
func captureLogs(e *testEnv) *apptest.Logs {
	e.logs.Reset()
	return e.logs
}

// timeIn is hours from now.
func timeIn(hours int) time.Time { return time.Now().Add(time.Duration(hours) * time.Hour) }
