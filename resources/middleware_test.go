package resources_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"stores-api/internal/apptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"
)

// captureLogs returns what the app logs from now on, in JSON as in
// production.
func captureLogs(e *testEnv) *apptest.Logs {
	e.logs.Reset()
	return e.logs
}

// raw sends a request through the app without the OpenAPI check of e.do,
// for answers the document does not describe (503s, preflights, panics).
// It is safe to call from several goroutines.
func (e *testEnv) raw(req *http.Request) (response, error) {
	return e.rawWithin(req, -1)
}

// rawWithin is raw with a time limit (-1: none): past it the request
// fails instead of hanging the test.
func (e *testEnv) rawWithin(req *http.Request, limit time.Duration) (response, error) {
	ms := -1
	if limit > 0 {
		ms = int(limit.Milliseconds())
	}
	resp, err := e.App.Test(req, ms)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}, err
}

// request builds a request with an optional JSON body and token.
func request(method, path, body, token string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	get := func(id string) string {
		t.Helper()
		req := httptest.NewRequest("GET", "/healthz", nil)
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		r := e.send(req)
		expect(t, r, http.StatusOK)
		return r.Header.Get("X-Request-ID")
	}

	t.Run("generated when absent, unique", func(t *testing.T) {
		a, b := get(""), get("")
		if !uuidPattern.MatchString(a) || !uuidPattern.MatchString(b) || a == b {
			t.Fatalf("generated ids %q, %q: want two different UUIDs", a, b)
		}
	})
	t.Run("echoed when sane", func(t *testing.T) {
		for _, id := range []string{"abc-123", "Root=1-67891233-abcdef012345678912345678", strings.Repeat("x", 128)} {
			if got := get(id); got != id {
				t.Errorf("sent %q, echoed %q", id, got)
			}
		}
	})
	t.Run("replaced when not", func(t *testing.T) {
		for _, id := range []string{strings.Repeat("x", 129), "has space", "semi;colon", `quote"`, "new\tline", "é"} {
			if got := get(id); !uuidPattern.MatchString(got) {
				t.Errorf("sent %q, got %q: want a generated UUID", id, got)
			}
		}
	})
}

func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Logged")
	var users []struct{ ID int64 }
	if err := e.DB.Gorm.Table("users").Where("email = ?", adminEmail).Find(&users).Error; err != nil || len(users) != 1 {
		t.Fatal(err, users)
	}
	userID := users[0].ID
	logs := captureLogs(e)

	t.Run("route pattern, user and request id", func(t *testing.T) {
		req := request("GET", fmt.Sprintf("/stores/%d", storeID), "", token)
		req.Header.Set("X-Request-ID", "trace-42")
		r := e.send(req)
		expect(t, r, http.StatusOK)
		line := logs.Single(t, "request")
		want := map[string]any{
			"level": "INFO", "method": "GET", "route": "/stores/:id", "path": fmt.Sprintf("/stores/%d", storeID),
			"status": float64(200), "bytes": float64(len(r.Body)), "request_id": "trace-42", "user_id": float64(userID),
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s = %v, want %v (line %v)", k, line[k], v, line)
			}
		}
		if d, ok := line["duration"].(float64); !ok || d <= 0 {
			t.Errorf("duration = %v, want a positive number of nanoseconds", line["duration"])
		}
	})
	t.Run("errors: final status, no user without a token", func(t *testing.T) {
		r := e.do("GET", "/stores/1", nil, "")
		expectError(t, r, http.StatusUnauthorized, "")
		line := logs.Single(t, "request")
		if line["status"] != float64(401) || line["route"] != "/stores/:id" || line["bytes"] != float64(len(r.Body)) {
			t.Errorf("line %v does not describe the 401 sent (%d bytes)", line, len(r.Body))
		}
		if _, ok := line["user_id"]; ok {
			t.Errorf("user_id logged for an anonymous request: %v", line)
		}
		if line["request_id"] != r.Header.Get("X-Request-ID") || line["request_id"] == "" {
			t.Errorf("request_id %v, response header %q", line["request_id"], r.Header.Get("X-Request-ID"))
		}
	})
	t.Run("no route: the raw path is not the route", func(t *testing.T) {
		r := e.do("GET", "/no/such/thing", nil, "")
		expectError(t, r, http.StatusNotFound, "")
		line := logs.Single(t, "request")
		if line["route"] != "unmatched" || line["path"] != "/no/such/thing" || line["status"] != float64(404) {
			t.Errorf("line %v", line)
		}
	})
}

