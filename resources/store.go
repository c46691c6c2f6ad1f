package resources

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/models"
	"stores-api/schemas"
)

// registerStoreRoutes is the store blueprint.
func (s *Server) registerStoreRoutes(r fiber.Router) {
	r.Get("/stores", s.requireAccess, s.listStores)
	r.Post("/stores", s.requireAccess, s.createStore)
	r.Get("/stores/:id", s.requireAccess, s.getStore)
	r.Delete("/stores/:id", s.requireAccess, requireAdmin, s.deleteStore)
}

// listStores handles GET /stores: every store with its items and tags, in
// three queries whatever the number of stores.
func (s *Server) listStores(c *fiber.Ctx) error {
	var stores []models.Store
	err := s.DB.Preload("Items", byID).Preload("Tags", byID).Order("id").Find(&stores).Error
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
	store := models.Store{Name: in.Name}
	if err := s.DB.Create(&store).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return conflict("A store with that name already exists.")
		}
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(schemas.NewStore(store))
}

// getStore handles GET /stores/:id.
func (s *Server) getStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	var store models.Store
	err = s.DB.Preload("Items", byID).Preload("Tags", byID).Take(&store, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errStoreNotFound
	}
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewStore(store))
}

// deleteStore handles DELETE /stores/:id. One DELETE statement is one
// transaction: the foreign keys cascade to the store's items, its tags and
// their items_tags rows, so all of it goes or none does.
func (s *Server) deleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	res := s.DB.Delete(&models.Store{}, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errStoreNotFound
	}
	return c.JSON(schemas.Message{Message: "Store deleted."})
}
