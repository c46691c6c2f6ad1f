package models

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// Tag labels items of its own store; items and tags meet in items_tags.
type Tag struct {
	ID   int64
	Name string
	// NameKey is written with Name (NameKey): unique within the store.
	NameKey string
	StoreID int64
	Store   Store
	Items   []Item `gorm:"many2many:items_tags"`
}

// TagSummary is a tag with the number of items that carry it.
type TagSummary struct {
	ID        int64
	Name      string
	ItemCount int64
}

// Tags reads and writes tags.
type Tags struct {
	db *gorm.DB
}

// withStoreAndItems preloads what a tag is read with: its store, and its
// items by id.
func withStoreAndItems(db *gorm.DB) *gorm.DB {
	return db.Preload("Store").Preload("Items", func(db *gorm.DB) *gorm.DB { return db.Order("id") })
}

// Get reads a tag with its store and items.
func (s Tags) Get(ctx context.Context, id int64) (Tag, error) {
	return getTag(s.db.WithContext(ctx), id)
}

func getTag(db *gorm.DB, id int64) (Tag, error) {
	return take[Tag](withStoreAndItems(db), id, ErrTagNotFound)
}

// Plain reads a tag without its store and items.
func (s Tags) Plain(ctx context.Context, id int64) (Tag, error) {
	return take[Tag](s.db.WithContext(ctx), id, ErrTagNotFound)
}

// Create adds a tag to a store and reads it back. The foreign key, not a
// prior lookup, decides whether the store exists, so a store deleted
// meanwhile cannot gain a tag: ErrStoreNotFound. ErrTagNameTaken if the
// store has a tag of that name in any case.
func (s Tags) Create(ctx context.Context, storeID int64, name string) (Tag, error) {
	db := s.db.WithContext(ctx)
	tag := Tag{Name: name, NameKey: NameKey(name), StoreID: storeID}
	if err := db.Omit("Store", "Items").Create(&tag).Error; err != nil {
		switch {
		case errors.Is(err, gorm.ErrDuplicatedKey):
			return tag, ErrTagNameTaken
		case errors.Is(err, gorm.ErrForeignKeyViolated):
			return tag, ErrStoreNotFound
		}
		return tag, err
	}
	return getTag(db, tag.ID)
}

// Rename gives a tag a new name, unique within its store by the same index
// that guards creation, and reads it back.
func (s Tags) Rename(ctx context.Context, id int64, name string) (Tag, error) {
	db := s.db.WithContext(ctx)
	res := db.Model(&Tag{}).Where("id = ?", id).Updates(map[string]any{"name": name, "name_key": NameKey(name)})
	switch {
	case errors.Is(res.Error, gorm.ErrDuplicatedKey):
		return Tag{}, ErrTagNameTaken
	case res.Error != nil:
		return Tag{}, res.Error
	case res.RowsAffected == 0:
		return Tag{}, ErrTagNotFound
	}
	return getTag(db, id)
}

// Delete deletes a tag that no item carries (ErrTagInUse otherwise), if
// check holds. The
// tag row is locked before the links are counted: LinkTags holds a share
// lock on the tags it links, so a link and a delete of one tag run one
// after the other, and a tag never loses a link it just gained.
func (s Tags) Delete(ctx context.Context, id int64, check Check[Tag]) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := take[Tag](forUpdate(tx), id, ErrTagNotFound); err != nil {
			return err
		}
		if check != nil {
			current, err := getTag(tx, id)
			if err != nil {
				return err
			}
			if err := check(current); err != nil {
				return err
			}
		}
		var links int64
		if err := tx.Model(&ItemTag{}).Where("tag_id = ?", id).Count(&links).Error; err != nil {
			return err
		}
		if links > 0 {
			return ErrTagInUse
		}
		return tx.Delete(&Tag{}, id).Error
	})
}

// OfStore reads a page of a store's tags, by id, with their store and
// items, and the number of tags the store has; ErrStoreNotFound if there
// is no such store.
func (s Tags) OfStore(ctx context.Context, storeID int64, page Page) ([]Tag, int64, error) {
	db := s.db.WithContext(ctx)
	var stores int64
	if err := db.Model(&Store{}).Where("id = ?", storeID).Count(&stores).Error; err != nil {
		return nil, 0, err
	}
	if stores == 0 {
		return nil, 0, ErrStoreNotFound
	}
	ofStore := func(db *gorm.DB) *gorm.DB { return db.Model(&Tag{}).Where("tags.store_id = ?", storeID) }
	var total int64
	if err := db.Scopes(ofStore).Count(&total).Error; err != nil || page.beyond(total) {
		return nil, total, err
	}
	var tags []Tag
	err := withStoreAndItems(db.Scopes(ofStore)).Order("tags.id").
		Limit(int(page.Size)).Offset(int(page.Offset())).Find(&tags).Error
	return tags, total, err
}

// Summaries lists a store's tags by name, with how many items carry each.
func (s Tags) Summaries(ctx context.Context, storeID int64) ([]TagSummary, error) {
	var tags []TagSummary
	err := s.db.WithContext(ctx).Table("tags").Select("tags.id, tags.name, "+
		"(SELECT count(*) FROM items_tags WHERE items_tags.tag_id = tags.id) AS item_count").
		Where("tags.store_id = ?", storeID).Order("lower(tags.name), tags.id").Scan(&tags).Error
	return tags, err
}

// ByStore lists every tag with its store, ordered by store name, then by
// tag name: the choices of a tag filter, grouped by store.
func (s Tags) ByStore(ctx context.Context) ([]Tag, error) {
	var tags []Tag
	err := s.db.WithContext(ctx).Joins("Store").
		Order(`lower("Store".name), "Store".id, lower(tags.name), tags.id`).Find(&tags).Error
	return tags, err
}

// Count counts the tags.
func (s Tags) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Tag{}).Count(&n).Error
	return n, err
}

// tagsOfStores reads the tags of some stores, each store's ordered by id.
func tagsOfStores(db *gorm.DB, storeIDs []int64) (map[int64][]Tag, error) {
	out := map[int64][]Tag{}
	rows := db.Raw("SELECT id, name, store_id FROM tags WHERE store_id IN ? ORDER BY id", storeIDs)
	err := eachRowOf(rows, func(row rowScanner) error {
		var tag Tag
		err := row.Scan(&tag.ID, &tag.Name, &tag.StoreID)
		out[tag.StoreID] = append(out[tag.StoreID], tag)
		return err
	})
	return out, err
}

var tagsOfOneStore = newStatement("SELECT id, name FROM tags WHERE store_id = ? ORDER BY id")

// tagsOfStore is the query of the tags of one store, ordered by id, into
// tags: the second statement of a store's page.
func tagsOfStore(storeID int64, tags *[]Tag) query {
	return query{st: tagsOfOneStore, args: []any{storeID}, scan: func(row rowScanner) error {
		tag := Tag{StoreID: storeID}
		err := row.Scan(&tag.ID, &tag.Name)
		*tags = append(*tags, tag)
		return err
	}}
}

// BeforeSave keeps NameKey in step with Name when GORM writes a tag from
// the struct, so no way of saving one can skip the unique key.
func (x *Tag) BeforeSave(*gorm.DB) error {
	x.NameKey = NameKey(x.Name)
	return nil
}
