package models

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors the data layer answers with. Callers test them with errors.Is and
// choose what to tell their client; none of them is a fault of the server.
var (
	ErrStoreNotFound = errors.New("store not found")
	ErrItemNotFound  = errors.New("item not found")
	ErrTagNotFound   = errors.New("tag not found")
	ErrUserNotFound  = errors.New("user not found")

	ErrStoreNameTaken = errors.New("a store with that name exists")
	ErrItemNameTaken  = errors.New("an item with that name exists in the store")
	ErrTagNameTaken   = errors.New("a tag with that name exists in the store")
	ErrEmailTaken     = errors.New("a user with that email exists")

	// ErrNoSuchStore: an item names a store that does not exist.
	ErrNoSuchStore = errors.New("no store has that id")
	// ErrItemHasTags: an item linked to tags cannot move to another store,
	// whose tags they are not.
	ErrItemHasTags = errors.New("the item is linked to tags of its store")
	// ErrTagInUse: a tag that items carry cannot be deleted.
	ErrTagInUse = errors.New("items carry the tag")
	// ErrTagOfAnotherStore: an item can carry only tags of its own store.
	// The error is a *TagsOfAnotherStoreError, which names them.
	ErrTagOfAnotherStore = errors.New("not a tag of the item's store")
	// ErrNotLinked: the item does not carry the tag.
	ErrNotLinked = errors.New("the item is not linked to the tag")

	// ErrInvalidCredentials: no user has that email and password.
	ErrInvalidCredentials = errors.New("invalid credentials")

	// ErrGuardFailed: a guarded write wrote nothing because its token check
	// failed (guard.go).
	ErrGuardFailed = errors.New("the token check of the statement failed")
)

// Check is a condition on a resource as it is when a write has locked it,
// such as "it is still the version the client read" (HTTP's If-Match):
// an error stops the write and is returned. The check and the write are
// atomic: nothing can change the resource between them. A nil Check
// always holds, and costs nothing.
type Check[T any] func(current T) error

// TagsOfAnotherStoreError lists the tag ids that name no tag of an item's
// store. It matches ErrTagOfAnotherStore.
type TagsOfAnotherStoreError struct {
	IDs []int64
}

func (e *TagsOfAnotherStoreError) Error() string {
	return fmt.Sprintf("%s: %s", ErrTagOfAnotherStore, JoinIDs(e.IDs))
}

// Is makes errors.Is(err, ErrTagOfAnotherStore) hold.
func (e *TagsOfAnotherStoreError) Is(target error) bool { return target == ErrTagOfAnotherStore }

// JoinIDs writes ids as "3, 4, 5".
func JoinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}
