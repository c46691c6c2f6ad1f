package resources_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// withHeaders sends a request with a JSON body (when not "") and headers.
func (e *testEnv) withHeaders(method, path, body, token string, header map[string]string) response {
	e.t.Helper()
	req := request(method, path, body, token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return e.send(req)
}

// etagOf is the ETag a GET of path answers with.
func (e *testEnv) etagOf(path, token string) string {
	e.t.Helper()
	r := e.get(path, token, nil)
	expect(e.t, r, http.StatusOK)
	return r.Header.Get("ETag")
}

// TestConditionalWrites: each write to an existing resource honours
// If-Match: a stale ETag gets 412 and changes nothing; the current one,
// or "*", lets the write through; a weak tag never matches.
func TestConditionalWrites(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	tagID := e.mustCreateTag(storeID, "red")
	item := fmt.Sprintf("/items/%d", itemID)
	stale := e.etagOf(item, token)
	expect(t, e.do("PUT", item, `{"price": 6}`, token), http.StatusOK) // someone else's change

	for _, w := range []struct{ method, path, body string }{
		{"PUT", item, `{"price": 7}`},
		{"POST", item + "/tags", fmt.Sprintf(`{"tag_ids": [%d]}`, tagID)},
		{"DELETE", item, ""},
		{"DELETE", fmt.Sprintf("/stores/%d", storeID), ""},
		{"DELETE", fmt.Sprintf("/tags/%d", tagID), ""},
	} {
		for _, tag := range []string{stale, `"nothing-like-it"`, "W/" + e.etagOf(item, token)} {
			before := e.get(item, token, nil).Body
			r := e.withHeaders(w.method, w.path, w.body, token, map[string]string{"If-Match": tag})
			expectAuthError(t, r, http.StatusPreconditionFailed, "precondition_failed")
			if after := e.get(item, token, nil).Body; !bytes.Equal(before, after) {
				t.Fatalf("%s %s with a failed If-Match changed the item:\n%s\n%s", w.method, w.path, before, after)
			}
		}
	}
	if e.count("stores") != 1 || e.count("items") != 1 || e.count("tags") != 1 {
		t.Fatal("a refused delete deleted")
	}

	// The current ETag, among others, lets a write through, and PUT answers
	// with the new ETag, the one a GET now gives.
	current := e.etagOf(item, token)
	r := e.withHeaders("PUT", item, `{"price": 8}`, token, map[string]string{"If-Match": `"old", ` + current})
	expect(t, r, http.StatusOK)
	if got, want := r.Header.Get("ETag"), e.etagOf(item, token); got != want || got == current {
		t.Fatalf("PUT answered ETag %s; GET gives %s (was %s)", got, want, current)
	}
	// Chained without a GET: the PUT's ETag is good for the next write.
	r = e.withHeaders("POST", item+"/tags", fmt.Sprintf(`{"tag_ids": [%d]}`, tagID), token, map[string]string{"If-Match": r.Header.Get("ETag")})
	expect(t, r, http.StatusOK)
	r = e.withHeaders("DELETE", fmt.Sprintf("/items/%d/tags/%d", itemID, tagID), "", token, map[string]string{"If-Match": r.Header.Get("ETag")})
	expect(t, r, http.StatusOK)

	// "*" matches any existing resource; a missing one stays a 404.
	expect(t, e.withHeaders("DELETE", fmt.Sprintf("/tags/%d", tagID), "", token, map[string]string{"If-Match": "*"}), http.StatusOK)
	expectError(t, e.withHeaders("DELETE", "/items/999999", "", token, map[string]string{"If-Match": "*"}), http.StatusNotFound, "")
	expectError(t, e.withHeaders("PUT", "/items/999999", `{"price": 1}`, token, map[string]string{"If-Match": current}), http.StatusNotFound, "")
	expect(t, e.withHeaders("DELETE", fmt.Sprintf("/stores/%d", storeID), "", token,
		map[string]string{"If-Match": e.etagOf(fmt.Sprintf("/stores/%d", storeID), token)}), http.StatusOK)
}

// TestConcurrentConditionalPuts: two clients with the same ETag write at
// once: one wins, the other gets 412, never two 200s.
func TestConcurrentConditionalPuts(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	path := fmt.Sprintf("/items/%d", itemID)
	for round := range 10 {
		etag := e.etagOf(path, token)
		start := make(chan struct{})
		answers := make([]response, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := request("PUT", path, fmt.Sprintf(`{"price": %d}`, 10*round+i+1), token)
				req.Header.Set("If-Match", etag)
				<-start
				answers[i], errs[i] = e.raw(req)
			}()
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		for i, r := range answers {
			switch {
			case errs[i] != nil:
				t.Fatal(errs[i])
			case r.Status == http.StatusOK:
				won++
			case r.Status == http.StatusPreconditionFailed:
				lost++
			default:
				t.Fatalf("round %d: %d %s", round, r.Status, r.Body)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("round %d: %d won, %d lost; want one of each", round, won, lost)
		}
	}
}

// TestRequireIfMatch: with REQUIRE_IF_MATCH, every write to an existing
// resource without If-Match gets 428 and changes nothing; creates need
// none.
func TestRequireIfMatch(t *testing.T) {
	e := newEnvWith(t, map[string]string{"REQUIRE_IF_MATCH": "true"})
	token := e.adminToken()
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Chair", "5")
	tagID := e.mustCreateTag(storeID, "red")
	if _, err := e.Data.Items.LinkTags(context.Background(), itemID, []int64{tagID}, nil); err != nil {
		t.Fatal(err)
	}
	item := fmt.Sprintf("/items/%d", itemID)
	for _, w := range []struct{ method, path, body string }{
		{"PUT", item, `{"price": 7}`},
		{"POST", item + "/tags", fmt.Sprintf(`{"tag_ids": [%d]}`, tagID)},
		{"DELETE", fmt.Sprintf("/items/%d/tags/%d", itemID, tagID), ""},
		{"DELETE", item, ""},
		{"DELETE", fmt.Sprintf("/tags/%d", tagID), ""},
		{"DELETE", fmt.Sprintf("/stores/%d", storeID), ""},
	} {
		var body any
		if w.body != "" {
			body = w.body
		}
		expectAuthError(t, e.do(w.method, w.path, body, token), http.StatusPreconditionRequired, "precondition_required")
	}
	if e.count("items") != 1 || e.count("items_tags") != 1 || e.count("stores") != 1 {
		t.Fatal("a write without If-Match went through")
	}
	expect(t, e.withHeaders("PUT", item, `{"price": 7}`, token, map[string]string{"If-Match": e.etagOf(item, token)}), http.StatusOK)
}

// idempotentPost sends a POST with an Idempotency-Key.
func (e *testEnv) idempotentPost(path, body, token, key string) response {
	e.t.Helper()
	return e.withHeaders("POST", path, body, token, map[string]string{"Idempotency-Key": key})
}

// TestIdempotentRetries: the same key with the same request does the work
// once and replays the first answer; another request with the key is
// refused; keys are per user; the answers survive a restart.
func TestIdempotentRetries(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	storeID := e.mustCreateStore("Shop")
	body := fmt.Sprintf(`{"name": "Chair", "price": 5, "store_id": %d}`, storeID)

	first := e.idempotentPost("/items", body, token, "order-42")
	expect(t, first, http.StatusCreated)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("the first answer says it is replayed")
	}
	again := e.idempotentPost("/items", body, token, "order-42")
	expect(t, again, http.StatusCreated)
	if !bytes.Equal(again.Body, first.Body) || again.Header.Get("Location") != first.Header.Get("Location") ||
		again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry got %s (Location %q, replayed %q), want the first answer %s again",
			again.Body, again.Header.Get("Location"), again.Header.Get("Idempotent-Replayed"), first.Body)
	}
	if n := e.count("items"); n != 1 {
		t.Fatalf("%d items after a retry, want 1", n)
	}
	expectAuthError(t, e.idempotentPost("/items", fmt.Sprintf(`{"name": "Table", "price": 5, "store_id": %d}`, storeID), token, "order-42"),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	expectAuthError(t, e.idempotentPost("/stores", body, token, "order-42"), http.StatusUnprocessableEntity, "idempotency_key_reused")

	// A 409 is an answer too: the retry gets it again, not a second try.
	conflict := e.idempotentPost("/stores", `{"name": "shop"}`, token, "dup")
	expectError(t, conflict, http.StatusConflict, "A store with that name already exists.")
	if r := e.idempotentPost("/stores", `{"name": "shop"}`, token, "dup"); r.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.Body, conflict.Body) {
		t.Fatalf("the retry of a 409: %d %s", r.Status, r.Body)
	}

	// Another user's key of the same name is another key.
	e.register(userEmail)
	other, _ := e.login(userEmail)
	r := e.idempotentPost("/stores", `{"name": "Theirs"}`, other, "order-42")
	expect(t, r, http.StatusCreated)
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("a user got another user's answer")
	}

	// A restart (another app on the same database) replays as well.
	restarted := newEnvOn(t, e.DB, nil)
	r = restarted.idempotentPost("/items", body, token, "order-42")
	if r.Status != http.StatusCreated || !bytes.Equal(r.Body, first.Body) || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after a restart: %d %s", r.Status, r.Body)
	}

	// Tags and registrations too; /register's keys are per client address.
	tag := fmt.Sprintf("/stores/%d/tags", storeID)
	t1 := e.idempotentPost(tag, `{"name": "red"}`, token, "tag-1")
	expect(t, t1, http.StatusCreated)
	if t2 := e.idempotentPost(tag, `{"name": "red"}`, token, "tag-1"); t2.Status != http.StatusCreated || !bytes.Equal(t2.Body, t1.Body) {
		t.Fatalf("tag retry: %d %s", t2.Status, t2.Body)
	}
	reg := `{"email": "retry@example.com", "password": "correct horse"}`
	r1 := e.idempotentPost("/register", reg, "", "signup")
	expect(t, r1, http.StatusCreated)
	if r2 := e.idempotentPost("/register", reg, "", "signup"); r2.Status != http.StatusCreated || !bytes.Equal(r2.Body, r1.Body) {
		t.Fatalf("register retry: %d %s", r2.Status, r2.Body)
	}
}

