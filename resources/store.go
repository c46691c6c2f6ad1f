package resources

import (
	"database/sql"
	"errors"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/models"
	"stores-api/schemas"
)

// registerStoreRoutes is the store blueprint.
func (s *Server) registerStoreRoutes(r fiber.Router) {
	r.Get("/stores", s.requireAccess, s.listStores)
	r.Post("/stores", s.requireAccessInline, s.createStore)
	r.Get("/stores/:id", s.requireAccessInline, s.getStore)
	r.Delete("/stores/:id", s.requireAccess, requireAdmin, s.deleteStore)
}

// listStores handles GET /stores?page=&per_page=: one page of stores, by
// id, with their items and tags, in four queries whatever the page size.
func (s *Server) listStores(c *fiber.Ctx) error {
	params := queryParams(c)
	page, err := schemas.ParsePageQuery(params)
	if err != nil {
		return queryError(err)
	}
	var stores []models.Store
	err = s.findPage(c, listQuery{
		Path: "/stores", Params: params, Page: page, Model: &models.Store{}, Filter: noFilter,
		Read: func(page *gorm.DB) error {
			return page.Preload("Items", byID).Preload("Tags", byID).Order("id").Find(&stores).Error
		},
	})
	if err != nil {
		return err
	}
	return c.JSON(schemas.Stores(stores))
}

// createStore handles POST /stores.
func (s *Server) createStore(c *fiber.Ctx) error {
	var in schemas.StoreIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	store, err := s.createStoreRow(s.DB.WithContext(c.UserContext()), in, guard(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(schemas.NewStore(store))
}

var errStoreNameTaken = conflict("A store with that name already exists.")

// createStoreRow inserts a validated store if the guard holds; POST
// /stores and the admin panel share it.
func (s *Server) createStoreRow(db *gorm.DB, in schemas.StoreIn, g tokenGuard) (models.Store, error) {
	query, args := g.where("INSERT INTO stores (name) SELECT ?", in.Name)
	id, err := insertReturningID(db, query, args...)
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return models.Store{}, errStoreNameTaken
	case err != nil:
		return models.Store{}, err
	case id == 0:
		return models.Store{}, errGuardFailed
	}
	return models.Store{ID: id, Name: in.Name}, nil
}

// renameStoreRow gives a store a new, validated name. The unique index on
// lower(name) decides conflicts, so two renames cannot race past a check.
func (s *Server) renameStoreRow(db *gorm.DB, id int64, in schemas.StoreIn) (models.Store, error) {
	res := db.Model(&models.Store{}).Where("id = ?", id).Update("name", in.Name)
	switch {
	case errors.Is(res.Error, gorm.ErrDuplicatedKey):
		return models.Store{}, errStoreNameTaken
	case res.Error != nil:
		return models.Store{}, res.Error
	case res.RowsAffected == 0:
		return models.Store{}, errStoreNotFound
	}
	return models.Store{ID: id, Name: in.Name}, nil
}

// getStore handles GET /stores/:id.
func (s *Server) getStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	store, err := loadStore(s.DB.WithContext(c.UserContext()), id, guard(c))
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewStore(store))
}

// storeWithItems reads a store and its items in one statement: one row per
// item, or a single row with NULL item columns. A tokenGuard can follow
// its WHERE clause, and storeItemsOrder ends it.
const (
	storeWithItems = `
SELECT s.id, s.name, i.id, i.name, i.price_cents, i.description
FROM stores s
LEFT JOIN items i ON i.store_id = s.id
WHERE s.id = ?`
	storeItemsOrder = " ORDER BY i.id"
)

// loadStore reads one store with its items and tags in two statements
// whatever their number, scanning rows directly: a store page is read
// often and can hold many items. The guard rides on the first statement.
// errStoreNotFound if there is no such store (or, with a guard, the token
// failed).
func loadStore(db *gorm.DB, id int64, g tokenGuard) (models.Store, error) {
	var store models.Store
	query, args := g.and(storeWithItems, id)
	rows, err := db.Raw(query+storeItemsOrder, args...).Rows()
	if err != nil {
		return store, err
	}
	defer rows.Close()
	var item struct { // the item columns of a row, NULL beside a store without items
		ID          sql.NullInt64
		Name        sql.NullString
		PriceCents  sql.NullInt64
		Description *string
	}
	for rows.Next() {
		if err := rows.Scan(&store.ID, &store.Name, &item.ID, &item.Name, &item.PriceCents, &item.Description); err != nil {
			return store, err
		}
		if item.ID.Valid {
			store.Items = append(store.Items, models.Item{ID: item.ID.Int64, Name: item.Name.String,
				PriceCents: item.PriceCents.Int64, Description: item.Description, StoreID: store.ID})
		}
	}
	if err := rows.Err(); err != nil {
		return store, err
	}
	if store.ID == 0 {
		return store, errStoreNotFound
	}
	store.Tags, err = storeTags(db, id)
	return store, err
}

// storeTags reads the tags of a store, ordered by id.
func storeTags(db *gorm.DB, storeID int64) ([]models.Tag, error) {
	rows, err := db.Raw("SELECT id, name FROM tags WHERE store_id = ? ORDER BY id", storeID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tags []models.Tag
	for rows.Next() {
		tag := models.Tag{StoreID: storeID}
		if err := rows.Scan(&tag.ID, &tag.Name); err != nil {
			return nil, err
		}
		tags = append(tags, tag)
	}
	return tags, rows.Err()
}

// deleteStore handles DELETE /stores/:id. One DELETE statement is one
// transaction: the foreign keys cascade to the store's items, its tags and
// their items_tags rows, so all of it goes or none does.
func (s *Server) deleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	if err := s.deleteStoreRow(s.DB.WithContext(c.UserContext()), id); err != nil {
		return err
	}
	return c.JSON(schemas.Message{Message: "Store deleted."})
}

// deleteStoreRow deletes a store; its items, tags and their links cascade.
func (s *Server) deleteStoreRow(db *gorm.DB, id int64) error {
	res := db.Delete(&models.Store{}, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errStoreNotFound
	}
	return nil
}
