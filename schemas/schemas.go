// Package schemas holds the request bodies (In, validated with
// go-playground/validator tags) and the response shapes (Out), the Go side
// of the course's marshmallow schemas. Handlers encode only these types,
// never models, so a field such as a password hash cannot leak.
package schemas

import (
	"strings"

	"stores-api/models"
)

// StoreIn is the body of POST /stores.
type StoreIn struct {
	Name string `json:"name" validate:"required,min=1,max=80,nocontrol"`
}

// Normalize trims the name.
func (in *StoreIn) Normalize() { in.Name = strings.TrimSpace(in.Name) }

// TagIn is the body of POST /stores/{id}/tags.
type TagIn struct {
	Name string `json:"name" validate:"required,min=1,max=80,nocontrol"`
}

// Normalize trims the name.
func (in *TagIn) Normalize() { in.Name = strings.TrimSpace(in.Name) }

// ItemIn is the body of POST /items.
type ItemIn struct {
	Name        string           `json:"name" validate:"required,min=1,max=80,nocontrol"`
	Price       *Price           `json:"price" validate:"required"`
	StoreID     int64            `json:"store_id" validate:"required,gt=0"`
	Description Nullable[string] `json:"description" validate:"omitempty,max=1000,nonul"`
}

// Normalize trims the name.
func (in *ItemIn) Normalize() { in.Name = strings.TrimSpace(in.Name) }

// ItemUpdate is the body of PUT /items/{id}: every field optional, at
// least one present (checked by the handler through Empty).
type ItemUpdate struct {
	Name        *string          `json:"name" validate:"omitnil,min=1,max=80,nocontrol"`
	Price       *Price           `json:"price"`
	StoreID     *int64           `json:"store_id" validate:"omitnil,gt=0"`
	Description Nullable[string] `json:"description" validate:"omitempty,max=1000,nonul"`
}

// Normalize trims the name.
func (in *ItemUpdate) Normalize() {
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
	}
}

// Empty reports whether the update names no field at all.
func (in *ItemUpdate) Empty() bool {
	return in.Name == nil && in.Price == nil && in.StoreID == nil && !in.Description.Set
}

// LinkTagsIn is the body of POST /items/{id}/tags.
type LinkTagsIn struct {
	TagIDs []int64 `json:"tag_ids" validate:"required,min=1,max=100,dive,gt=0"`
}

// PlainStore is a store without its children (the course's PlainStoreSchema).
type PlainStore struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PlainItem is an item without its store and tags.
type PlainItem struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Price       Price   `json:"price"`
	Description *string `json:"description"`
}

// PlainTag is a tag without its store and items.
type PlainTag struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Store is a store with its items and tags (StoreSchema).
type Store struct {
	PlainStore
	Items []PlainItem `json:"items"`
	Tags  []PlainTag  `json:"tags"`
}

// Item is an item with its store and tags (ItemSchema).
type Item struct {
	PlainItem
	Store PlainStore `json:"store"`
	Tags  []PlainTag `json:"tags"`
}

// Tag is a tag with its store and items (TagSchema).
type Tag struct {
	PlainTag
	Store PlainStore  `json:"store"`
	Items []PlainItem `json:"items"`
}

// Message is a confirmation such as {"message": "Store deleted."}.
type Message struct {
	Message string `json:"message"`
}

// TagAndItem answers DELETE /items/{id}/tags/{tag_id} (TagAndItemSchema).
type TagAndItem struct {
	Message string `json:"message"`
	Item    Item   `json:"item"`
	Tag     Tag    `json:"tag"`
}

// NewPlainStore maps a model to its plain shape.
func NewPlainStore(s models.Store) PlainStore { return PlainStore{ID: s.ID, Name: s.Name} }

// NewPlainItem maps a model to its plain shape.
func NewPlainItem(i models.Item) PlainItem {
	return PlainItem{ID: i.ID, Name: i.Name, Price: Price(i.PriceCents), Description: i.Description}
}

// NewPlainTag maps a model to its plain shape.
func NewPlainTag(t models.Tag) PlainTag { return PlainTag{ID: t.ID, Name: t.Name} }

// NewStore maps a store with preloaded items and tags.
func NewStore(s models.Store) Store {
	return Store{PlainStore: NewPlainStore(s), Items: mapAll(s.Items, NewPlainItem), Tags: mapAll(s.Tags, NewPlainTag)}
}

// NewItem maps an item with preloaded store and tags.
func NewItem(i models.Item) Item {
	return Item{PlainItem: NewPlainItem(i), Store: NewPlainStore(i.Store), Tags: mapAll(i.Tags, NewPlainTag)}
}

// NewTag maps a tag with preloaded store and items.
func NewTag(t models.Tag) Tag {
	return Tag{PlainTag: NewPlainTag(t), Store: NewPlainStore(t.Store), Items: mapAll(t.Items, NewPlainItem)}
}

// Stores, Items and Tags map lists; they encode as [], never null.
func Stores(in []models.Store) []Store { return mapAll(in, NewStore) }

// Items maps a list of items.
func Items(in []models.Item) []Item { return mapAll(in, NewItem) }

// Tags maps a list of tags.
func Tags(in []models.Tag) []Tag { return mapAll(in, NewTag) }

func mapAll[M, S any](in []M, f func(M) S) []S {
	out := make([]S, 0, len(in))
	for _, m := range in {
		out = append(out, f(m))
	}
	return out
}
