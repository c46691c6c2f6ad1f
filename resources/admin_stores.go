package resources

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/models"
	"stores-api/schemas"
)

// storesPerPage is the length of a page of the store list.
const storesPerPage = 50

// dashboardView shows how much there is of everything.
type dashboardView struct {
	adminPage
	Stores, Items, Tags, Users int64
}

// dashboard handles GET /admin.
func (a *adminPanel) dashboard(c *fiber.Ctx) error {
	v := &dashboardView{adminPage: adminPage{Title: "Dashboard", Nav: "dashboard"}}
	db := a.db(c)
	for _, count := range []struct {
		model any
		n     *int64
	}{{&models.Store{}, &v.Stores}, {&models.Item{}, &v.Items}, {&models.Tag{}, &v.Tags}, {&models.User{}, &v.Users}} {
		if err := db.Model(count.model).Count(count.n).Error; err != nil {
			return err
		}
	}
	return a.render(c, fiber.StatusOK, "dashboard", v)
}

// db is the database bound to the request's context.
func (a *adminPanel) db(c *fiber.Ctx) *gorm.DB { return a.DB.WithContext(c.UserContext()) }

// adminStoreRow is a store in the list, with how much it holds.
type adminStoreRow struct {
	ID        int64
	Name      string
	ItemCount int64
	TagCount  int64
}

// storesView is the store list with the form that creates a store.
type storesView struct {
	adminPage
	Stores []adminStoreRow
	Pager  adminPager
	Create *adminForm
}

// storeCounts selects stores with their item and tag counts.
func storeCounts(db *gorm.DB) *gorm.DB {
	return db.Table("stores").Select("stores.id, stores.name, " +
		"(SELECT count(*) FROM items WHERE items.store_id = stores.id) AS item_count, " +
		"(SELECT count(*) FROM tags WHERE tags.store_id = stores.id) AS tag_count")
}

// storesPage loads a page of the store list.
func (a *adminPanel) storesPage(c *fiber.Ctx, create *adminForm) (*storesView, error) {
	v := &storesView{adminPage: adminPage{Title: "Stores", Nav: "stores"}, Create: create}
	db := a.db(c)
	var total int64
	if err := db.Model(&models.Store{}).Count(&total).Error; err != nil {
		return nil, err
	}
	v.Pager = newPager(queryID(c, "page"), "/admin/stores", nil, total, storesPerPage)
	err := storeCounts(db).Order("lower(stores.name), stores.id").
		Limit(storesPerPage).Offset(int(v.Pager.Offset())).Scan(&v.Stores).Error
	return v, err
}

// listStores handles GET /admin/stores.
func (a *adminPanel) listStores(c *fiber.Ctx) error {
	v, err := a.storesPage(c, newForm("new-store", nil))
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "stores", v)
}

