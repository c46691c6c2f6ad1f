package models

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
)

// Item is a product of one store. Prices are kept in integer cents so that
// 19.99 stays 19.99: no binary float ever touches the database.
type Item struct {
	ID   int64
	Name string
	// NameKey is written with Name (NameKey): unique within the store.
	NameKey     string
	PriceCents  int64
	Description *string
	StoreID     int64
	Store       Store
	Tags        []Tag `gorm:"many2many:items_tags"`
}

// ItemTag is one row of the items_tags join table. Its primary key is
// (item_id, tag_id), so a link can exist only once.
type ItemTag struct {
	ItemID int64 `gorm:"primaryKey"`
	TagID  int64 `gorm:"primaryKey"`
}

// TableName names the join table as the course does.
func (ItemTag) TableName() string { return "items_tags" }

// ItemChanges is a partial update of an item: nil fields stay as they are.
// SetDescription tells "clear the description" (with a nil Description)
// from "leave it".
type ItemChanges struct {
	Name           *string
	PriceCents     *int64
	StoreID        *int64
	SetDescription bool
	Description    *string
}

// Items reads and writes items and their links to tags.
type Items struct {
	db *gorm.DB
}

// Create adds an item, and reads it back with its store and tags.
// ErrItemNameTaken if its store has an item of that name in any case,
// ErrNoSuchStore if the store does not exist.
func (s Items) Create(ctx context.Context, item Item) (Item, error) {
	return createItem(s.db.WithContext(ctx), noGuard, item)
}

// insertItem adds an item. Its values are cast because in INSERT … SELECT
// PostgreSQL would otherwise take an untyped parameter for text.
var insertItem = guardableWhere("INSERT INTO items (name, name_key, price_cents, description, store_id) "+
	"SELECT ?, ?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT)", returningID)

// createItem inserts an item if the guard holds, and reads it back.
func createItem(db *gorm.DB, g Guard, item Item) (Item, error) {
	st, args := g.pick(insertItem, item.Name, NameKey(item.Name), item.PriceCents, item.Description, item.StoreID)
	id, err := insertReturningID(db, st, args...)
	switch {
	case err != nil:
		return Item{}, itemWriteError(err)
	case id == 0:
		return Item{}, ErrGuardFailed
	}
	return getItem(db, noGuard, id)
}

// itemWriteError explains the constraint an insert or update broke.
func itemWriteError(err error) error {
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrItemNameTaken
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return ErrNoSuchStore
	}
	return err
}

// Get reads an item with its store and its tags, ordered by id.
func (s Items) Get(ctx context.Context, id int64) (Item, error) {
	return getItem(s.db.WithContext(ctx), noGuard, id)
}

// itemWithStoreAndTags reads an item, its store and its tags in one
// statement: one row per tag, or a single row with NULL tag columns. One
// round trip instead of four (item, store, join table, tags) is what makes
// GET /items/{id} fast. A Guard can follow its WHERE clause; the tags are
// put in order afterwards, which costs the database less than an ORDER BY.
var itemWithStoreAndTags = guardableAnd(`
SELECT i.id, i.name, i.price_cents, i.description, s.id, s.name, t.id, t.name
FROM items i
JOIN stores s ON s.id = i.store_id
LEFT JOIN items_tags it ON it.item_id = i.id
LEFT JOIN tags t ON t.id = it.tag_id
WHERE i.id = ?`, "")

// getItem reads one item with its store and tags, or ErrItemNotFound
// (which, with a guard, may also mean that the guard failed). Every read
// of a single item goes through it.
func getItem(db *gorm.DB, g Guard, id int64) (Item, error) {
	st, args := g.pick(itemWithStoreAndTags, id)
	var item Item
	var description pgtype.Text
	err := eachRow(db, st, args, func(row rowScanner) error {
		var tagID pgtype.Int8
		var tagName pgtype.Text
		err := row.Scan(&item.ID, &item.Name, &item.PriceCents, &description,
			&item.Store.ID, &item.Store.Name, &tagID, &tagName)
		if err == nil && tagID.Valid {
			item.Tags = append(item.Tags, Tag{ID: tagID.Int64, Name: tagName.String, StoreID: item.Store.ID})
		}
		return err
	})
	if err != nil {
		return Item{}, err
	}
	if item.ID == 0 {
		return item, ErrItemNotFound
	}
	item.StoreID, item.Description = item.Store.ID, textOrNil(description)
	slices.SortFunc(item.Tags, byTagID)
	return item, nil
}

// byTagID orders tags by id, as every list in a response is ordered.
func byTagID(a, b Tag) int { return cmp.Compare(a.ID, b.ID) }

// List reads a page of the items that match the filter, in its order,
// with their stores and tags, and the number of matches: four statements
// whatever the page size.
func (s Items) List(ctx context.Context, filter ItemFilter, page Page) ([]Item, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&Item{}).Scopes(filter.where).Count(&total).Error; err != nil || page.beyond(total) {
		return nil, total, err
	}
	items, err := readItems(db.Model(&Item{}).Scopes(filter.where).Order(filter.orderBy(db.Dialector.Name())).
		Limit(int(page.Size)).Offset(int(page.Offset())))
	return items, total, err
}

