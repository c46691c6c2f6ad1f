package resources

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// registerStoreRoutes is the store blueprint.
func (s *server) registerStoreRoutes(r fiber.Router) {
	g := guardedRoutes{bind: s.bind}
	r.Get("/stores", s.requireAccess, s.listStores)
	r.Post("/stores", s.idempotent(byUser), s.guarded(anyToken, g.createStore))
	r.Get("/stores/:id", s.guarded(anyToken, g.getStore))
	r.Delete("/stores/:id", s.requireAccess, requireAdmin, s.deleteStore)
}

// listStores handles GET /stores?page=&per_page=: one page of stores, by
// id, with their items and tags.
func (s *server) listStores(c *fiber.Ctx) error {
	params := queryParams(c)
	page, err := schemas.ParsePageQuery(params)
	if err != nil {
		return queryError(err)
	}
	stores, total, err := s.data.Stores.List(c.UserContext(), page)
	if err != nil {
		return err
	}
	setPageHeaders(c, "/stores", params, page, total)
	return c.JSON(schemas.StoresOut(stores))
}

// createStore handles POST /stores.
func (g guardedRoutes) createStore(c *fiber.Ctx, data *models.Guarded) error {
	var in schemas.StoreIn
	if err := g.bind(c, &in); err != nil {
		return err
	}
	store, err := data.CreateStore(c.UserContext(), in.Name)
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/stores/%d", store.ID))
	return c.Status(fiber.StatusCreated).JSON(schemas.NewStoreOut(store))
}

// getStore handles GET /stores/:id.
func (g guardedRoutes) getStore(c *fiber.Ctx, data *models.Guarded) error {
	id, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	store, err := data.Store(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewStoreOut(store))
}

// deleteStore handles DELETE /stores/:id; its items, tags and their links
// go with it.
func (s *server) deleteStore(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	check, err := ifMatch(s, c, schemas.NewStoreOut)
	if err != nil {
		return err
	}
	if err := s.data.Stores.Delete(c.UserContext(), id, check); err != nil {
		return err
	}
	return c.JSON(schemas.MessageOut{Message: "Store deleted."})
}
