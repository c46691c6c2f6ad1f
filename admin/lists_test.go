package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"stores-api/models"
)

// withTags is an item form that ticks tagIDs (and no other tag).
func withTags(form url.Values, tagIDs ...int64) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Del("tag_ids")
	for _, id := range tagIDs {
		out.Add("tag_ids", strconv.FormatInt(id, 10))
	}
	return out
}

// plus is form with one more value of a field.
func plus(form url.Values, name, value string) url.Values {
	form.Add(name, value)
	return form
}

// checkbox is how the item page shows a tag's checkbox, ticked or not.
func checkbox(tagID int64, ticked bool) string {
	if ticked {
		return fmt.Sprintf(`name="tag_ids" value="%d" checked>`, tagID)
	}
	return fmt.Sprintf(`name="tag_ids" value="%d">`, tagID)
}

// rowNames lists the names of the rows a list page shows, in order: the
// text of the first link of each table row.
func rowNames(t testing.TB, body []byte) []string {
	t.Helper()
	var names []string
	for _, m := range rowName.FindAllSubmatch(body, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

var rowName = regexp.MustCompile(`<td data-label="Name"><a href="[^"]*">([^<]*)</a></td>`)

// expectRows checks the status and the names a list page shows, in order.
func expectRows(t testing.TB, r response, status int, want ...string) {
	t.Helper()
	expectHTML(t, r, status)
	if got := rowNames(t, r.Body); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q", got, want)
	}
}

func TestAdminStoreListSearchesAndSorts(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	// Created in an order that is neither by name nor by item count.
	stores := map[string]int64{}
	for _, s := range []struct {
		name  string
		items int
	}{{"Corner Shop", 2}, {"farm stand", 0}, {"Book Corner", 3}, {"100% Organic_Market", 1}, {"Zoo corner", 1}} {
		stores[s.name] = e.mustCreateStore(s.name)
		for i := range s.items {
			e.mustCreateItem(stores[s.name], fmt.Sprint("item ", i), "1")
		}
	}

	t.Run("search", func(t *testing.T) {
		r := a.get("/admin/stores?q=CORNER")
		expectRows(t, r, http.StatusOK, "Book Corner", "Corner Shop", "Zoo corner")
		expectHTML(t, r, http.StatusOK, "3 stores found", `value="CORNER"`, `href="/admin/stores"`) // Clear
		expectRows(t, a.get("/admin/stores?q=+corner+shop+"), http.StatusOK, "Corner Shop")
		// LIKE's wildcards match themselves.
		expectRows(t, a.get("/admin/stores?q=%25"), http.StatusOK, "100% Organic_Market")
		expectRows(t, a.get("/admin/stores?q=c_r"), http.StatusOK)
		expectHTML(t, a.get("/admin/stores?q=nothing"), http.StatusOK, "0 stores found", "No store name contains “nothing”.")
		expectHTML(t, a.get("/admin/stores"), http.StatusOK, "All stores", "(5)")
	})

	t.Run("sort", func(t *testing.T) {
		for _, tc := range []struct {
			sort string
			want []string
		}{
			{"", []string{"100% Organic_Market", "Book Corner", "Corner Shop", "farm stand", "Zoo corner"}},
			{"name", []string{"100% Organic_Market", "Book Corner", "Corner Shop", "farm stand", "Zoo corner"}},
			{"-name", []string{"Zoo corner", "farm stand", "Corner Shop", "Book Corner", "100% Organic_Market"}},
			{"id", []string{"Corner Shop", "farm stand", "Book Corner", "100% Organic_Market", "Zoo corner"}},
			{"-id", []string{"Zoo corner", "100% Organic_Market", "Book Corner", "farm stand", "Corner Shop"}},
			// Equal counts in id order, reversed for descending.
			{"items", []string{"farm stand", "100% Organic_Market", "Zoo corner", "Corner Shop", "Book Corner"}},
			{"-items", []string{"Book Corner", "Corner Shop", "Zoo corner", "100% Organic_Market", "farm stand"}},
		} {
			t.Run(tc.sort, func(t *testing.T) {
				expectRows(t, a.get("/admin/stores?sort="+url.QueryEscape(tc.sort)), http.StatusOK, tc.want...)
			})
		}
		expectRows(t, a.get("/admin/stores?q=corner&sort=-items"), http.StatusOK, "Book Corner", "Corner Shop", "Zoo corner")
	})

	t.Run("headers link the other direction and keep the search", func(t *testing.T) {
		r := a.get("/admin/stores?q=corner&sort=items&page=1")
		expectHTML(t, r, http.StatusOK,
			`aria-sort="ascending"><a class="sort" href="/admin/stores?q=corner&amp;sort=-items">Items`,
			`<a class="sort" href="/admin/stores?q=corner">Name`, // the default order is left out
			`<option value="items" selected>`)
		expectHTML(t, a.get("/admin/stores?sort=-name"), http.StatusOK,
			`aria-sort="descending"><a class="sort" href="/admin/stores">Name`)
	})

	t.Run("unknown order", func(t *testing.T) {
		for _, sort := range []string{"price", "name;drop table stores", "NAME", "%ff"} {
			r := a.get("/admin/stores?q=corner&sort=" + url.QueryEscape(sort))
			expectRows(t, r, http.StatusUnprocessableEntity)
			expectHTML(t, r, http.StatusUnprocessableEntity, `id="sort-error"`, "Unknown order: choose one from the list.",
				"Fix the search above to list the stores.", `value="corner"`)
		}
	})

	t.Run("pages keep the search and the order", func(t *testing.T) {
		for i := range 60 {
			e.mustCreateStore(fmt.Sprintf("Outlet %02d", i))
		}
		r := a.get("/admin/stores?q=outlet&sort=-name")
		expectHTML(t, r, http.StatusOK, "60 stores found", "Page 1 of 2", `href="/admin/stores?page=2&amp;q=outlet&amp;sort=-name"`)
		if names := rowNames(t, r.Body); len(names) != 50 || names[0] != "Outlet 59" {
			t.Fatalf("first page %q", names)
		}
		r = a.get("/admin/stores?page=2&q=outlet&sort=-name")
		expectRows(t, r, http.StatusOK, "Outlet 09", "Outlet 08", "Outlet 07", "Outlet 06", "Outlet 05",
			"Outlet 04", "Outlet 03", "Outlet 02", "Outlet 01", "Outlet 00")
		expectHTML(t, r, http.StatusOK, `href="/admin/stores?q=outlet&amp;sort=-name" rel="prev"`)
		// Past the end: the last page, still searched.
		expectHTML(t, a.get("/admin/stores?page=9&q=outlet"), http.StatusOK, "Page 2 of 2", "Outlet 59")
	})
}

func TestAdminItemListSortsAndFiltersByPrice(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	north := e.mustCreateStore("North")
	south := e.mustCreateStore("South")
	sale := e.mustCreateTag(north, "sale")
	for _, it := range []struct {
		store       int64
		name, price string
		onSale      bool
	}{
		{north, "Pear", "2.50", true}, {north, "apple", "0.99", false}, {south, "Melon", "10", false},
		{north, "Fig", "2.50", true}, {south, "banana", "0", false}, {north, "Kiwi", "19.99", true},
	} {
		id := e.mustCreateItem(it.store, it.name, it.price)
		if it.onSale {
			e.mustLink(id, sale)
		}
	}

	t.Run("sort", func(t *testing.T) {
		for _, tc := range []struct {
			sort string
			want []string
		}{
			{"", []string{"apple", "banana", "Fig", "Kiwi", "Melon", "Pear"}},
			{"-name", []string{"Pear", "Melon", "Kiwi", "Fig", "banana", "apple"}},
			// Equal prices in id order, reversed for descending.
			{"price", []string{"banana", "apple", "Pear", "Fig", "Melon", "Kiwi"}},
			{"-price", []string{"Kiwi", "Melon", "Fig", "Pear", "apple", "banana"}},
			{"id", []string{"Pear", "apple", "Melon", "Fig", "banana", "Kiwi"}},
			{"-id", []string{"Kiwi", "banana", "Fig", "Melon", "apple", "Pear"}},
		} {
			t.Run(tc.sort, func(t *testing.T) {
				expectRows(t, a.get("/admin/items?sort="+url.QueryEscape(tc.sort)), http.StatusOK, tc.want...)
			})
		}
	})

	t.Run("price range", func(t *testing.T) {
		// Bounds are inclusive and exact: 2.5 is 2.50.
		r := a.get("/admin/items?min_price=1&max_price=10&sort=price")
		expectRows(t, r, http.StatusOK, "Pear", "Fig", "Melon")
		expectHTML(t, r, http.StatusOK, "3 items found", `value="1"`, `value="10"`, `<option value="price" selected>`)
		expectRows(t, a.get("/admin/items?min_price=2.5&max_price=2.50"), http.StatusOK, "Fig", "Pear")
		expectRows(t, a.get("/admin/items?max_price=0"), http.StatusOK, "banana")
		expectRows(t, a.get("/admin/items?min_price=19.99"), http.StatusOK, "Kiwi")
		expectRows(t, a.get("/admin/items?min_price=+&max_price="), http.StatusOK, "apple", "banana", "Fig", "Kiwi", "Melon", "Pear")
		// With the filters the list had before.
		expectRows(t, a.get(fmt.Sprintf("/admin/items?tag=%d&max_price=5&sort=-name", sale)), http.StatusOK, "Pear", "Fig")
		expectRows(t, a.get(fmt.Sprintf("/admin/items?store=%d&min_price=0.5&q=A", south)), http.StatusOK)
		expectRows(t, a.get(fmt.Sprintf("/admin/items?store=%d&min_price=0.5&q=E", south)), http.StatusOK, "Melon")
	})

	t.Run("headers and pages keep the filters", func(t *testing.T) {
		r := a.get(fmt.Sprintf("/admin/items?min_price=1.5&tag=%d&sort=price", sale))
		expectHTML(t, r, http.StatusOK,
			fmt.Sprintf(`aria-sort="ascending"><a class="sort" href="/admin/items?min_price=1.50&amp;sort=-price&amp;tag=%d">Price`, sale),
			fmt.Sprintf(`<a class="sort" href="/admin/items?min_price=1.50&amp;tag=%d">Name`, sale))
		for i := range 30 {
			e.mustCreateItem(south, fmt.Sprintf("Widget %02d", i), fmt.Sprintf("%d", 100+i))
		}
		r = a.get("/admin/items?min_price=100&sort=-price")
		expectHTML(t, r, http.StatusOK, "30 items found", `href="/admin/items?min_price=100.00&amp;page=2&amp;sort=-price"`)
		if names := rowNames(t, r.Body); len(names) != 25 || names[0] != "Widget 29" {
			t.Fatalf("first page %q", names)
		}
		expectRows(t, a.get("/admin/items?min_price=100.00&page=2&sort=-price"), http.StatusOK,
			"Widget 04", "Widget 03", "Widget 02", "Widget 01", "Widget 00")
	})

	t.Run("bad input is explained", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			shows []string
		}{
			{"min_price=cheap", []string{`id="min_price-error"`, "Not a valid number.", `value="cheap"`}},
			{"max_price=1.999", []string{`id="max_price-error"`, "Must have at most two decimal places."}},
			{"min_price=-1", []string{`id="min_price-error"`, "Must be between 0 and 99999999.99."}},
			{"min_price=1e999999999", []string{`id="min_price-error"`}},
			{"min_price=5&max_price=1", []string{`id="max_price-error"`, "Must not be less than the min price."}},
			{"sort=cost", []string{`id="sort-error"`, "Unknown order: choose one from the list."}},
			{"sort=price&min_price=x&max_price=y&q=pear", []string{`id="min_price-error"`, `id="max_price-error"`, `value="pear"`,
				`<option value="price" selected>`}},
		} {
			t.Run(tc.query, func(t *testing.T) {
				r := a.get("/admin/items?" + tc.query)
				expectRows(t, r, http.StatusUnprocessableEntity)
				expectHTML(t, r, http.StatusUnprocessableEntity, append(tc.shows, "Fix the filters above to list the items.",
					`aria-invalid="true"`, `href="/admin/items">Clear`)...)
			})
		}
	})
}

