package admin

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// itemsPerPage is the length of a page of the item list.
const itemsPerPage = 25

// itemFilter is what the item list is narrowed to, as the page's filter
// form shows it; zero values mean any.
type itemFilter struct {
	Q        string
	StoreID  int64
	TagID    int64
	MinPrice *int64 // cents
	MaxPrice *int64 // cents
}

// Active reports whether any filter is set.
func (f itemFilter) Active() bool {
	return f.Q != "" || f.StoreID != 0 || f.TagID != 0 || f.MinPrice != nil || f.MaxPrice != nil
}

// params are the filter as query parameters, for the pager and the
// column headers' links.
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
	if f.MinPrice != nil {
		q.Set("min_price", formatPrice(*f.MinPrice))
	}
	if f.MaxPrice != nil {
		q.Set("max_price", formatPrice(*f.MaxPrice))
	}
	return q
}

// filter is the data layer's filter for it, in the order sort, as the
// JSON API's GET /items filters and orders.
func (f itemFilter) filter(sort string) models.ItemFilter {
	return models.ItemFilter{Name: f.Q, StoreID: f.StoreID, TagID: f.TagID, MinPrice: f.MinPrice, MaxPrice: f.MaxPrice,
		Sort: models.ItemSort(sort)}
}

// itemSorts are the orders of the item list, the first the default.
var itemSorts = []sortOption{
	{string(models.SortName), "Name, A to Z"},
	{string(models.SortNameDesc), "Name, Z to A"},
	{string(models.SortPrice), "Price, lowest first"},
	{string(models.SortPriceDesc), "Price, highest first"},
	{string(models.SortID), "Oldest first"},
	{string(models.SortIDDesc), "Newest first"},
}

// tagGroup is the tags of one store, for the tag filter.
type tagGroup struct {
	Store string
	Tags  []models.Tag
}

// itemsView is the item list with its filters and order.
type itemsView struct {
	page
	Filter    itemFilter
	Search    *form // the filter form's text fields as typed, with what is wrong with them
	Sort      listSort
	Items     []models.Item
	Pager     pager
	Stores    []models.Store
	TagGroups []tagGroup
}

// readItemFilter reads the item list's filter and order from the query
// string. Store and tag filters that cannot be ids are ignored, a long
// search is cut to the longest name; prices and the order that cannot be
// read are explained on the returned form.
func readItemFilter(c *fiber.Ctx) (itemFilter, *form, listSort) {
	f := newForm("", map[string]string{
		"q":         queryText(c, "q"),
		"min_price": queryText(c, "min_price"),
		"max_price": queryText(c, "max_price"),
	})
	filter := itemFilter{Q: f.Values["q"], StoreID: queryID(c, "store"), TagID: queryID(c, "tag"),
		MinPrice: queryPrice(f, "min_price"), MaxPrice: queryPrice(f, "max_price")}
	if filter.MinPrice != nil && filter.MaxPrice != nil && *filter.MinPrice > *filter.MaxPrice {
		f.Errors["max_price"] = append(f.Errors["max_price"], "Must not be less than the min price.")
	}
	sort := querySort(c, f, Prefix+"/items", itemSorts[0].Value, itemSorts)
	sort.keep(filter.params())
	return filter, f, sort
}

