package resources_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestCreateStore(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/stores", map[string]any{"name": "  Corner Shop  "}, e.adminToken())
	expect(t, r, http.StatusCreated)
	body := r.JSON(t)
	if body["name"] != "Corner Shop" {
		t.Errorf("name = %q, want it trimmed", body["name"])
	}
	if items, ok := body["items"].([]any); !ok || len(items) != 0 {
		t.Errorf("items = %v, want []", body["items"])
	}
	if tags, ok := body["tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("tags = %v, want []", body["tags"])
	}
}

func TestCreateStoreDuplicateNameAnyCase(t *testing.T) {
	e := newEnv(t)
	e.mustCreateStore("Corner Shop")
	r := e.do("POST", "/stores", map[string]any{"name": "CORNER shop"}, e.adminToken())
	expectError(t, r, http.StatusConflict, "A store with that name already exists.")
	if n := e.count("stores"); n != 1 {
		t.Errorf("%d stores, want 1", n)
	}
}

func TestCreateStoreInvalidNames(t *testing.T) {
	cases := map[string]string{
		"empty":        `{"name": ""}`,
		"blank":        `{"name": "   "}`,
		"too long":     fmt.Sprintf(`{"name": %q}`, repeat("a", 81)),
		"NUL":          `{"name": "a\u0000b"}`,
		"newline":      `{"name": "a\nb"}`,
		"missing":      `{}`,
		"null":         `{"name": null}`,
		"number":       `{"name": 5}`,
		"unknown key":  `{"name": "ok", "owner": "me"}`,
		"81 multibyte": fmt.Sprintf(`{"name": %q}`, repeat("é", 81)),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			r := e.do("POST", "/stores", body, e.adminToken())
			expect(t, r, http.StatusUnprocessableEntity)
			if e.count("stores") != 0 {
				t.Error("a store was stored")
			}
		})
	}
}

func TestCreateStoreAcceptsEightyCharacters(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/stores", map[string]any{"name": repeat("é", 80)}, e.adminToken())
	expect(t, r, http.StatusCreated)
}

func TestGetStoreWithItemsAndTags(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	second := e.mustCreateItem(storeID, "B", "2")
	first := e.mustCreateItem(storeID, "A", "1.5")
	tagID := e.mustCreateTag(storeID, "sale")
	r := e.do("GET", fmt.Sprintf("/stores/%d", storeID), nil, e.userToken())
	expect(t, r, http.StatusOK)
	body := r.JSON(t)
	items := body["items"].([]any)
	if len(items) != 2 || id64(items[0]) != second || id64(items[1]) != first {
		t.Errorf("items = %v, want ordered by id", items)
	}
	item := items[1].(map[string]any)
	if item["price"] != 1.5 || item["name"] != "A" || item["description"] != nil {
		t.Errorf("plain item = %v", item)
	}
	if _, nested := item["store"]; nested {
		t.Error("items inside a store must be plain")
	}
	tags := body["tags"].([]any)
	if len(tags) != 1 || id64(tags[0]) != tagID {
		t.Errorf("tags = %v", tags)
	}
}

func TestGetStoreNotFound(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/stores/999", "/stores/0", "/stores/-1", "/stores/abc", "/stores/1.5",
		"/stores/99999999999999999999", "/stores/%2B1", "/stores/9223372036854775807"} {
		r := e.do("GET", path, nil, e.userToken())
		expectError(t, r, http.StatusNotFound, "Store not found.")
	}
}

func TestListStores(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/stores", nil, e.userToken())
	expect(t, r, http.StatusOK)
	if string(r.Body) != "[]" {
		t.Errorf("empty list = %s, want []", r.Body)
	}
	b := e.mustCreateStore("B")
	a := e.mustCreateStore("A")
	e.mustCreateItem(a, "thing", "3")
	list := e.do("GET", "/stores", nil, e.userToken()).List(t)
	if len(list) != 2 || id64(list[0]) != b || id64(list[1]) != a {
		t.Fatalf("stores = %v, want ordered by id", list)
	}
	if items := list[1].(map[string]any)["items"].([]any); len(items) != 1 {
		t.Errorf("store items = %v", items)
	}
}

func TestDeleteStoreCascades(t *testing.T) {
	e := newEnv(t)
	doomed := e.mustCreateStore("Doomed")
	kept := e.mustCreateStore("Kept")
	item := e.mustCreateItem(doomed, "A", "1")
	tag := e.mustCreateTag(doomed, "t")
	e.mustLink(item, tag)
	keptItem := e.mustCreateItem(kept, "A", "1")
	keptTag := e.mustCreateTag(kept, "t")
	e.mustLink(keptItem, keptTag)

	r := e.do("DELETE", fmt.Sprintf("/stores/%d", doomed), nil, e.adminToken())
	expect(t, r, http.StatusOK)
	if r.JSON(t)["message"] != "Store deleted." {
		t.Errorf("body = %s", r.Body)
	}
	for table, want := range map[string]int64{"stores": 1, "items": 1, "tags": 1, "items_tags": 1} {
		if n := e.count(table); n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	expectError(t, e.do("GET", fmt.Sprintf("/items/%d", item), nil, e.adminToken()), http.StatusNotFound, "Item not found.")
	expectError(t, e.do("GET", fmt.Sprintf("/tags/%d", tag), nil, e.adminToken()), http.StatusNotFound, "Tag not found.")
	expectError(t, e.do("DELETE", fmt.Sprintf("/stores/%d", doomed), nil, e.adminToken()), http.StatusNotFound, "Store not found.")
	// The name is free again: deletes are hard deletes.
	e.mustCreateStore("Doomed")
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func id64(v any) int64 { return int64(v.(map[string]any)["id"].(float64)) }

// A store's tags come ordered by id, whatever order the database finds
// them in (here the name index would give the reverse).
func TestGetStoreTagsOrderedByID(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	first := e.mustCreateTag(storeID, "zz")
	second := e.mustCreateTag(storeID, "aa")
	r := e.do("GET", fmt.Sprintf("/stores/%d", storeID), nil, e.userToken())
	expect(t, r, http.StatusOK)
	tags := r.JSON(t)["tags"].([]any)
	if len(tags) != 2 || id64(tags[0]) != first || id64(tags[1]) != second {
		t.Errorf("tags = %v, want ordered by id", tags)
	}
	if items := r.JSON(t)["items"].([]any); len(items) != 0 {
		t.Errorf("items = %v, want none", items)
	}
}