// createStore handles POST /admin/stores.
func (a *adminPanel) createStore(c *fiber.Ctx) error {
	in := schemas.StoreIn{Name: formText(c, "name")}
	f := newForm("new-store", map[string]string{"name": in.Name})
	var (
		store models.Store
		err   error
	)
	if errs := schemas.ValidateStruct(a.Validate, &in, nil); errs != nil {
		err = &schemas.ValidationError{Fields: errs}
	} else {
		store, err = a.createStoreRow(a.db(c), in, noGuard)
	}
	if err != nil {
		status, err := f.fail(err, map[*Error]string{errStoreNameTaken: "name"})
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

func storePath(id int64) string { return "/admin/stores/" + strconv.FormatInt(id, 10) }

// adminTagRow is a tag on its store's page, with its own rename form.
type adminTagRow struct {
	ID        int64
	Name      string
	ItemCount int64
	Form      *adminForm `gorm:"-"`
}

// storeView is a store's page: rename it, manage its tags.
type storeView struct {
	adminPage
	Store     models.Store
	ItemCount int64
	Tags      []adminTagRow
	Rename    *adminForm
	NewTag    *adminForm
}

// storePage loads a store's page. failed, when not nil, is the form whose
// submit failed; it replaces the form of the same ID.
func (a *adminPanel) storePage(c *fiber.Ctx, id int64, failed *adminForm) (*storeView, error) {
	db := a.db(c)
	v := &storeView{adminPage: adminPage{Nav: "stores"}}
	if err := db.Take(&v.Store, id).Error; err != nil {
		return nil, notFoundAs(err, errStoreNotFound)
	}
	v.Title = v.Store.Name
	if err := db.Model(&models.Item{}).Where("store_id = ?", id).Count(&v.ItemCount).Error; err != nil {
		return nil, err
	}
	err := db.Table("tags").Select("tags.id, tags.name, "+
		"(SELECT count(*) FROM items_tags WHERE items_tags.tag_id = tags.id) AS item_count").
		Where("tags.store_id = ?", id).Order("lower(tags.name), tags.id").Scan(&v.Tags).Error
	if err != nil {
		return nil, err
	}
	v.Rename = newForm("store", map[string]string{"name": v.Store.Name})
	v.NewTag = newForm("new-tag", nil)
	for i := range v.Tags {
		t := &v.Tags[i]
		t.Form = newForm("tag-"+strconv.FormatInt(t.ID, 10), map[string]string{"name": t.Name})
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

// showStore handles GET /admin/stores/:id.
func (a *adminPanel) showStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
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
func (a *adminPanel) failOnStorePage(c *fiber.Ctx, storeID int64, f *adminForm, err error, fields map[*Error]string) error {
	status, err := f.fail(err, fields)
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
func (a *adminPanel) renameStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	in := schemas.StoreIn{Name: formText(c, "name")}
	f := newForm("store", map[string]string{"name": in.Name})
	if errs := schemas.ValidateStruct(a.Validate, &in, nil); errs != nil {
		return a.failOnStorePage(c, id, f, &schemas.ValidationError{Fields: errs}, nil)
	}
	store, err := a.renameStoreRow(a.db(c), id, in)
	if err != nil {
		return a.failOnStorePage(c, id, f, err, map[*Error]string{errStoreNameTaken: "name"})
	}
	return a.redirectWith(c, storePath(id), "Store renamed to “"+store.Name+"”.")
}

// storeDeleteView asks to confirm deleting a store and all it holds.
type storeDeleteView struct {
	adminPage
	Store     models.Store
	ItemCount int64
	TagCount  int64
}

// confirmDeleteStore handles GET /admin/stores/:id/delete.
func (a *adminPanel) confirmDeleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	var row adminStoreRow
	res := storeCounts(a.db(c)).Where("stores.id = ?", id).Scan(&row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errStoreNotFound
	}
	return a.render(c, fiber.StatusOK, "store_delete", &storeDeleteView{
		adminPage: adminPage{Title: "Delete " + row.Name, Nav: "stores"},
		Store:     models.Store{ID: row.ID, Name: row.Name}, ItemCount: row.ItemCount, TagCount: row.TagCount,
	})
}

// deleteStore handles POST /admin/stores/:id/delete.
func (a *adminPanel) deleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	var store models.Store
	if err := a.db(c).Take(&store, id).Error; err != nil {
		return notFoundAs(err, errStoreNotFound)
	}
	if err := a.deleteStoreRow(a.db(c), id); err != nil {
		return err
	}
	return a.redirectWith(c, "/admin/stores", "Store “"+store.Name+"” deleted, with its items and tags.")
}

// createTag handles POST /admin/stores/:id/tags.
func (a *adminPanel) createTag(c *fiber.Ctx) error {
	storeID, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	in := schemas.TagIn{Name: formText(c, "name")}
	f := newForm("new-tag", map[string]string{"name": in.Name})
	if errs := schemas.ValidateStruct(a.Validate, &in, nil); errs != nil {
		return a.failOnStorePage(c, storeID, f, &schemas.ValidationError{Fields: errs}, nil)
	}
	tag, err := a.createTagRow(a.db(c), storeID, in)
	if err != nil {
		return a.failOnStorePage(c, storeID, f, err, map[*Error]string{errTagNameTaken: "name"})
	}
	return a.redirectWith(c, storePath(storeID)+"#tags", "Tag “"+tag.Name+"” created.")
}

// tagOf reads the tag a tag action names, for its store.
func (a *adminPanel) tagOf(c *fiber.Ctx) (models.Tag, error) {
	var tag models.Tag
	id, err := pathID(c, "id", errTagNotFound)
	if err != nil {
		return tag, err
	}
	err = a.db(c).Take(&tag, id).Error
	return tag, notFoundAs(err, errTagNotFound)
}

// renameTag handles POST /admin/tags/:id.
func (a *adminPanel) renameTag(c *fiber.Ctx) error {
	tag, err := a.tagOf(c)
	if err != nil {
		return err
	}
	in := schemas.TagIn{Name: formText(c, "name")}
	f := newForm("tag-"+strconv.FormatInt(tag.ID, 10), map[string]string{"name": in.Name})
	if errs := schemas.ValidateStruct(a.Validate, &in, nil); errs != nil {
		return a.failOnStorePage(c, tag.StoreID, f, &schemas.ValidationError{Fields: errs}, nil)
	}
	renamed, err := a.renameTagRow(a.db(c), tag.ID, in)
	if err != nil {
		return a.failOnStorePage(c, tag.StoreID, f, err, map[*Error]string{errTagNameTaken: "name"})
	}
	return a.redirectWith(c, storePath(tag.StoreID)+"#tags", "Tag “"+tag.Name+"” renamed to “"+renamed.Name+"”.")
}

// deleteTag handles POST /admin/tags/:id/delete. A tag items still carry
// is refused with the API's explanation, shown next to that tag.
func (a *adminPanel) deleteTag(c *fiber.Ctx) error {
	tag, err := a.tagOf(c)
	if err != nil {
		return err
	}
	if err := a.deleteTagRow(a.db(c), tag.ID); err != nil {
		f := newForm("tag-"+strconv.FormatInt(tag.ID, 10), map[string]string{"name": tag.Name})
		return a.failOnStorePage(c, tag.StoreID, f, err, nil)
	}
	return a.redirectWith(c, storePath(tag.StoreID)+"#tags", "Tag “"+tag.Name+"” deleted.")
}

// adminPager is one page of a list, with links to its neighbours that keep the
// list's filters.
type adminPager struct {
	Page, Pages, Total int64
	perPage            int64
	Prev, Next         string
}

// Offset is the number of rows before the page.
func (p adminPager) Offset() int64 { return (p.Page - 1) * p.perPage }

// newPager clamps the page asked for (0 when none or garbage) to the pages
// that exist, so any value shows a real page.
func newPager(page int64, path string, params url.Values, total, perPage int64) adminPager {
	p := adminPager{Total: total, perPage: perPage, Pages: max(1, (total+perPage-1)/perPage)}
	p.Page = min(max(1, page), p.Pages)
	link := func(n int64) string {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		if n > 1 {
			q.Set("page", strconv.FormatInt(n, 10))
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	return p
}
