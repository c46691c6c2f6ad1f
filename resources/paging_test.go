package resources_test

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"stores-api/models"
)

var linkPart = regexp.MustCompile(`^<([^>]*)>; rel="(first|prev|next|last)"$`)

// links parses a Link header into rel → URL, failing on anything that is
// not the form the API documents.
func links(t *testing.T, r response) map[string]string {
	t.Helper()
	out := map[string]string{}
	header := r.Header.Get("Link")
	for _, part := range regexp.MustCompile(`, `).Split(header, -1) {
		m := linkPart.FindStringSubmatch(part)
		if m == nil {
			t.Fatalf("malformed Link header %q", header)
		}
		if _, dup := out[m[2]]; dup {
			t.Fatalf("rel %s twice in %q", m[2], header)
		}
		out[m[2]] = m[1]
	}
	return out
}

func totalCount(t *testing.T, r response) int {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("X-Total-Count"))
	if err != nil {
		t.Fatalf("X-Total-Count = %q", r.Header.Get("X-Total-Count"))
	}
	return n
}

// expectPage checks one page of a list: its length, the total and the
// exact links.
func expectPage(t *testing.T, r response, wantLen, wantTotal int, wantLinks map[string]string) {
	t.Helper()
	expect(t, r, http.StatusOK)
	if n := len(r.List(t)); n != wantLen {
		t.Errorf("%d entries, want %d", n, wantLen)
	}
	if n := totalCount(t, r); n != wantTotal {
		t.Errorf("X-Total-Count = %d, want %d", n, wantTotal)
	}
	if got := links(t, r); !maps.Equal(got, wantLinks) {
		t.Errorf("links = %v\nwant    %v", got, wantLinks)
	}
}

// seedStores inserts stores directly: paging needs more rows than is worth
// creating through the API one by one.
func (e *testEnv) seedStores(n int) {
	e.t.Helper()
	stores := make([]models.Store, n)
	for i := range stores {
		stores[i].Name = fmt.Sprintf("store %03d", i)
	}
	if err := e.DB.Gorm.Create(&stores).Error; err != nil {
		e.t.Fatal(err)
	}
}

func TestStoresPaging(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	e.seedStores(120)

	// Default: 50 a page.
	r := e.do("GET", "/stores", nil, token)
	expectPage(t, r, 50, 120, map[string]string{
		"first": "/stores?page=1&per_page=50",
		"next":  "/stores?page=2&per_page=50",
		"last":  "/stores?page=3&per_page=50",
	})
	if first := r.List(t)[0].(map[string]any); first["name"] != "store 000" {
		t.Errorf("first store = %v", first)
	}
	expectPage(t, e.do("GET", "/stores?page=2", nil, token), 50, 120, map[string]string{
		"first": "/stores?page=1&per_page=50",
		"prev":  "/stores?page=1&per_page=50",
		"next":  "/stores?page=3&per_page=50",
		"last":  "/stores?page=3&per_page=50",
	})
	expectPage(t, e.do("GET", "/stores?page=3", nil, token), 20, 120, map[string]string{
		"first": "/stores?page=1&per_page=50",
		"prev":  "/stores?page=2&per_page=50",
		"last":  "/stores?page=3&per_page=50",
	})
	// per_page up to 100.
	expectPage(t, e.do("GET", "/stores?per_page=100&page=2", nil, token), 20, 120, map[string]string{
		"first": "/stores?page=1&per_page=100",
		"prev":  "/stores?page=1&per_page=100",
		"last":  "/stores?page=2&per_page=100",
	})
	// Past the end: an empty array, and prev leads back to the last page.
	r = e.do("GET", "/stores?page=9&per_page=100", nil, token)
	expectPage(t, r, 0, 120, map[string]string{
		"first": "/stores?page=1&per_page=100",
		"prev":  "/stores?page=2&per_page=100",
		"last":  "/stores?page=2&per_page=100",
	})
	if string(r.Body) != "[]" {
		t.Errorf("body = %s, want []", r.Body)
	}
	expectPage(t, e.do("GET", "/stores?page=2147483647&per_page=100", nil, token), 0, 120, map[string]string{
		"first": "/stores?page=1&per_page=100",
		"prev":  "/stores?page=2&per_page=100",
		"last":  "/stores?page=2&per_page=100",
	})

	// Walking the next links visits every store once, in order.
	var seen []string
	next := "/stores?per_page=7"
	for next != "" {
		r := e.do("GET", next, nil, token)
		expect(t, r, http.StatusOK)
		for _, s := range r.List(t) {
			seen = append(seen, s.(map[string]any)["name"].(string))
		}
		next = links(t, r)["next"]
	}
	if len(seen) != 120 || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != 120 {
		t.Errorf("walked %d stores: %v", len(seen), seen)
	}

	// Paging parameters are checked on every list.
	for _, query := range []string{"page=0", "per_page=0", "per_page=101", "page=x", "sort=name"} {
		param := regexp.MustCompile(`^[a-z_]+`).FindString(query)
		expectFieldError(t, e.do("GET", "/stores?"+query, nil, token), "query", param)
	}
}

