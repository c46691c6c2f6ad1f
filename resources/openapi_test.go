package resources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"stores-api/internal/browsertest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// openAPIFile is the document the app embeds and serves at /openapi.json.
const openAPIFile = "openapi.json"

// apiDoc is the OpenAPI document with its router, loaded once per test
// binary: every response of the suite is validated against it.
var apiDoc struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadAPIDoc() (*openapi3.T, routers.Router, error) {
	apiDoc.once.Do(func() {
		// kin-openapi decodes text/plain bodies only; an OpenMetrics
		// exposition (GET /metrics) is text too.
		openapi3filter.RegisterBodyDecoder("application/openmetrics-text", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(openAPIFile)
		if err == nil {
			err = doc.Validate(loader.Context)
		}
		var router routers.Router
		if err == nil {
			router, err = gorillamux.NewRouter(doc)
		}
		apiDoc.doc, apiDoc.router, apiDoc.err = doc, router, err
	})
	return apiDoc.doc, apiDoc.router, apiDoc.err
}

// checkResponse validates a response the app gave against the document:
// its status must be declared for the operation, its headers and body must
// match the declared ones, with the declared content type. A request the
// document has no operation for (an unknown path or method, the admin
// panel, the docs themselves) can only be checked for the error envelope
// when it got a JSON error.
func (e *testEnv) checkResponse(req *http.Request, status int, header http.Header, body []byte) {
	e.t.Helper()
	doc, router, err := loadAPIDoc()
	if err != nil {
		e.t.Errorf("loading %s: %v", openAPIFile, err)
		return
	}
	route, pathParams, err := router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		if status >= 400 && isJSON(header) {
			e.checkEnvelope(doc, req, status, body)
		}
		return
	}
	if err != nil {
		e.t.Errorf("%s %s: finding the route in %s: %v", req.Method, req.URL, openAPIFile, err)
		return
	}
	if status == http.StatusNotModified { // kin-openapi does not check 304s
		if route.Operation.Responses.Status(status) == nil {
			e.t.Errorf("%s %s answered 304, which %s does not declare", req.Method, req.URL.Path, openAPIFile)
		}
		if len(body) > 0 {
			e.t.Errorf("%s %s: a 304 has a body: %q", req.Method, req.URL.Path, body)
		}
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		e.t.Errorf("%s %s: the %d response disagrees with %s: %v\nbody: %s", req.Method, req.URL, status, openAPIFile, err, truncate(body))
	}
}

// checkEnvelope validates an error body against the Error schema.
func (e *testEnv) checkEnvelope(doc *openapi3.T, req *http.Request, status int, body []byte) {
	e.t.Helper()
	var value any
	err := json.Unmarshal(body, &value)
	if err == nil {
		err = doc.Components.Schemas["Error"].Value.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsResponse())
	}
	if err != nil {
		e.t.Errorf("%s %s: the %d error is not the envelope: %v\nbody: %s", req.Method, req.URL, status, err, truncate(body))
	}
}

func isJSON(header http.Header) bool {
	mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	return mediaType == "application/json"
}

func truncate(body []byte) []byte {
	if len(body) > 2000 {
		return append(body[:2000:2000], "…"...)
	}
	return body
}

