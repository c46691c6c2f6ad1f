package resources

import (
	"cmp"
	"database/sql"
	"errors"
	"slices"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/models"
	"stores-api/schemas"
)

// registerItemRoutes is the item blueprint.
func (s *Server) registerItemRoutes(r fiber.Router) {
	r.Get("/items", s.requireAccess, s.listItems)
	r.Post("/items", s.requireAccessInline, requireFresh, s.createItem)
	r.Get("/items/:id", s.requireAccessInline, s.getItem)
	r.Put("/items/:id", s.requireAccess, s.updateItem)
	r.Delete("/items/:id", s.requireAccess, requireAdmin, s.deleteItem)
}

var (
	errItemNameTaken = conflict("An item with that name already exists in this store.")
	errItemHasTags   = conflict("An item linked to tags cannot move to another store. Remove its tags first.")
	errNoSuchStore   = invalidField("store_id", "Store not found.")
	errEmptyUpdate   = &Error{
		Status:  fiber.StatusUnprocessableEntity,
		Message: "Validation failed.",
		Fields:  map[string]schemas.FieldErrors{"json": {"_schema": {"Provide at least one of name, price, description, store_id."}}},
	}
)

// readItems reads a page of items with their stores and tags in two
// statements whatever the page size, scanning rows directly: GORM's
// Joins and Preload would fill the same structs through reflection, at
// several times the cost for a page of a hundred. page is narrowed, cut
// and ordered; conditions on it name the table ("items.id"), because
// stores has columns of the same names.
func readItems(page *gorm.DB) ([]models.Item, error) {
	rows, err := page.Select("items.id, items.name, items.price_cents, items.description, stores.id, stores.name").
		Joins("JOIN stores ON stores.id = items.store_id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []models.Item
	for rows.Next() {
		var item models.Item
		err := rows.Scan(&item.ID, &item.Name, &item.PriceCents, &item.Description, &item.Store.ID, &item.Store.Name)
		if err != nil {
			return nil, err
		}
		item.StoreID = item.Store.ID
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return items, addTags(page, items)
}

// itemsTags reads the tags of some items, ordered by id.
const itemsTags = `
SELECT it.item_id, t.id, t.name, t.store_id
FROM items_tags it
JOIN tags t ON t.id = it.tag_id
WHERE it.item_id IN ?
ORDER BY t.id`

// addTags fills in the tags of items in one statement.
func addTags(db *gorm.DB, items []models.Item) error {
	if len(items) == 0 {
		return nil
	}
	byID := make(map[int64]*models.Item, len(items))
	ids := make([]int64, len(items))
	for i := range items {
		byID[items[i].ID] = &items[i]
		ids[i] = items[i].ID
	}
	rows, err := db.Session(&gorm.Session{NewDB: true}).Raw(itemsTags, ids).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var itemID int64
		var tag models.Tag
		if err := rows.Scan(&itemID, &tag.ID, &tag.Name, &tag.StoreID); err != nil {
			return err
		}
		item := byID[itemID]
		item.Tags = append(item.Tags, tag)
	}
	return rows.Err()
}

// itemWithStoreAndTags reads an item, its store and its tags in one
// statement: one row per tag, or a single row with NULL tag columns. One
// round trip instead of four (item, store, join table, tags) is what makes
// GET /items/{id} fast; it runs on every single-item read. It ends in its
// WHERE clause, so a tokenGuard can follow; the tags are put in order
// afterwards, which costs the database less than an ORDER BY.
const itemWithStoreAndTags = `
SELECT i.id, i.name, i.price_cents, i.description, s.id, s.name, t.id, t.name
FROM items i
JOIN stores s ON s.id = i.store_id
LEFT JOIN items_tags it ON it.item_id = i.id
LEFT JOIN tags t ON t.id = it.tag_id
WHERE i.id = ?`

// loadItem reads one item with its store and tags, or errItemNotFound
// (which, with a guard, may also mean that the token failed).
func loadItem(db *gorm.DB, id int64, g tokenGuard) (models.Item, error) {
	query, args := g.and(itemWithStoreAndTags, id)
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return models.Item{}, err
	}
	defer rows.Close()
	var item models.Item
	for rows.Next() {
		var tagID sql.NullInt64
		var tagName sql.NullString
		err := rows.Scan(&item.ID, &item.Name, &item.PriceCents, &item.Description,
			&item.Store.ID, &item.Store.Name, &tagID, &tagName)
		if err != nil {
			return models.Item{}, err
		}
		if tagID.Valid {
			item.Tags = append(item.Tags, models.Tag{ID: tagID.Int64, Name: tagName.String, StoreID: item.Store.ID})
		}
	}
	if err := rows.Err(); err != nil {
		return models.Item{}, err
	}
	if item.ID == 0 {
		return item, errItemNotFound
	}
	item.StoreID = item.Store.ID
	slices.SortFunc(item.Tags, byTagID)
	return item, nil
}

