package models

import (
	"context"
	"errors"
	"sync"

	"gorm.io/gorm"
)

// Store is a shop that owns items and tags. Deleting it deletes them too
// (ON DELETE CASCADE).
type Store struct {
	ID   int64
	Name string
	// NameKey is written with Name (NameKey): the database's unique index
	// is on it. Reads leave it empty unless they need it.
	NameKey string
	Items   []Item
	Tags    []Tag
}

// StoreSummary is a store with how much it holds, for lists that show the
// numbers rather than the rows.
type StoreSummary struct {
	ID        int64
	Name      string
	ItemCount int64
	TagCount  int64
}

// Stores reads and writes stores.
type Stores struct {
	db *gorm.DB
	// itemRows lends the buffers a store's read gathers its item rows in
	// until their number is known, so that its Items are allocated once,
	// at their size: growing them row by row allocated three quarters of
	// the bytes of GET /stores/{id} (BENCHMARKS.md).
	itemRows *sync.Pool
}

func newStores(db *gorm.DB) Stores {
	return Stores{db: db, itemRows: &sync.Pool{New: func() any { return new([]nullableItem) }}}
}

// Create adds a store; ErrStoreNameTaken if another has the name in any
// case (the unique index on lower(name) decides, so two creates cannot race
// past a check).
func (s Stores) Create(ctx context.Context, name string) (Store, error) {
	return createStore(s.db.WithContext(ctx), noGuard, name)
}

var insertStore = guardableWhere("INSERT INTO stores (name, name_key) SELECT ?, ?", returningID)

// createStore inserts a store if the guard holds: a guarded write that
// wrote nothing answers ErrGuardFailed.
func createStore(db *gorm.DB, g Guard, name string) (Store, error) {
	st, args := g.pick(insertStore, name, NameKey(name))
	id, err := insertReturningID(db, st, args...)
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return Store{}, ErrStoreNameTaken
	case err != nil:
		return Store{}, err
	case id == 0:
		return Store{}, ErrGuardFailed
	}
	return Store{ID: id, Name: name}, nil
}

// Rename gives a store a new name, unique by the same index.
func (s Stores) Rename(ctx context.Context, id int64, name string) (Store, error) {
	res := s.db.WithContext(ctx).Model(&Store{}).Where("id = ?", id).Updates(map[string]any{"name": name, "name_key": NameKey(name)})
	switch {
	case errors.Is(res.Error, gorm.ErrDuplicatedKey):
		return Store{}, ErrStoreNameTaken
	case res.Error != nil:
		return Store{}, res.Error
	case res.RowsAffected == 0:
		return Store{}, ErrStoreNotFound
	}
	return Store{ID: id, Name: name}, nil
}

// Delete deletes a store, if check holds. One DELETE is one transaction:
// the foreign keys cascade to its items, its tags and their links, so all
// of it goes or none does.
func (s Stores) Delete(ctx context.Context, id int64, check Check[Store]) error {
	if check == nil {
		return deleted(s.db.WithContext(ctx).Delete(&Store{}, id), ErrStoreNotFound)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := take[Store](forUpdate(tx), id, ErrStoreNotFound); err != nil {
			return err
		}
		current, err := s.get(tx, noGuard, id)
		if err != nil {
			return err
		}
		if err := check(current); err != nil {
			return err
		}
		return deleted(tx.Delete(&Store{}, id), ErrStoreNotFound)
	})
}

// Get reads a store with its items and tags, each ordered by id.
func (s Stores) Get(ctx context.Context, id int64) (Store, error) {
	return s.get(s.db.WithContext(ctx), noGuard, id)
}

// storeWithItems reads a store and its items in one statement: one row per
// item, or a single row with NULL item columns. A Guard can follow its
// WHERE clause.
var storeWithItems = guardableAnd(`
SELECT s.id, s.name, i.id, i.name, i.price_cents, i.description
FROM stores s
LEFT JOIN items i ON i.store_id = s.id
WHERE s.id = ?`, " ORDER BY i.id")

