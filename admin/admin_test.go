package admin_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"stores-api/internal/apptest"
	"stores-api/internal/testdb"
	"stores-api/models"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// adminClient is a browser without a browser: it keeps the panel's
// cookies between requests and posts forms with the CSRF token the way
// the panel's pages do.
type adminClient struct {
	e       *testEnv
	cookies map[string]string
	header  http.Header // added to every request
	host    string      // the Host header, when not httptest's example.com
}

func (e *testEnv) adminClient() *adminClient {
	return &adminClient{e: e, cookies: map[string]string{}, header: http.Header{}}
}

func (a *adminClient) send(req *http.Request) response {
	a.e.t.Helper()
	for name, value := range a.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	for k, v := range a.header {
		req.Header[k] = v
	}
	if a.host != "" {
		req.Host = a.host
	}
	r := a.e.send(req)
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(a.cookies, c.Name)
		} else {
			a.cookies[c.Name] = c.Value
		}
	}
	return r
}

func (a *adminClient) get(path string) response {
	a.e.t.Helper()
	return a.send(httptest.NewRequest(http.MethodGet, path, nil))
}

// post sends a form. It adds the CSRF token of the cookie, as the hidden
// field of every panel form does, unless the form sets _csrf itself.
func (a *adminClient) post(path string, form url.Values) response {
	a.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", a.csrf())
	}
	return a.postRaw(path, "application/x-www-form-urlencoded", form.Encode())
}

func (a *adminClient) postRaw(path, contentType, body string) response {
	a.e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return a.send(req)
}

// csrf is the client's CSRF token, fetched with a page when it has none.
func (a *adminClient) csrf() string {
	a.e.t.Helper()
	if a.cookies["admin_csrf"] == "" {
		a.get("/admin/login")
	}
	return a.cookies["admin_csrf"]
}

// signIn signs in through the sign-in form.
func (a *adminClient) signIn(email string) response {
	a.e.t.Helper()
	return a.post("/admin/login", url.Values{"email": {email}, "password": {password}})
}

// adminSession is a client signed in as the admin.
func (e *testEnv) adminSession() *adminClient {
	e.t.Helper()
	e.register(adminEmail)
	a := e.adminClient()
	expectRedirect(e.t, a.signIn(adminEmail), "/admin")
	return a
}

// expectRedirect checks a 303 to location.
func expectRedirect(t testing.TB, r response, location string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != location {
		t.Fatalf("got %d to %q, want 303 to %q; body: %.300s", r.Status, r.Header.Get("Location"), location, r.Body)
	}
}

// expectHTML checks the status, that the answer is an HTML page and never
// the JSON envelope, and that it shows every one of texts.
func expectHTML(t testing.TB, r response, status int, texts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %.500s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want an HTML page; body: %.300s", ct, r.Body)
	}
	for _, text := range texts {
		if !strings.Contains(string(r.Body), text) {
			t.Fatalf("the page does not show %q:\n%s", text, r.Body)
		}
	}
}

// cookieOf finds a cookie the response sets.
func cookieOf(t testing.TB, r response, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, r.Header.Values("Set-Cookie"))
	return nil
}

func TestAdminSendsSignedOutVisitorsToSignIn(t *testing.T) {
	e := newEnv(t)
	a := e.adminClient()
	expectRedirect(t, a.get("/admin"), "/admin/login?next=%2Fadmin")
	expectRedirect(t, a.get("/admin/items?q=x"), "/admin/login?next=%2Fadmin%2Fitems%3Fq%3Dx")

	r := a.get("/admin/login?next=%2Fadmin%2Fitems")
	expectHTML(t, r, http.StatusOK, "Sign in", `name="next" value="/admin/items"`)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("headers: %v", r.Header)
	}
	// After signing in, the visitor lands where they were going, but never
	// outside the panel.
	e.register(adminEmail)
	r = a.post("/admin/login", url.Values{"email": {adminEmail}, "password": {password}, "next": {"/admin/items"}})
	expectRedirect(t, r, "/admin/items")
	for _, next := range []string{"https://evil.example/admin", "//evil.example/admin", "/stores", "/admin/logout", "/administrator"} {
		a := e.adminClient()
		r := a.post("/admin/login", url.Values{"email": {adminEmail}, "password": {password}, "next": {next}})
		expectRedirect(t, r, "/admin")
	}
}

func TestAdminSessionCookie(t *testing.T) {
	e := newEnv(t)
	e.register(adminEmail)
	a := e.adminClient()
	r := a.get("/admin/login")
	csrf := cookieOf(t, r, "admin_csrf")
	if !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode || csrf.Path != "/admin" || csrf.Secure {
		t.Fatalf("CSRF cookie %+v", csrf)
	}
	r = a.signIn(adminEmail)
	expectRedirect(t, r, "/admin")
	session := cookieOf(t, r, "admin_session")
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/admin" || session.Secure {
		t.Fatalf("session cookie %+v", session)
	}
	if left := time.Until(session.Expires); left < 7*time.Hour || left > 9*time.Hour {
		t.Fatalf("session cookie expires in %v, want about 8h", left)
	}
	expectHTML(t, a.get("/admin"), http.StatusOK, "Dashboard", "Signed in as "+adminEmail)
}

func TestAdminCookiesAreSecureOverHTTPSAndInProduction(t *testing.T) {
	check := func(t *testing.T, e *testEnv, header http.Header) {
		e.register(adminEmail)
		a := e.adminClient()
		a.header = header
		r := a.get("/admin/login")
		if c := cookieOf(t, r, "admin_csrf"); !c.Secure {
			t.Fatalf("CSRF cookie not Secure: %+v", c)
		}
		r = a.signIn(adminEmail)
		expectRedirect(t, r, "/admin")
		if c := cookieOf(t, r, "admin_session"); !c.Secure || !c.HttpOnly {
			t.Fatalf("session cookie not Secure and HttpOnly: %+v", c)
		}
	}
	t.Run("https", func(t *testing.T) {
		// HTTPS as a TLS-ending proxy reports it; app.Test's connections
		// come from 0.0.0.0. Over HTTPS the CSRF middleware also wants a
		// same-site Referer.
		check(t, newEnvWith(t, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0"}), http.Header{
			"X-Forwarded-Proto": {"https"},
			"Referer":           {"https://example.com/admin/login"},
		})
	})
	t.Run("production", func(t *testing.T) {
		check(t, newEnvWith(t, map[string]string{"APP_ENV": "production"}), http.Header{})
	})
}

