package resources

import (
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/models"
	"stores-api/schemas"
)

// itemsPerPage is the length of a page of the item list.
const itemsPerPage = 25

// adminItemFilter is what the item list is narrowed to; zero values mean any.
type adminItemFilter struct {
	Q       string
	StoreID int64
	TagID   int64
}

// Active reports whether any filter is set.
func (f adminItemFilter) Active() bool { return f.Q != "" || f.StoreID != 0 || f.TagID != 0 }

// params are the filter as query parameters, for the pager links.
func (f adminItemFilter) params() url.Values {
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

// scope narrows a query on items to the filter.
func (f adminItemFilter) scope(db *gorm.DB) *gorm.DB {
	if f.Q != "" {
		db = db.Where(`lower(items.name) LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(f.Q))+"%")
	}
	if f.StoreID != 0 {
		db = db.Where("items.store_id = ?", f.StoreID)
	}
	if f.TagID != 0 {
		db = db.Where("EXISTS (SELECT 1 FROM items_tags WHERE items_tags.item_id = items.id AND items_tags.tag_id = ?)", f.TagID)
	}
	return db
}

// adminTagGroup is the tags of one store, for the tag filter.
type adminTagGroup struct {
	Store string
	Tags  []models.Tag
}

// itemsView is the item list with its filters.
type itemsView struct {
	adminPage
	Filter    adminItemFilter
	Items     []models.Item
	Pager     adminPager
	Stores    []models.Store
	TagGroups []adminTagGroup
}

// listItems handles GET /admin/items?q=&store=&tag=&page=. Filters that
// cannot be ids are ignored; a long search is cut to the longest name.
func (a *adminPanel) listItems(c *fiber.Ctx) error {
	q := strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(c.Query("q"), ""), "\x00", ""))
	if utf8.RuneCountInString(q) > 80 {
		q = string([]rune(q)[:80])
	}
	filter := adminItemFilter{Q: q, StoreID: queryID(c, "store"), TagID: queryID(c, "tag")}
	v := &itemsView{adminPage: adminPage{Title: "Items", Nav: "items"}, Filter: filter}
	db := a.db(c)
	var total int64
	if err := db.Model(&models.Item{}).Scopes(filter.scope).Count(&total).Error; err != nil {
		return err
	}
	v.Pager = newPager(queryID(c, "page"), "/admin/items", filter.params(), total, itemsPerPage)
	var err error
	v.Items, err = readItems(db.Model(&models.Item{}).Scopes(filter.scope).Order("lower(items.name), items.id").
		Limit(itemsPerPage).Offset(int(v.Pager.Offset())))
	if err != nil {
		return err
	}
	if v.Stores, err = a.allStores(c); err != nil {
		return err
	}
	var tags []models.Tag
	err = db.Joins("Store").Order(`lower("Store".name), "Store".id, lower(tags.name), tags.id`).Find(&tags).Error
	if err != nil {
		return err
	}
	for _, t := range tags {
		if n := len(v.TagGroups); n == 0 || v.TagGroups[n-1].Store != t.Store.Name {
			v.TagGroups = append(v.TagGroups, adminTagGroup{Store: t.Store.Name})
		}
		g := &v.TagGroups[len(v.TagGroups)-1]
		g.Tags = append(g.Tags, t)
	}
	return a.render(c, fiber.StatusOK, "items", v)
}

// allStores lists every store by name, for the store choices.
func (a *adminPanel) allStores(c *fiber.Ctx) ([]models.Store, error) {
	var stores []models.Store
	err := a.db(c).Order("lower(name), id").Find(&stores).Error
	return stores, err
}

// itemFormView is the page that creates an item.
type itemFormView struct {
	adminPage
	Form   *adminForm
	Stores []models.Store
}

// newItem handles GET /admin/items/new?store=.
func (a *adminPanel) newItem(c *fiber.Ctx) error {
	values := map[string]string{}
	if id := queryID(c, "store"); id != 0 {
		values["store_id"] = strconv.FormatInt(id, 10)
	}
	return a.renderNewItem(c, fiber.StatusOK, newForm("item", values))
}

func (a *adminPanel) renderNewItem(c *fiber.Ctx, status int, f *adminForm) error {
	stores, err := a.allStores(c)
	if err != nil {
		return err
	}
	return a.render(c, status, "item_new", &itemFormView{adminPage: adminPage{Title: "New item", Nav: "items"}, Form: f, Stores: stores})
}

// itemFields maps conflicts of the item rules to the field they concern.
var itemFields = map[*Error]string{errItemNameTaken: "name", errItemHasTags: "store_id"}

// readItemForm reads an item form into the API's ItemIn and validates it
// with the API's rules. The price is a decimal string, parsed exactly as
// the API parses a JSON number.
func (a *adminPanel) readItemForm(c *fiber.Ctx, id string) (schemas.ItemIn, *adminForm, schemas.FieldErrors) {
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
		storeID, ok := parseFormID(raw)
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
	return in, f, schemas.ValidateStruct(a.Validate, &in, errs)
}

// createItem handles POST /admin/items.
func (a *adminPanel) createItem(c *fiber.Ctx) error {
	in, f, errs := a.readItemForm(c, "item")
	var (
		item models.Item
		err  error
	)
	if errs != nil {
		err = &schemas.ValidationError{Fields: errs}
	} else {
		item, err = a.createItemRow(a.db(c), in, noGuard)
	}
	if err != nil {
		status, err := f.fail(err, itemFields)
		if err != nil {
			return err
		}
		return a.renderNewItem(c, status, f)
	}
	return a.redirectWith(c, itemPath(item.ID), "Item “"+item.Name+"” created.")
}

func itemPath(id int64) string { return "/admin/items/" + strconv.FormatInt(id, 10) }

// adminTagChoice is a tag of the item's store, ticked when linked.
type adminTagChoice struct {
	ID     int64
	Name   string
	Linked bool
}

// itemView is an item's page: edit it, link and unlink its tags.
type itemView struct {
	adminPage
	Item     models.Item
	Form     *adminForm
	Stores   []models.Store
	Tags     []adminTagChoice
	TagsForm *adminForm
}

// itemPage loads an item's page with the given forms, or fresh ones.
func (a *adminPanel) itemPage(c *fiber.Ctx, id int64, edit, tags *adminForm) (*itemView, error) {
	item, err := loadItem(a.db(c), id, noGuard)
	if err != nil {
		return nil, err
	}
	v := &itemView{adminPage: adminPage{Title: item.Name, Nav: "items"}, Item: item, Form: edit, TagsForm: tags}
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
	if v.Stores, err = a.allStores(c); err != nil {
		return nil, err
	}
	var storeTags []models.Tag
	err = a.db(c).Where("store_id = ?", item.StoreID).Order("lower(name), id").Find(&storeTags).Error
	if err != nil {
		return nil, err
	}
	for _, t := range storeTags {
		linked := slices.ContainsFunc(item.Tags, func(l models.Tag) bool { return l.ID == t.ID })
		v.Tags = append(v.Tags, adminTagChoice{ID: t.ID, Name: t.Name, Linked: linked})
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
func (a *adminPanel) showItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
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
// set, through the API's partial update.
func (a *adminPanel) updateItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	in, f, errs := a.readItemForm(c, "item")
	if errs != nil {
		err = &schemas.ValidationError{Fields: errs}
	} else {
		_, err = a.updateItemRow(a.db(c), id, schemas.ItemUpdate{
			Name: &in.Name, Price: in.Price, StoreID: &in.StoreID, Description: in.Description,
		})
	}
	if err != nil {
		status, err := f.fail(err, itemFields)
		if err != nil {
			return err
		}
		v, err := a.itemPage(c, id, f, nil)
		if err != nil {
			return err
		}
		return a.render(c, status, "item", v)
	}
	return a.redirectWith(c, itemPath(id), "Item saved.")
}

// setItemTags handles POST /admin/items/:id/tags: the ticked tags end up
// linked and the others unlinked, all or nothing. New links go through the
// API's linkItemTags, which checks that they are tags of the item's store;
// the rest are unlinked by one DELETE, whatever their number.
func (a *adminPanel) setItemTags(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	f := newForm("", nil)
	var want []int64
	for _, raw := range formValues(c, "tag_ids") {
		tagID, ok := parseFormID(raw)
		if !ok {
			return a.failTags(c, id, f, invalidField("tag_ids", "Not a valid tag."))
		}
		want = append(want, tagID)
	}
	var linked, unlinked int
	err = a.db(c).Transaction(func(tx *gorm.DB) error {
		var item models.Item
		if err := a.forUpdate(tx).Take(&item, id).Error; err != nil {
			return notFoundAs(err, errItemNotFound)
		}
		var have []int64
		if err := tx.Model(&models.ItemTag{}).Where("item_id = ?", id).Pluck("tag_id", &have).Error; err != nil {
			return err
		}
		if add := without(uniqueIDs(want), have); len(add) > 0 {
			if err := a.linkItemTags(tx, id, add); err != nil {
				return err
			}
			linked = len(add)
		}
		if remove := without(have, want); len(remove) > 0 {
			res := tx.Where("item_id = ? AND tag_id IN ?", id, remove).Delete(&models.ItemTag{})
			if res.Error != nil {
				return res.Error
			}
			unlinked = int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return a.failTags(c, id, f, err)
	}
	notice := "Tags unchanged."
	if linked+unlinked > 0 {
		notice = "Tags saved: " + countNoun(linked, "tag") + " linked, " + strconv.Itoa(unlinked) + " unlinked."
	}
	return a.redirectWith(c, itemPath(id)+"#tags", notice)
}

// failTags shows the item's page again with why its tags were not saved.
func (a *adminPanel) failTags(c *fiber.Ctx, id int64, f *adminForm, err error) error {
	status, err := f.fail(err, nil)
	if err != nil {
		return err
	}
	v, err := a.itemPage(c, id, nil, f)
	if err != nil {
		return err
	}
	return a.render(c, status, "item", v)
}

// formValues reads every value of a repeated form field (checkboxes).
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	ct, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if ct == fiber.MIMEMultipartForm {
		if mf, err := c.MultipartForm(); err == nil {
			for _, v := range mf.Value[name] {
				out = append(out, strings.Clone(v))
			}
		}
		return out
	}
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// itemDeleteView asks to confirm deleting an item.
type itemDeleteView struct {
	adminPage
	Item models.Item
}

// confirmDeleteItem handles GET /admin/items/:id/delete.
func (a *adminPanel) confirmDeleteItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	item, err := loadItem(a.db(c), id, noGuard)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "item_delete", &itemDeleteView{adminPage: adminPage{Title: "Delete " + item.Name, Nav: "items"}, Item: item})
}

// deleteItem handles POST /admin/items/:id/delete.
func (a *adminPanel) deleteItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	var item models.Item
	if err := a.db(c).Take(&item, id).Error; err != nil {
		return notFoundAs(err, errItemNotFound)
	}
	if err := a.deleteItemRow(a.db(c), id); err != nil {
		return err
	}
	return a.redirectWith(c, "/admin/items", "Item “"+item.Name+"” deleted.")
}
