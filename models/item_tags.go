package models

import (
	"context"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The links between an item and the tags of its store: adding some,
// removing one, or setting them all with the item's details.

// LinkTags links every listed tag to an item, or none of them, if check
// holds, and reads the item back. Each must be a tag of the item's store:
// a *TagsOfAnotherStoreError names those that are not. Linking twice is
// not an error.
func (s Items) LinkTags(ctx context.Context, itemID int64, tagIDs []int64, check Check[Item]) (Item, error) {
	db := s.db.WithContext(ctx)
	err := db.Transaction(func(tx *gorm.DB) error {
		item, err := lockItemFor(tx, itemID, check)
		if err != nil {
			return err
		}
		return linkTags(tx, item, uniqueIDs(tagIDs))
	})
	if err != nil {
		return Item{}, err
	}
	return getItem(db, noGuard, itemID)
}

// linkTags links tags to an item whose row the transaction has locked, so
// the item cannot move store underneath the links.
func linkTags(tx *gorm.DB, item Item, tagIDs []int64) error {
	// The share lock keeps the tags from being deleted before the links
	// are in (PostgreSQL); a tag deleted first is simply not found.
	var found []int64
	err := forShare(tx).Model(&Tag{}).Where("id IN ? AND store_id = ?", tagIDs, item.StoreID).Pluck("id", &found).Error
	if err != nil {
		return err
	}
	if missing := without(tagIDs, found); len(missing) > 0 {
		return &TagsOfAnotherStoreError{IDs: missing}
	}
	links := make([]ItemTag, len(tagIDs))
	for i, id := range tagIDs {
		links[i] = ItemTag{ItemID: item.ID, TagID: id}
	}
	// The primary key keeps one row per link.
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&links).Error
}

// Unlink removes one link, if check holds, and reads both ends back, as
// they are after it. A missing item or tag is reported before a missing
// link.
func (s Items) Unlink(ctx context.Context, itemID, tagID int64, check Check[Item]) (item Item, tag Tag, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if check != nil {
			if _, err := lockItemFor(tx, itemID, check); err != nil {
				return err
			}
		}
		res := tx.Where("item_id = ? AND tag_id = ?", itemID, tagID).Delete(&ItemTag{})
		if res.Error != nil {
			return res.Error
		}
		if item, err = getItem(tx, noGuard, itemID); err != nil {
			return err
		}
		if tag, err = getTag(tx, tagID); err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return ErrNotLinked
		}
		return nil
	})
	return item, tag, err
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

// TagChanges counts the links a save added and removed.
type TagChanges struct {
	Linked, Unlinked int
}

// UpdateWithTags applies a partial update (which may change nothing) and
// makes the item carry exactly tagIDs, in one transaction: both are saved
// or neither is. The item's row is locked first, as Update locks it. Links
// that go are removed before the update, so one save can untick every tag
// and move the item to another store; a move that would keep a link is
// ErrItemHasTags, as in Update. Links that come are checked against the
// item's store after the update, as LinkTags checks them.
func (s Items) UpdateWithTags(ctx context.Context, id int64, changes ItemChanges, tagIDs []int64) (Item, TagChanges, error) {
	want := uniqueIDs(tagIDs)
	var done TagChanges
	db := s.db.WithContext(ctx)
	err := db.Transaction(func(tx *gorm.DB) error {
		item, err := lockItem(tx, id)
		if err != nil {
			return err
		}
		var have []int64
		if err := tx.Model(&ItemTag{}).Where("item_id = ?", id).Pluck("tag_id", &have).Error; err != nil {
			return err
		}
		remove := without(have, want)
		if len(remove) > 0 {
			res := tx.Where("item_id = ? AND tag_id IN ?", id, remove).Delete(&ItemTag{})
			if res.Error != nil {
				return res.Error
			}
			done.Unlinked = int(res.RowsAffected)
		}
		moves := changes.StoreID != nil && *changes.StoreID != item.StoreID
		if moves && len(have) > len(remove) {
			return ErrItemHasTags
		}
		if set := changes.columns(); len(set) > 0 {
			if err := itemWriteError(tx.Model(&item).Updates(set).Error); err != nil {
				return err
			}
		}
		if moves {
			item.StoreID = *changes.StoreID
		}
		if add := without(want, have); len(add) > 0 {
			if err := linkTags(tx, item, add); err != nil {
				return err
			}
			done.Linked = len(add)
		}
		return nil
	})
	if err != nil {
		return Item{}, TagChanges{}, err
	}
	item, err := getItem(db, noGuard, id)
	return item, done, err
}