func TestPanicRecovered(t *testing.T) {
	e := newEnv(t)
	e.App.Get("/test-panic/:kind", func(c *fiber.Ctx) error {
		if c.Params("kind") == "error" {
			// An error value that would otherwise map to 404.
			panic(gorm.ErrRecordNotFound)
		}
		panic("something impossible happened")
	})
	logs := captureLogs(e)
	for _, kind := range []string{"value", "error"} {
		t.Run(kind, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/test-panic/"+kind, nil)
			req.Header.Set("X-Request-ID", "panic-"+kind)
			r, err := e.raw(req)
			if err != nil {
				t.Fatal(err)
			}
			expectError(t, r, http.StatusInternalServerError, "Internal server error.")
			if r.Header.Get("X-Request-ID") != "panic-"+kind {
				t.Errorf("X-Request-ID = %q", r.Header.Get("X-Request-ID"))
			}
			if containsBytes(r.Body, "impossible") || containsBytes(r.Body, "goroutine") {
				t.Errorf("the panic leaks to the client: %s", r.Body)
			}
			panicLine := logs.Take(t, "panic recovered")
			if len(panicLine) != 1 {
				t.Fatalf("%d panic log lines, want 1", len(panicLine))
			}
			if panicLine[0]["request_id"] != "panic-"+kind ||
				!strings.Contains(fmt.Sprint(panicLine[0]["stack"]), "middleware_test.go") {
				t.Errorf("panic line lacks the request id or the stack: %v", panicLine[0])
			}
		})
	}
	// The app keeps serving.
	expect(t, e.do("GET", "/healthz", nil, ""), http.StatusOK)
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/stores/1", "/nowhere"} {
		r := e.do("GET", path, nil, "")
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("%s: CSP %q allows inline or eval'd scripts", path, csp)
		}
		for k, v := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP", path)
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", path, h.Get("Content-Type"))
		}
		r.JSON(t) // still a JSON body
	}
}

