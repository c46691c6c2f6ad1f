package models

import (
	"strings"

	"gorm.io/gorm"
)

// ItemSort is an order of an item list; a leading "-" reverses it.
type ItemSort string

// The orders of an item list.
const (
	SortID        ItemSort = "id"
	SortIDDesc    ItemSort = "-id"
	SortName      ItemSort = "name"
	SortNameDesc  ItemSort = "-name"
	SortPrice     ItemSort = "price"
	SortPriceDesc ItemSort = "-price"
)

// ItemSorts lists every order.
var ItemSorts = []ItemSort{SortID, SortIDDesc, SortName, SortNameDesc, SortPrice, SortPriceDesc}

// ItemFilter narrows an item list; the zero value of each field means
// "any", and the fields combine with AND.
type ItemFilter struct {
	Name     string   // a substring of the name, in any case
	StoreID  int64    // items of this store
	TagNames []string // lower-cased: items carrying a tag of every one of these names
	TagID    int64    // items carrying this tag
	MinPrice *int64   // cents, inclusive
	MaxPrice *int64   // cents, inclusive
	Sort     ItemSort // SortID when empty
}

// Item search runs in SQL, on indexes from the migrations:
//   - name: lower(items.name) LIKE '%…%', served on PostgreSQL by the
//     pg_trgm GIN index items_lower_name_trgm_idx (SQLite scans: no B-tree
//     serves a pattern with a leading wildcard);
//   - store_id: items_store_id_lower_name_key, whose first column it is;
//   - min_price, max_price and sort=price: items_price_cents_idx;
//   - tag names: tags_lower_name_idx finds the tags, items_tags_tag_id_idx
//     their items.
//
// Names are compared lower-cased on both sides. PostgreSQL folds every
// letter; SQLite's lower() folds ASCII letters only, as its unique name
// indexes do.

// where narrows a query on items to the filter's matches. Conditions name
// the table ("items.id"): the page joins stores, which has columns of the
// same names.
func (f ItemFilter) where(db *gorm.DB) *gorm.DB {
	if f.Name != "" {
		db = db.Where(nameContains("items"), containsPattern(f.Name))
	}
	if f.StoreID != 0 {
		db = db.Where("items.store_id = ?", f.StoreID)
	}
	if f.MinPrice != nil {
		db = db.Where("items.price_cents >= ?", *f.MinPrice)
	}
	if f.MaxPrice != nil {
		db = db.Where("items.price_cents <= ?", *f.MaxPrice)
	}
	if len(f.TagNames) > 0 {
		// Items carrying every tag: of their links to tags with one of
		// the names, as many distinct names as were asked for.
		db = db.Where(`items.id IN (
			SELECT it.item_id FROM items_tags it JOIN tags t ON t.id = it.tag_id
			WHERE lower(t.name) IN ?
			GROUP BY it.item_id HAVING COUNT(DISTINCT lower(t.name)) = ?)`, f.TagNames, len(f.TagNames))
	}
	if f.TagID != 0 {
		db = db.Where("EXISTS (SELECT 1 FROM items_tags WHERE items_tags.item_id = items.id AND items_tags.tag_id = ?)", f.TagID)
	}
	return db
}

// nameContains is the condition "table's name contains the pattern, in
// any case" that both searches use, so they agree on what matches.
func nameContains(table string) string { return "lower(" + table + `.name) LIKE ? ESCAPE '\'` }

// containsPattern is the LIKE pattern of names containing text, in any case.
func containsPattern(text string) string { return "%" + escapeLike(strings.ToLower(text)) + "%" }

// escapeLike makes every character of s match itself in a LIKE pattern
// with ESCAPE '\', so a search for "50%" or "a_b" is a plain substring.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// orderBy is the ORDER BY of the filter's sort. Every order ends with the
// id, so equal names or prices come in a stable order and pages never
// overlap; "-key" is the exact reverse of "key". Names sort without case,
// byte-wise on both dialects (COLLATE "C" on PostgreSQL, SQLite's default
// BINARY), so the order does not depend on the server's locale.
func (f ItemFilter) orderBy(dialect string) string {
	name := "lower(items.name)"
	if dialect == Postgres {
		name += ` COLLATE "C"`
	}
	switch f.Sort {
	case SortIDDesc:
		return "items.id DESC"
	case SortName:
		return name + ", items.id"
	case SortNameDesc:
		return name + " DESC, items.id DESC"
	case SortPrice:
		return "items.price_cents, items.id"
	case SortPriceDesc:
		return "items.price_cents DESC, items.id DESC"
	}
	return "items.id"
}

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
		db = db.Where(nameContains("stores"), containsPattern(f.Name))
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
