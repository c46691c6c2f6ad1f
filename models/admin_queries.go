package models

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// The queries only the admin panel asks: its store list's search and sort,
// and its item page's one save of details and tags.

// StoreSort is an order of the store list; a leading "-" reverses it.
type StoreSort string

// The orders of the store list.
const (
	StoreSortName      StoreSort = "name"
	StoreSortNameDesc  StoreSort = "-name"
	StoreSortID        StoreSort = "id"
	StoreSortIDDesc    StoreSort = "-id"
	StoreSortItems     StoreSort = "items"
	StoreSortItemsDesc StoreSort = "-items"
)

// StoreSorts lists every order of the store list.
var StoreSorts = []StoreSort{StoreSortName, StoreSortNameDesc, StoreSortID, StoreSortIDDesc, StoreSortItems, StoreSortItemsDesc}

// StoreFilter narrows and orders the store list.
type StoreFilter struct {
	Name string    // a substring of the name, in any case; "" for every store
	Sort StoreSort // StoreSortName when empty
}

// where narrows a query on stores to the filter's matches exactly as
// ItemFilter.where narrows items by name (lower-cased on both sides, the
// LIKE wildcards escaped), so the panel's two searches agree on what
// matches; should one move to name_key, the other moves with it.
func (f StoreFilter) where(db *gorm.DB) *gorm.DB {
	if f.Name != "" {
		db = db.Where(`lower(stores.name) LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(f.Name))+"%")
	}
	return db
}

// orderBy is the ORDER BY of the filter's sort. As ItemFilter.orderBy,
// every order ends with the id, so pages never overlap, and names sort
// byte-wise on both dialects. Ordering by item count counts the items of
// every matching store, one range each of the unique index on items that
// starts with store_id: cheap for a list people page through, and it
// needs no counter column to keep in step.
func (f StoreFilter) orderBy(dialect string) string {
	name := "lower(stores.name)"
	if dialect == Postgres {
		name += ` COLLATE "C"`
	}
	switch f.Sort {
	case StoreSortNameDesc:
		return name + " DESC, stores.id DESC"
	case StoreSortID:
		return "stores.id"
	case StoreSortIDDesc:
		return "stores.id DESC"
	case StoreSortItems:
		return "item_count, stores.id"
	case StoreSortItemsDesc:
		return "item_count DESC, stores.id DESC"
	}
	return name + ", stores.id"
}

// Search reads a page of the stores that match the filter, in its order,
// with how much each holds, and the number of matches. The page is moved
// to the nearest one that exists.
func (s Stores) Search(ctx context.Context, filter StoreFilter, page Page) ([]StoreSummary, Page, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&Store{}).Scopes(filter.where).Count(&total).Error; err != nil {
		return nil, page, 0, err
	}
	page = page.Within(total)
	var rows []StoreSummary
	if total == 0 {
		return rows, page, 0, nil
	}
	err := withCounts(db).Scopes(filter.where).Order(filter.orderBy(db.Dialector.Name())).
		Limit(int(page.Size)).Offset(int(page.Offset())).Scan(&rows).Error
	return rows, page, total, err
}

// TagChanges counts the links a save added and removed.
type TagChanges struct {
	Linked, Unlinked int
}

// UpdateWithTags applies a non-empty partial update and makes the item
// carry exactly tagIDs, in one transaction: both are saved or neither is.
// The item's row is locked first, as Update and SetTags lock it. Links
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
		if err := itemWriteError(tx.Model(&item).Updates(changes.columns()).Error); err != nil {
			return err
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
