package resources

import (
	"strings"

	"gorm.io/gorm"

	"stores-api/models"
	"stores-api/schemas"
)

// Item search runs in SQL, on indexes from the migrations:
//   - name: lower(items.name) LIKE '%…%', served on PostgreSQL by the
//     pg_trgm GIN index items_lower_name_trgm_idx (SQLite scans: no B-tree
//     serves a pattern with a leading wildcard);
//   - store_id: items_store_id_lower_name_key, whose first column it is;
//   - min_price, max_price and sort=price: items_price_cents_idx;
//   - tag: tags_lower_name_idx finds the tags, items_tags_tag_id_idx their
//     items.
//
// Names are compared lower-cased on both sides. PostgreSQL folds every
// letter; SQLite's lower() folds ASCII letters only, as its unique name
// indexes do.

// itemFilter narrows items to the matches of q.
func itemFilter(q schemas.ItemQuery) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if q.Name != "" {
			db = db.Where(`lower(items.name) LIKE ? ESCAPE '\'`, "%"+escapeLike(q.Name)+"%")
		}
		if q.StoreID != 0 {
			db = db.Where("items.store_id = ?", q.StoreID)
		}
		if q.MinPrice != nil {
			db = db.Where("items.price_cents >= ?", *q.MinPrice)
		}
		if q.MaxPrice != nil {
			db = db.Where("items.price_cents <= ?", *q.MaxPrice)
		}
		if len(q.Tags) > 0 {
			// Items carrying every tag: of their links to tags with one of
			// the names, as many distinct names as were asked for.
			db = db.Where(`items.id IN (
				SELECT it.item_id FROM items_tags it JOIN tags t ON t.id = it.tag_id
				WHERE lower(t.name) IN ?
				GROUP BY it.item_id HAVING COUNT(DISTINCT lower(t.name)) = ?)`, q.Tags, len(q.Tags))
		}
		return db
	}
}

// escapeLike makes every character of s match itself in a LIKE pattern
// with ESCAPE '\', so a search for "50%" or "a_b" is a plain substring.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// itemOrder is the ORDER BY of a sort key. Every order ends with the id, so
// equal names or prices come in a stable order and pages never overlap;
// "-key" is the exact reverse of "key". Names sort without case, byte-wise
// on both dialects (COLLATE "C" on PostgreSQL, SQLite's default BINARY), so
// the order does not depend on the server's locale.
func (s *Server) itemOrder(sort string) string {
	name := "lower(items.name)"
	if s.Dialect == models.Postgres {
		name += ` COLLATE "C"`
	}
	switch sort {
	case schemas.SortIDDesc:
		return "items.id DESC"
	case schemas.SortName:
		return name + ", items.id"
	case schemas.SortNameDesc:
		return name + " DESC, items.id DESC"
	case schemas.SortPrice:
		return "items.price_cents, items.id"
	case schemas.SortPriceDesc:
		return "items.price_cents DESC, items.id DESC"
	}
	return "items.id"
}