// undocumentedRoute names the routes the document leaves out on purpose:
//   - /admin and /admin/...: the admin panel is HTML pages and forms for a
//     browser, not part of the JSON API;
//   - /openapi.json and /swagger-ui...: the description itself and the
//     viewer of it, not operations of the API.
func undocumentedRoute(path string) bool {
	return path == "/admin" || strings.HasPrefix(path, "/admin/") ||
		path == "/openapi.json" || path == "/swagger-ui" || strings.HasPrefix(path, "/swagger-ui/")
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPICoversEveryRoute fails when a route registered in the app is
// missing from the document, or the document names a route the app lacks.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc, _, err := loadAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)

	inApp := map[string]bool{}
	for _, r := range e.App.GetRoutes(true) {
		if r.Method == http.MethodHead || undocumentedRoute(r.Path) {
			continue // Fiber adds a HEAD for each GET
		}
		inApp[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	inDoc := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc[method+" "+path] = true
		}
	}
	for _, route := range sortedKeys(inApp) {
		if !inDoc[route] {
			t.Errorf("%s is served but not in %s", route, openAPIFile)
		}
	}
	for _, route := range sortedKeys(inDoc) {
		if !inApp[route] {
			t.Errorf("%s is in %s but the app does not serve it", route, openAPIFile)
		}
	}
	if len(inApp) < 20 {
		t.Fatalf("only %d routes found in the app: %v", len(inApp), sortedKeys(inApp))
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestOpenAPIDocument checks the served document is the checked one, is
// OpenAPI 3, and puts the bearer scheme on exactly the protected routes.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/openapi.json", nil, "")
	expect(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	onDisk, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Body, onDisk) {
		t.Error("GET /openapi.json does not serve " + openAPIFile)
	}
	if v := r.JSON(t)["openapi"]; v != "3.0.3" {
		t.Errorf("openapi = %v", v)
	}
	// Public, and cacheable like every GET.
	if cc := r.Header.Get("Cache-Control"); strings.Contains(cc, "private") {
		t.Errorf("Cache-Control = %q", cc)
	}
	again := e.get("/openapi.json", "", map[string]string{"If-None-Match": r.Header.Get("ETag")})
	if r.Header.Get("ETag") == "" || again.Status != http.StatusNotModified {
		t.Errorf("ETag %q, revalidation answered %d", r.Header.Get("ETag"), again.Status)
	}

	doc, _, err := loadAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	public := []string{"GET /", "POST /register", "POST /login", "GET /healthz", "GET /readyz", "GET /metrics",
		"GET /verify-email", "POST /password-reset", "POST /password-reset/confirm"}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := method + " " + path
			wantAuth := !slices.Contains(public, route)
			hasAuth := op.Security != nil && len(*op.Security) == 1 && (*op.Security)[0]["bearerAuth"] != nil
			if hasAuth != wantAuth {
				t.Errorf("%s: bearer security = %v, want %v", route, hasAuth, wantAuth)
			}
			if wantAuth && op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s: protected but declares no 401", route)
			}
			if method == http.MethodGet && op.Responses.Status(http.StatusNotModified) == nil {
				t.Errorf("%s: declares no 304", route)
			}
		}
	}
	// Without a token, a protected route answers 401 as documented, and
	// the index of GET / answers 200 (send checks it against the document).
	expectError(t, e.do("GET", "/items", nil, ""), http.StatusUnauthorized, "")
	expect(t, e.do("GET", "/", nil, ""), http.StatusOK)
}

// TestSwaggerUI checks the page and every asset it loads are served by the
// app itself, so it works offline.
func TestSwaggerUI(t *testing.T) {
	e := newEnv(t)
	page := e.do("GET", "/swagger-ui", nil, "")
	expect(t, page, http.StatusOK)
	if ct := page.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	html := string(page.Body)
	assets := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(assets) != 3 {
		t.Fatalf("want the css and two scripts, found %v", assets)
	}
	for _, m := range assets {
		url := m[1]
		if !strings.HasPrefix(url, "/swagger-ui/") {
			t.Errorf("%s is not served by the app", url)
			continue
		}
		r := e.do("GET", url, nil, "")
		expect(t, r, http.StatusOK)
		if len(r.Body) < 100 {
			t.Errorf("%s: %d bytes", url, len(r.Body))
		}
		want := "text/javascript"
		if strings.HasSuffix(url, ".css") {
			want = "text/css"
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("%s: Content-Type = %q, want %s", url, ct, want)
		}
	}
	init := e.do("GET", "/swagger-ui/swagger-initializer.js", nil, "")
	for _, want := range []string{`url: "/openapi.json"`, "validatorUrl: null"} {
		if !strings.Contains(string(init.Body), want) {
			t.Errorf("initializer lacks %s", want)
		}
	}
	if strings.Contains(html+string(init.Body), "http") {
		t.Error("the page or its initializer names an outside URL")
	}
	// Only the listed files are served.
	for _, path := range []string{"/swagger-ui/LICENSE", "/swagger-ui/..%2fopenapi.go", "/swagger-ui/index.html"} {
		expectError(t, e.do("GET", path, nil, ""), http.StatusNotFound, "")
	}
}