func TestAdminRefusesFormsWithoutAValidCSRFToken(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	token := a.csrf()
	tampered := "A" + token[1:]
	if tampered == token {
		tampered = "B" + token[1:]
	}
	for _, tc := range []struct{ name, field, cookie string }{
		{name: "no token", cookie: token},
		{name: "made-up token", field: "forged", cookie: "forged"},
		{name: "tampered token", field: tampered, cookie: tampered},
		{name: "token without its signature", field: token[:strings.LastIndex(token, ".")], cookie: token[:strings.LastIndex(token, ".")]},
		{name: "another visitor's token", field: e.adminClient().csrf(), cookie: token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.cookies["admin_csrf"] = tc.cookie
			form := url.Values{"name": {"Forged"}}
			if tc.field != "" {
				form.Set("_csrf", tc.field)
			} else {
				form["_csrf"] = nil
			}
			r := a.post("/admin/stores", form)
			expectHTML(t, r, http.StatusForbidden, "This form has expired")
			if n := e.count("stores"); n != 0 {
				t.Fatalf("%d stores created", n)
			}
		})
	}
	a.cookies["admin_csrf"] = token
	// The sign-in and sign-out forms are protected too.
	b := e.adminClient()
	expectHTML(t, b.post("/admin/login", url.Values{"email": {adminEmail}, "password": {password}, "_csrf": nil}),
		http.StatusForbidden, "This form has expired")
	expectHTML(t, a.post("/admin/logout", url.Values{"_csrf": nil}), http.StatusForbidden)
	expectHTML(t, a.get("/admin"), http.StatusOK, "Dashboard") // still signed in

	// With the token, the same form works.
	expectRedirect(t, a.post("/admin/stores", url.Values{"name": {"Real"}}), "/admin/stores/1")
}

func TestAdminIsForAdminsOnly(t *testing.T) {
	e := newEnv(t)
	e.register(userEmail)
	a := e.adminClient()
	r := a.signIn(userEmail)
	expectHTML(t, r, http.StatusForbidden, "Admin access required", userEmail)
	if _, ok := a.cookies["admin_session"]; ok {
		t.Fatal("a user who is not an admin got a session")
	}
	expectRedirect(t, a.get("/admin"), "/admin/login?next=%2Fadmin")

	r = a.post("/admin/login", url.Values{"email": {userEmail}, "password": {"wrong password"}})
	expectHTML(t, r, http.StatusUnauthorized, "Wrong email or password.", `value="user@example.com"`)
	if strings.Contains(string(r.Body), "wrong password") {
		t.Fatal("the sign-in form shows the password again")
	}
	r = a.post("/admin/login", url.Values{"email": {"nobody@example.com"}, "password": {password}})
	expectHTML(t, r, http.StatusUnauthorized, "Wrong email or password.")
	r = a.post("/admin/login", url.Values{"email": {""}, "password": {""}})
	expectHTML(t, r, http.StatusUnprocessableEntity, `id="login-email-error"`, "Field may not be empty.")
}

func TestAdminChecksTheSessionOnEveryRequest(t *testing.T) {
	t.Run("demoted", func(t *testing.T) {
		e := newEnv(t)
		a := e.adminSession()
		if err := e.Data.Users.SetAdmin(context.Background(), e.userID(adminEmail), false); err != nil {
			t.Fatal(err)
		}
		expectHTML(t, a.get("/admin/stores"), http.StatusForbidden, "Admin access required", "Sign out")
		expectHTML(t, a.post("/admin/stores", url.Values{"name": {"X"}}), http.StatusForbidden, "Admin access required")
		if n := e.count("stores"); n != 0 {
			t.Fatal("a demoted admin created a store")
		}
		expectRedirect(t, a.post("/admin/logout", nil), "/admin/login")
	})
	t.Run("deleted", func(t *testing.T) {
		e := newEnv(t)
		a := e.adminSession()
		if err := e.Data.Users.Delete(context.Background(), e.userID(adminEmail)); err != nil {
			t.Fatal(err)
		}
		expectRedirect(t, a.get("/admin"), "/admin/login?next=%2Fadmin")
		expectHTML(t, a.get("/admin/login"), http.StatusOK, "Your session has ended.")
	})
	t.Run("expired or forged", func(t *testing.T) {
		e := newEnv(t)
		sid := apptest.DecodeClaims(t, e.adminSession().cookies["admin_session"])["sid"]
		sign := func(key []byte, claims jwt.MapClaims) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		now := time.Now()
		valid := jwt.MapClaims{"sub": "1", "sid": sid, "jti": "j1", "type": "admin_session", "email": adminEmail, "exp": now.Add(time.Hour).Unix()}
		noEmail := jwt.MapClaims{"sub": "1", "sid": sid, "jti": "j5", "type": "admin_session", "exp": now.Add(time.Hour).Unix()}
		noSession := jwt.MapClaims{"sub": "1", "jti": "j6", "type": "admin_session", "email": adminEmail, "exp": now.Add(time.Hour).Unix()}
		otherSession := jwt.MapClaims{"sub": "1", "sid": "ended", "jti": "j7", "type": "admin_session", "email": adminEmail, "exp": now.Add(time.Hour).Unix()}
		expired := jwt.MapClaims{"sub": "1", "sid": sid, "jti": "j2", "type": "admin_session", "exp": now.Add(-time.Minute).Unix()}
		access := jwt.MapClaims{"sub": "1", "sid": sid, "jti": "j3", "type": "access", "exp": now.Add(time.Hour).Unix()}
		noExp := jwt.MapClaims{"sub": "1", "sid": sid, "jti": "j4", "type": "admin_session"}
		secret := e.Config.JWTSecret
		for name, token := range map[string]string{
			"expired":            sign(secret, expired),
			"API access token":   sign(secret, access),
			"no expiry":          sign(secret, noExp),
			"no email":           sign(secret, noEmail),
			"no session":         sign(secret, noSession),
			"ended session":      sign(secret, otherSession),
			"other secret":       sign([]byte("another-secret-another-secret-another"), valid),
			"not a token at all": "garbage",
		} {
			a := e.adminClient()
			a.cookies["admin_session"] = token
			if r := a.get("/admin"); r.Status != http.StatusSeeOther {
				t.Fatalf("%s: status %d, want a redirect to sign in", name, r.Status)
			}
		}
		a := e.adminClient()
		a.cookies["admin_session"] = sign(secret, valid)
		expectHTML(t, a.get("/admin"), http.StatusOK, "Dashboard") // the control
	})
}

