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

// Item converts a validated ItemIn to the item to create.
func (in ItemIn) Item() models.Item {
	return models.Item{Name: in.Name, PriceCents: int64(*in.Price), Description: in.Description.Value, StoreID: in.StoreID}
}

// Changes converts a validated ItemUpdate to the changes to apply.
func (in ItemUpdate) Changes() models.ItemChanges {
	c := models.ItemChanges{Name: in.Name, StoreID: in.StoreID, SetDescription: in.Description.Set, Description: in.Description.Value}
	if in.Price != nil {
		cents := int64(*in.Price)
		c.PriceCents = &cents
	}
	return c
}

// PlainStoreOut is a store without its children (the course's
// PlainStoreSchema).
type PlainStoreOut struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PlainItemOut is an item without its store and tags.
type PlainItemOut struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Price       Price   `json:"price"`
	Description *string `json:"description"`
}

// PlainTagOut is a tag without its store and items.
type PlainTagOut struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// StoreOut is a store with its items and tags (StoreSchema).
type StoreOut struct {
	PlainStoreOut
	Items []PlainItemOut `json:"items"`
	Tags  []PlainTagOut  `json:"tags"`
}

// ItemOut is an item with its store and tags (ItemSchema).
type ItemOut struct {
	PlainItemOut
	Store PlainStoreOut `json:"store"`
	Tags  []PlainTagOut `json:"tags"`
}

// TagOut is a tag with its store and items (TagSchema).
type TagOut struct {
	PlainTagOut
	Store PlainStoreOut  `json:"store"`
	Items []PlainItemOut `json:"items"`
}

// MessageOut is a confirmation such as {"message": "Store deleted."}.
type MessageOut struct {
	Message string `json:"message"`
}

// TagAndItemOut answers DELETE /items/{id}/tags/{tag_id}
// (TagAndItemSchema).
type TagAndItemOut struct {
	Message string  `json:"message"`
	Item    ItemOut `json:"item"`
	Tag     TagOut  `json:"tag"`
}

// NewPlainStoreOut maps a model to its plain shape.
func NewPlainStoreOut(s models.Store) PlainStoreOut { return PlainStoreOut{ID: s.ID, Name: s.Name} }

// NewPlainItemOut maps a model to its plain shape.
func NewPlainItemOut(i models.Item) PlainItemOut {
	return PlainItemOut{ID: i.ID, Name: i.Name, Price: Price(i.PriceCents), Description: i.Description}
}

// NewPlainTagOut maps a model to its plain shape.
func NewPlainTagOut(t models.Tag) PlainTagOut { return PlainTagOut{ID: t.ID, Name: t.Name} }

// NewStoreOut maps a store read with its items and tags.
func NewStoreOut(s models.Store) StoreOut {
	return StoreOut{PlainStoreOut: NewPlainStoreOut(s), Items: mapAll(s.Items, NewPlainItemOut), Tags: mapAll(s.Tags, NewPlainTagOut)}
}

// NewItemOut maps an item read with its store and tags.
func NewItemOut(i models.Item) ItemOut {
	return ItemOut{PlainItemOut: NewPlainItemOut(i), Store: NewPlainStoreOut(i.Store), Tags: mapAll(i.Tags, NewPlainTagOut)}
}

// NewTagOut maps a tag read with its store and items.
func NewTagOut(t models.Tag) TagOut {
	return TagOut{PlainTagOut: NewPlainTagOut(t), Store: NewPlainStoreOut(t.Store), Items: mapAll(t.Items, NewPlainItemOut)}
}

// StoresOut, ItemsOut and TagsOut map lists; they encode as [], never
// null.
func StoresOut(in []models.Store) []StoreOut { return mapAll(in, NewStoreOut) }

// ItemsOut maps a list of items.
func ItemsOut(in []models.Item) []ItemOut { return mapAll(in, NewItemOut) }

// TagsOut maps a list of tags.
func TagsOut(in []models.Tag) []TagOut { return mapAll(in, NewTagOut) }

func mapAll[M, S any](in []M, f func(M) S) []S {
	out := make([]S, 0, len(in))
	for _, m := range in {
		out = append(out, f(m))
	}
	return out
}