// TestIdempotencyKeyRules: a malformed key is a 400; a key whose first
// request is still running is a 409 with Retry-After; an answer that
// depends on the credentials is not kept.
func TestIdempotencyKeyRules(t *testing.T) {
	e := newEnv(t)
	token := e.adminToken()
	for _, key := range []string{string(make([]byte, 256)), "tab\there", "é"} {
		req := request("POST", "/stores", `{"name": "X"}`, token)
		req.Header["Idempotency-Key"] = []string{key}
		expectAuthError(t, e.send(req), http.StatusBadRequest, "invalid_idempotency_key")
	}
	if e.count("stores") != 0 {
		t.Fatal("a request with a bad key did the work")
	}

	// The first request holds the key, as a request in flight does: the
	// same method, path and body, hashed as the server hashes them.
	admin, err := e.Data.Users.ByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte("POST /stores\n" + `{"name": "Slow"}`))
	_, err = e.Data.IdempotencyKeys.Claim(context.Background(), fmt.Sprint("user:", admin.ID), "busy", hex.EncodeToString(hash[:]), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := e.idempotentPost("/stores", `{"name": "Slow"}`, token, "busy")
	expectAuthError(t, r, http.StatusConflict, "idempotency_key_in_progress")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}

	// A refused token's answer is not kept: with a good token, the same
	// key does the work.
	revoked, _ := e.login(adminEmail)
	expect(t, e.do("POST", "/logout", nil, revoked), http.StatusOK)
	expectAuthError(t, e.idempotentPost("/stores", `{"name": "Late"}`, revoked, "late"), http.StatusUnauthorized, "token_revoked")
	r = e.idempotentPost("/stores", `{"name": "Late"}`, token, "late")
	if r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("after a refused token: %d %s", r.Status, r.Body)
	}
}
