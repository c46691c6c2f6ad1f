package resources_test

import (
	"fmt"
	"net/http"
	"testing"
)

// The course's singular paths answer 404 naming ours; other unknown paths
// keep the usual 404.
func TestCoursePathsNameOurs(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	for _, tt := range []struct{ method, path, ours string }{
		{"GET", "/store", "/stores"},
		{"POST", "/store", "/stores"},
		{"GET", "/store/1", "/stores/1"},
		{"DELETE", "/store/1", "/stores/1"},
		{"GET", "/item", "/items"},
		{"PUT", "/item/7", "/items/7"},
		{"GET", "/store/1/tag", "/stores/1/tags"},
		{"POST", "/item/1/tag/2", "/items/1/tags/2"},
		{"GET", "/tag/3", "/tags/3"},
	} {
		r := e.do(tt.method, tt.path, nil, token)
		expectError(t, r, http.StatusNotFound, "This API's path is "+tt.ours+": see docs/COURSE.md.")
	}
	for _, path := range []string{"/stores/1/nothing", "/storefront", "/nothing"} {
		expectError(t, e.do("GET", path, nil, token), http.StatusNotFound, "The requested URL was not found on the server.")
	}
}

// Names are unique whatever the case of every letter, on both databases.
func TestNamesAreUniqueWhateverTheCaseOfAnyLetter(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Café")
	for _, name := range []string{"CAFÉ", "café", "Cafe\u0301"} { // the last: e and a combining accent
		expect(t, e.do("POST", "/stores", map[string]any{"name": name}, token), http.StatusConflict)
	}
	e.mustCreateStore("Straße")
	expect(t, e.do("POST", "/stores", map[string]any{"name": "STRASSE"}, token), http.StatusConflict)

	e.mustCreateItem(storeID, "Crème", "1.50")
	r := e.do("POST", "/items", map[string]any{"name": "CRÈME", "price": 2, "store_id": storeID}, token)
	expect(t, r, http.StatusConflict)
	e.mustCreateTag(storeID, "Élan")
	expect(t, e.do("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": "éLAN"}, token), http.StatusConflict)
}
