package resources_test

import (
	"fmt"
	"net/http"
	"stores-api/models"
	"testing"
)

func TestCreateItem(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	body := fmt.Sprintf(`{"name": " Chair ", "price": 19.99, "store_id": %d, "description": "Oak"}`, storeID)
	r := e.do("POST", "/items", body, e.adminToken())
	expect(t, r, http.StatusCreated)
	item := r.JSON(t)
	if item["name"] != "Chair" || item["price"] != 19.99 || item["description"] != "Oak" {
		t.Errorf("item = %v", item)
	}
	store := item["store"].(map[string]any)
	if id64(store) != storeID || store["name"] != "Shop" || len(store) != 2 {
		t.Errorf("store = %v, want a plain store", store)
	}
	if tags := item["tags"].([]any); len(tags) != 0 {
		t.Errorf("tags = %v", tags)
	}
}

// Prices are exact: what is stored is what was sent, to the cent.
func TestItemPricesAreExact(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	for i, price := range []string{"19.99", "0.1", "0.29", "1e2", "99999999.99", "0", "1.10", "5"} {
		itemID := e.mustCreateItem(storeID, fmt.Sprint("item", i), price)
		got := e.do("GET", fmt.Sprintf("/items/%d", itemID), nil, e.adminToken())
		want := map[string]string{"1e2": "100", "1.10": "1.1"}[price]
		if want == "" {
			want = price
		}
		if literal := priceLiteral(t, got.Body); literal != want {
			t.Errorf("price %s encoded as %s, want exactly %s", price, literal, want)
		}
	}
	var cents int64
	if err := e.DB.Gorm.Model(&models.Item{}).Where("name = ?", "item0").Pluck("price_cents", &cents).Error; err != nil {
		t.Fatal(err)
	}
	if cents != 1999 {
		t.Errorf("19.99 stored as %d cents", cents)
	}
}

func TestCreateItemRejectsBadPrices(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	for _, price := range []string{`-0.01`, `1.999`, `100000000`, `"19.99"`, `true`, `null`, `[]`, `1e400`, `1e-400`, `0.001`} {
		body := fmt.Sprintf(`{"name": "A", "price": %s, "store_id": %d}`, price, storeID)
		expectFieldError(t, e.do("POST", "/items", body, e.adminToken()), "json", "price")
	}
	if e.count("items") != 0 {
		t.Error("an item with a bad price was stored")
	}
}

func TestCreateItemListsEveryBadField(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/items", `{"name": "", "price": "x", "store_id": "1", "description": 5, "extra": 1}`, e.adminToken())
	for _, field := range []string{"name", "price", "store_id", "description", "extra"} {
		expectFieldError(t, r, "json", field)
	}
	r = e.do("POST", "/items", `{}`, e.adminToken())
	body := expectError(t, r, http.StatusUnprocessableEntity, "Validation failed.")
	fields := body["errors"].(map[string]any)["json"].(map[string]any)
	for _, field := range []string{"name", "price", "store_id"} {
		if msgs := fields[field].([]any); msgs[0] != "Missing data for required field." {
			t.Errorf("%s: %v", field, msgs)
		}
	}
	if _, ok := fields["description"]; ok {
		t.Error("description is optional")
	}
}

func TestCreateItemUnknownStore(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/items", `{"name": "A", "price": 1, "store_id": 4242}`, e.adminToken())
	expectFieldError(t, r, "json", "store_id")
}

func TestCreateItemDuplicateNameInStore(t *testing.T) {
	e := newEnv(t)
	a := e.mustCreateStore("A")
	b := e.mustCreateStore("B")
	e.mustCreateItem(a, "Chair", "1")
	r := e.do("POST", "/items", fmt.Sprintf(`{"name": "CHAIR", "price": 2, "store_id": %d}`, a), e.adminToken())
	expectError(t, r, http.StatusConflict, "An item with that name already exists in this store.")
	e.mustCreateItem(b, "chair", "1") // another store may use the name
}

func TestDescriptionLength(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	ok := fmt.Sprintf(`{"name": "A", "price": 1, "store_id": %d, "description": %q}`, storeID, repeat("d", 1000))
	expect(t, e.do("POST", "/items", ok, e.adminToken()), http.StatusCreated)
	tooLong := fmt.Sprintf(`{"name": "B", "price": 1, "store_id": %d, "description": %q}`, storeID, repeat("d", 1001))
	expectFieldError(t, e.do("POST", "/items", tooLong, e.adminToken()), "json", "description")
}