// get reads one store with its items and tags in two statements whatever
// their number, scanning rows directly: a store page is read often and can
// hold many items. The guard rides on the first statement;
// ErrStoreNotFound if there is no such store (or the guard failed).
func (s Stores) get(db *gorm.DB, g Guard, id int64) (Store, error) {
	st, args := g.pick(storeWithItems, id)
	var store Store
	rows := s.itemRows.Get().(*[]nullableItem)
	defer func() { clear(*rows); *rows = (*rows)[:0]; s.itemRows.Put(rows) }() // holding no strings
	storeAndItems := query{st: st, args: args, scan: func(row rowScanner) error {
		var item nullableItem
		err := row.Scan(&store.ID, &store.Name, &item.ID, &item.Name, &item.PriceCents, &item.Description)
		if item.ID.Valid {
			*rows = append(*rows, item)
		}
		return err
	}}
	// Both statements go in one round trip where the driver allows it. The
	// tags are read even when the first statement finds nothing (no such
	// store, or a guard that failed), and then dropped unseen.
	var tags []Tag
	if err := run(db, storeAndItems, tagsOfStore(id, &tags)); err != nil {
		return store, err
	}
	if store.ID == 0 {
		return store, ErrStoreNotFound
	}
	if len(*rows) > 0 {
		store.Items = make([]Item, len(*rows))
		for i, row := range *rows {
			store.Items[i] = row.value(store.ID)
		}
	}
	store.Tags = tags
	return store, nil
}

// List reads a page of stores, by id, with their items and tags, in four
// statements whatever the page size, and the number of stores there are.
func (s Stores) List(ctx context.Context, page Page) ([]Store, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&Store{}).Count(&total).Error; err != nil || page.beyond(total) {
		return nil, total, err
	}
	var stores []Store
	err := db.Order("id").Limit(int(page.Size)).Offset(int(page.Offset())).Find(&stores).Error
	if err != nil || len(stores) == 0 {
		return stores, total, err
	}
	ids := make([]int64, len(stores))
	for i, st := range stores {
		ids[i] = st.ID
	}
	items, err := itemsOfStores(db, ids)
	if err != nil {
		return nil, total, err
	}
	tags, err := tagsOfStores(db, ids)
	if err != nil {
		return nil, total, err
	}
	for i := range stores {
		stores[i].Items, stores[i].Tags = items[stores[i].ID], tags[stores[i].ID]
	}
	return stores, total, nil
}

// All lists every store by name, without items or tags: the choices of a
// store field.
func (s Stores) All(ctx context.Context) ([]Store, error) {
	var stores []Store
	err := s.db.WithContext(ctx).Select("id", "name").Order("lower(name), id").Find(&stores).Error
	return stores, err
}

// Count counts the stores.
func (s Stores) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Store{}).Count(&n).Error
	return n, err
}

// withCounts selects stores with their item and tag counts.
func withCounts(db *gorm.DB) *gorm.DB {
	return db.Table("stores").Select("stores.id, stores.name, " +
		"(SELECT count(*) FROM items WHERE items.store_id = stores.id) AS item_count, " +
		"(SELECT count(*) FROM tags WHERE tags.store_id = stores.id) AS tag_count")
}

// Summaries reads a page of stores by name with how much each holds, and
// the number of stores there are. The page is moved to the nearest one
// that exists.
func (s Stores) Summaries(ctx context.Context, page Page) ([]StoreSummary, Page, int64, error) {
	db := s.db.WithContext(ctx)
	total, err := s.Count(ctx)
	if err != nil {
		return nil, page, 0, err
	}
	page = page.Within(total)
	var rows []StoreSummary
	err = withCounts(db).Order("lower(stores.name), stores.id").
		Limit(int(page.Size)).Offset(int(page.Offset())).Scan(&rows).Error
	return rows, page, total, err
}

// Summary reads one store with how much it holds.
func (s Stores) Summary(ctx context.Context, id int64) (StoreSummary, error) {
	var row StoreSummary
	res := withCounts(s.db.WithContext(ctx)).Where("stores.id = ?", id).Scan(&row)
	switch {
	case res.Error != nil:
		return row, res.Error
	case res.RowsAffected == 0:
		return row, ErrStoreNotFound
	}
	return row, nil
}

// BeforeSave keeps NameKey in step with Name when GORM writes a store from
// the struct, so no way of saving one can skip the unique key.
func (x *Store) BeforeSave(*gorm.DB) error {
	x.NameKey = NameKey(x.Name)
	return nil
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
