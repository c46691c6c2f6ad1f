package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river/rivertype"

	"stores-api/internal/browsertest"
	"stores-api/models"
	"stores-api/tasks"
)

// TestAdminPanelInBrowser walks through the panel as an admin would, in a
// real Chromium: sign in, create a store, an item and two tags, link the
// tags, change the price, search the stores, sort the items by price and
// filter them by a price range, check that the tags' legend fits its box,
// hit a duplicate name, rename the item and unlink a tag in one save,
// delete, retry a failed job, resend a verification email, sign out; then
// checks that a non-admin is turned away and that a form without its CSRF
// token is refused.
func TestAdminPanelInBrowser(t *testing.T) {
	e := newEnv(t)
	e.register(adminEmail)
	userID := e.register(userEmail)
	b := browsertest.New(t, e.listen())

	// Signing in, from the page a signed-out visitor is sent to.
	b.Open("/admin")
	b.ExpectText("h1", "Sign in")
	b.Shot("sign-in")
	b.Fill("#login-email", adminEmail)
	b.Fill("#login-password", password)
	b.Submit("form[action='/admin/login'] button[type=submit]")
	b.ExpectText("h1", "Dashboard")
	b.ExpectText(".notice", "Signed in as "+adminEmail)
	b.ExpectText(".tiles", "0 stores")
	b.Shot("dashboard")

	// A store.
	b.Open("/admin/stores")
	b.Fill("#new-store-name", "Corner Shop")
	b.Submit("form[action='/admin/stores'] button[type=submit]")
	b.ExpectText("h1", "Corner Shop")
	b.ExpectText(".notice", "Store “Corner Shop” created.")
	var storeID int64
	if err := e.DB.Gorm.Model(&models.Store{}).Where("name = ?", "Corner Shop").Pluck("id", &storeID).Error; err != nil || storeID == 0 {
		t.Fatalf("store not in the database: %v", err)
	}

	// Two tags, from the store's page.
	for _, name := range []string{"fresh", "sale"} {
		b.Fill("#new-tag-name", name)
		b.Submit(fmt.Sprintf("form[action='/admin/stores/%d/tags'] button[type=submit]", storeID))
		b.ExpectText(".notice", "Tag “"+name+"” created.")
	}
	b.ExpectText("main > p.muted", "0 items · 2 tags")
	b.Shot("store")

	// An item in that store.
	b.Open(fmt.Sprintf("/admin/items/new?store=%d", storeID))
	b.Fill("#item-name", "Apple")
	b.Fill("#item-price", "0.50")
	b.Fill("#item-description", "Crisp and red.")
	b.Submit("form[action='/admin/items'] button[type=submit]")
	b.ExpectText("h1", "Apple")
	b.ExpectText(".notice", "Item “Apple” created.")
	var itemID int64
	if err := e.DB.Gorm.Model(&models.Item{}).Where("name = ?", "Apple").Pluck("id", &itemID).Error; err != nil {
		t.Fatal(err)
	}
	if got := b.Value("#item-price"); got != "0.50" {
		t.Fatalf("price field shows %q, want 0.50", got)
	}

	// Link both tags: tick them with the keyboard's space bar. The tags are
	// part of the item's one form, saved by its one button.
	save := fmt.Sprintf("form[action='/admin/items/%d'] button[type=submit]", itemID)
	tags := ".tag-choices"
	b.Run("tick the tags",
		chromedp.Focus(chromedp.CSS(tags+" label:nth-of-type(1) input")),
		chromedp.SendKeys(chromedp.CSS(tags+" label:nth-of-type(1) input"), " "),
		chromedp.Click(chromedp.CSS(tags+" label:nth-of-type(2) input")),
	)
	b.Submit(save)
	b.ExpectText(".notice", "Item saved: 2 tags linked, 0 unlinked.")
	if !b.Checked(tags+" label:nth-of-type(1) input") || !b.Checked(tags+" label:nth-of-type(2) input") {
		t.Fatal("the linked tags are not ticked after saving")
	}
	if n := e.count("items_tags"); n != 2 {
		t.Fatalf("items_tags has %d rows, want 2", n)
	}
	b.Shot("item")

	// Change the price.
	b.Fill("#item-price", "1.25")
	b.Submit(save)
	b.ExpectText(".notice", "Item saved.")
	if got := b.Value("#item-price"); got != "1.25" {
		t.Fatalf("price field shows %q after saving, want 1.25", got)
	}
	b.Open("/admin/items?q=app")
	b.ExpectText("table.list", "Apple 1.25 Corner Shop fresh sale")
	b.Shot("items")

	// More stores and items, to search and sort; deleted again below.
	farmID := e.mustCreateStore("Farm Stand")
	bookID := e.mustCreateStore("Book Corner")
	e.mustCreateItem(farmID, "Banana", "0.25")
	e.mustCreateItem(farmID, "Cherry", "3")
	e.mustCreateItem(bookID, "Cookbook", "12.50")

	// Search the store list, then sort the matches by a column header: the
	// header's link keeps the search.
	b.Open("/admin/stores")
	b.Fill("#q", "CORNER")
	b.Submit("form[role=search] button[type=submit]")
	b.ExpectText("#store-list", "2 stores found")
	expectRowNames(t, b, "Book Corner", "Corner Shop")
	b.Submit("th a.sort[href*='sort=-name']")
	expectRowNames(t, b, "Corner Shop", "Book Corner")
	if got := b.Value("#q"); got != "CORNER" {
		t.Fatalf("the search box shows %q after sorting, want CORNER", got)
	}
	b.Shot("stores-search")

	// Sort the items by price, up, then down.
	b.Open("/admin/items")
	b.Submit("th a.sort[href$='sort=price']")
	expectRowNames(t, b, "Banana", "Apple", "Cherry", "Cookbook")
	b.Submit("th a.sort[href$='sort=-price']")
	expectRowNames(t, b, "Cookbook", "Cherry", "Apple", "Banana")
	b.ExpectText("th[aria-sort=descending]", "Price")

	// Filter by a price range: the list keeps its order.
	b.Fill("#min_price", "1")
	b.Fill("#max_price", "5")
	b.Submit("form[role=search] button[type=submit]")
	b.ExpectText("#item-list", "2 items found")
	expectRowNames(t, b, "Cherry", "Apple")
	b.Shot("items-price-range")
	// A price that is not one is explained next to its field.
	b.Fill("#min_price", "one")
	b.Submit("form[role=search] button[type=submit]")
	b.ExpectText("#min_price-error", "Not a valid number.")
	b.ExpectText("section[aria-labelledby=item-list] .form-error", "Fix the filters above to list the items.")
	b.Shot("items-bad-price")

	// The tags' legend fits inside its box, on a laptop and on a phone,
	// for a short store name and for a long one without spaces.
	longID := e.mustCreateStore("Supercalifragilisticexpialidocious-Wholesale-Emporium-Of-Fine-Goods")
	longItem := e.mustCreateItem(longID, "Umbrella", "9")
	e.mustCreateTag(longID, "a-very-long-tag-name-that-a-narrow-column-has-to-wrap-somewhere")
	for _, width := range []int64{1280, 390} {
		b.Run("resize", chromedp.EmulateViewport(width, 900))
		for _, id := range []int64{itemID, longItem} {
			b.Open(fmt.Sprintf("/admin/items/%d", id))
			if problem := legendProblem(b); problem != "" {
				t.Errorf("item %d at %dpx: %s", id, width, problem)
			}
			b.Shot(fmt.Sprintf("item-%d-legend-%d", id, width))
		}
	}
	b.Run("resize", chromedp.EmulateViewport(1280, 900))
	for _, id := range []int64{farmID, bookID, longID} {
		if err := e.Data.Stores.Delete(context.Background(), id, nil); err != nil {
			t.Fatal(err)
		}
	}

	b.PhoneShots(
		[2]string{"dashboard", "/admin"},
		[2]string{"stores", "/admin/stores"},
		[2]string{"store", fmt.Sprintf("/admin/stores/%d", storeID)},
		[2]string{"items", "/admin/items"},
		[2]string{"item", fmt.Sprintf("/admin/items/%d", itemID)},
		[2]string{"new-item", fmt.Sprintf("/admin/items/new?store=%d", storeID)},
		[2]string{"users", "/admin/users"},
		[2]string{"jobs", "/admin/jobs"},
	)

	// A duplicate name is explained next to the field, which keeps what
	// was typed.
	b.Open("/admin/stores")
	b.Fill("#new-store-name", "corner shop")
	b.Submit("form[action='/admin/stores'] button[type=submit]")
	b.ExpectText("#new-store-name-error", "A store with that name already exists.")
	if got := b.Value("#new-store-name"); got != "corner shop" {
		t.Fatalf("the form shows %q after the error, want what was typed", got)
	}
	b.Shot("duplicate-store")
	b.Open(fmt.Sprintf("/admin/items/new?store=%d", storeID))
	b.Fill("#item-name", "APPLE")
	b.Fill("#item-price", "3")
	b.Submit("form[action='/admin/items'] button[type=submit]")
	b.ExpectText("#item-name-error", "An item with that name already exists in this store.")
	if b.Value("#item-name") != "APPLE" || b.Value("#item-price") != "3" {
		t.Fatal("the item form lost what was typed")
	}
	b.Shot("duplicate-item")

	// Rename the item and unlink one tag in one save. A save refused for
	// the details keeps what was typed and what was unticked.
	b.Open(fmt.Sprintf("/admin/items/%d", itemID))
	b.Fill("#item-name", "Green Apple")
	b.Fill("#item-price", "1,25")
	b.Run("untick", chromedp.Click(chromedp.CSS(tags+" label:nth-of-type(2) input")))
	b.Submit(save)
	b.ExpectText("#item-price-error", "Not a valid number.")
	if b.Value("#item-name") != "Green Apple" || b.Checked(tags+" label:nth-of-type(2) input") || !b.Checked(tags+" label:nth-of-type(1) input") {
		t.Fatal("the refused save lost the name typed or the ticks")
	}
	b.Shot("item-refused")
	b.Fill("#item-price", "1.25")
	b.Submit(save)
	b.ExpectText(".notice", "Item saved: 0 tags linked, 1 unlinked.")
	b.ExpectText("h1", "Green Apple")
	if b.Checked(tags+" label:nth-of-type(2) input") || !b.Checked(tags+" label:nth-of-type(1) input") {
		t.Fatal("after unlinking, the ticks do not match the links")
	}
	if item, err := e.Data.Items.Get(context.Background(), itemID); err != nil || item.Name != "Green Apple" ||
		len(item.Tags) != 1 || item.Tags[0].Name != "fresh" {
		t.Fatalf("stored %+v, %v; want Green Apple with the tag fresh", item, err)
	}

	// A tag that an item still carries cannot be deleted.
	b.Open(fmt.Sprintf("/admin/stores/%d", storeID))
	b.Submit(".tag-list li:nth-of-type(1) .delete-tag button")
	b.ExpectText(".tag-list .form-error", "Could not delete tag. Make sure tag is not associated with any items")
	b.Shot("tag-in-use")

	// Delete the item, then the store, each after a confirmation.
	b.Open(fmt.Sprintf("/admin/items/%d", itemID))
	b.Submit(".danger-zone a.button") // a link, followed like a submit
	b.ExpectText("h1", "Delete item “Green Apple”?")
	b.Submit(fmt.Sprintf("form[action='/admin/items/%d/delete'] button", itemID))
	b.ExpectText(".notice", "Item “Green Apple” deleted.")
	b.Open(fmt.Sprintf("/admin/stores/%d/delete", storeID))
	b.ExpectText(".warning", "0 items and 2 tags")
	b.Shot("store-delete")
	b.Submit(fmt.Sprintf("form[action='/admin/stores/%d/delete'] button", storeID))
	b.ExpectText(".notice", "Store “Corner Shop” deleted")
	if n := e.count("stores") + e.count("items") + e.count("tags"); n != 0 {
		t.Fatalf("%d stores, items and tags left, want none", n)
	}

	// A job given up on, retried from the Jobs page, reached by the menu.
	jobID := e.enqueue(tasks.VerificationEmail{UserID: userID})
	e.markJob(jobID, rivertype.JobStateDiscarded, "smtp: 550 <user@example.com> mailbox unavailable")
	b.Submit(".top nav a[href='/admin/jobs']") // a link, followed like a submit
	b.ExpectText("h1", "Jobs")
	b.ExpectText("#failed", "smtp: 550 <user@example.com> mailbox unavailable")
	b.Shot("jobs")
	b.Submit(fmt.Sprintf("#failed form[action='/admin/jobs/%d/retry'] button", jobID))
	b.ExpectText(".notice", fmt.Sprintf("Job %d will run again.", jobID))
	b.ExpectText("#failed-jobs ~ p.empty", "No failed jobs.")
	if j := e.job(jobID); j.State != string(rivertype.JobStateAvailable) {
		t.Fatalf("the retried job is %s, want available", j.State)
	}

	// A new verification link for a user who has not verified their email.
	b.Submit(".top nav a[href='/admin/users']")
	b.ExpectText(fmt.Sprintf("#user-%d", userID), "Not verified")
	b.Submit(fmt.Sprintf("form[action='/admin/users/%d/verification'] button", userID))
	b.ExpectText(".notice", "A new verification email to "+userEmail+" is queued.")
	if n := e.jobsOfKind("verification_email"); n != 2 {
		t.Fatalf("%d verification email jobs, want the retried one and the new one", n)
	}

	// Sign out: the panel is closed again.
	b.Submit(".signout button")
	b.ExpectText("h1", "Sign in")
	b.ExpectText(".notice", "Signed out.")
	b.Open("/admin/stores")
	b.ExpectText("h1", "Sign in")

	// Someone who is not an admin does not get in.
	b.Fill("#login-email", userEmail)
	b.Fill("#login-password", password)
	b.Submit("form[action='/admin/login'] button[type=submit]")
	b.ExpectText("h1", "Admin access required")
	b.Shot("denied")
	b.Open("/admin")
	b.ExpectText("h1", "Sign in")

	// A form posted without its CSRF token is refused.
	b.Fill("#login-email", adminEmail)
	b.Fill("#login-password", password)
	b.Submit("form[action='/admin/login'] button[type=submit]")
	b.Open("/admin/stores")
	b.Run("drop the token", chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action='/admin/stores'] input[name=_csrf]").remove()`))
	b.Fill("#new-store-name", "Forged")
	b.Submit("form[action='/admin/stores'] button[type=submit]")
	b.ExpectText("h1", "This form has expired")
	b.Shot("csrf")
	if n := e.count("stores"); n != 0 {
		t.Fatalf("a form without its token created %d stores", n)
	}
}

