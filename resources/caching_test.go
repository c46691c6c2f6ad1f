package resources_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var strongETag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// get sends a GET with a token and extra headers.
func (e *testEnv) get(path, token string, header map[string]string) response {
	e.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return e.send(req)
}

// Every successful GET has an ETag; sending it back gets a 304 without a
// body, for as long as the resource does not change.
func TestETagRevalidation(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "19.99")
	tagID := e.mustCreateTag(storeID, "sale")
	e.mustLink(itemID, tagID)

	paths := []string{
		"/stores", fmt.Sprintf("/stores/%d", storeID),
		"/items", "/items?tag=sale&sort=-price", fmt.Sprintf("/items/%d", itemID),
		fmt.Sprintf("/stores/%d/tags", storeID), fmt.Sprintf("/tags/%d", tagID),
		"/healthz",
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			r := e.get(path, token, nil)
			expect(t, r, http.StatusOK)
			etag := r.Header.Get("ETag")
			if !strongETag.MatchString(etag) {
				t.Fatalf("ETag = %q", etag)
			}
			if again := e.get(path, token, nil); again.Header.Get("ETag") != etag {
				t.Errorf("ETag changed between two identical reads: %q, %q", etag, again.Header.Get("ETag"))
			}
			for _, inm := range []string{
				etag,
				"W/" + etag, // weak comparison: the W/ does not matter
				`"something-else", ` + etag,
				"*",
			} {
				r := e.get(path, token, map[string]string{"If-None-Match": inm})
				if r.Status != http.StatusNotModified {
					t.Errorf("If-None-Match: %s → %d, want 304", inm, r.Status)
				}
				if len(r.Body) != 0 {
					t.Errorf("304 with a body: %q", r.Body)
				}
				if r.Header.Get("ETag") != etag {
					t.Errorf("304 ETag = %q, want %q", r.Header.Get("ETag"), etag)
				}
			}
			for _, inm := range []string{`W/"0123456789abcdef0123456789abcdef"`, `"x"`, etag + "x"} {
				r := e.get(path, token, map[string]string{"If-None-Match": inm})
				expect(t, r, http.StatusOK)
				if len(r.Body) == 0 {
					t.Error("200 without a body")
				}
			}
		})
	}
}

// A change to the resource changes its ETag, so a stale copy is replaced.
func TestETagChangesWithTheResource(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "19.99")
	itemPath := fmt.Sprintf("/items/%d", itemID)

	list := e.get("/items", token, nil)
	item := e.get(itemPath, token, nil)
	expect(t, e.do("PUT", itemPath, `{"price": 20}`, token), http.StatusOK)

	for _, old := range []response{list, item} {
		path := "/items"
		if old.Body[0] == '{' {
			path = itemPath
		}
		r := e.get(path, token, map[string]string{"If-None-Match": old.Header.Get("ETag")})
		expect(t, r, http.StatusOK)
		if r.Header.Get("ETag") == old.Header.Get("ETag") {
			t.Errorf("GET %s: same ETag after the item changed", path)
		}
		body := r.Body
		if path == "/items" {
			var list []json.RawMessage
			if err := json.Unmarshal(r.Body, &list); err != nil || len(list) == 0 {
				t.Fatalf("GET /items: %s", r.Body)
			}
			body = list[0]
		}
		if literal := priceLiteral(t, body); literal != "20" {
			t.Errorf("GET %s: price %s, want 20", path, literal)
		}
	}
	// Another page of the same list is another representation.
	e.mustCreateItem(storeID, "Table", "5")
	p1 := e.get("/items?per_page=1", token, nil)
	p2 := e.get("/items?per_page=1&page=2", token, nil)
	if p1.Header.Get("ETag") == p2.Header.Get("ETag") {
		t.Error("two pages share an ETag")
	}
}

// Responses to requests with a token are private and must be revalidated,
// whatever their status; public ones are not marked private.
func TestCacheControl(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	storeID := e.mustCreateStore("Shop")

	authenticated := []response{
		e.get("/stores", token, nil),
		e.get(fmt.Sprintf("/stores/%d", storeID), token, nil),
		e.get("/stores/999999", token, nil),                                       // 404
		e.get("/items?sort=nope", token, nil),                                     // 422
		e.do("POST", "/stores", map[string]string{"name": "New"}, e.adminToken()), // 201
		e.do("DELETE", fmt.Sprintf("/stores/%d", storeID), nil, token),            // 403
		e.get("/items", token, map[string]string{"If-None-Match": "*"}),           // 304
	}
	for _, r := range authenticated {
		if cc := r.Header.Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("%d response: Cache-Control = %q, want private, no-cache", r.Status, cc)
		}
		if !strings.Contains(r.Header.Get("Vary"), "Authorization") {
			t.Errorf("%d response: Vary = %q", r.Status, r.Header.Get("Vary"))
		}
	}
	for _, r := range []response{e.get("/healthz", "", nil), e.get("/stores", "", nil)} {
		if strings.Contains(r.Header.Get("Cache-Control"), "private") {
			t.Errorf("%d response without a token is private: %q", r.Status, r.Header.Get("Cache-Control"))
		}
	}
	// A probe's no-store is stricter than private, and stays.
	if cc := e.get("/healthz", token, nil).Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /healthz with a token: Cache-Control = %q", cc)
	}
}

// Only successful GETs get an ETag: errors and writes do not.
func TestNoETagOnErrorsAndWrites(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Shop")
	for _, r := range []response{
		e.get("/stores/999999", token, nil),
		e.get("/items?page=0", token, nil),
		e.get("/items", "", nil),
		e.get("/stores/999999", token, map[string]string{"If-None-Match": "*"}),
		e.do("POST", "/stores", map[string]string{"name": "New"}, token),
		e.do("DELETE", fmt.Sprintf("/stores/%d", storeID), nil, token),
	} {
		if etag := r.Header.Get("ETag"); etag != "" {
			t.Errorf("%d response has ETag %q", r.Status, etag)
		}
		if r.Status == http.StatusNotModified {
			t.Error("an error or a write answered 304")
		}
	}
}

// HEAD answers like GET without the body, ETag included.
func TestHeadHasETag(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	get := e.get("/items", token, nil)
	req := httptest.NewRequest("HEAD", "/items", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	head := e.send(req)
	expect(t, head, http.StatusOK)
	if len(head.Body) != 0 || head.Header.Get("ETag") != get.Header.Get("ETag") {
		t.Errorf("HEAD: body %q, ETag %q; GET ETag %q", head.Body, head.Header.Get("ETag"), get.Header.Get("ETag"))
	}
}