func TestCORS(t *testing.T) {
	preflight := func(e *testEnv, origin string) response {
		t.Helper()
		req := httptest.NewRequest("OPTIONS", "/stores", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		r, err := e.raw(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	simple := func(e *testEnv, origin string) response {
		t.Helper()
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Header.Set("Origin", origin)
		return e.send(req)
	}

	t.Run("off by default", func(t *testing.T) {
		e := newEnv(t)
		if h := preflight(e, "https://app.example.com").Header.Get("Access-Control-Allow-Origin"); h != "" {
			t.Errorf("preflight allowed %q with no CORS_ORIGINS", h)
		}
		if h := simple(e, "https://app.example.com").Header.Get("Access-Control-Allow-Origin"); h != "" {
			t.Errorf("GET allowed %q with no CORS_ORIGINS", h)
		}
	})
	t.Run("listed origins only", func(t *testing.T) {
		e := newEnvWith(t, map[string]string{"CORS_ORIGINS": "https://app.example.com, http://localhost:3000, not an origin"})
		r := preflight(e, "https://app.example.com")
		if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Fatalf("preflight: %d, allow-origin %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
		}
		if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "content-type") {
			t.Errorf("Access-Control-Allow-Headers = %q", h)
		}
		if r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentials allowed: tokens travel in a header, never cookies")
		}
		g := simple(e, "http://localhost:3000")
		if g.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
			!strings.Contains(g.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
			t.Errorf("GET: allow-origin %q, expose %q", g.Header.Get("Access-Control-Allow-Origin"), g.Header.Get("Access-Control-Expose-Headers"))
		}
		for _, other := range []string{"https://evil.example.com", "https://app.example.com.evil.example"} {
			if h := preflight(e, other).Header.Get("Access-Control-Allow-Origin"); h != "" {
				t.Errorf("%s allowed as %q", other, h)
			}
		}
	})
}

func TestCompression(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	for i := 0; i < 20; i++ {
		e.mustCreateStore(fmt.Sprintf("Compressed store number %02d", i))
	}
	get := func(path, encoding, ifNoneMatch string) response {
		t.Helper()
		req := request("GET", path, "", token)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		r, err := e.raw(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	plain := get("/stores", "", "")
	expect(t, plain, http.StatusOK)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("compressed without Accept-Encoding")
	}
	zipped := get("/stores", "gzip", "")
	expect(t, zipped, http.StatusOK)
	if zipped.Header.Get("Content-Encoding") != "gzip" || len(zipped.Body) >= len(plain.Body) {
		t.Fatalf("Content-Encoding %q, %d bytes for %d plain", zipped.Header.Get("Content-Encoding"), len(zipped.Body), len(plain.Body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.Body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain.Body) {
		t.Fatalf("gunzipped body differs (%v)", err)
	}
	if !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q, want Accept-Encoding in it", zipped.Header.Get("Vary"))
	}
	// Where the app sends ETags, they describe the content, so a client
	// can revalidate a compressed copy.
	if etag := plain.Header.Get("ETag"); etag != "" {
		if zipped.Header.Get("ETag") != etag {
			t.Errorf("ETag differs: %q vs %q", zipped.Header.Get("ETag"), etag)
		}
		expect(t, get("/stores", "gzip", etag), http.StatusNotModified)
	}
	// Small bodies are not worth it.
	if small := get("/healthz", "gzip", ""); small.Header.Get("Content-Encoding") != "" {
		t.Errorf("a %d-byte body was compressed", len(small.Body))
	}
}

func TestTrustedProxies(t *testing.T) {
	// Each case logs in with wrong credentials three times, with the
	// forwarded addresses given; AUTH_RATE_LIMIT=2 answers the third 429
	// when the three share a key.
	login := func(t *testing.T, base string, forwarded string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(`{"email":"nobody@example.com","password":"wrong"}`))
		req.Header.Set("Content-Type", "application/json")
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name      string
		trusted   string
		forwarded [3]string
		want      [3]int
	}{
		{"trusted proxy: keyed on the forwarded client", "127.0.0.1",
			[3]string{"203.0.113.7", "203.0.113.7", "203.0.113.8"}, [3]int{401, 401, 401}},
		{"trusted proxy: same client is limited", "127.0.0.0/8",
			[3]string{"203.0.113.7", "203.0.113.7", "203.0.113.7"}, [3]int{401, 401, 429}},
		{"trusted proxy: a forged left part does not help", "127.0.0.1",
			[3]string{"198.51.100.1, 203.0.113.7", "198.51.100.2, 203.0.113.7", "198.51.100.3,203.0.113.7"}, [3]int{401, 401, 429}},
		{"no trusted proxies: a spoofed header is ignored", "",
			[3]string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, [3]int{401, 401, 429}},
		{"untrusted peer: a spoofed header is ignored", "10.0.0.0/8",
			[3]string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, [3]int{401, 401, 429}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, map[string]string{"AUTH_RATE_LIMIT": "2", "TRUSTED_PROXIES": tc.trusted})
			logs := captureLogs(e)
			base := e.listen()
			for i := range 3 {
				if got := login(t, base, tc.forwarded[i]); got != tc.want[i] {
					t.Fatalf("login %d with X-Forwarded-For %q: %d, want %d", i+1, tc.forwarded[i], got, tc.want[i])
				}
			}
			lines := logs.Take(t, "request")
			if len(lines) != 3 {
				t.Fatalf("%d access lines, want 3", len(lines))
			}
			wantIP := "127.0.0.1"
			if tc.trusted == "127.0.0.1" || tc.trusted == "127.0.0.0/8" {
				wantIP = "203.0.113.7"
			}
			if lines[0]["ip"] != wantIP {
				t.Errorf("logged ip %v, want %s", lines[0]["ip"], wantIP)
			}
		})
	}
}

// TestErrorsAreNotTheDatabaseDown checks the 503 mapping does not swallow
// ordinary failures: a constraint error is still a 409 and an unknown
// error a 500.
func TestErrorsAreNotTheDatabaseDown(t *testing.T) {
	e := newEnv(t)
	e.mustCreateStore("Twice")
	expectError(t, e.do("POST", "/stores", map[string]any{"name": "Twice"}, e.adminToken()), http.StatusConflict, "")
	e.App.Get("/test-fail", func(*fiber.Ctx) error { return errors.New("some bug") })
	r, err := e.raw(httptest.NewRequest("GET", "/test-fail", nil))
	if err != nil {
		t.Fatal(err)
	}
	expectError(t, r, http.StatusInternalServerError, "Internal server error.")
}