func TestEmptyListPaging(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	for _, path := range []string{"/stores", "/items"} {
		r := e.do("GET", path, nil, token)
		expectPage(t, r, 0, 0, map[string]string{
			"first": path + "?page=1&per_page=50",
			"last":  path + "?page=1&per_page=50",
		})
		if string(r.Body) != "[]" {
			t.Errorf("GET %s = %s, want []", path, r.Body)
		}
		expectPage(t, e.do("GET", path+"?page=3", nil, token), 0, 0, map[string]string{
			"first": path + "?page=1&per_page=50",
			"prev":  path + "?page=1&per_page=50",
			"last":  path + "?page=1&per_page=50",
		})
	}
}

// The links keep the search: the client's other parameters, in their
// order and encoding, then page and per_page.
func TestItemsPagingKeepsTheSearch(t *testing.T) {
	c := newCatalog(t)
	token := c.userToken()
	// Items tagged sale, by price: blue chair, Chair, Red Chair, Lamp.
	r := c.do("GET", "/items?tag=sale&per_page=1&sort=price&page=2&tag=SALE", nil, token)
	expectPage(t, r, 1, 4, map[string]string{
		"first": "/items?tag=sale&sort=price&tag=SALE&page=1&per_page=1",
		"prev":  "/items?tag=sale&sort=price&tag=SALE&page=1&per_page=1",
		"next":  "/items?tag=sale&sort=price&tag=SALE&page=3&per_page=1",
		"last":  "/items?tag=sale&sort=price&tag=SALE&page=4&per_page=1",
	})
	if name := r.List(t)[0].(map[string]any)["name"]; name != "Chair" {
		t.Errorf("page 2 = %v, want Chair", name)
	}
	var walked []string
	for rel := "first"; ; rel = "next" {
		url, ok := links(t, r)[rel]
		if !ok {
			break
		}
		r = c.do("GET", url, nil, token)
		expect(t, r, http.StatusOK)
		walked = append(walked, r.List(t)[0].(map[string]any)["name"].(string))
	}
	if want := []string{"blue chair", "Chair", "Red Chair", "Lamp"}; !slices.Equal(walked, want) {
		t.Errorf("walked %q, want %q", walked, want)
	}

	// Values are re-encoded, so a link can be followed as it is.
	r = c.do("GET", "/items?name=50%25+o&min_price=0.5&per_page=1", nil, token)
	expectPage(t, r, 1, 1, map[string]string{
		"first": "/items?name=50%25+o&min_price=0.5&page=1&per_page=1",
		"last":  "/items?name=50%25+o&min_price=0.5&page=1&per_page=1",
	})
	expect(t, c.do("GET", links(t, r)["first"], nil, token), http.StatusOK)
}

func TestStoreTagsPaging(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	storeID := e.mustCreateStore("Shop")
	other := e.mustCreateStore("Other")
	for i := range 5 {
		e.mustCreateTag(storeID, fmt.Sprint("tag ", i))
	}
	e.mustCreateTag(other, "not mine")
	base := fmt.Sprintf("/stores/%d/tags", storeID)

	r := e.do("GET", base+"?per_page=2&page=2", nil, token)
	expectPage(t, r, 2, 5, map[string]string{
		"first": base + "?page=1&per_page=2",
		"prev":  base + "?page=1&per_page=2",
		"next":  base + "?page=3&per_page=2",
		"last":  base + "?page=3&per_page=2",
	})
	var names []any
	for _, tag := range r.List(t) {
		names = append(names, tag.(map[string]any)["name"])
	}
	if fmt.Sprint(names) != "[tag 2 tag 3]" {
		t.Errorf("page 2 = %v", names)
	}
	expectPage(t, e.do("GET", base+"?page=4&per_page=2", nil, token), 0, 5, map[string]string{
		"first": base + "?page=1&per_page=2",
		"prev":  base + "?page=3&per_page=2",
		"last":  base + "?page=3&per_page=2",
	})
	expectFieldError(t, e.do("GET", base+"?per_page=101", nil, token), "query", "per_page")
	expectFieldError(t, e.do("GET", base+"?name=x", nil, token), "query", "name")
	expectError(t, e.do("GET", "/stores/999999/tags?page=2", nil, token), http.StatusNotFound, "Store not found.")
}
