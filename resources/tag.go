package resources

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"stores-api/models"
	"stores-api/schemas"
)

// registerTagRoutes is the tag blueprint.
func (s *Server) registerTagRoutes(r fiber.Router) {
	r.Get("/stores/:id/tags", s.requireAccess, s.listStoreTags)
	r.Post("/stores/:id/tags", s.requireAccess, s.createStoreTag)
	r.Post("/items/:id/tags", s.requireAccess, s.linkTags)
	r.Delete("/items/:item_id/tags/:tag_id", s.requireAccess, s.unlinkTag)
	r.Get("/tags/:id", s.requireAccess, s.getTag)
	r.Delete("/tags/:id", s.requireAccess, requireAdmin, s.deleteTag)
}

var (
	errTagNameTaken = conflict("A tag with that name already exists in this store.")
	errTagInUse     = conflict("Could not delete tag. Make sure tag is not associated with any items, then try again.")
	errNotLinked    = notFound("The item is not linked to that tag.")
)

// withStoreAndItems preloads what a Tag response shows.
func withStoreAndItems(db *gorm.DB) *gorm.DB {
	return db.Preload("Store").Preload("Items", byID)
}

// loadTag reads one tag with its store and items, or errTagNotFound.
func loadTag(db *gorm.DB, id int64) (models.Tag, error) {
	var tag models.Tag
	err := withStoreAndItems(db).Take(&tag, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return tag, errTagNotFound
	}
	return tag, err
}

// storeExists answers 404 for a store id that names nothing.
func storeExists(db *gorm.DB, id int64) error {
	var n int64
	if err := db.Model(&models.Store{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errStoreNotFound
	}
	return nil
}

// listStoreTags handles GET /stores/:id/tags?page=&per_page=: one page of
// the store's tags, by id, with their store and items.
func (s *Server) listStoreTags(c *fiber.Ctx) error {
	storeID, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	params := queryParams(c)
	page, err := schemas.ParsePageQuery(params)
	if err != nil {
		return queryError(err)
	}
	if err := storeExists(s.DB.WithContext(c.UserContext()), storeID); err != nil {
		return err
	}
	var tags []models.Tag
	err = s.findPage(c, listQuery{
		Path: fmt.Sprintf("/stores/%d/tags", storeID), Params: params, Page: page, Model: &models.Tag{},
		Filter: func(db *gorm.DB) *gorm.DB { return db.Where("tags.store_id = ?", storeID) },
		Read:   func(page *gorm.DB) error { return withStoreAndItems(page).Order("tags.id").Find(&tags).Error },
	})
	if err != nil {
		return err
	}
	return c.JSON(schemas.Tags(tags))
}

// createStoreTag handles POST /stores/:id/tags. The foreign key, not a
// prior lookup, decides whether the store exists, so a store deleted
// meanwhile cannot gain a tag.
func (s *Server) createStoreTag(c *fiber.Ctx) error {
	storeID, err := pathID(c, "id", errStoreNotFound)
	if err != nil {
		return err
	}
	var in schemas.TagIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	tag, err := s.createTagRow(s.DB.WithContext(c.UserContext()), storeID, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(schemas.NewTag(tag))
}

// createTagRow inserts a validated tag into a store and reads it back;
// POST /stores/:id/tags and the admin panel share it.
func (s *Server) createTagRow(db *gorm.DB, storeID int64, in schemas.TagIn) (models.Tag, error) {
	tag := models.Tag{Name: in.Name, StoreID: storeID}
	if err := db.Omit("Store", "Items").Create(&tag).Error; err != nil {
		switch {
		case errors.Is(err, gorm.ErrDuplicatedKey):
			return tag, errTagNameTaken
		case errors.Is(err, gorm.ErrForeignKeyViolated):
			return tag, errStoreNotFound
		}
		return tag, err
	}
	return loadTag(db, tag.ID)
}

// renameTagRow gives a tag a new, validated name, unique within its store
// by the same index that guards creation.
func (s *Server) renameTagRow(db *gorm.DB, id int64, in schemas.TagIn) (models.Tag, error) {
	res := db.Model(&models.Tag{}).Where("id = ?", id).Update("name", in.Name)
	switch {
	case errors.Is(res.Error, gorm.ErrDuplicatedKey):
		return models.Tag{}, errTagNameTaken
	case res.Error != nil:
		return models.Tag{}, res.Error
	case res.RowsAffected == 0:
		return models.Tag{}, errTagNotFound
	}
	return loadTag(db, id)
}

// linkTags handles POST /items/:id/tags: links every listed tag of the
// item's own store, or none of them.
func (s *Server) linkTags(c *fiber.Ctx) error {
	itemID, err := pathID(c, "id", errItemNotFound)
	if err != nil {
		return err
	}
	var in schemas.LinkTagsIn
	if err := s.bind(c, &in); err != nil {
		return err
	}
	if err := s.linkItemTags(s.DB.WithContext(c.UserContext()), itemID, in.TagIDs); err != nil {
		return err
	}
	item, err := loadItem(s.DB.WithContext(c.UserContext()), itemID, noGuard)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewItem(item))
}

// linkItemTags links every listed tag of the item's own store, or none of
// them; POST /items/:id/tags and the admin panel share it. The item row
// stays locked until the links are in, so the item cannot move store
// underneath them.
func (s *Server) linkItemTags(db *gorm.DB, itemID int64, ids []int64) error {
	tagIDs := uniqueIDs(ids)
	return db.Transaction(func(tx *gorm.DB) error {
		var item models.Item
		if err := s.forUpdate(tx).Take(&item, itemID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errItemNotFound
			}
			return err
		}
		// The share lock keeps the tags from being deleted before the links
		// are in (PostgreSQL); a tag deleted first is simply not found.
		var found []int64
		err := s.forShare(tx).Model(&models.Tag{}).Where("id IN ? AND store_id = ?", tagIDs, item.StoreID).Pluck("id", &found).Error
		if err != nil {
			return err
		}
		if missing := without(tagIDs, found); len(missing) > 0 {
			return invalidField("tag_ids", "No tag of the item's store has id "+joinIDs(missing)+".")
		}
		links := make([]models.ItemTag, len(tagIDs))
		for i, id := range tagIDs {
			links[i] = models.ItemTag{ItemID: itemID, TagID: id}
		}
		// Linking twice is not an error: the primary key keeps one row.
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&links).Error
	})
}

