package admin

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// storesPerPage is the length of a page of the store list.
const storesPerPage = 50

// dashboardView shows how much there is of everything.
type dashboardView struct {
	page
	Stores, Items, Tags, Users int64
}

// dashboard handles GET /admin.
func (a *panel) dashboard(c *fiber.Ctx) error {
	v := &dashboardView{page: page{Title: "Dashboard", Nav: "dashboard"}}
	ctx := c.UserContext()
	var err error
	if v.Stores, err = a.data.Stores.Count(ctx); err != nil {
		return err
	}
	if v.Items, err = a.data.Items.Count(ctx); err != nil {
		return err
	}
	if v.Tags, err = a.data.Tags.Count(ctx); err != nil {
		return err
	}
	if v.Users, err = a.data.Users.Count(ctx); err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "dashboard", v)
}

// storesView is the store list, its search and order, and the form that
// creates a store.
type storesView struct {
	page
	Stores []models.StoreSummary
	Pager  pager
	Create *form
	Search *form // q and sort as asked for, with what is wrong with them
	Sort   listSort
}

// Searched reports whether the list is narrowed by a search.
func (v *storesView) Searched() bool { return v.Search.Value("q") != "" }

// storeSorts are the orders of the store list, the first the default.
var storeSorts = []sortOption{
	{string(models.StoreSortName), "Name, A to Z"},
	{string(models.StoreSortNameDesc), "Name, Z to A"},
	{string(models.StoreSortItems), "Fewest items first"},
	{string(models.StoreSortItemsDesc), "Most items first"},
	{string(models.StoreSortID), "Oldest first"},
	{string(models.StoreSortIDDesc), "Newest first"},
}

// storesPage loads the page of the store list the query string asks for.
// A search it cannot run is explained on the page, which then lists none.
func (a *panel) storesPage(c *fiber.Ctx, create *form) (*storesView, error) {
	search := newForm("", map[string]string{"q": queryText(c, "q")})
	sort := querySort(c, search, Prefix+"/stores", storeSorts[0].Value, storeSorts)
	if q := search.Values["q"]; q != "" {
		sort.keep(url.Values{"q": {q}})
	}
	v := &storesView{page: page{Title: "Stores", Nav: "stores"}, Create: create, Search: search, Sort: sort}
	if search.Failed() {
		return v, nil
	}
	filter := models.StoreFilter{Name: search.Values["q"], Sort: models.StoreSort(sort.Current)}
	stores, p, total, err := a.data.Stores.Search(c.UserContext(), filter, askedPage(c, storesPerPage))
	if err != nil {
		return nil, err
	}
	v.Stores, v.Pager = stores, newPager(p, Prefix+"/stores", sort.Params(), total)
	return v, nil
}

// listStores handles GET /admin/stores?q=&sort=&page=: the stores whose
// name contains q in any case, in the order sort names (storeSorts). An
// unknown order is a 422 that says so.
func (a *panel) listStores(c *fiber.Ctx) error {
	v, err := a.storesPage(c, newForm("new-store", nil))
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if v.Search.Failed() {
		status = fiber.StatusUnprocessableEntity
	}
	return a.render(c, status, "stores", v)
}

// createStore handles POST /admin/stores.
func (a *panel) createStore(c *fiber.Ctx) error {
	in := schemas.StoreIn{Name: formText(c, "name")}
	f := newForm("new-store", map[string]string{"name": in.Name})
	err := a.validateForm(&in, nil)
	var store models.Store
	if err == nil {
		store, err = a.data.Stores.Create(c.UserContext(), in.Name)
	}
	if err != nil {
		status, err := f.fail(err)
		if err != nil {
			return err
		}
		v, err := a.storesPage(c, f)
		if err != nil {
			return err
		}
		return a.render(c, status, "stores", v)
	}
	return a.redirectWith(c, storePath(store.ID), "Store “"+store.Name+"” created.")
}

func storePath(id int64) string { return Prefix + "/stores/" + strconv.FormatInt(id, 10) }

// tagRow is a tag on its store's page, with its own rename form.
type tagRow struct {
	models.TagSummary
	Form *form
}

// storeView is a store's page: rename it, manage its tags.
type storeView struct {
	page
	Store     models.Store
	ItemCount int64
	Tags      []tagRow
	Rename    *form
	NewTag    *form
}

// storePage loads a store's page. failed, when not nil, is the form whose
// submit failed; it replaces the form of the same ID.
func (a *panel) storePage(c *fiber.Ctx, id int64, failed *form) (*storeView, error) {
	summary, err := a.data.Stores.Summary(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	tags, err := a.data.Tags.Summaries(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	v := &storeView{page: page{Title: summary.Name, Nav: "stores"}, Store: models.Store{ID: id, Name: summary.Name},
		ItemCount: summary.ItemCount, Rename: newForm("store", map[string]string{"name": summary.Name}), NewTag: newForm("new-tag", nil)}
	for _, t := range tags {
		v.Tags = append(v.Tags, tagRow{TagSummary: t, Form: newForm(tagFormID(t.ID), map[string]string{"name": t.Name})})
	}
	if failed != nil {
		switch failed.ID {
		case v.Rename.ID:
			v.Rename = failed
		case v.NewTag.ID:
			v.NewTag = failed
		}
		for i := range v.Tags {
			if v.Tags[i].Form.ID == failed.ID {
				v.Tags[i].Form = failed
			}
		}
	}
	return v, nil
}

func tagFormID(id int64) string { return "tag-" + strconv.FormatInt(id, 10) }

// showStore handles GET /admin/stores/:id.
func (a *panel) showStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	v, err := a.storePage(c, id, nil)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "store", v)
}

