package resources

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// registerItemRoutes is the item blueprint.
func (s *server) registerItemRoutes(r fiber.Router) {
	g := guardedRoutes{bind: s.bind}
	r.Get("/items", s.requireAccess, s.listItems)
	r.Post("/items", s.idempotent(byUser), s.guarded(freshToken, g.createItem))
	r.Get("/items/:id", s.guarded(anyToken, g.getItem))
	r.Put("/items/:id", s.requireAccess, s.updateItem)
	r.Delete("/items/:id", s.requireAccess, requireAdmin, s.deleteItem)
}

var errEmptyUpdate = &Error{
	Status:  fiber.StatusUnprocessableEntity,
	Message: "Validation failed.",
	Fields:  map[string]schemas.FieldErrors{"json": {"_schema": {"Provide at least one of name, price, description, store_id."}}},
}

// listItems handles GET /items: the search. Filters (name, store_id, tag,
// min_price, max_price) combine with AND; sort and page/per_page order
// and cut the matches. Items come with their store and tags.
func (s *server) listItems(c *fiber.Ctx) error {
	params := queryParams(c)
	q, err := schemas.ParseItemQuery(params)
	if err != nil {
		return queryError(err)
	}
	items, total, err := s.data.Items.List(c.UserContext(), q.Filter, q.Page)
	if err != nil {
		return err
	}
	setPageHeaders(c, "/items", params, q.Page, total)
	return c.JSON(schemas.ItemsOut(items))
}

// createItem handles POST /items.
func (g guardedRoutes) createItem(c *fiber.Ctx, data *models.Guarded) error {
	var in schemas.ItemIn
	if err := g.bind(c, &in); err != nil {
		return err
	}
	item, err := data.CreateItem(c.UserContext(), in.Item())
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/items/%d", item.ID))
	return c.Status(fiber.StatusCreated).JSON(schemas.NewItemOut(item))
}

// getItem handles GET /items/:id.
func (g guardedRoutes) getItem(c *fiber.Ctx, data *models.Guarded) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	item, err := data.Item(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewItemOut(item))
}

// updateItem handles PUT /items/:id: a partial update of an existing item
// (PUT never creates), conditional on If-Match. It answers with the new
// ETag.
func (s *server) updateItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
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
	check, err := ifMatch(s, c, schemas.NewItemOut)
	if err != nil {
		return err
	}
	item, err := s.data.Items.Update(c.UserContext(), id, in.Changes(), check)
	if err != nil {
		return err
	}
	return sendWithETag(c, fiber.StatusOK, schemas.NewItemOut(item))
}

// deleteItem handles DELETE /items/:id; its links to tags go with it.
func (s *server) deleteItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	check, err := ifMatch(s, c, schemas.NewItemOut)
	if err != nil {
		return err
	}
	if err := s.data.Items.Delete(c.UserContext(), id, check); err != nil {
		return err
	}
	return c.JSON(schemas.MessageOut{Message: "Item deleted."})
}