func TestAdminSignOutRevokesTheSession(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	session := a.cookies["admin_session"]
	r := a.post("/admin/logout", nil)
	expectRedirect(t, r, "/admin/login")
	if c := cookieOf(t, r, "admin_session"); c.Value != "" || !c.Expires.Before(time.Now()) {
		t.Fatalf("sign-out left the cookie: %+v", c)
	}
	expectHTML(t, a.get("/admin/login"), http.StatusOK, "Signed out.")
	var n int64
	if err := e.DB.Gorm.Table("sessions").Where("id = ?", apptest.DecodeClaims(t, session)["sid"]).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("the panel's session outlived sign-out")
	}
	// A copy of the cookie is worthless now, on any replica.
	b := newEnvOn(t, e.DB, nil).adminClient()
	b.cookies["admin_session"] = session
	expectRedirect(t, b.get("/admin"), "/admin/login?next=%2Fadmin")
}

func TestAdminFormsExplainFailures(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	storeID := e.mustCreateStore("Corner Shop")
	otherID := e.mustCreateStore("Other")
	itemID := e.mustCreateItem(storeID, "Apple", "1")
	tagID := e.mustCreateTag(storeID, "fresh")
	otherTag := e.mustCreateTag(otherID, "elsewhere")
	saleID := e.mustCreateTag(storeID, "sale")
	e.mustLink(itemID, tagID)
	e.mustCreateItem(storeID, "Banana", "2")
	stores := fmt.Sprint("/admin/stores/", storeID)
	item := fmt.Sprint("/admin/items/", itemID)
	itemForm := func(name, price, store string) url.Values {
		return url.Values{"name": {name}, "price": {price}, "store_id": {store}, "description": {"typed"}}
	}
	sid := strconv.FormatInt(storeID, 10)

	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		shows  []string
	}{
		{"empty store name", "/admin/stores", url.Values{"name": {"  "}}, 422,
			[]string{`id="new-store-name-error"`, "Field may not be empty."}},
		{"long store name", "/admin/stores", url.Values{"name": {strings.Repeat("x", 81)}}, 422,
			[]string{"Must be at most 80 characters long.", strings.Repeat("x", 81)}},
		{"duplicate store", "/admin/stores", url.Values{"name": {"corner shop"}}, 409,
			[]string{`id="new-store-name-error"`, "A store with that name already exists.", `value="corner shop"`}},
		{"store renamed to a taken name", stores, url.Values{"name": {"OTHER"}}, 409,
			[]string{`id="store-name-error"`, "A store with that name already exists.", `value="OTHER"`}},
		{"bad price", "/admin/items", itemForm("Pear", "1.999", sid), 422,
			[]string{`id="item-price-error"`, "Must have at most two decimal places.", `value="Pear"`, `value="1.999"`, ">typed</textarea>"}},
		{"price not a number", "/admin/items", itemForm("Pear", "cheap", sid), 422,
			[]string{"Not a valid number."}},
		{"negative price", "/admin/items", itemForm("Pear", "-1", sid), 422,
			[]string{"Must be between 0 and 99999999.99."}},
		{"no price and no store", "/admin/items", itemForm("Pear", "", ""), 422,
			[]string{`id="item-price-error"`, `id="item-store_id-error"`}},
		{"unknown store", "/admin/items", itemForm("Pear", "1", "999999"), 422,
			[]string{`id="item-store_id-error"`, "Store not found."}},
		{"store not an id", "/admin/items", itemForm("Pear", "1", "abc"), 422,
			[]string{"Choose a store from the list."}},
		{"duplicate item", "/admin/items", itemForm("APPLE", "1", sid), 409,
			[]string{`id="item-name-error"`, "An item with that name already exists in this store.", `value="APPLE"`}},
		{"tagged item moves store", item, withTags(itemForm("Apple", "1", strconv.FormatInt(otherID, 10)), tagID), 409,
			[]string{`id="item-store_id-error"`, "Remove its tags first.", checkbox(tagID, true)}},
		{"tag of another store", item, withTags(itemForm("Apple", "1", sid), tagID, otherTag), 422,
			[]string{`id="item-tag_ids-error"`, "No tag of the item&#39;s store has id", `aria-describedby="tags-hint item-tag_ids-error"`}},
		{"tag not an id", item, plus(withTags(itemForm("Apple", "1", sid), tagID), "tag_ids", "abc"), 422,
			[]string{`id="item-tag_ids-error"`, "Not a valid tag.", checkbox(tagID, true)}},
		// A failed save shows both halves of the form as they were sent.
		{"bad details keep the ticks", item, withTags(itemForm("Pear", "1.999", sid), saleID), 422,
			[]string{"Must have at most two decimal places.", `value="Pear"`, checkbox(saleID, true), checkbox(tagID, false)}},
		{"duplicate name keeps the ticks", item, withTags(itemForm("Banana", "1", sid)), 409,
			[]string{"An item with that name already exists in this store.", `value="Banana"`, checkbox(tagID, false), checkbox(saleID, false)}},
		{"duplicate tag", stores + "/tags", url.Values{"name": {"FRESH"}}, 409,
			[]string{`id="new-tag-name-error"`, "A tag with that name already exists in this store."}},
		{"tag renamed to a taken name", fmt.Sprint("/admin/tags/", tagID), url.Values{"name": {"Sale"}}, 409,
			[]string{fmt.Sprintf(`id="tag-%d-name-error"`, tagID), `value="Sale"`}},
		{"tag in use", fmt.Sprintf("/admin/tags/%d/delete", tagID), nil, 409,
			[]string{"Could not delete tag. Make sure tag is not associated with any items, then try again."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectHTML(t, a.post(tc.path, tc.form), tc.status, tc.shows...)
		})
	}
	if e.count("items") != 2 || e.count("stores") != 2 || e.count("tags") != 3 || e.count("items_tags") != 1 {
		t.Fatal("a refused form changed the database")
	}
	if got, _ := e.Data.Items.Get(context.Background(), itemID); got.Name != "Apple" || got.Description != nil ||
		len(got.Tags) != 1 || got.Tags[0].ID != tagID {
		t.Fatalf("a refused save changed the item: %+v", got)
	}
}