// failOnStorePage shows a store's page again with the failed form.
func (a *panel) failOnStorePage(c *fiber.Ctx, storeID int64, f *form, err error) error {
	status, err := f.fail(err)
	if err != nil {
		return err
	}
	v, err := a.storePage(c, storeID, f)
	if err != nil {
		return err
	}
	return a.render(c, status, "store", v)
}

// renameStore handles POST /admin/stores/:id.
func (a *panel) renameStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	in := schemas.StoreIn{Name: formText(c, "name")}
	f := newForm("store", map[string]string{"name": in.Name})
	if err := a.validateForm(&in, nil); err != nil {
		return a.failOnStorePage(c, id, f, err)
	}
	store, err := a.data.Stores.Rename(c.UserContext(), id, in.Name)
	if err != nil {
		return a.failOnStorePage(c, id, f, err)
	}
	return a.redirectWith(c, storePath(id), "Store renamed to “"+store.Name+"”.")
}

// storeDeleteView asks to confirm deleting a store and all it holds.
type storeDeleteView struct {
	page
	Store     models.Store
	ItemCount int64
	TagCount  int64
}

// confirmDeleteStore handles GET /admin/stores/:id/delete.
func (a *panel) confirmDeleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	s, err := a.data.Stores.Summary(c.UserContext(), id)
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "store_delete", &storeDeleteView{
		page:  page{Title: "Delete " + s.Name, Nav: "stores"},
		Store: models.Store{ID: s.ID, Name: s.Name}, ItemCount: s.ItemCount, TagCount: s.TagCount,
	})
}

// deleteStore handles POST /admin/stores/:id/delete.
func (a *panel) deleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	store, err := a.data.Stores.Summary(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := a.data.Stores.Delete(c.UserContext(), id, nil); err != nil {
		return err
	}
	return a.redirectWith(c, Prefix+"/stores", "Store “"+store.Name+"” deleted, with its items and tags.")
}

// createTag handles POST /admin/stores/:id/tags.
func (a *panel) createTag(c *fiber.Ctx) error {
	storeID, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	in := schemas.TagIn{Name: formText(c, "name")}
	f := newForm("new-tag", map[string]string{"name": in.Name})
	if err := a.validateForm(&in, nil); err != nil {
		return a.failOnStorePage(c, storeID, f, err)
	}
	tag, err := a.data.Tags.Create(c.UserContext(), storeID, in.Name)
	if err != nil {
		return a.failOnStorePage(c, storeID, f, err)
	}
	return a.redirectWith(c, storePath(storeID)+"#tags", "Tag “"+tag.Name+"” created.")
}

// tagOf reads the tag a tag action names, for its store.
func (a *panel) tagOf(c *fiber.Ctx) (models.Tag, error) {
	id, err := pathID(c, "id", models.ErrTagNotFound)
	if err != nil {
		return models.Tag{}, err
	}
	return a.data.Tags.Plain(c.UserContext(), id)
}

// renameTag handles POST /admin/tags/:id.
func (a *panel) renameTag(c *fiber.Ctx) error {
	tag, err := a.tagOf(c)
	if err != nil {
		return err
	}
	in := schemas.TagIn{Name: formText(c, "name")}
	f := newForm(tagFormID(tag.ID), map[string]string{"name": in.Name})
	if err := a.validateForm(&in, nil); err != nil {
		return a.failOnStorePage(c, tag.StoreID, f, err)
	}
	renamed, err := a.data.Tags.Rename(c.UserContext(), tag.ID, in.Name)
	if err != nil {
		return a.failOnStorePage(c, tag.StoreID, f, err)
	}
	return a.redirectWith(c, storePath(tag.StoreID)+"#tags", "Tag “"+tag.Name+"” renamed to “"+renamed.Name+"”.")
}

// deleteTag handles POST /admin/tags/:id/delete. A tag items still carry
// is refused with the reason, shown next to that tag.
func (a *panel) deleteTag(c *fiber.Ctx) error {
	tag, err := a.tagOf(c)
	if err != nil {
		return err
	}
	if err := a.data.Tags.Delete(c.UserContext(), tag.ID, nil); err != nil {
		f := newForm(tagFormID(tag.ID), map[string]string{"name": tag.Name})
		return a.failOnStorePage(c, tag.StoreID, f, err)
	}
	return a.redirectWith(c, storePath(tag.StoreID)+"#tags", "Tag “"+tag.Name+"” deleted.")
}
