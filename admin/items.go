package admin

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// itemsPerPage is the length of a page of the item list.
const itemsPerPage = 25

// itemFilter is what the item list is narrowed to, as the page's filter
// form shows it; zero values mean any.
type itemFilter struct {
	Q       string
	StoreID int64
	TagID   int64
}

// Active reports whether any filter is set.
func (f itemFilter) Active() bool { return f.Q != "" || f.StoreID != 0 || f.TagID != 0 }

// params are the filter as query parameters, for the pager links.
func (f itemFilter) params() url.Values {
	q := url.Values{}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	if f.StoreID != 0 {
		q.Set("store", strconv.FormatInt(f.StoreID, 10))
	}
	if f.TagID != 0 {
		q.Set("tag", strconv.FormatInt(f.TagID, 10))
	}
	return q
}

// filter is the data layer's filter for it: items by name.
func (f itemFilter) filter() models.ItemFilter {
	return models.ItemFilter{Name: f.Q, StoreID: f.StoreID, TagID: f.TagID, Sort: models.SortName}
}

// tagGroup is the tags of one store, for the tag filter.
type tagGroup struct {
	Store string
	Tags  []models.Tag
}

// itemsView is the item list with its filters.
type itemsView struct {
	page
	Filter    itemFilter
	Items     []models.Item
	Pager     pager
	Stores    []models.Store
	TagGroups []tagGroup
}

// listItems handles GET /admin/items?q=&store=&tag=&page=. Filters that
// cannot be ids are ignored; a long search is cut to the longest name.
func (a *panel) listItems(c *fiber.Ctx) error {
	q := strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(c.Query("q"), ""), "\x00", ""))
	if utf8.RuneCountInString(q) > 80 {
		q = string([]rune(q)[:80])
	}
	filter := itemFilter{Q: q, StoreID: queryID(c, "store"), TagID: queryID(c, "tag")}
	v := &itemsView{page: page{Title: "Items", Nav: "items"}, Filter: filter}
	ctx := c.UserContext()
	p := askedPage(c, itemsPerPage)
	items, total, err := a.data.Items.List(ctx, filter.filter(), p)
	if err == nil && p != p.Within(total) { // past the end: show the last page
		p = p.Within(total)
		items, total, err = a.data.Items.List(ctx, filter.filter(), p)
	}
	if err != nil {
		return err
	}
	v.Items, v.Pager = items, newPager(p, Prefix+"/items", filter.params(), total)
	if v.Stores, err = a.data.Stores.All(ctx); err != nil {
		return err
	}
	tags, err := a.data.Tags.ByStore(ctx)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if n := len(v.TagGroups); n == 0 || v.TagGroups[n-1].Store != t.Store.Name {
			v.TagGroups = append(v.TagGroups, tagGroup{Store: t.Store.Name})
		}
		g := &v.TagGroups[len(v.TagGroups)-1]
		g.Tags = append(g.Tags, t)
	}
	return a.render(c, fiber.StatusOK, "items", v)
}

// itemFormView is the page that creates an item.
type itemFormView struct {
	page
	Form   *form
	Stores []models.Store
}

// newItem handles GET /admin/items/new?store=.
func (a *panel) newItem(c *fiber.Ctx) error {
	values := map[string]string{}
	if id := queryID(c, "store"); id != 0 {
		values["store_id"] = strconv.FormatInt(id, 10)
	}
	return a.renderNewItem(c, fiber.StatusOK, newForm("item", values))
}

func (a *panel) renderNewItem(c *fiber.Ctx, status int, f *form) error {
	stores, err := a.data.Stores.All(c.UserContext())
	if err != nil {
		return err
	}
	return a.render(c, status, "item_new", &itemFormView{page: page{Title: "New item", Nav: "items"}, Form: f, Stores: stores})
}

// readItemForm reads an item form into the API's ItemIn and validates it
// with the API's rules. The price is a decimal string, parsed exactly as
// the API parses a JSON number.
func (a *panel) readItemForm(c *fiber.Ctx, id string) (schemas.ItemIn, *form, error) {
	f := newForm(id, map[string]string{
		"name":        formText(c, "name"),
		"price":       formText(c, "price"),
		"description": formText(c, "description"),
		"store_id":    formText(c, "store_id"),
	})
	in := schemas.ItemIn{Name: f.Values["name"]}
	errs := schemas.FieldErrors{}
	if raw := strings.TrimSpace(f.Values["price"]); raw != "" {
		cents, err := schemas.ParsePrice(raw)
		if err != nil {
			errs["price"] = []string{err.Error()}
		} else {
			p := schemas.Price(cents)
			in.Price = &p
		}
	}
	if raw := strings.TrimSpace(f.Values["store_id"]); raw != "" {
		storeID, ok := parseID(raw)
		if !ok {
			errs["store_id"] = []string{"Choose a store from the list."}
		}
		in.StoreID = storeID
	}
	// An empty description clears it, as null does in the API.
	in.Description.Set = true
	if d := f.Values["description"]; strings.TrimSpace(d) != "" {
		in.Description.Value = &d
	}
	return in, f, a.validateForm(&in, errs)
}