func TestAdminChangesData(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()

	expectRedirect(t, a.post("/admin/stores", url.Values{"name": {" Corner Shop "}}), "/admin/stores/1")
	expectHTML(t, a.get("/admin/stores/1"), http.StatusOK, "Store “Corner Shop” created.")
	expectRedirect(t, a.post("/admin/stores/1", url.Values{"name": {"Corner Store"}}), "/admin/stores/1")
	expectRedirect(t, a.post("/admin/stores/1/tags", url.Values{"name": {"fresh"}}), "/admin/stores/1#tags")
	expectRedirect(t, a.post("/admin/stores/1/tags", url.Values{"name": {"sale"}}), "/admin/stores/1#tags")
	expectRedirect(t, a.post("/admin/tags/2", url.Values{"name": {"deal"}}), "/admin/stores/1#tags")

	form := url.Values{"name": {"Apple"}, "price": {"0.5"}, "store_id": {"1"}, "description": {""}}
	expectRedirect(t, a.post("/admin/items", form), "/admin/items/1")
	form.Set("price", "19.99")
	form.Set("description", "Crisp.")
	expectRedirect(t, a.post("/admin/items/1", form), "/admin/items/1")
	expectHTML(t, a.get("/admin/items/1"), http.StatusOK, "Item saved.", `value="19.99"`, ">Crisp.</textarea>")
	item, err := e.Data.Items.Get(context.Background(), 1)
	if err != nil || item.PriceCents != 1999 || item.Description == nil || *item.Description != "Crisp." {
		t.Fatalf("stored %+v, %v", item, err)
	}
	form.Set("description", "")
	expectRedirect(t, a.post("/admin/items/1", form), "/admin/items/1")
	if item, _ := e.Data.Items.Get(context.Background(), 1); item.Description != nil {
		t.Fatal("an empty description did not clear it")
	}

	// Ticking and unticking tags links and unlinks them, with the details.
	expectRedirect(t, a.post("/admin/items/1", withTags(form, 1, 2)), "/admin/items/1")
	expectHTML(t, a.get("/admin/items/1"), http.StatusOK, "Item saved: 2 tags linked, 0 unlinked.")
	expectRedirect(t, a.post("/admin/items/1", withTags(form, 2)), "/admin/items/1")
	expectHTML(t, a.get("/admin/items/1"), http.StatusOK, "Item saved: 0 tags linked, 1 unlinked.")
	var linked []int64
	if err := e.DB.Gorm.Model(&models.ItemTag{}).Pluck("tag_id", &linked).Error; err != nil {
		t.Fatal(err)
	}
	if len(linked) != 1 || linked[0] != 2 {
		t.Fatalf("links %v, want [2]", linked)
	}
	expectRedirect(t, a.post("/admin/items/1", form), "/admin/items/1")
	if n := e.count("items_tags"); n != 0 {
		t.Fatalf("unticking everything left %d links", n)
	}

	// Deleting says what goes with it first.
	e.mustCreateItem(1, "Pear", "2")
	e.mustLink(2, 1)
	expectHTML(t, a.get("/admin/stores/1/delete"), http.StatusOK, "2 items", "2 tags")
	expectHTML(t, a.get("/admin/items/2/delete"), http.StatusOK, "Delete item “Pear”?", "linked to 1 tag")
	expectRedirect(t, a.post("/admin/items/2/delete", nil), "/admin/items")
	expectRedirect(t, a.post("/admin/tags/2/delete", nil), "/admin/stores/1#tags")
	expectRedirect(t, a.post("/admin/stores/1/delete", nil), "/admin/stores")
	expectHTML(t, a.get("/admin/stores"), http.StatusOK, "Store “Corner Store” deleted")
	if n := e.count("stores") + e.count("items") + e.count("tags") + e.count("items_tags"); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}