// listItems handles GET /admin/items?q=&store=&tag=&min_price=&max_price=&sort=&page=:
// the JSON API's item search, with its exact prices and its orders
// (itemSorts). A price that is not one, or an unknown order, is a 422 page
// that says what is wrong and lists nothing.
func (a *panel) listItems(c *fiber.Ctx) error {
	filter, search, sort := readItemFilter(c)
	v := &itemsView{page: page{Title: "Items", Nav: "items"}, Filter: filter, Search: search, Sort: sort}
	ctx := c.UserContext()
	status := fiber.StatusOK
	if search.Failed() {
		status = fiber.StatusUnprocessableEntity
	} else {
		p := askedPage(c, itemsPerPage)
		items, total, err := a.data.Items.List(ctx, filter.filter(sort.Current), p)
		if err == nil && p != p.Within(total) { // past the end: show the last page
			p = p.Within(total)
			items, total, err = a.data.Items.List(ctx, filter.filter(sort.Current), p)
		}
		if err != nil {
			return err
		}
		v.Items, v.Pager = items, newPager(p, Prefix+"/items", sort.Params(), total)
	}
	var err error
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
	return a.render(c, status, "items", v)
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

// tagChoice is a tag of the item's store, ticked when linked (or, after a
// failed save, when it was ticked).
type tagChoice struct {
	ID     int64
	Name   string
	Linked bool
}

// itemView is an item's page: one form edits its details and its tags,
// saved together.
type itemView struct {
	page
	Item   models.Item
	Form   *form
	Stores []models.Store
	Tags   []tagChoice
}

// itemPage loads an item's page. failed, when not nil, is the form whose
// save failed, shown as it was sent: its details as typed, and ticked the
// tags that were.
func (a *panel) itemPage(c *fiber.Ctx, id int64, failed *form, ticked []int64) (*itemView, error) {
	ctx := c.UserContext()
	item, err := a.data.Items.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &itemView{page: page{Title: item.Name, Nav: "items"}, Item: item, Form: failed}
	if failed == nil {
		v.Form = newForm("item", map[string]string{
			"name":        item.Name,
			"price":       formatPrice(item.PriceCents),
			"description": stringOrEmpty(item.Description),
			"store_id":    strconv.FormatInt(item.StoreID, 10),
		})
		for _, t := range item.Tags {
			ticked = append(ticked, t.ID)
		}
	}
	if v.Stores, err = a.data.Stores.All(ctx); err != nil {
		return nil, err
	}
	storeTags, err := a.data.Tags.Summaries(ctx, item.StoreID)
	if err != nil {
		return nil, err
	}
	for _, t := range storeTags {
		v.Tags = append(v.Tags, tagChoice{ID: t.ID, Name: t.Name, Linked: slices.Contains(ticked, t.ID)})
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

// updateItem handles POST /admin/items/:id: the item page's one form. It
// sets every field of the item, through the data layer's partial update,
// and makes the item carry exactly the ticked tags, in one transaction:
// nothing typed or ticked is lost to the other half of the page. A save
// that fails shows both halves again as they were sent.
func (a *panel) updateItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	in, f, err := a.readItemForm(c, "item")
	ticked, bad := readTagIDs(c)
	if bad {
		err = withFieldError(err, "tag_ids", "Not a valid tag.")
	}
	var changed models.TagChanges
	if err == nil {
		_, changed, err = a.data.Items.UpdateWithTags(c.UserContext(), id, schemas.ItemUpdate{
			Name: &in.Name, Price: in.Price, StoreID: &in.StoreID, Description: in.Description,
		}.Changes(), ticked)
	}
	if err != nil {
		status, err := f.fail(err)
		if err != nil {
			return err
		}
		v, err := a.itemPage(c, id, f, ticked)
		if err != nil {
			return err
		}
		return a.render(c, status, "item", v)
	}
	notice := "Item saved."
	if changed.Linked+changed.Unlinked > 0 {
		notice = "Item saved: " + countNoun(int64(changed.Linked), "tag") + " linked, " + strconv.Itoa(changed.Unlinked) + " unlinked."
	}
	return a.redirectWith(c, itemPath(id), notice)
}

// readTagIDs reads the ticked tags of the item form; bad reports values
// no checkbox sends, which are left out.
func readTagIDs(c *fiber.Ctx) (ids []int64, bad bool) {
	ids = []int64{}
	for _, raw := range formValues(c, "tag_ids") {
		id, ok := parseID(raw)
		if !ok {
			bad = true
			continue
		}
		ids = append(ids, id)
	}
	return ids, bad
}

// withFieldError adds a problem with one field to err, the validation
// error of the rest of the form (or nil), so all of them show at once.
func withFieldError(err error, field, msg string) error {
	var ve *schemas.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return err // not a problem of the form: it stays what it is
	}
	fields := schemas.FieldErrors{}
	if ve != nil {
		maps.Copy(fields, ve.Fields)
	}
	fields[field] = append(fields[field], msg)
	return &schemas.ValidationError{Fields: fields}
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