// TestAdminSavesDetailsAndTagsTogether: the item page is one form, whose
// one Save stores the details and the ticked tags together, or neither.
func TestAdminSavesDetailsAndTagsTogether(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	storeID := e.mustCreateStore("Corner Shop")
	otherID := e.mustCreateStore("Other")
	itemID := e.mustCreateItem(storeID, "Apple", "1")
	e.mustCreateItem(storeID, "Pear", "1")
	fresh := e.mustCreateTag(storeID, "fresh")
	sale := e.mustCreateTag(storeID, "sale")
	local := e.mustCreateTag(storeID, "local")
	e.mustLink(itemID, fresh)
	path := fmt.Sprint("/admin/items/", itemID)
	form := func(name, price string, store int64) url.Values {
		return url.Values{"name": {name}, "price": {price}, "store_id": {fmt.Sprint(store)}, "description": {"Crisp."}}
	}
	stored := func() models.Item {
		t.Helper()
		item, err := e.Data.Items.Get(context.Background(), itemID)
		if err != nil {
			t.Fatal(err)
		}
		return item
	}
	tagIDs := func(item models.Item) []int64 {
		ids := []int64{}
		for _, tag := range item.Tags {
			ids = append(ids, tag.ID)
		}
		return ids
	}

	// The page has one form and one submit button for both.
	r := a.get(path)
	expectHTML(t, r, http.StatusOK, checkbox(fresh, true), checkbox(sale, false))
	if n := strings.Count(string(r.Body), `<form method="post" action="`+path+`"`); n != 1 {
		t.Fatalf("%d forms post to the item, want 1", n)
	}
	if strings.Contains(string(r.Body), path+"/tags") {
		t.Fatal("the page still has a form of its own for the tags")
	}

	// A new name and a new tag set, in one save.
	expectRedirect(t, a.post(path, withTags(form("Green Apple", "1.25", storeID), sale, local)), path)
	expectHTML(t, a.get(path), http.StatusOK, "Item saved: 2 tags linked, 1 unlinked.", `value="Green Apple"`,
		checkbox(fresh, false), checkbox(sale, true), checkbox(local, true))
	item := stored()
	if item.Name != "Green Apple" || item.PriceCents != 125 || fmt.Sprint(tagIDs(item)) != fmt.Sprint([]int64{sale, local}) {
		t.Fatalf("stored %q %d %v", item.Name, item.PriceCents, tagIDs(item))
	}
	var key string
	if err := e.DB.Gorm.Table("items").Where("id = ?", itemID).Pluck("name_key", &key).Error; err != nil || key != models.NameKey("Green Apple") {
		t.Fatalf("name_key %q, %v; want it renamed with the name", key, err)
	}

	// Details alone: the tags stay as ticked.
	expectRedirect(t, a.post(path, withTags(form("Green Apple", "1.30", storeID), sale, local)), path)
	expectHTML(t, a.get(path), http.StatusOK, "Item saved.")
	if item := stored(); item.PriceCents != 130 || len(item.Tags) != 2 {
		t.Fatalf("stored %d %v", item.PriceCents, tagIDs(item))
	}

	// A refused save stores neither half and shows both as sent.
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		shows  []string
	}{
		{"bad price", withTags(form("Red Apple", "abc", storeID), fresh), 422,
			[]string{"Not a valid number.", `value="Red Apple"`, `value="abc"`, checkbox(fresh, true), checkbox(sale, false)}},
		{"name taken", withTags(form("PEAR", "2", storeID), fresh, sale, local), 409,
			[]string{"An item with that name already exists in this store.", `value="PEAR"`,
				checkbox(fresh, true), checkbox(sale, true), checkbox(local, true)}},
		{"moves store with its tags", withTags(form("Red Apple", "2", otherID), sale), 409,
			[]string{"Remove its tags first.", fmt.Sprintf(`<option value="%d" selected>Other`, otherID), checkbox(sale, true)}},
		{"no tag at all", withTags(form("", "2", storeID)), 422,
			[]string{`id="item-name-error"`, checkbox(sale, false), checkbox(local, false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectHTML(t, a.post(path, tc.form), tc.status, tc.shows...)
			if item := stored(); item.Name != "Green Apple" || item.PriceCents != 130 ||
				fmt.Sprint(tagIDs(item)) != fmt.Sprint([]int64{sale, local}) {
				t.Fatalf("a refused save changed the item: %q %d %v", item.Name, item.PriceCents, tagIDs(item))
			}
		})
	}

	// Unticking every tag lets the same save move the item to another
	// store, whose tags the page then offers.
	elsewhere := e.mustCreateTag(otherID, "elsewhere")
	expectRedirect(t, a.post(path, withTags(form("Green Apple", "1.30", otherID))), path)
	expectHTML(t, a.get(path), http.StatusOK, "Item saved: 0 tags linked, 2 unlinked.", "Tags of Other", checkbox(elsewhere, false))
	if item := stored(); item.StoreID != otherID || len(item.Tags) != 0 {
		t.Fatalf("stored store %d, tags %v", item.StoreID, tagIDs(item))
	}
	if n := e.count("items_tags"); n != 0 {
		t.Fatalf("%d links left", n)
	}
}
