package resources_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// screenshotDirEnv names a directory where the browser test saves its
// screenshots even when it passes, at laptop and phone widths, to look at
// the pages.
const screenshotDirEnv = "ADMIN_SCREENSHOT_DIR"

// browser drives one headless Chromium through the admin panel of a real
// server listening on a loopback port.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots []screenshot // the main pages as they looked, saved on failure
}

type screenshot struct {
	name string
	png  []byte
}

// newBrowser starts Chromium with a fresh profile. Without Chromium the
// test is skipped, except in CI, where a missing browser is a failure.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install it with: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("%s is missing: install it with: apt-get install -y chromium", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a tiny /dev/shm
		chromedp.Flag("hide-scrollbars", true),       // screenshots as wide as the page
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, base: base}
	t.Cleanup(func() {
		b.saveShots()
		cancelCtx()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as ctx: it
	// must not run under a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return b
}

// run runs browser actions and stops the test on failure, with a
// screenshot of where the browser was.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failure")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads a page of the panel.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// submit clicks a submit button and waits for the page it leads to. The
// old page is marked first, so the wait cannot be satisfied by it.
func (b *browser) submit(button string) {
	b.t.Helper()
	b.run("submit "+button,
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitReady(chromedp.CSS("body:not([data-stale])")),
	)
}

// fill replaces the value of an input by typing into it, as a person
// using the keyboard would.
func (b *browser) fill(field, value string) {
	b.t.Helper()
	b.run("fill "+field,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, field)),
		chromedp.SendKeys(chromedp.CSS(field), value),
	)
}

// get runs an action that returns a value and stops the test on failure.
func get[T any](b *browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.shot("failure")
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text is the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s := get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
	return strings.Join(strings.Fields(s), " ")
}

// expectText fails unless the element's text contains want.
func (b *browser) expectText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.shot("failure")
		b.t.Fatalf("%s shows %q, want it to contain %q", sel, got, want)
	}
}