func TestGetAndListItems(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	first := e.mustCreateItem(storeID, "A", "1")
	second := e.mustCreateItem(storeID, "B", "2")
	tag := e.mustCreateTag(storeID, "red")
	e.mustLink(second, tag)

	list := e.do("GET", "/items", nil, e.userToken()).List(t)
	if len(list) != 2 || id64(list[0]) != first || id64(list[1]) != second {
		t.Fatalf("items = %v", list)
	}
	tags := list[1].(map[string]any)["tags"].([]any)
	if len(tags) != 1 || id64(tags[0]) != tag {
		t.Errorf("tags = %v", tags)
	}
	r := e.do("GET", fmt.Sprintf("/items/%d", second), nil, e.userToken())
	expect(t, r, http.StatusOK)
	if r.JSON(t)["store"].(map[string]any)["name"] != "Shop" {
		t.Errorf("item = %s", r.Body)
	}
	expectError(t, e.do("GET", "/items/777", nil, e.userToken()), http.StatusNotFound, "Item not found.")
}

func TestUpdateItem(t *testing.T) {
	e := newEnv(t)
	a := e.mustCreateStore("A")
	b := e.mustCreateStore("B")
	itemID := e.mustCreateItem(a, "Chair", "10")
	path := fmt.Sprintf("/items/%d", itemID)

	r := e.do("PUT", path, `{"price": 0, "description": "Now free"}`, e.userToken())
	expect(t, r, http.StatusOK)
	got := r.JSON(t)
	if got["price"] != 0.0 || got["description"] != "Now free" || got["name"] != "Chair" {
		t.Errorf("after update: %v", got)
	}
	r = e.do("PUT", path, fmt.Sprintf(`{"name": "Stool", "store_id": %d, "description": null}`, b), e.userToken())
	expect(t, r, http.StatusOK)
	got = r.JSON(t)
	if got["name"] != "Stool" || got["description"] != nil || id64(got["store"]) != b {
		t.Errorf("after move: %v", got)
	}
}

func TestUpdateItemErrors(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("A")
	itemID := e.mustCreateItem(storeID, "Chair", "10")
	e.mustCreateItem(storeID, "Table", "10")
	path := fmt.Sprintf("/items/%d", itemID)
	tok := e.userToken()

	expectFieldError(t, e.do("PUT", path, `{}`, tok), "json", "_schema")
	expectFieldError(t, e.do("PUT", path, `{"name": null}`, tok), "json", "name")
	expectFieldError(t, e.do("PUT", path, `{"price": null}`, tok), "json", "price")
	expectFieldError(t, e.do("PUT", path, `{"price": 1.001}`, tok), "json", "price")
	expectFieldError(t, e.do("PUT", path, `{"store_id": 999}`, tok), "json", "store_id")
	expectError(t, e.do("PUT", path, `{"name": "table"}`, tok), http.StatusConflict, "")
	expectError(t, e.do("PUT", "/items/999", `{"name": "New"}`, tok), http.StatusNotFound, "Item not found.")
	if e.count("items") != 2 {
		t.Error("PUT must never create")
	}
	got := e.do("GET", path, nil, tok).JSON(t)
	if got["name"] != "Chair" || got["price"] != 10.0 {
		t.Errorf("a failed update changed the item: %v", got)
	}
}

// A tag and its items always share a store, so a tagged item cannot move.
func TestUpdateItemRefusesToMoveTaggedItem(t *testing.T) {
	e := newEnv(t)
	a := e.mustCreateStore("A")
	b := e.mustCreateStore("B")
	itemID := e.mustCreateItem(a, "Chair", "10")
	e.mustLink(itemID, e.mustCreateTag(a, "red"))
	path := fmt.Sprintf("/items/%d", itemID)
	r := e.do("PUT", path, fmt.Sprintf(`{"store_id": %d, "name": "Renamed"}`, b), e.userToken())
	expectError(t, r, http.StatusConflict, "")
	got := e.do("GET", path, nil, e.userToken()).JSON(t)
	if id64(got["store"]) != a || got["name"] != "Chair" {
		t.Errorf("refused move changed the item: %v", got)
	}
	// Same store id is not a move.
	expect(t, e.do("PUT", path, fmt.Sprintf(`{"store_id": %d}`, a), e.userToken()), http.StatusOK)
}

func TestDeleteItemDropsItsLinks(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("A")
	itemID := e.mustCreateItem(storeID, "Chair", "10")
	tagID := e.mustCreateTag(storeID, "red")
	e.mustLink(itemID, tagID)
	r := e.do("DELETE", fmt.Sprintf("/items/%d", itemID), nil, e.adminToken())
	expect(t, r, http.StatusOK)
	if r.JSON(t)["message"] != "Item deleted." {
		t.Errorf("body = %s", r.Body)
	}
	if e.count("items_tags") != 0 || e.count("tags") != 1 {
		t.Error("the link must go, the tag must stay")
	}
	expectError(t, e.do("DELETE", fmt.Sprintf("/items/%d", itemID), nil, e.adminToken()), http.StatusNotFound, "Item not found.")
}