// unlinkTag handles DELETE /items/:item_id/tags/:tag_id.
func (s *Server) unlinkTag(c *fiber.Ctx) error {
	itemID, err := pathID(c, "item_id", errItemNotFound)
	if err != nil {
		return err
	}
	tagID, err := pathID(c, "tag_id", errTagNotFound)
	if err != nil {
		return err
	}
	item, tag, err := s.unlinkItemTag(s.DB.WithContext(c.UserContext()), itemID, tagID)
	if err != nil {
		return err
	}
	return c.JSON(schemas.TagAndItem{
		Message: "Item removed from tag",
		Item:    schemas.NewItem(item),
		Tag:     schemas.NewTag(tag),
	})
}

// unlinkItemTag removes one link and reads both ends back, as they are
// after it; DELETE /items/:item_id/tags/:tag_id and the admin panel share
// it. A missing item or tag is reported before a missing link.
func (s *Server) unlinkItemTag(db *gorm.DB, itemID, tagID int64) (item models.Item, tag models.Tag, err error) {
	err = db.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("item_id = ? AND tag_id = ?", itemID, tagID).Delete(&models.ItemTag{})
		if res.Error != nil {
			return res.Error
		}
		if item, err = loadItem(tx, itemID, noGuard); err != nil {
			return err
		}
		if tag, err = loadTag(tx, tagID); err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return errNotLinked
		}
		return nil
	})
	return item, tag, err
}

// getTag handles GET /tags/:id.
func (s *Server) getTag(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errTagNotFound)
	if err != nil {
		return err
	}
	tag, err := loadTag(s.DB.WithContext(c.UserContext()), id)
	if err != nil {
		return err
	}
	return c.JSON(schemas.NewTag(tag))
}

// deleteTag handles DELETE /tags/:id. The "no items" check and the delete
// are one statement, so a tag cannot gain an item between them.
func (s *Server) deleteTag(c *fiber.Ctx) error {
	id, err := pathID(c, "id", errTagNotFound)
	if err != nil {
		return err
	}
	if err := s.deleteTagRow(s.DB.WithContext(c.UserContext()), id); err != nil {
		return err
	}
	return c.JSON(schemas.Message{Message: "Tag deleted."})
}

// deleteTagRow deletes a tag that no item carries (errTagInUse otherwise).
// The tag row is locked before the links are counted: linkItemTags holds a
// share lock on the tags it links, so a link and a delete of one tag run
// one after the other, and a tag never loses a link it just gained.
func (s *Server) deleteTagRow(db *gorm.DB, id int64) error {
	return db.Transaction(func(tx *gorm.DB) error {
		var tag models.Tag
		if err := s.forUpdate(tx).Take(&tag, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errTagNotFound
			}
			return err
		}
		var links int64
		if err := tx.Model(&models.ItemTag{}).Where("tag_id = ?", id).Count(&links).Error; err != nil {
			return err
		}
		if links > 0 {
			return errTagInUse
		}
		return tx.Delete(&models.Tag{}, id).Error
	})
}

// uniqueIDs drops repeated ids, keeping the first occurrence's order.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// without returns the ids of want that are not in have.
func without(want, have []int64) []int64 {
	var out []int64
	for _, id := range want {
		if !slices.Contains(have, id) {
			out = append(out, id)
		}
	}
	return out
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ", ")
}
