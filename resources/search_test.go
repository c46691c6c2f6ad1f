package resources_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/models"
)

// catalog is a small shop for the search tests: two stores whose tags
// differ only in case ("red" and "Red"), prices that tie, names that tie
// without case, and names with LIKE wildcards in them.
type catalog struct {
	*testEnv
	alpha, beta int64
}

// The catalog's items, in id order: name, price, store, tags.
var catalogItems = []struct {
	name, price string
	beta        bool
	tags        []string
}{
	{"Red Chair", "19.99", false, []string{"red", "sale", "wood"}},
	{"blue chair", "5", false, []string{"sale"}},
	{"Table", "120.50", false, []string{"wood"}},
	{"50% off_sale", "0.99", false, nil},
	{"lamp", "20", false, nil},
	{"Chair", "19.98", true, []string{"Red", "sale"}},
	{"Lamp", "20.00", true, []string{"sale"}},
	{"red lamp", "19.99", true, []string{"Red"}},
}

func newCatalog(t *testing.T) *catalog {
	t.Helper()
	c := &catalog{testEnv: newEnv(t)}
	c.alpha = c.mustCreateStore("Alpha")
	c.beta = c.mustCreateStore("Beta")
	tags := map[string]int64{}
	for _, name := range []string{"red", "sale", "wood"} {
		tags["a:"+name] = c.mustCreateTag(c.alpha, name)
	}
	for _, name := range []string{"Red", "sale"} {
		tags["b:"+name] = c.mustCreateTag(c.beta, name)
	}
	for _, it := range catalogItems {
		store, prefix := c.alpha, "a:"
		if it.beta {
			store, prefix = c.beta, "b:"
		}
		itemID := c.mustCreateItem(store, it.name, it.price)
		var ids []int64
		for _, tag := range it.tags {
			ids = append(ids, tags[prefix+tag])
		}
		if len(ids) > 0 {
			c.mustLink(itemID, ids...)
		}
	}
	return c
}

// names lists the item names of a GET /items answer, in order.
func (c *catalog) names(t *testing.T, query string) []string {
	t.Helper()
	r := c.do("GET", "/items?"+query, nil, c.userToken())
	expect(t, r, http.StatusOK)
	var names []string
	for _, v := range r.List(t) {
		names = append(names, v.(map[string]any)["name"].(string))
	}
	return names
}

