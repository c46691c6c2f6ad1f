package resources

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
	"stores-api/schemas"
)

// registerTagRoutes is the tag blueprint.
func (s *server) registerTagRoutes(r fiber.Router) {
	r.Get("/stores/:id/tags", s.requireAccess, s.listStoreTags)
	r.Post("/stores/:id/tags", s.requireAccess, s.idempotent(byUser), s.createStoreTag)
	r.Post("/items/:id/tags", s.requireAccess, s.linkTags)
	r.Delete("/items/:item_id/tags/:tag_id", s.requireAccess, s.unlinkTag)
	r.Get("/tags/:id", s.requireAccess, s.getTag)
	r.Delete("/tags/:id", s.requireAccess, requireAdmin, s.deleteTag)
}

// listStoreTags handles GET /stores/:id/tags?page=&per_page=: one page of
// the store's tags, by id, with their store and items.
func (s *server) listStoreTags(c *fiber.Ctx) error {
	storeID, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	params := queryParams(c)
	page, err := schemas.ParsePageQuery(params)
	if err != nil {
		return queryError(err)
	}
	tags, total, err := s.data.Tags.OfStore(c.UserContext(), storeID, page)
	if err != nil {
		return err
	}
	setPageHeaders(c, fmt.Sprintf("/stores/%d/tags", storeID), params, page, total)
	return c.JSON(schemas.TagsOut(tags))
}

// createStoreTag handles POST /stores/:id/tags.
func (s *server) createStoreTag(c *fiber.Ctx) error {
	storeID, err := pathID(c, "id", models.ErrStoreNotFound)
	if err != nil {
		return err
	}
	var in schemas.TagIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	tag, err := s.data.Tags.Create(c.UserContext(), storeID, in.Name)
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/tags/%d", tag.ID))
	return c.Status(fiber.StatusCreated).JSON(schemas.NewTagOut(tag))
}

// linkTags handles POST /items/:id/tags: links every listed tag of the
// item's own store, or none of them.
func (s *server) linkTags(c *fiber.Ctx) error {
	itemID, err := pathID(c, "id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	var in schemas.LinkTagsIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	check, err := ifMatch(s, c, schemas.NewItemOut)
	if err != nil {
		return err
	}
	item, err := s.data.Items.LinkTags(c.UserContext(), itemID, in.TagIDs, check)
	if err != nil {
		return err
	}
	return sendWithETag(c, fiber.StatusOK, schemas.NewItemOut(item))
}

// unlinkTag handles DELETE /items/:item_id/tags/:tag_id.
func (s *server) unlinkTag(c *fiber.Ctx) error {
	itemID, err := pathID(c, "item_id", models.ErrItemNotFound)
	if err != nil {
		return err
	}
	tagID, err := pathID(c, "tag_id", models.ErrTagNotFound)
	if err != nil {
		return err
	}
	check, err := ifMatch(s, c, schemas.NewItemOut)
	if err != nil {
		return err
	}
	item, tag, err := s.data.Items.Unlink(c.UserContext(), itemID, tagID, check)
	if err != nil {
		return err
	}
	return c.JSON(schemas.TagAndItemOut{
		Message: "Item removed from tag",
		Item:    schemas.NewItemOut(item),
		Tag:     schemas.NewTagOut(tag),
	})
}

// getTag handles GET /tags/:id.
func (s *server) getTag(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrTagNotFound)
	if err != nil {
		return err
	}
	tag, err := s.data.Tags.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewTagOut(tag))
}

// deleteTag handles DELETE /tags/:id: refused while items carry the tag.
func (s *server) deleteTag(c *fiber.Ctx) error {
	id, err := pathID(c, "id", models.ErrTagNotFound)
	if err != nil {
		return err
	}
	check, err := ifMatch(s, c, schemas.NewTagOut)
	if err != nil {
		return err
	}
	if err := s.data.Tags.Delete(c.UserContext(), id, check); err != nil {
		return err
	}
	return c.JSON(schemas.MessageOut{Message: "Tag deleted."})
}
