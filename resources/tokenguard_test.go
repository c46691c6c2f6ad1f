package resources_test

import (
	"fmt"
	"net/http"
	"stores-api/internal/testdb"
	"testing"
)

// inlineCase is a request to a route whose handler checks the token in
// its own statement, and what it answers when the token is good.
type inlineCase struct {
	name         string
	method, path string
	body         string
	status       int // with a good token
}

// inlineCases covers each route behind requireAccessInline on the paths
// where its statement finds or writes nothing for a reason of its own: a
// missing row, a name taken, an unknown store, a bad body.
func inlineCases(storeID, itemID int64) []inlineCase {
	return []inlineCase{
		{"GET /items/{id}", "GET", fmt.Sprintf("/items/%d", itemID), "", http.StatusOK},
		{"GET /items/{id} missing", "GET", "/items/999999", "", http.StatusNotFound},
		{"GET /stores/{id}", "GET", fmt.Sprintf("/stores/%d", storeID), "", http.StatusOK},
		{"GET /stores/{id} missing", "GET", "/stores/999999", "", http.StatusNotFound},
		{"POST /stores", "POST", "/stores", `{"name": "Brand new"}`, http.StatusCreated},
		{"POST /stores name taken", "POST", "/stores", `{"name": "Existing"}`, http.StatusConflict},
		{"POST /stores bad body", "POST", "/stores", `{"name": ""}`, http.StatusUnprocessableEntity},
		{"POST /items", "POST", "/items", fmt.Sprintf(`{"name": "Brand new", "price": 1, "store_id": %d}`, storeID), http.StatusCreated},
		{"POST /items name taken", "POST", "/items", fmt.Sprintf(`{"name": "Existing", "price": 1, "store_id": %d}`, storeID), http.StatusConflict},
		{"POST /items unknown store", "POST", "/items", `{"name": "Lost", "price": 1, "store_id": 999999}`, http.StatusUnprocessableEntity},
		{"POST /items bad body", "POST", "/items", `{"name": "No price"}`, http.StatusUnprocessableEntity},
	}
}

// TestInlineTokenCheck: on the routes that check the token inside their
// own statement, a revoked token or a deleted user gets the same 401 as
// anywhere else, whatever the request would otherwise have got, and
// writes nothing; a good token gets the route's own answer.
func TestInlineTokenCheck(t *testing.T) {
	shared := newEnv(t)
	storeID := shared.mustCreateStore("Existing")
	itemID := shared.mustCreateItem(storeID, "Existing", "1")
	for i, tc := range inlineCases(storeID, itemID) {
		t.Run(tc.name, func(t *testing.T) {
			e := shared.in(t)
			body := func() any {
				if tc.body == "" {
					return nil
				}
				return tc.body
			}
			revoked, _ := e.login(adminEmail)
			expect(t, e.do("POST", "/logout", nil, revoked), http.StatusOK)
			email := fmt.Sprintf("gone-%d@example.com", i)
			userID := e.register(email)
			gone, _ := e.login(email)
			expect(t, e.do("DELETE", fmt.Sprintf("/user/%d", userID), nil, e.adminToken()), http.StatusOK)

			stores, items := e.count("stores"), e.count("items")
			expectAuthError(t, e.do(tc.method, tc.path, body(), revoked), http.StatusUnauthorized, "token_revoked")
			expectAuthError(t, e.do(tc.method, tc.path, body(), gone), http.StatusUnauthorized, "user_not_found")
			if e.count("stores") != stores || e.count("items") != items {
				t.Fatalf("a refused token wrote: %d stores, %d items; want %d, %d",
					e.count("stores"), e.count("items"), stores, items)
			}

			good, _ := e.login(adminEmail)
			if r := e.do(tc.method, tc.path, body(), good); r.Status != tc.status {
				t.Fatalf("good token: %d %s, want %d", r.Status, r.Body, tc.status)
			}
		})
	}
}

// TestInlineRoutesSaveARoundTrip: the token check rides in the routes' own
// first statement, so each answers in the statements it needs for its
// data alone. Routes checked by the middleware spend one more.
func TestInlineRoutesSaveARoundTrip(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Counted")
	itemID := e.mustCreateItem(storeID, "Counted", "1")
	e.mustLink(itemID, e.mustCreateTag(storeID, "t"))
	counter := testdb.CountStatements(t, e.DB.Gorm)
	cases := []struct {
		method, path, body string
		status             int
		statements         int64
	}{
		{"GET", fmt.Sprintf("/items/%d", itemID), "", http.StatusOK, 1},                                                // item, store and tags
		{"GET", fmt.Sprintf("/stores/%d", storeID), "", http.StatusOK, 2},                                              // store and items, then tags
		{"POST", "/stores", `{"name": "New"}`, http.StatusCreated, 1},                                                  // the insert
		{"POST", "/items", fmt.Sprintf(`{"name": "New", "price": 2, "store_id": %d}`, storeID), http.StatusCreated, 2}, // insert, read back
		{"GET", "/tags/999999", "", http.StatusNotFound, 2},                                                            // the middleware's check, then the tag
		{"GET", "/items?per_page=100", "", http.StatusOK, 4},                                                           // the middleware's check, count, page, the page's tags
	}
	for _, c := range cases {
		var body any
		if c.body != "" {
			body = c.body
		}
		n := counter.Measure(func() { expect(t, e.do(c.method, c.path, body, token), c.status) })
		if n != c.statements {
			t.Errorf("%s %s took %d statements, want %d", c.method, c.path, n, c.statements)
		}
	}
}