func TestSearchItems(t *testing.T) {
	c := newCatalog(t)
	all := []string{"Red Chair", "blue chair", "Table", "50% off_sale", "lamp", "Chair", "Lamp", "red lamp"}
	cases := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"name=", all},
		// name: a substring, without case.
		{"name=chair", []string{"Red Chair", "blue chair", "Chair"}},
		{"name=CHAIR", []string{"Red Chair", "blue chair", "Chair"}},
		{"name=ed+Ch", []string{"Red Chair"}},
		{"name=" + url.QueryEscape("%"), []string{"50% off_sale"}},     // a literal %, not a wildcard
		{"name=" + url.QueryEscape("_"), []string{"50% off_sale"}},     // a literal _
		{"name=" + url.QueryEscape(`\`), nil},                          // the escape character itself
		{"name=" + url.QueryEscape("0%25"), nil},                       // no "0%25" in any name
		{"name=" + url.QueryEscape("50% o"), []string{"50% off_sale"}}, // the space too
		{"name=sofa", nil},
		// store_id.
		{fmt.Sprintf("store_id=%d", c.beta), []string{"Chair", "Lamp", "red lamp"}},
		{"store_id=999999", nil},
		// tag: without case, across stores; repeated means all of them.
		{"tag=red", []string{"Red Chair", "Chair", "red lamp"}},
		{"tag=RED", []string{"Red Chair", "Chair", "red lamp"}},
		{"tag=+red+", []string{"Red Chair", "Chair", "red lamp"}},
		{"tag=red&tag=sale", []string{"Red Chair", "Chair"}},
		{"tag=sale&tag=Red", []string{"Red Chair", "Chair"}},
		{"tag=red&tag=sale&tag=wood", []string{"Red Chair"}},
		{"tag=red&tag=RED", []string{"Red Chair", "Chair", "red lamp"}},
		{"tag=wood&tag=nosuch", nil},
		{"tag=nosuch", nil},
		// min_price and max_price: inclusive and exact.
		{"min_price=19.99", []string{"Red Chair", "Table", "lamp", "Lamp", "red lamp"}},
		{"max_price=19.99", []string{"Red Chair", "blue chair", "50% off_sale", "Chair", "red lamp"}},
		{"min_price=19.99&max_price=19.99", []string{"Red Chair", "red lamp"}},
		{"min_price=19.98&max_price=19.98", []string{"Chair"}},
		{"min_price=20&max_price=20.00", []string{"lamp", "Lamp"}},
		{"min_price=120.5", []string{"Table"}},
		{"min_price=1.2e2", []string{"Table"}},
		{"max_price=0", nil},
		{"min_price=0&max_price=99999999.99", all},
		// Combined: every filter must hold.
		{fmt.Sprintf("name=chair&tag=sale&max_price=19.99&store_id=%d", c.alpha), []string{"Red Chair", "blue chair"}},
		{"name=lamp&tag=red", []string{"red lamp"}},
		{"name=lamp&min_price=20", []string{"lamp", "Lamp"}},
		{fmt.Sprintf("name=lamp&store_id=%d&tag=sale", c.alpha), nil},
		{"tag=sale&min_price=5&max_price=19.99&sort=-price", []string{"Red Chair", "Chair", "blue chair"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			if got := c.names(t, tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("GET /items?%s = %q, want %q", tc.query, got, tc.want)
			}
		})
	}
}

// Every sort key, with its tie-break: equal names (without case) and
// equal prices come by id, reversed by "-".
func TestSearchSort(t *testing.T) {
	c := newCatalog(t)
	cases := map[string][]string{
		"":            {"Red Chair", "blue chair", "Table", "50% off_sale", "lamp", "Chair", "Lamp", "red lamp"},
		"sort=id":     {"Red Chair", "blue chair", "Table", "50% off_sale", "lamp", "Chair", "Lamp", "red lamp"},
		"sort=-id":    {"red lamp", "Lamp", "Chair", "lamp", "50% off_sale", "Table", "blue chair", "Red Chair"},
		"sort=name":   {"50% off_sale", "blue chair", "Chair", "lamp", "Lamp", "Red Chair", "red lamp", "Table"},
		"sort=-name":  {"Table", "red lamp", "Red Chair", "Lamp", "lamp", "Chair", "blue chair", "50% off_sale"},
		"sort=price":  {"50% off_sale", "blue chair", "Chair", "Red Chair", "red lamp", "lamp", "Lamp", "Table"},
		"sort=-price": {"Table", "Lamp", "lamp", "red lamp", "Red Chair", "Chair", "blue chair", "50% off_sale"},
	}
	for query, want := range cases {
		t.Run(query, func(t *testing.T) {
			if got := c.names(t, query); !slices.Equal(got, want) {
				t.Errorf("GET /items?%s = %q, want %q", query, got, want)
			}
			// Paging through one entry at a time gives the same order.
			var paged []string
			for page := 1; page <= len(want); page++ {
				paged = append(paged, c.names(t, strings.TrimPrefix(fmt.Sprintf("%s&per_page=1&page=%d", query, page), "&"))...)
			}
			if !slices.Equal(paged, want) {
				t.Errorf("one per page: %q, want %q", paged, want)
			}
		})
	}
}

// A search answer carries full items: store and tags in id order.
func TestSearchReturnsFullItems(t *testing.T) {
	c := newCatalog(t)
	r := c.do("GET", "/items?name=red+chair", nil, c.userToken())
	expect(t, r, http.StatusOK)
	items := r.List(t)
	if len(items) != 1 {
		t.Fatalf("items = %v", items)
	}
	item := items[0].(map[string]any)
	if item["price"] != 19.99 || item["store"].(map[string]any)["name"] != "Alpha" {
		t.Errorf("item = %v", item)
	}
	var tags []string
	for _, tag := range item["tags"].([]any) {
		tags = append(tags, tag.(map[string]any)["name"].(string))
	}
	if !slices.Equal(tags, []string{"red", "sale", "wood"}) {
		t.Errorf("tags = %v", tags)
	}
}

func TestSearchRejectsBadParameters(t *testing.T) {
	e := newEnv(t)
	token := e.userToken()
	cases := []struct{ query, param string }{
		{"min_price=abc", "min_price"},
		{"min_price=", "min_price"},
		{"max_price=19.999", "max_price"},
		{"min_price=-1", "min_price"},
		{"max_price=100000000", "max_price"},
		{"max_price=1e400", "max_price"},
		{"min_price=%2219.99%22", "min_price"},
		{"min_price=20&max_price=19.99", "min_price"},
		{"sort=cost", "sort"},
		{"sort=", "sort"},
		{"sort=NAME", "sort"},
		{"sort=id&sort=name", "sort"},
		{"foo=1", "foo"},
		{"tags=red", "tags"},
		{"per_page=0", "per_page"},
		{"per_page=101", "per_page"},
		{"per_page=ten", "per_page"},
		{"page=0", "page"},
		{"page=-1", "page"},
		{"page=1.5", "page"},
		{"page=99999999999999999999", "page"},
		{"page=2147483648", "page"},
		{"store_id=abc", "store_id"},
		{"store_id=0", "store_id"},
		{"tag=", "tag"},
		{"tag=+", "tag"},
		{"tag=" + strings.Repeat("x", 81), "tag"},
		{"tag=a" + strings.Repeat("&tag=a", 20), "tag"},
		{"name=" + strings.Repeat("x", 81), "name"},
		{"name=a&name=b", "name"},
		{"name=%00", "name"},
		{"name=a%0Ab", "name"},
		{"name=%ff", "name"},
		{"tag=%00", "tag"},
		{"tag=a%80b", "tag"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			expectFieldError(t, e.do("GET", "/items?"+tc.query, nil, token), "query", tc.param)
		})
	}
	// Every bad parameter is reported at once.
	r := e.do("GET", "/items?min_price=x&sort=y&page=0&bogus=1", nil, token)
	for _, param := range []string{"min_price", "sort", "page", "bogus"} {
		expectFieldError(t, r, "query", param)
	}
	// Limits themselves are accepted.
	for _, query := range []string{"per_page=1", "per_page=100", "page=2147483647", "tag=" + strings.Repeat("x", 80),
		"min_price=0&max_price=0", "min_price=99999999.99", "tag=a" + strings.Repeat("&tag=a", 19)} {
		expect(t, e.do("GET", "/items?"+query, nil, token), http.StatusOK)
	}
}

// queryLog records the SQL statements GORM runs, with their values
// inlined, so a test can count them or ask the database how it plans them.
type queryLog struct {
	logger.Interface
	mu  sync.Mutex
	sql []string
}

func (l *queryLog) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *queryLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	l.mu.Lock()
	l.sql = append(l.sql, sql)
	l.mu.Unlock()
}

// during returns the statements run by f.
func (l *queryLog) during(f func()) []string {
	l.mu.Lock()
	l.sql = nil
	l.mu.Unlock()
	f()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sql)
}

// newLoggedEnv is the app on a database session whose statements are
// recorded.
func newLoggedEnv(t *testing.T) (*testEnv, *queryLog) {
	t.Helper()
	db := testdb.Open(t)
	log := &queryLog{Interface: logger.Discard}
	logged := &testdb.DB{Gorm: db.Gorm.Session(&gorm.Session{Logger: log}), Dialect: db.Dialect, URL: db.URL}
	e := buildEnv(t, logged, mustConfig(t, nil), 0, &apptest.Logs{})
	e.DB = db
	return e, log
}

// The number of queries of a list does not grow with the page size:
// children are preloaded, not fetched per row.
func TestListsRunAFixedNumberOfQueries(t *testing.T) {
	e, log := newLoggedEnv(t)
	token := e.userToken()
	storeID := e.mustCreateStore("Shop")
	saleID := e.mustCreateTag(storeID, "sale")
	for i := range 12 {
		itemID := e.mustCreateItem(storeID, fmt.Sprint("item ", i), "1")
		tagID := e.mustCreateTag(storeID, fmt.Sprint("tag ", i))
		e.mustLink(itemID, saleID, tagID)
	}
	for i := range 11 {
		e.mustCreateStore(fmt.Sprint("store ", i))
	}
	for _, path := range []string{"/items?tag=sale&name=item&sort=-price&", "/stores?", fmt.Sprintf("/stores/%d/tags?", storeID)} {
		var counts []int
		for _, perPage := range []int{1, 12} {
			queries := log.during(func() {
				r := e.do("GET", fmt.Sprintf("%sper_page=%d", path, perPage), nil, token)
				expect(t, r, http.StatusOK)
				if n := len(r.List(t)); n != perPage {
					t.Errorf("%s: %d entries, want %d", path, n, perPage)
				}
			})
			counts = append(counts, len(queries))
		}
		if counts[0] != counts[1] || counts[0] > 7 {
			t.Errorf("%s: %d queries for one entry, %d for twelve; want the same, at most 7", path, counts[0], counts[1])
		}
	}
}

// The search's statements can be served by indexes: on PostgreSQL the
// trigram index serves the name substring; on both dialects the tag-name
// index finds the tags of a tag search.
func TestSearchUsesIndexes(t *testing.T) {
	e, log := newLoggedEnv(t)
	token := e.userToken()
	storeID := e.mustCreateStore("Shop")
	e.mustCreateTag(storeID, "sale")
	cases := map[string]string{"tag=sale": "tags_lower_name_idx"}
	if e.DB.Dialect == models.Postgres {
		cases["name=chair"] = "items_lower_name_trgm_idx"
	}
	for query, index := range cases {
		queries := log.during(func() {
			expect(t, e.do("GET", "/items?"+query, nil, token), http.StatusOK)
		})
		var count string // no item matches, so the count is the one search statement
		for _, q := range queries {
			if strings.Contains(q, "count(*)") {
				count = q
			}
		}
		if count == "" {
			t.Fatalf("%s: no count among %q", query, queries)
		}
		if plan := explain(t, e.DB, count); !strings.Contains(plan, index) {
			t.Errorf("%s: the plan does not use %s:\n%s\n%s", query, index, count, plan)
		}
	}
}

// explain returns the database's plan for a statement. On PostgreSQL,
// sequential scans are priced out, since on a table this small a scan
// would rightly win; the question is whether an index can serve at all.
func explain(t *testing.T, db *testdb.DB, sql string) string {
	t.Helper()
	var lines []string
	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		if db.Dialect == models.Postgres {
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
			return tx.Raw("EXPLAIN " + sql).Scan(&lines).Error
		}
		var rows []struct{ Detail string }
		if err := tx.Raw("EXPLAIN QUERY PLAN " + sql).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			lines = append(lines, r.Detail)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
