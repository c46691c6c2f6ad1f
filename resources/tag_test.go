package resources_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func TestCreateAndListStoreTags(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	other := e.mustCreateStore("Other")
	r := e.do("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": " sale "}, e.userToken())
	expect(t, r, http.StatusCreated)
	tag := r.JSON(t)
	if tag["name"] != "sale" || id64(tag["store"]) != storeID || len(tag["items"].([]any)) != 0 {
		t.Errorf("tag = %v", tag)
	}
	e.mustCreateTag(other, "sale") // names are unique per store only
	expectError(t, e.do("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": "SALE"}, e.userToken()),
		http.StatusConflict, "A tag with that name already exists in this store.")
	expectError(t, e.do("POST", "/stores/999/tags", map[string]any{"name": "x"}, e.userToken()), http.StatusNotFound, "Store not found.")
	expectFieldError(t, e.do("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": ""}, e.userToken()), "json", "name")

	list := e.do("GET", fmt.Sprintf("/stores/%d/tags", storeID), nil, e.userToken()).List(t)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "sale" {
		t.Errorf("tags = %v", list)
	}
	expectError(t, e.do("GET", "/stores/999/tags", nil, e.userToken()), http.StatusNotFound, "Store not found.")
}

func TestLinkTags(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	red := e.mustCreateTag(storeID, "red")
	sale := e.mustCreateTag(storeID, "sale")
	path := fmt.Sprintf("/items/%d/tags", itemID)

	r := e.do("POST", path, map[string]any{"tag_ids": []int64{sale, red, red}}, e.userToken())
	expect(t, r, http.StatusOK)
	tags := r.JSON(t)["tags"].([]any)
	if len(tags) != 2 || id64(tags[0]) != red || id64(tags[1]) != sale {
		t.Errorf("tags = %v, want both, ordered by id", tags)
	}
	// Linking again is not an error and adds no row.
	expect(t, e.do("POST", path, map[string]any{"tag_ids": []int64{red}}, e.userToken()), http.StatusOK)
	if n := e.count("items_tags"); n != 2 {
		t.Errorf("%d links, want 2", n)
	}
	tag := e.do("GET", fmt.Sprintf("/tags/%d", red), nil, e.userToken()).JSON(t)
	if items := tag["items"].([]any); len(items) != 1 || id64(items[0]) != itemID {
		t.Errorf("tag items = %v", items)
	}
}

// Every id must name a tag of the item's own store, else nothing is linked.
func TestLinkTagsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	other := e.mustCreateStore("Other")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	own := e.mustCreateTag(storeID, "red")
	foreign := e.mustCreateTag(other, "blue")
	path := fmt.Sprintf("/items/%d/tags", itemID)

	r := e.do("POST", path, map[string]any{"tag_ids": []int64{own, foreign, 9999}}, e.userToken())
	body := expectError(t, r, http.StatusUnprocessableEntity, "")
	msg := fmt.Sprint(body["errors"].(map[string]any)["json"].(map[string]any)["tag_ids"])
	for _, want := range []string{fmt.Sprint(foreign), "9999"} {
		if !containsBytes([]byte(msg), want) {
			t.Errorf("message %q does not name id %s", msg, want)
		}
	}
	if e.count("items_tags") != 0 {
		t.Error("a partial link was stored")
	}
	for _, bad := range []string{`{"tag_ids": []}`, `{"tag_ids": [0]}`, `{"tag_ids": [-1]}`, `{"tag_ids": "1"}`,
		`{"tag_ids": [1.5]}`, `{"tag_ids": null}`, `{}`, `{"tag_ids": ["a"]}`} {
		expectFieldError(t, e.do("POST", path, bad, e.userToken()), "json", "tag_ids")
	}
	ids := make([]int64, 101)
	for i := range ids {
		ids[i] = own
	}
	expectFieldError(t, e.do("POST", path, map[string]any{"tag_ids": ids}, e.userToken()), "json", "tag_ids")
	expectError(t, e.do("POST", "/items/999/tags", map[string]any{"tag_ids": []int64{own}}, e.userToken()),
		http.StatusNotFound, "Item not found.")
}