// byTagID orders tags by id, as every list in a response is ordered.
func byTagID(a, b models.Tag) int { return cmp.Compare(a.ID, b.ID) }

// listItems handles GET /items: the search. Filters (name, store_id, tag,
// min_price, max_price) combine with AND; sort and page/per_page order
// and cut the matches. Items come with their store and tags, in a fixed
// number of queries whatever the page size.
func (s *Server) listItems(c *fiber.Ctx) error {
	params := queryParams(c)
	q, err := schemas.ParseItemQuery(params)
	if err != nil {
		return queryError(err)
	}
	var items []models.Item
	err = s.findPage(c, listQuery{
		Path: "/items", Params: params, Page: q.Page, Model: &models.Item{}, Filter: itemFilter(q),
		Read: func(page *gorm.DB) (err error) {
			items, err = readItems(page.Order(s.itemOrder(q.Sort)))
			return err
		},
	})
	if err != nil {
		return err
	}
	return c.JSON(schemas.Items(items))
}

// createItem handles POST /items.
func (s *Server) createItem(c *fiber.Ctx) error {
	var in schemas.ItemIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	item, err := s.createItemRow(s.DB.WithContext(c.UserContext()), in, guard(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(schemas.NewItem(item))
}

// insertItem adds an item. Its values are cast because in INSERT … SELECT
// PostgreSQL would otherwise take an untyped parameter for text.
const insertItem = "INSERT INTO items (name, price_cents, description, store_id) " +
	"SELECT ?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT)"

// createItemRow inserts a validated item, if the guard holds, and reads it
// back with its store and tags; POST /items and the admin panel share it.
func (s *Server) createItemRow(db *gorm.DB, in schemas.ItemIn, g tokenGuard) (models.Item, error) {
	query, args := g.where(insertItem, in.Name, int64(*in.Price), in.Description.Value, in.StoreID)
	id, err := insertReturningID(db, query, args...)
	switch {
	case err != nil:
		return models.Item{}, itemWriteError(err)
	case id == 0:
		return models.Item{}, errGuardFailed
	}
	return loadItem(db, id, noGuard)
}

// itemWriteError explains the constraint an insert or update broke.
func itemWriteError(err error) error {
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return errItemNameTaken
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return errNoSuchStore
	}
	return err
}

// getItem handles GET /items/:id.
func (s *Server) getItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	item, err := loadItem(s.DB.WithContext(c.UserContext()), id, guard(c))
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewItem(item))
}

// updateItem handles PUT /items/:id: a partial update of an existing item
// (PUT never creates). The item row is locked for the transaction, so a
// concurrent tag link cannot slip in while the item moves store.
func (s *Server) updateItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	var in schemas.ItemUpdate
	if err := s.bind(c, &in); err != nil {
		return err
	}
	if in.Empty() {
		return errEmptyUpdate
	}
	item, err := s.updateItemRow(s.DB.WithContext(c.UserContext()), id, in)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewItem(item))
}

// updateItemRow applies a validated, non-empty partial update and reads the
// item back; PUT /items/:id and the admin panel share it.
func (s *Server) updateItemRow(db *gorm.DB, id int64, in schemas.ItemUpdate) (models.Item, error) {
	err := db.Transaction(func(tx *gorm.DB) error {
		var item models.Item
		if err := s.forUpdate(tx).Take(&item, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errItemNotFound
			}
			return err
		}
		if in.StoreID != nil && *in.StoreID != item.StoreID {
			var links int64
			if err := tx.Model(&models.ItemTag{}).Where("item_id = ?", id).Count(&links).Error; err != nil {
				return err
			}
			if links > 0 {
				return errItemHasTags
			}
		}
		return itemWriteError(tx.Model(&item).Updates(changes(in)).Error)
	})
	if err != nil {
		return models.Item{}, err
	}
	return loadItem(db, id, noGuard)
}

// changes lists the columns a partial update sets. A map, not a struct,
// so that zero values (price 0, description null) are written too.
func changes(in schemas.ItemUpdate) map[string]any {
	set := map[string]any{}
	if in.Name != nil {
		set["name"] = *in.Name
	}
	if in.Price != nil {
		set["price_cents"] = int64(*in.Price)
	}
	if in.StoreID != nil {
		set["store_id"] = *in.StoreID
	}
	if in.Description.Set {
		set["description"] = in.Description.Value
	}
	return set
}

// deleteItem handles DELETE /items/:id; its items_tags rows cascade.
func (s *Server) deleteItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	if err := s.deleteItemRow(s.DB.WithContext(c.UserContext()), id); err != nil {
		return err
	}
	return c.JSON(schemas.Message{Message: "Item deleted."})
}

// deleteItemRow deletes an item; its items_tags rows cascade.
func (s *Server) deleteItemRow(db *gorm.DB, id int64) error {
	res := db.Delete(&models.Item{}, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errItemNotFound
	}
	return nil
}