// readItems reads a page of items with their stores and tags in two
// statements whatever the page size. page is narrowed, cut and ordered.
func readItems(page *gorm.DB) ([]Item, error) {
	var items []Item
	rows := page.Select("items.id, items.name, items.price_cents, items.description, stores.id, stores.name").
		Joins("JOIN stores ON stores.id = items.store_id")
	err := eachRowOf(rows, func(row rowScanner) error {
		var item Item
		err := row.Scan(&item.ID, &item.Name, &item.PriceCents, &item.Description, &item.Store.ID, &item.Store.Name)
		item.StoreID = item.Store.ID
		items = append(items, item)
		return err
	})
	if err != nil || len(items) == 0 {
		return items, err
	}
	return items, addTags(page.Session(&gorm.Session{NewDB: true}), items)
}

// tagsOfItems reads the tags of some items, ordered by id.
const tagsOfItems = `
SELECT it.item_id, t.id, t.name, t.store_id
FROM items_tags it
JOIN tags t ON t.id = it.tag_id
WHERE it.item_id IN ?
ORDER BY t.id`

// addTags fills in the tags of items in one statement.
func addTags(db *gorm.DB, items []Item) error {
	byID := make(map[int64]*Item, len(items))
	ids := make([]int64, len(items))
	for i := range items {
		byID[items[i].ID] = &items[i]
		ids[i] = items[i].ID
	}
	return eachRowOf(db.Raw(tagsOfItems, ids), func(row rowScanner) error {
		var itemID int64
		var tag Tag
		err := row.Scan(&itemID, &tag.ID, &tag.Name, &tag.StoreID)
		item := byID[itemID]
		item.Tags = append(item.Tags, tag)
		return err
	})
}

// itemsOfStores reads the items of some stores, without their tags, each
// store's ordered by id.
func itemsOfStores(db *gorm.DB, storeIDs []int64) (map[int64][]Item, error) {
	out := map[int64][]Item{}
	rows := db.Raw("SELECT id, name, price_cents, description, store_id FROM items WHERE store_id IN ? ORDER BY id", storeIDs)
	err := eachRowOf(rows, func(row rowScanner) error {
		var item Item
		err := row.Scan(&item.ID, &item.Name, &item.PriceCents, &item.Description, &item.StoreID)
		out[item.StoreID] = append(out[item.StoreID], item)
		return err
	})
	return out, err
}

// Update applies a non-empty partial update, if check holds, and reads
// the item back. The item row is locked for the transaction, so a
// concurrent tag link cannot slip in while the item moves store;
// ErrItemHasTags if it would move with tags of its old store.
func (s Items) Update(ctx context.Context, id int64, changes ItemChanges, check Check[Item]) (Item, error) {
	db := s.db.WithContext(ctx)
	err := db.Transaction(func(tx *gorm.DB) error {
		item, err := lockItemFor(tx, id, check)
		if err != nil {
			return err
		}
		if changes.StoreID != nil && *changes.StoreID != item.StoreID {
			var links int64
			if err := tx.Model(&ItemTag{}).Where("item_id = ?", id).Count(&links).Error; err != nil {
				return err
			}
			if links > 0 {
				return ErrItemHasTags
			}
		}
		return itemWriteError(tx.Model(&item).Updates(changes.columns()).Error)
	})
	if err != nil {
		return Item{}, err
	}
	return getItem(db, noGuard, id)
}

// columns lists the columns a partial update sets. A map, not a struct,
// so that zero values (price 0, description null) are written too.
func (c ItemChanges) columns() map[string]any {
	set := map[string]any{}
	if c.Name != nil {
		set["name"] = *c.Name
		set["name_key"] = NameKey(*c.Name)
	}
	if c.PriceCents != nil {
		set["price_cents"] = *c.PriceCents
	}
	if c.StoreID != nil {
		set["store_id"] = *c.StoreID
	}
	if c.SetDescription {
		set["description"] = c.Description
	}
	return set
}

// lockItem reads an item's row and locks it until the transaction ends.
func lockItem(tx *gorm.DB, id int64) (Item, error) {
	return take[Item](forUpdate(tx), id, ErrItemNotFound)
}

// lockItemFor locks an item's row, then, with a check, reads the item as a
// client sees it (with its store and tags) and checks it.
func lockItemFor(tx *gorm.DB, id int64, check Check[Item]) (Item, error) {
	item, err := lockItem(tx, id)
	if err != nil || check == nil {
		return item, err
	}
	current, err := getItem(tx, noGuard, id)
	if err != nil {
		return item, err
	}
	return item, check(current)
}

// Delete deletes an item, if check holds; its links cascade.
func (s Items) Delete(ctx context.Context, id int64, check Check[Item]) error {
	if check == nil { // one statement: atomic by itself
		return deleted(s.db.WithContext(ctx).Delete(&Item{}, id), ErrItemNotFound)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockItemFor(tx, id, check); err != nil {
			return err
		}
		return deleted(tx.Delete(&Item{}, id), ErrItemNotFound)
	})
}

// deleted is the outcome of a DELETE of one row: notFound if there was none.
func deleted(res *gorm.DB, notFound error) error {
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return notFound
	}
	return nil
}

// Count counts the items.
func (s Items) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Item{}).Count(&n).Error
	return n, err
}

// BeforeSave keeps NameKey in step with Name when GORM writes an item from
// the struct, so no way of saving one can skip the unique key.
func (x *Item) BeforeSave(*gorm.DB) error {
	x.NameKey = NameKey(x.Name)
	return nil
}