func TestAdminManagesUsers(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	adminID := e.userID(adminEmail)
	userID := e.register(userEmail)
	isAdmin := func(id int64) bool {
		user, err := e.Data.Users.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return user.IsAdmin
	}
	self := fmt.Sprint("/admin/users/", adminID)
	other := fmt.Sprint("/admin/users/", userID)

	expectHTML(t, a.get("/admin/users"), http.StatusOK, userEmail, "You cannot demote or delete yourself.")
	expectHTML(t, a.post(self+"/admin", url.Values{"admin": {"false"}}), http.StatusConflict,
		"You cannot demote or delete your own account.")
	expectHTML(t, a.post(self+"/delete", nil), http.StatusConflict, "You cannot demote or delete your own account.")
	expectHTML(t, a.get(self+"/delete"), http.StatusOK, "You cannot demote or delete your own account.")
	if !isAdmin(adminID) || e.count("users") != 2 {
		t.Fatal("an admin demoted or deleted themselves")
	}

	expectRedirect(t, a.post(other+"/admin", url.Values{"admin": {"true"}}), "/admin/users")
	expectHTML(t, a.get("/admin/users"), http.StatusOK, userEmail+" is now an admin.")
	if !isAdmin(userID) {
		t.Fatal("promote did not promote")
	}
	expectRedirect(t, a.post(other+"/admin", url.Values{"admin": {"false"}}), "/admin/users")
	if isAdmin(userID) {
		t.Fatal("demote did not demote")
	}
	expectHTML(t, a.post(other+"/admin", url.Values{"admin": {"maybe"}}), http.StatusUnprocessableEntity, "Choose promote or demote.")
	expectHTML(t, a.get(other+"/delete"), http.StatusOK, "Delete user "+userEmail+"?")
	expectRedirect(t, a.post(other+"/delete", nil), "/admin/users")
	if e.count("users") != 1 {
		t.Fatal("delete did not delete")
	}
	expectHTML(t, a.post(other+"/delete", nil), http.StatusNotFound, "User not found.")
}

func TestAdminItemListFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	north := e.mustCreateStore("North")
	south := e.mustCreateStore("South")
	sale := e.mustCreateTag(north, "sale")
	for i := range 30 {
		id := e.mustCreateItem(north, fmt.Sprintf("Widget %02d", i), "1")
		if i%10 == 0 {
			e.mustLink(id, sale)
		}
	}
	e.mustCreateItem(south, "Gadget", "2")
	e.mustCreateItem(south, "100% cotton_shirt", "3")

	expectHTML(t, a.get("/admin/items"), http.StatusOK, "32 items", "Page 1 of 2", "100% cotton_shirt", `href="/admin/items?page=2"`)
	expectHTML(t, a.get("/admin/items?page=2"), http.StatusOK, "Page 2 of 2", "Widget 29")
	expectHTML(t, a.get("/admin/items?page=99999999999999999999"), http.StatusOK, "Page 1 of 2")
	expectHTML(t, a.get("/admin/items?page=9999"), http.StatusOK, "Page 2 of 2")
	expectHTML(t, a.get("/admin/items?q=WIDGET+2"), http.StatusOK, "10 items found")
	expectHTML(t, a.get(fmt.Sprintf("/admin/items?store=%d", south)), http.StatusOK, "2 items found", "Gadget")
	r := a.get(fmt.Sprintf("/admin/items?tag=%d", sale))
	expectHTML(t, r, http.StatusOK, "3 items found", "Widget 00", "Widget 10", "Widget 20")
	expectHTML(t, a.get(fmt.Sprintf("/admin/items?tag=%d&q=1", sale)), http.StatusOK, "1 item found", "Widget 10")
	// LIKE's wildcards match themselves.
	expectHTML(t, a.get("/admin/items?q=%25"), http.StatusOK, "1 item found", "100% cotton_shirt")
	expectHTML(t, a.get("/admin/items?q=_"), http.StatusOK, "1 item found")
	expectHTML(t, a.get("/admin/items?q=nothing+like+this"), http.StatusOK, "0 items found", "No item matches these filters.")
	// A filtered list's pages keep the filter.
	expectHTML(t, a.get("/admin/items?q=widget"), http.StatusOK, "30 items found", `href="/admin/items?page=2&amp;q=widget"`)
}