// createItem handles POST /admin/items.
func (a *panel) createItem(c *fiber.Ctx) error {
	in, f, err := a.readItemForm(c, "item")
	var item models.Item
	if err == nil {
		item, err = a.data.Items.Create(c.UserContext(), in.Item())
	}
	if err != nil {
		status, err := f.fail(err)
		if err != nil {
			return err
		}
		return a.renderNewItem(c, status, f)
	}
	return a.redirectWith(c, itemPath(item.ID), "Item “"+item.Name+"” created.")
}

func itemPath(id int64) string { return Prefix + "/items/" + strconv.FormatInt(id, 10) }

// tagChoice is a tag of the item's store, ticked when linked.
type tagChoice struct {
	ID     int64
	Name   string
	Linked bool
}

// itemView is an item's page: edit it, link and unlink its tags.
type itemView struct {
	page
	Item     models.Item
	Form     *form
	Stores   []models.Store
	Tags     []tagChoice
	TagsForm *form
}

// itemPage loads an item's page with the given forms, or fresh ones.
func (a *panel) itemPage(c *fiber.Ctx, id int64, edit, tags *form) (*itemView, error) {
	ctx := c.UserContext()
	item, err := a.data.Items.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &itemView{page: page{Title: item.Name, Nav: "items"}, Item: item, Form: edit, TagsForm: tags}
	if v.Form == nil {
		v.Form = newForm("item", map[string]string{
			"name":        item.Name,
			"price":       formatPrice(item.PriceCents),
			"description": stringOrEmpty(item.Description),
			"store_id":    strconv.FormatInt(item.StoreID, 10),
		})
	}
	if v.TagsForm == nil {
		v.TagsForm = newForm("", nil)
	}
	if v.Stores, err = a.data.Stores.All(ctx); err != nil {
		return nil, err
	}
	storeTags, err := a.data.Tags.Summaries(ctx, item.StoreID)
	if err != nil {
		return nil, err
	}
	for _, t := range storeTags {
		linked := slices.ContainsFunc(item.Tags, func(l models.Tag) bool { return l.ID == t.ID })
		v.Tags = append(v.Tags, tagChoice{ID: t.ID, Name: t.Name, Linked: linked})
	}
	return v, nil
}

func stringOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// showItem handles GET /admin/items/:id.
func (a *panel) showItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	v, err := a.itemPage(c, id, nil, nil)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "item", v)
}

// updateItem handles POST /admin/items/:id: every field of the form is
// set, through the data layer's partial update.
func (a *panel) updateItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	in, f, err := a.readItemForm(c, "item")
	if err == nil {
		_, err = a.data.Items.Update(c.UserContext(), id, schemas.ItemUpdate{
			Name: &in.Name, Price: in.Price, StoreID: &in.StoreID, Description: in.Description,
		}.Changes(), nil)
	}
	if err != nil {
		return a.failItemPage(c, id, f, nil, err)
	}
	return a.redirectWith(c, itemPath(id), "Item saved.")
}

// setItemTags handles POST /admin/items/:id/tags: the ticked tags end up
// linked and the others unlinked, all or nothing.
func (a *panel) setItemTags(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	f := newForm("", nil)
	var want []int64
	for _, raw := range formValues(c, "tag_ids") {
		tagID, ok := parseID(raw)
		if !ok {
			invalid := &schemas.ValidationError{Fields: schemas.FieldErrors{"tag_ids": {"Not a valid tag."}}}
			return a.failItemPage(c, id, nil, f, invalid)
		}
		want = append(want, tagID)
	}
	linked, unlinked, err := a.data.Items.SetTags(c.UserContext(), id, want)
	if err != nil {
		return a.failItemPage(c, id, nil, f, err)
	}
	notice := "Tags unchanged."
	if linked+unlinked > 0 {
		notice = "Tags saved: " + countNoun(int64(linked), "tag") + " linked, " + strconv.Itoa(unlinked) + " unlinked."
	}
	return a.redirectWith(c, itemPath(id)+"#tags", notice)
}

// failItemPage shows the item's page again with why one of its forms,
// edit or tags, was not saved.
func (a *panel) failItemPage(c *fiber.Ctx, id int64, edit, tags *form, err error) error {
	failed := edit
	if failed == nil {
		failed = tags
	}
	status, err := failed.fail(err)
	if err != nil {
		return err
	}
	v, err := a.itemPage(c, id, edit, tags)
	if err != nil {
		return err
	}
	return a.render(c, status, "item", v)
}

// itemDeleteView asks to confirm deleting an item.
type itemDeleteView struct {
	page
	Item models.Item
}

// confirmDeleteItem handles GET /admin/items/:id/delete.
func (a *panel) confirmDeleteItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	item, err := a.data.Items.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "item_delete", &itemDeleteView{page: page{Title: "Delete " + item.Name, Nav: "items"}, Item: item})
}

// deleteItem handles POST /admin/items/:id/delete.
func (a *panel) deleteItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	item, err := a.data.Items.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := a.data.Items.Delete(c.UserContext(), id, nil); err != nil {
		return err
	}
	return a.redirectWith(c, Prefix+"/items", "Item “"+item.Name+"” deleted.")
}
