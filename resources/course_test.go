package resources_test

import (
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