// value is the current value of a form field.
func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// checked reports whether a checkbox is ticked.
func (b *browser) checked(sel string) bool {
	b.t.Helper()
	return get(b, "state of "+sel, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).checked`, sel)))
}

// shot keeps a screenshot of the current page.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		b.shots = append(b.shots, screenshot{name: name, png: png})
	}
}

// saveShots writes the screenshots when the test failed, or always when
// ADMIN_SCREENSHOT_DIR is set, and logs where they are.
func (b *browser) saveShots() {
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" && !b.t.Failed() {
		return
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "admin-screenshots-"); err != nil {
			b.t.Log(err)
			return
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Log(err)
		return
	}
	for i, s := range b.shots {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s.png", i+1, s.name)), s.png, 0o644); err != nil {
			b.t.Log(err)
		}
	}
	b.t.Logf("screenshots of the admin panel: %s", dir)
}

// phoneShots keeps screenshots of the main pages at a phone's width too,
// when someone asked to see them.
func (b *browser) phoneShots(pages ...[2]string) {
	if os.Getenv(screenshotDirEnv) == "" {
		return
	}
	for _, width := range []int64{390, 1280} {
		b.run("resize", chromedp.EmulateViewport(width, 800))
		for _, p := range pages {
			b.open(p[1])
			b.shot(fmt.Sprintf("%s-%d", p[0], width))
		}
	}
	b.run("resize", chromedp.EmulateViewport(1280, 900))
}

// TestAdminPanelInBrowser walks through the panel as an admin would, in a
// real Chromium: sign in, create a store, an item and two tags, link the
// tags, change the price, hit a duplicate name, unlink, delete, sign out;
// then checks that a non-admin is turned away and that a form without its
// CSRF token is refused.
func TestAdminPanelInBrowser(t *testing.T) {
	e := newEnv(t)
	e.register(adminEmail)
	e.register(userEmail)
	b := newBrowser(t, e.listen())

	// Signing in, from the page a signed-out visitor is sent to.
	b.open("/admin")
	b.expectText("h1", "Sign in")
	b.shot("sign-in")
	b.fill("#login-email", adminEmail)
	b.fill("#login-password", password)
	b.submit("form[action='/admin/login'] button[type=submit]")
	b.expectText("h1", "Dashboard")
	b.expectText(".notice", "Signed in as "+adminEmail)
	b.expectText(".tiles", "0 stores")
	b.shot("dashboard")

	// A store.
	b.open("/admin/stores")
	b.fill("#new-store-name", "Corner Shop")
	b.submit("form[action='/admin/stores'] button[type=submit]")
	b.expectText("h1", "Corner Shop")
	b.expectText(".notice", "Store “Corner Shop” created.")
	var storeID int64
	if err := e.DB.Gorm.Raw("SELECT id FROM stores WHERE name = ?", "Corner Shop").Scan(&storeID).Error; err != nil || storeID == 0 {
		t.Fatalf("store not in the database: %v", err)
	}

	// Two tags, from the store's page.
	for _, name := range []string{"fresh", "sale"} {
		b.fill("#new-tag-name", name)
		b.submit(fmt.Sprintf("form[action='/admin/stores/%d/tags'] button[type=submit]", storeID))
		b.expectText(".notice", "Tag “"+name+"” created.")
	}
	b.expectText("main > p.muted", "0 items · 2 tags")
	b.shot("store")

	// An item in that store.
	b.open(fmt.Sprintf("/admin/items/new?store=%d", storeID))
	b.fill("#item-name", "Apple")
	b.fill("#item-price", "0.50")
	b.fill("#item-description", "Crisp and red.")
	b.submit("form[action='/admin/items'] button[type=submit]")
	b.expectText("h1", "Apple")
	b.expectText(".notice", "Item “Apple” created.")
	var itemID int64
	e.DB.Gorm.Raw("SELECT id FROM items WHERE name = ?", "Apple").Scan(&itemID)
	if got := b.value("#item-price"); got != "0.50" {
		t.Fatalf("price field shows %q, want 0.50", got)
	}

	// Link both tags: tick them with the keyboard's space bar.
	tags := "form[action='/admin/items/" + fmt.Sprint(itemID) + "/tags']"
	b.run("tick the tags",
		chromedp.Focus(chromedp.CSS(tags+" label:nth-of-type(1) input")),
		chromedp.SendKeys(chromedp.CSS(tags+" label:nth-of-type(1) input"), " "),
		chromedp.Click(chromedp.CSS(tags+" label:nth-of-type(2) input")),
	)
	b.submit(tags + " button[type=submit]")
	b.expectText(".notice", "Tags saved: 2 tags linked, 0 unlinked.")
	if !b.checked(tags+" label:nth-of-type(1) input") || !b.checked(tags+" label:nth-of-type(2) input") {
		t.Fatal("the linked tags are not ticked after saving")
	}
	if n := e.count("items_tags"); n != 2 {
		t.Fatalf("items_tags has %d rows, want 2", n)
	}
	b.shot("item")

	// Change the price.
	b.fill("#item-price", "1.25")
	b.submit(fmt.Sprintf("form[action='/admin/items/%d'] button[type=submit]", itemID))
	b.expectText(".notice", "Item saved.")
	if got := b.value("#item-price"); got != "1.25" {
		t.Fatalf("price field shows %q after saving, want 1.25", got)
	}
	b.open("/admin/items?q=app")
	b.expectText("table.list", "Apple 1.25 Corner Shop fresh sale")
	b.shot("items")

	b.phoneShots(
		[2]string{"dashboard", "/admin"},
		[2]string{"stores", "/admin/stores"},
		[2]string{"store", fmt.Sprintf("/admin/stores/%d", storeID)},
		[2]string{"items", "/admin/items"},
		[2]string{"item", fmt.Sprintf("/admin/items/%d", itemID)},
		[2]string{"new-item", fmt.Sprintf("/admin/items/new?store=%d", storeID)},
		[2]string{"users", "/admin/users"},
	)

	// A duplicate name is explained next to the field, which keeps what
	// was typed.
	b.open("/admin/stores")
	b.fill("#new-store-name", "corner shop")
	b.submit("form[action='/admin/stores'] button[type=submit]")
	b.expectText("#new-store-name-error", "A store with that name already exists.")
	if got := b.value("#new-store-name"); got != "corner shop" {
		t.Fatalf("the form shows %q after the error, want what was typed", got)
	}
	b.shot("duplicate-store")
	b.open(fmt.Sprintf("/admin/items/new?store=%d", storeID))
	b.fill("#item-name", "APPLE")
	b.fill("#item-price", "3")
	b.submit("form[action='/admin/items'] button[type=submit]")
	b.expectText("#item-name-error", "An item with that name already exists in this store.")
	if b.value("#item-name") != "APPLE" || b.value("#item-price") != "3" {
		t.Fatal("the item form lost what was typed")
	}
	b.shot("duplicate-item")

	// Unlink one tag by unticking it.
	b.open(fmt.Sprintf("/admin/items/%d", itemID))
	b.run("untick", chromedp.Click(chromedp.CSS(tags+" label:nth-of-type(2) input")))
	b.submit(tags + " button[type=submit]")
	b.expectText(".notice", "Tags saved: 0 tags linked, 1 unlinked.")
	if b.checked(tags+" label:nth-of-type(2) input") || !b.checked(tags+" label:nth-of-type(1) input") {
		t.Fatal("after unlinking, the ticks do not match the links")
	}

	// A tag that an item still carries cannot be deleted.
	b.open(fmt.Sprintf("/admin/stores/%d", storeID))
	b.submit(".tag-list li:nth-of-type(1) .delete-tag button")
	b.expectText(".tag-list .form-error", "Could not delete tag. Make sure tag is not associated with any items")
	b.shot("tag-in-use")

	// Delete the item, then the store, each after a confirmation.
	b.open(fmt.Sprintf("/admin/items/%d", itemID))
	b.submit(".danger-zone a.button") // a link, followed like a submit
	b.expectText("h1", "Delete item “Apple”?")
	b.submit(fmt.Sprintf("form[action='/admin/items/%d/delete'] button", itemID))
	b.expectText(".notice", "Item “Apple” deleted.")
	b.open(fmt.Sprintf("/admin/stores/%d/delete", storeID))
	b.expectText(".warning", "0 items and 2 tags")
	b.shot("store-delete")
	b.submit(fmt.Sprintf("form[action='/admin/stores/%d/delete'] button", storeID))
	b.expectText(".notice", "Store “Corner Shop” deleted")
	if n := e.count("stores") + e.count("items") + e.count("tags"); n != 0 {
		t.Fatalf("%d stores, items and tags left, want none", n)
	}

	// Sign out: the panel is closed again.
	b.submit(".signout button")
	b.expectText("h1", "Sign in")
	b.expectText(".notice", "Signed out.")
	b.open("/admin/stores")
	b.expectText("h1", "Sign in")

	// Someone who is not an admin does not get in.
	b.fill("#login-email", userEmail)
	b.fill("#login-password", password)
	b.submit("form[action='/admin/login'] button[type=submit]")
	b.expectText("h1", "Admin access required")
	b.shot("denied")
	b.open("/admin")
	b.expectText("h1", "Sign in")

	// A form posted without its CSRF token is refused.
	b.fill("#login-email", adminEmail)
	b.fill("#login-password", password)
	b.submit("form[action='/admin/login'] button[type=submit]")
	b.open("/admin/stores")
	b.run("drop the token", chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action='/admin/stores'] input[name=_csrf]").remove()`))
	b.fill("#new-store-name", "Forged")
	b.submit("form[action='/admin/stores'] button[type=submit]")
	b.expectText("h1", "This form has expired")
	b.shot("csrf")
	if n := e.count("stores"); n != 0 {
		t.Fatalf("a form without its token created %d stores", n)
	}
}