// TestResponseValidationCatchesDrift makes sure the validation the suite
// relies on can fail: a body or status that disagrees with the document is
// reported.
func TestResponseValidationCatchesDrift(t *testing.T) {
	_, router, err := loadAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"undeclared status", "GET", "/stores/1", http.StatusTeapot, jsonHeader(), `{}`},
		{"missing field", "GET", "/tags/1", http.StatusNotFound, jsonHeader(), `{"code":404,"status":"Not Found"}`},
		{"extra field", "POST", "/logout", http.StatusOK, authHeader(), `{"message":"ok","extra":1}`},
		{"missing ETag", "GET", "/stores/1", http.StatusOK, authHeader(),
			`{"id":1,"name":"a","items":[],"tags":[]}`},
		{"wrong content type", "GET", "/items/1", http.StatusNotFound, http.Header{"Content-Type": {"text/plain"}}, `nope`},
		{"price as a string", "GET", "/items/1", http.StatusOK, withETag(authHeader()),
			`{"id":1,"name":"a","price":"1.00","description":null,"store":{"id":1,"name":"s"},"tags":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatal(err)
			}
			err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
				Status:                 tc.status,
				Header:                 tc.header,
				Body:                   io.NopCloser(strings.NewReader(tc.body)),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			})
			if err == nil {
				t.Error("validation passed")
			}
		})
	}
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func authHeader() http.Header {
	h := jsonHeader()
	h.Set("Cache-Control", "private, no-cache")
	return h
}

func withETag(h http.Header) http.Header {
	h.Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	return h
}

// TestSwaggerUIInBrowser opens Swagger UI in a real Chromium, under the
// app's own security headers: every operation of the document is shown,
// and a request made from the page with a token gets its answer. Nothing
// is loaded from outside the app.
func TestSwaggerUIInBrowser(t *testing.T) {
	doc, _, err := loadAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	operations := 0
	for _, item := range doc.Paths.Map() {
		operations += len(item.Operations())
	}
	e := newEnv(t)
	token := e.userToken()
	e.mustCreateStore("Corner Shop")
	b := browsertest.New(t, e.listen())

	b.Open("/swagger-ui")
	b.Run("render the document", chromedp.WaitVisible(chromedp.CSS("#operations-Items-listItems")))
	b.ExpectText(".info .title", "Stores REST API")
	if n := browsertest.Get(b, "count operations", chromedp.Evaluate[int](`document.querySelectorAll(".opblock").length`)); n != operations {
		t.Errorf("the page shows %d operations, the document has %d", n, operations)
	}

	// Authorize with a token, then try GET /stores from the page.
	b.Run("authorize",
		chromedp.Click(chromedp.CSS(".auth-wrapper .authorize")),
		chromedp.WaitVisible(chromedp.CSS(".auth-container input")),
		chromedp.SendKeys(chromedp.CSS(".auth-container input"), token),
		chromedp.Click(chromedp.CSS(".auth-btn-wrapper .authorize")),
		chromedp.Click(chromedp.CSS(".auth-btn-wrapper .btn-done")),
	)
	b.Run("try GET /stores",
		chromedp.Click(chromedp.CSS("#operations-Stores-listStores .opblock-summary-control")),
		chromedp.WaitVisible(chromedp.CSS("#operations-Stores-listStores .try-out__btn")),
		chromedp.Click(chromedp.CSS("#operations-Stores-listStores .try-out__btn")),
		chromedp.Click(chromedp.CSS("#operations-Stores-listStores .execute")),
		chromedp.WaitVisible(chromedp.CSS("#operations-Stores-listStores .live-responses-table .response .response-col_status")),
	)
	b.ExpectText("#operations-Stores-listStores .live-responses-table .response .response-col_status", "200")
	b.ExpectText("#operations-Stores-listStores .live-responses-table .response .response-col_description", "Corner Shop")
}