func TestAdminPagesRender(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	storeID := e.mustCreateStore("Corner <Shop>")
	itemID := e.mustCreateItem(storeID, "Apple", "0.5")
	e.mustLink(itemID, e.mustCreateTag(storeID, "fresh"))
	for path, shows := range map[string][]string{
		"/admin":                              {"Dashboard", ">1</span> <span class=\"label\">stores"},
		"/admin/stores":                       {"Corner &lt;Shop&gt;"},
		fmt.Sprint("/admin/stores/", storeID): {"fresh", "1 item"},
		fmt.Sprintf("/admin/stores/%d/delete", storeID): {"1 item", "1 tag"},
		"/admin/items":                                {"Apple", "0.50"},
		"/admin/items/new":                            {"New item", "Choose a store"},
		fmt.Sprint("/admin/items/", itemID):           {`value="0.50"`, "checked"},
		fmt.Sprintf("/admin/items/%d/delete", itemID): {"Delete item"},
		"/admin/users":                                {adminEmail, "Email verified"},
		"/admin/jobs":                                 {"Failed jobs", "Recent jobs"},
	} {
		expectHTML(t, a.get(path), http.StatusOK, shows...)
	}
	r := a.get("/admin/static/admin.css")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("admin.css: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	expectHTML(t, a.get("/admin/static/nope.js"), http.StatusNotFound, "There is no such page.")
	expectHTML(t, a.get("/admin/nope"), http.StatusNotFound, "There is no such page.")
}

// TestAdminNeverFailsOnGarbage sends what no form would: no answer may be
// a 500 or the JSON envelope.
func TestAdminNeverFailsOnGarbage(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	storeID := e.mustCreateStore("S")
	itemID := e.mustCreateItem(storeID, "I", "1")
	tagID := e.mustCreateTag(storeID, "T")
	long := strings.Repeat("é", 5000)
	bad := "\xff\xfe\x00"
	item := fmt.Sprint("/admin/items/", itemID)
	gets := []string{
		"/admin/stores/abc", "/admin/stores/0", "/admin/stores/-1", "/admin/stores/99999999999999999999",
		"/admin/stores/999/delete", "/admin/items/abc", "/admin/items/1.5/delete", "/admin/users/x/delete",
		"/admin/items?page=abc&store=x&tag=%00&q=%ff%fe%00", "/admin/items?q=" + url.QueryEscape(long[:600]),
		"/admin/items?store=99999999999999999999&tag=-1&page=-3", "/admin/users?page=0", "/admin/stores?page=1e9",
		"/admin/login?next=%00%ff", "/admin/nope/deeper", "/admin/static/..%2f..%2fgo.mod",
		"/admin/jobs?page=abc", "/admin/jobs/1", "/admin/jobs/1/retry",
		"/admin/stores?q=%ff%00&sort=%ff", "/admin/stores?sort=name;drop", "/admin/stores?q=" + url.QueryEscape(long[:600]) + "&sort=-items",
		"/admin/items?min_price=abc&max_price=%ff%00&sort=price%20desc", "/admin/items?min_price=1e999999999&max_price=-1",
		"/admin/items?min_price=" + url.QueryEscape(long[:300]) + "&sort=" + url.QueryEscape(long[:300]),
	}
	for _, path := range gets {
		if r := a.get(path); r.Status >= 500 || strings.Contains(string(r.Body), `"code":`) {
			t.Errorf("GET %s: %d %.200s", path, r.Status, r.Body)
		}
	}
	posts := []struct {
		path string
		form url.Values
	}{
		{"/admin/login", url.Values{"email": {bad}, "password": {bad}}},
		{"/admin/login", url.Values{"email": {long}, "password": {long}}},
		{"/admin/stores", url.Values{"name": {bad}}},
		{"/admin/stores", url.Values{"name": {"a\x00b"}}},
		{"/admin/stores", url.Values{"name": {long}}},
		{"/admin/stores", nil},
		{"/admin/stores/abc", url.Values{"name": {"x"}}},
		{"/admin/stores/999999", url.Values{"name": {"x"}}},
		{"/admin/stores/999999/delete", nil},
		{"/admin/stores/999999/tags", url.Values{"name": {"x"}}},
		{"/admin/stores/1/tags", url.Values{"name": {bad}}},
		{"/admin/tags/abc", url.Values{"name": {"x"}}},
		{"/admin/tags/999999/delete", nil},
		{fmt.Sprint("/admin/tags/", tagID), url.Values{"name": {long}}},
		{"/admin/items", url.Values{"name": {bad}, "price": {"1e999999999"}, "store_id": {"1e3"}, "description": {"a\x00" + long}}},
		{"/admin/items", url.Values{"name": {"n"}, "price": {"NaN"}, "store_id": {"-1"}}},
		{"/admin/items", url.Values{"name": {"n"}, "price": {"99999999999999999999999"}, "store_id": {"99999999999999999999"}}},
		{"/admin/items", url.Values{"name": {"n"}, "price": {"1"}, "store_id": {"1"}, "description": {bad}}},
		{item, url.Values{"name": {""}, "price": {"."}, "store_id": {""}}},
		{item, url.Values{"name": {"x"}, "price": {"1"}, "store_id": {"999999"}, "description": {long}}},
		{item, url.Values{"name": {"x"}, "price": {"1"}, "store_id": {"1"}, "tag_ids": {"abc", bad}}},
		{item, url.Values{"name": {"x"}, "price": {"1"}, "store_id": {"1"}, "tag_ids": {"-1", "0"}}},
		{item, url.Values{"name": {"x"}, "price": {"1"}, "store_id": {"1"}, "tag_ids": {"999999", "99999999999999999999"}}},
		{item, url.Values{"name": {""}, "price": {"x"}, "store_id": {"x"}, "tag_ids": {"999999", "abc"}}},
		{"/admin/items/999999", url.Values{"name": {"x"}, "price": {"1"}, "store_id": {"1"}, "tag_ids": {"1"}}},
		{"/admin/items/999999", url.Values{"name": {"x"}, "price": {"1"}, "store_id": {"1"}}},
		{"/admin/items/999999/delete", nil},
		{"/admin/users/999999/admin", url.Values{"admin": {"true"}}},
		{"/admin/users/abc/delete", nil},
		{"/admin/users/999999/verification", nil},
		{"/admin/users/-1/verification", url.Values{"page": {bad}}},
		{"/admin/jobs/999999/retry", nil},
		{"/admin/jobs/-1/retry", nil},
		{"/admin/jobs/%ff/retry", nil},
		{"/admin/nope", nil},
	}
	for _, p := range posts {
		if r := a.post(p.path, p.form); r.Status >= 500 || strings.Contains(string(r.Body), `"code":`) {
			t.Errorf("POST %s %v: %d %.300s", p.path, p.form, r.Status, r.Body)
		}
	}
	// Bodies that are not a urlencoded form at all.
	token := a.csrf()
	for _, ct := range []string{"application/json", "text/plain", ""} {
		for _, path := range []string{"/admin/stores", item} {
			r := a.postRaw(path, ct, `{"name": "x", "_csrf": "`+token+`"}`)
			if r.Status >= 500 || strings.Contains(string(r.Body), `"code":`) {
				t.Errorf("POST %s as %s: %d %.300s", path, ct, r.Status, r.Body)
			}
		}
	}
	body := ""
	for _, kv := range [][2]string{{"_csrf", token}, {"name", "I"}, {"price", "1"}, {"store_id", fmt.Sprint(storeID)}, {"tag_ids", fmt.Sprint(tagID)}} {
		body += "--x\r\nContent-Disposition: form-data; name=\"" + kv[0] + "\"\r\n\r\n" + kv[1] + "\r\n"
	}
	body += "--x--\r\n"
	if r := a.postRaw(item, "multipart/form-data; boundary=x", body); r.Status != http.StatusSeeOther {
		t.Errorf("a multipart form: %d %.300s", r.Status, r.Body)
	}
	if got, _ := e.Data.Items.Get(context.Background(), itemID); len(got.Tags) != 1 || got.Tags[0].ID != tagID {
		t.Errorf("the multipart form's tag was not linked: %+v", got.Tags)
	}
	for _, method := range []string{"PUT", "DELETE", "PATCH"} {
		r := a.send(httptest.NewRequest(method, "/admin/stores", nil))
		if r.Status >= 500 || strings.Contains(string(r.Body), `"code":`) {
			t.Errorf("%s /admin/stores: %d %.200s", method, r.Status, r.Body)
		}
	}
}

func TestAdminDatabaseDownIsAPage(t *testing.T) {
	e := buildEnv(t, testdb.Open(t), nil, 200*time.Millisecond)
	a := e.adminSession()
	// Hold every connection of the pool: the next query waits until the
	// request's deadline, as it would for a database that does not answer.
	sqlDB, err := e.DB.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	var held []*sql.Conn
	for range sqlDB.Stats().MaxOpenConnections {
		conn, err := sqlDB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}
	r := a.get("/admin/stores")
	expectHTML(t, r, http.StatusServiceUnavailable, "Database unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	for _, conn := range held {
		conn.Close()
	}
	expectHTML(t, a.get("/admin/stores"), http.StatusOK, "Stores")
}

// A CSRF token belongs to one session: the one seen before signing in (or
// planted in the browser by someone else) stops working at sign-in, and
// the session's stops working at sign-out.
func TestAdminRenewsTheCSRFTokenAtSignInAndSignOut(t *testing.T) {
	e := newEnv(t)
	e.register(adminEmail)
	a := e.adminClient()
	before := a.csrf()
	r := a.signIn(adminEmail)
	expectRedirect(t, r, "/admin")
	during := cookieOf(t, r, "admin_csrf").Value
	if during == "" || during == before {
		t.Fatalf("the CSRF token was not renewed at sign-in: %q", during)
	}
	a.cookies["admin_csrf"] = before
	r = a.post("/admin/stores", url.Values{"name": {"Planted"}, "_csrf": {before}})
	expectHTML(t, r, http.StatusForbidden, "This form has expired")
	if n := e.count("stores"); n != 0 {
		t.Fatal("a form with the token from before sign-in was accepted")
	}
	// The next page hands out a token of the session again.
	expectHTML(t, a.get("/admin/stores"), http.StatusOK, "Stores")
	if a.cookies["admin_csrf"] == before {
		t.Fatal("a page kept the token from before sign-in")
	}
	a.cookies["admin_csrf"] = during
	expectRedirect(t, a.post("/admin/stores", url.Values{"name": {"Real"}}), "/admin/stores/1")

	r = a.post("/admin/logout", nil)
	expectRedirect(t, r, "/admin/login")
	if after := cookieOf(t, r, "admin_csrf").Value; after == "" || after == during {
		t.Fatalf("the CSRF token was not renewed at sign-out: %q", after)
	}
	a.cookies["admin_csrf"] = during
	r = a.post("/admin/login", url.Values{"email": {adminEmail}, "password": {password}, "_csrf": {during}})
	expectHTML(t, r, http.StatusForbidden, "This form has expired")
	if _, ok := a.cookies["admin_session"]; ok {
		t.Fatal("signed in with the token of the session that ended")
	}
	delete(a.cookies, "admin_csrf")
	expectRedirect(t, a.signIn(adminEmail), "/admin")
}

// Unticking tags takes the same statements whatever their number: one
// statement, not one unlink per tag.
func TestAdminUnlinksTagsInOneStatement(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	storeID := e.mustCreateStore("Shop")
	itemID := e.mustCreateItem(storeID, "Apple", "1")
	var tags []string
	var ids []int64
	for i := range 6 {
		id := e.mustCreateTag(storeID, fmt.Sprint("tag ", i))
		ids = append(ids, id)
		tags = append(tags, strconv.FormatInt(id, 10))
	}
	e.mustLink(itemID, ids...)
	path := fmt.Sprintf("/admin/items/%d", itemID)
	form := func(tagIDs []string) url.Values {
		return url.Values{"name": {"Apple"}, "price": {"1"}, "store_id": {fmt.Sprint(storeID)}, "tag_ids": tagIDs}
	}
	counter := testdb.CountStatements(t, e.DB.Gorm)
	one := counter.Measure(func() { expectRedirect(t, a.post(path, form(tags[1:])), path) })
	expectHTML(t, a.get(path), http.StatusOK, "Item saved: 0 tags linked, 1 unlinked.")
	five := counter.Measure(func() { expectRedirect(t, a.post(path, form(nil)), path) })
	expectHTML(t, a.get(path), http.StatusOK, "Item saved: 0 tags linked, 5 unlinked.")
	if one != five {
		t.Fatalf("unlinking 1 tag took %d statements, 5 tags %d", one, five)
	}
	if n := e.count("items_tags"); n != 0 {
		t.Fatalf("%d links left", n)
	}
}

// The session is checked on each request with the API's one query for
// tokens: revoked, and the user's admin flag.
func TestAdminChecksTheSessionInOneQuery(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	counter := testdb.CountStatements(t, e.DB.Gorm)
	n := counter.Measure(func() { expectHTML(t, a.get("/admin/nope"), http.StatusNotFound, "There is no such page.") })
	if n != 1 {
		t.Fatalf("checking the session took %d statements, want 1", n)
	}
	// What the page shows comes from the session and that query.
	expectHTML(t, a.get("/admin"), http.StatusOK, adminEmail)
}

// A refused action on the user list shows the page the form was on.
func TestAdminRefusalKeepsTheUserListPage(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	for i := range 60 {
		e.register(fmt.Sprintf("user%02d@example.com", i))
	}
	last := e.userID("user59@example.com")
	r := a.post(fmt.Sprintf("/admin/users/%d/admin", last), url.Values{"admin": {"maybe"}, "page": {"2"}})
	expectHTML(t, r, http.StatusUnprocessableEntity, "Page 2 of 2", "user59@example.com", "Choose promote or demote.")
	r = a.post(fmt.Sprintf("/admin/users/%d/admin", last), url.Values{"admin": {"maybe"}, "page": {"x"}})
	expectHTML(t, r, http.StatusUnprocessableEntity, "Page 1 of 2")
}

// TestAdminEndsAUsersSessions: one button signs a user out everywhere,
// their API sign-ins included, and no one else. Ending one's own sessions
// signs one out of the panel.
func TestAdminEndsAUsersSessions(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	userID := e.register(userEmail)
	laptop, phone := e.startSession(userID), e.startSession(userID)
	adminID := e.userID(adminEmail)
	bystander := e.startSession(adminID)

	expectHTML(t, a.get("/admin/users"), http.StatusOK, `<td data-label="Sessions">2</td>`)
	expectRedirect(t, a.post(fmt.Sprint("/admin/users/", userID, "/sessions"), nil), "/admin/users")
	expectHTML(t, a.get("/admin/users"), http.StatusOK, userEmail+": 2 sessions ended.")
	if !e.sessionEnded(laptop, userID) || !e.sessionEnded(phone, userID) {
		t.Fatal("a session of the user outlived End sessions")
	}
	if e.sessionEnded(bystander, adminID) {
		t.Fatal("another user's session ended")
	}

	expectRedirect(t, a.post(fmt.Sprint("/admin/users/", adminID, "/sessions"), nil), "/admin/login")
	if !e.sessionEnded(bystander, adminID) {
		t.Fatal("ending one's own sessions left one")
	}
	if r := a.get("/admin/users"); r.Status != http.StatusSeeOther {
		t.Fatalf("the panel after ending one's own sessions: %d, want a redirect to sign in", r.Status)
	}
}

// TestAdminOverPlainHTTPSaysHTTPSIsNeeded: in production the panel's
// cookies are Secure, which a browser keeps only from HTTPS pages or from
// localhost. Opened over plain HTTP at a LAN address, the sign-in page
// says so, and a form whose cookie the browser dropped is refused with
// that explanation instead of "form expired"; the log says why at WARN.
func TestAdminOverPlainHTTPSaysHTTPSIsNeeded(t *testing.T) {
	e := newEnvWith(t, map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": strings.Repeat("k", 32)})
	e.register(adminEmail)
	logs := captureLogs(e)

	lan := e.adminClient()
	lan.host = "192.168.1.20:5000"
	expectHTML(t, lan.get("/admin/login"), http.StatusOK, "Signing in needs HTTPS.", "TRUSTED_PROXIES")
	delete(lan.cookies, "admin_csrf") // what the browser does with a Secure cookie over plain HTTP
	r := lan.post("/admin/login", url.Values{"email": {adminEmail}, "password": {password}, "_csrf": {"any"}})
	expectHTML(t, r, http.StatusForbidden, "Signing in needs HTTPS", "X-Forwarded-Proto: https")
	if strings.Contains(string(r.Body), "This form has expired") {
		t.Error("the refusal blames an expired form")
	}
	line := logs.Single(t, "admin form refused: CSRF check failed")
	if line["level"] != "WARN" || line["reason"] != "the browser sent no CSRF cookie" {
		t.Errorf("refusal logged as %v", line)
	}

	for _, host := range []string{"localhost:5000", "127.0.0.1:5000", "[::1]:5000", "admin.localhost"} {
		local := e.adminClient()
		local.host = host
		r := local.get("/admin/login")
		expect(t, r, http.StatusOK)
		if strings.Contains(string(r.Body), "Signing in needs HTTPS") {
			t.Errorf("%s: the page asks for HTTPS, which localhost does not need", host)
		}
		expectRedirect(t, local.signIn(adminEmail), "/admin")
	}
	// Behind a proxy that ends TLS, nothing is missing.
	https := newEnvWith(t, map[string]string{"APP_ENV": "production", "JWT_SECRET_KEY": strings.Repeat("k", 32),
		"TRUSTED_PROXIES": "0.0.0.0/0"})
	b := https.adminClient()
	b.host = "stores.example.org"
	b.header.Set("X-Forwarded-Proto", "https")
	if r := b.get("/admin/login"); strings.Contains(string(r.Body), "Signing in needs HTTPS") {
		t.Error("an HTTPS page asks for HTTPS")
	}
}

// TestAdminLogsWhyACSRFCheckFailed: every refusal is one WARN line with
// its reason, never an ERROR.
func TestAdminLogsWhyACSRFCheckFailed(t *testing.T) {
	e := newEnv(t)
	a := e.adminSession()
	token := a.csrf()
	mismatch := "A" + token[1:]
	if mismatch == token { // a token starting with A: 1 in 32
		mismatch = "B" + token[1:]
	}
	logs := captureLogs(e)
	for _, tc := range []struct{ name, field, cookie, reason string }{
		{"no cookie", token, "", "the browser sent no CSRF cookie"},
		{"forged cookie", "forged", "forged", "the CSRF cookie has expired or was not issued here"},
		{"cookie of another session", e.adminClient().csrf(), e.adminClient().csrf(), "the CSRF cookie belongs to another session"},
		{"no token in the form", "", token, "the form carries no CSRF token"},
		{"mismatch", mismatch, token, "the form's CSRF token does not match the cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cookie == "" {
				delete(a.cookies, "admin_csrf")
			} else {
				a.cookies["admin_csrf"] = tc.cookie
			}
			form := url.Values{"name": {"Forged"}, "_csrf": {tc.field}}
			if tc.field == "" {
				form["_csrf"] = nil
			}
			expectHTML(t, a.post("/admin/stores", form), http.StatusForbidden, "This form has expired")
			line := logs.Single(t, "admin form refused: CSRF check failed")
			if line["level"] != "WARN" || line["reason"] != tc.reason {
				t.Errorf("logged %v, want WARN with reason %q", line, tc.reason)
			}
		})
	}
}