func TestUnlinkTag(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	tagID := e.mustCreateTag(storeID, "red")
	unlinked := e.mustCreateTag(storeID, "blue")
	e.mustLink(itemID, tagID)

	r := e.do("DELETE", fmt.Sprintf("/items/%d/tags/%d", itemID, tagID), nil, e.userToken())
	expect(t, r, http.StatusOK)
	body := r.JSON(t)
	if body["message"] != "Item removed from tag" {
		t.Errorf("message = %v", body["message"])
	}
	item, tag := body["item"].(map[string]any), body["tag"].(map[string]any)
	if id64(item) != itemID || len(item["tags"].([]any)) != 0 || id64(tag) != tagID || len(tag["items"].([]any)) != 0 {
		t.Errorf("body = %s", r.Body)
	}
	if e.count("items_tags") != 0 || e.count("tags") != 2 {
		t.Error("only the link must go")
	}
	expectError(t, e.do("DELETE", fmt.Sprintf("/items/%d/tags/%d", itemID, unlinked), nil, e.userToken()), http.StatusNotFound, "")
	expectError(t, e.do("DELETE", fmt.Sprintf("/items/999/tags/%d", tagID), nil, e.userToken()), http.StatusNotFound, "Item not found.")
	expectError(t, e.do("DELETE", fmt.Sprintf("/items/%d/tags/999", itemID), nil, e.userToken()), http.StatusNotFound, "Tag not found.")
}

func TestGetTag(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	tagID := e.mustCreateTag(storeID, "red")
	r := e.do("GET", fmt.Sprintf("/tags/%d", tagID), nil, e.userToken())
	expect(t, r, http.StatusOK)
	if tag := r.JSON(t); tag["name"] != "red" || tag["store"].(map[string]any)["name"] != "Shop" {
		t.Errorf("tag = %v", tag)
	}
	expectError(t, e.do("GET", "/tags/999", nil, e.userToken()), http.StatusNotFound, "Tag not found.")
}

func TestDeleteTag(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	used := e.mustCreateTag(storeID, "used")
	unused := e.mustCreateTag(storeID, "unused")
	e.mustLink(itemID, used)

	expectError(t, e.do("DELETE", fmt.Sprintf("/tags/%d", used), nil, e.adminToken()), http.StatusConflict,
		"Could not delete tag. Make sure tag is not associated with any items, then try again.")
	expect(t, e.do("GET", fmt.Sprintf("/tags/%d", used), nil, e.adminToken()), http.StatusOK)

	r := e.do("DELETE", fmt.Sprintf("/tags/%d", unused), nil, e.adminToken())
	expect(t, r, http.StatusOK)
	if r.JSON(t)["message"] != "Tag deleted." {
		t.Errorf("body = %s", r.Body)
	}
	expectError(t, e.do("DELETE", fmt.Sprintf("/tags/%d", unused), nil, e.adminToken()), http.StatusNotFound, "Tag not found.")
}

// A link and a delete of the same tag racing each other: either the link
// wins and the delete is refused with 409, or the delete wins and the link
// is refused with 422. Never both 200, which would lose the new link.
func TestLinkAndDeleteTagRace(t *testing.T) {
	e := newEnv(t)
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	admin := e.adminToken()
	for round := 0; round < 15; round++ {
		tagID := e.mustCreateTag(storeID, fmt.Sprint("tag", round))
		var link, del response
		var linkErr, delErr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			link, linkErr = e.raw(request("POST", fmt.Sprintf("/items/%d/tags", itemID), fmt.Sprintf(`{"tag_ids": [%d]}`, tagID), admin))
		}()
		go func() {
			defer wg.Done()
			<-start
			del, delErr = e.raw(request("DELETE", fmt.Sprintf("/tags/%d", tagID), "", admin))
		}()
		close(start)
		wg.Wait()
		if linkErr != nil || delErr != nil {
			t.Fatalf("round %d: %v, %v", round, linkErr, delErr)
		}
		switch {
		case link.Status == http.StatusOK && del.Status == http.StatusConflict:
		case link.Status == http.StatusUnprocessableEntity && del.Status == http.StatusOK:
		default:
			t.Fatalf("round %d: link %d %s, delete %d %s", round, link.Status, link.Body, del.Status, del.Body)
		}
	}
}