// expectRowNames fails unless the list shows exactly these rows, in order:
// the names in its Name column.
func expectRowNames(t *testing.T, b *browsertest.Browser, want ...string) {
	t.Helper()
	got := browsertest.Get(b, "read the rows", chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll("table.list td[data-label=Name]"), td => td.innerText.trim()).join("|")`))
	if got != strings.Join(want, "|") {
		b.Shot("failure")
		t.Fatalf("rows %q, want %q", got, strings.Join(want, "|"))
	}
}

// legendProblem measures the item page's tag fieldset, its legend and its
// card in one evaluation and says what does not fit, or "": the legend
// must lie below the fieldset's top border and inside its sides, with its
// text inside it, and the fieldset inside its card.
func legendProblem(b *browsertest.Browser) string {
	return browsertest.Get(b, "measure the legend", chromedp.Evaluate[string](`(() => {
		const set = document.querySelector(".tag-choices");
		if (!set) return "no tag fieldset";
		const legend = set.querySelector("legend"), card = set.closest(".card");
		const f = set.getBoundingClientRect(), l = legend.getBoundingClientRect(), c = card.getBoundingClientRect();
		const border = parseFloat(getComputedStyle(set).borderTopWidth);
		const out = [];
		if (l.top < f.top + border) out.push("the legend sticks out above the top border (" + l.top + " < " + (f.top + border) + ")");
		if (l.left < f.left || l.right > f.right) out.push("the legend is wider than its box (" + l.left + "-" + l.right + " in " + f.left + "-" + f.right + ")");
		if (l.bottom > f.bottom) out.push("the legend runs past the box's bottom");
		if (legend.scrollWidth > legend.clientWidth + 1) out.push("the legend's text overflows it");
		if (f.left < c.left || f.right > c.right) out.push("the fieldset is wider than its card (" + f.right + " > " + c.right + ")");
		return out.join("; ");
	})()`))
}
