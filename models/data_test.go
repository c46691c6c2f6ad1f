package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"stores-api/blocklist"
	"stores-api/internal/testdb"
	"stores-api/models"
)

// data is the data layer on a fresh database, with the database for
// looking underneath it.
func data(t *testing.T) (*models.Models, *testdb.DB) {
	t.Helper()
	db := testdb.Open(t)
	return models.New(db.Gorm, 4), db
}

var ctx = context.Background()

func mustStore(t *testing.T, m *models.Models, name string) models.Store {
	t.Helper()
	s, err := m.Stores.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustItem(t *testing.T, m *models.Models, storeID int64, name string, cents int64) models.Item {
	t.Helper()
	i, err := m.Items.Create(ctx, models.Item{Name: name, PriceCents: cents, StoreID: storeID})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func mustTag(t *testing.T, m *models.Models, storeID int64, name string) models.Tag {
	t.Helper()
	tag, err := m.Tags.Create(ctx, storeID, name)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func count(t *testing.T, db *testdb.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// expectErr fails unless err is want (errors.Is).
func expectErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// TestSentinelErrors: each refusal of the data layer comes as its
// sentinel, whatever the dialect's own error.
func TestSentinelErrors(t *testing.T) {
	m, _ := data(t)
	shop := mustStore(t, m, "Shop")
	item := mustItem(t, m, shop.ID, "Chair", 100)
	mustTag(t, m, shop.ID, "red")

	_, err := m.Stores.Create(ctx, "SHOP")
	expectErr(t, "a store name in another case", err, models.ErrStoreNameTaken)
	other := mustStore(t, m, "Other")
	_, err = m.Stores.Rename(ctx, other.ID, "shop")
	expectErr(t, "a rename to a taken name", err, models.ErrStoreNameTaken)
	_, err = m.Items.Create(ctx, models.Item{Name: "CHAIR", PriceCents: 1, StoreID: shop.ID})
	expectErr(t, "an item name taken in its store", err, models.ErrItemNameTaken)
	_, err = m.Items.Create(ctx, models.Item{Name: "Chair", PriceCents: 1, StoreID: 999999})
	expectErr(t, "an item of no store", err, models.ErrNoSuchStore)
	_, err = m.Tags.Create(ctx, shop.ID, "RED")
	expectErr(t, "a tag name taken in its store", err, models.ErrTagNameTaken)
	_, err = m.Tags.Create(ctx, 999999, "x")
	expectErr(t, "a tag of no store", err, models.ErrStoreNotFound)
	_, err = m.Users.Create(ctx, "a@example.com", "correct horse", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Users.Create(ctx, "a@example.com", "correct horse", false, nil)
	expectErr(t, "an email taken", err, models.ErrEmailTaken)

	for what, err := range map[string]error{
		"store": func() error { _, err := m.Stores.Get(ctx, 999999); return err }(),
		"item":  func() error { _, err := m.Items.Get(ctx, 999999); return err }(),
		"tag":   func() error { _, err := m.Tags.Get(ctx, 999999); return err }(),
		"user":  func() error { _, err := m.Users.Get(ctx, 999999); return err }(),
	} {
		want := map[string]error{"store": models.ErrStoreNotFound, "item": models.ErrItemNotFound,
			"tag": models.ErrTagNotFound, "user": models.ErrUserNotFound}[what]
		expectErr(t, "a missing "+what, err, want)
	}
	expectErr(t, "delete a missing store", m.Stores.Delete(ctx, 999999, nil), models.ErrStoreNotFound)
	expectErr(t, "delete a missing item", m.Items.Delete(ctx, 999999, nil), models.ErrItemNotFound)
	expectErr(t, "delete a missing tag", m.Tags.Delete(ctx, 999999, nil), models.ErrTagNotFound)
	_, _, err = m.Items.Unlink(ctx, item.ID, 999999, nil)
	expectErr(t, "unlink a missing tag", err, models.ErrTagNotFound)
	_, err = m.Users.Authenticate(ctx, "a@example.com", "wrong password")
	expectErr(t, "a wrong password", err, models.ErrInvalidCredentials)
	_, err = m.Users.Authenticate(ctx, "nobody@example.com", "correct horse")
	expectErr(t, "an unknown email", err, models.ErrInvalidCredentials)
}

// TestSameStoreRule: an item carries only tags of its own store, and
// cannot move to another store while it carries any.
func TestSameStoreRule(t *testing.T) {
	m, db := data(t)
	north, south := mustStore(t, m, "North"), mustStore(t, m, "South")
	item := mustItem(t, m, north.ID, "Chair", 100)
	red := mustTag(t, m, north.ID, "red")
	elsewhere := mustTag(t, m, south.ID, "blue")

	_, err := m.Items.LinkTags(ctx, item.ID, []int64{red.ID, elsewhere.ID, 999999}, nil)
	var other *models.TagsOfAnotherStoreError
	if !errors.As(err, &other) || !errors.Is(err, models.ErrTagOfAnotherStore) || fmt.Sprint(other.IDs) != fmt.Sprint([]int64{elsewhere.ID, 999999}) {
		t.Fatalf("linking tags of another store: %v", err)
	}
	if n := count(t, db, "items_tags"); n != 0 {
		t.Fatalf("%d links after a refused link: all or nothing", n)
	}
	linked, err := m.Items.LinkTags(ctx, item.ID, []int64{red.ID, red.ID}, nil)
	if err != nil || len(linked.Tags) != 1 || linked.Tags[0].ID != red.ID {
		t.Fatalf("LinkTags = %+v, %v", linked, err)
	}
	moveTo := south.ID
	_, err = m.Items.Update(ctx, item.ID, models.ItemChanges{StoreID: &moveTo}, nil)
	expectErr(t, "moving an item with tags", err, models.ErrItemHasTags)
	_, _, err = m.Items.UpdateWithTags(ctx, item.ID, models.ItemChanges{}, []int64{elsewhere.ID})
	expectErr(t, "setting a tag of another store", err, models.ErrTagOfAnotherStore)
	if n := count(t, db, "items_tags"); n != 1 {
		t.Fatalf("%d links after a refused UpdateWithTags, want the one that was there", n)
	}

	if _, _, err := m.Items.Unlink(ctx, item.ID, red.ID, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = m.Items.Unlink(ctx, item.ID, red.ID, nil)
	expectErr(t, "unlinking twice", err, models.ErrNotLinked)
	moved, err := m.Items.Update(ctx, item.ID, models.ItemChanges{StoreID: &moveTo}, nil)
	if err != nil || moved.Store.ID != south.ID {
		t.Fatalf("moving an item without tags: %+v, %v", moved, err)
	}
}

// TestCascades: deleting a store deletes its items, tags and their links;
// deleting an item or a user deletes its links or sessions; a tag items
// carry is not deleted.
func TestCascades(t *testing.T) {
	m, db := data(t)
	shop := mustStore(t, m, "Shop")
	keep := mustStore(t, m, "Keep")
	item := mustItem(t, m, shop.ID, "Chair", 100)
	tag := mustTag(t, m, shop.ID, "red")
	if _, err := m.Items.LinkTags(ctx, item.ID, []int64{tag.ID}, nil); err != nil {
		t.Fatal(err)
	}
	expectErr(t, "deleting a tag in use", m.Tags.Delete(ctx, tag.ID, nil), models.ErrTagInUse)
	kept := mustItem(t, m, keep.ID, "Kept", 1)

	if err := m.Stores.Delete(ctx, shop.ID, nil); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int64{"stores": 1, "items": 1, "tags": 0, "items_tags": 0} {
		if n := count(t, db, table); n != want {
			t.Errorf("%d rows in %s after deleting a store, want %d", n, table, want)
		}
	}
	if _, err := m.Items.Get(ctx, kept.ID); err != nil {
		t.Errorf("another store's item: %v", err)
	}

	user, err := m.Users.Create(ctx, "a@example.com", "correct horse", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocklist.New(db.Gorm).Start(ctx, user.ID, "r", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := m.Users.Delete(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "sessions"); n != 0 {
		t.Errorf("%d sessions outlived their user", n)
	}
}

// TestReadsAreOrdered: every list a read returns is ordered by id, and an
// item list by its sort with the id as the tie-break.
func TestReadsAreOrdered(t *testing.T) {
	m, _ := data(t)
	shop := mustStore(t, m, "Shop")
	var ids []int64
	for i, name := range []string{"b", "A", "c"} {
		ids = append(ids, mustItem(t, m, shop.ID, name, int64(10-i)).ID)
	}
	tags := []int64{mustTag(t, m, shop.ID, "z").ID, mustTag(t, m, shop.ID, "y").ID}
	if _, err := m.Items.LinkTags(ctx, ids[0], []int64{tags[1], tags[0]}, nil); err != nil {
		t.Fatal(err)
	}
	store, err := m.Stores.Get(ctx, shop.ID)
	if err != nil || fmt.Sprint(itemIDs(store.Items)) != fmt.Sprint(ids) || store.Tags[0].ID != tags[0] {
		t.Fatalf("store items %v, tags %v: want by id", itemIDs(store.Items), store.Tags)
	}
	item, err := m.Items.Get(ctx, ids[0])
	if err != nil || item.Tags[0].ID != tags[0] || item.Tags[1].ID != tags[1] {
		t.Fatalf("item tags %v: want by id", item.Tags)
	}
	for sort, want := range map[models.ItemSort][]int64{
		models.SortID:        ids,
		models.SortIDDesc:    {ids[2], ids[1], ids[0]},
		models.SortName:      {ids[1], ids[0], ids[2]},
		models.SortPriceDesc: ids,
		models.SortPrice:     {ids[2], ids[1], ids[0]},
	} {
		items, total, err := m.Items.List(ctx, models.ItemFilter{Sort: sort}, models.Page{Number: 1, Size: 10})
		if err != nil || total != 3 || fmt.Sprint(itemIDs(items)) != fmt.Sprint(want) {
			t.Errorf("sort %s: %v (total %d, %v), want %v", sort, itemIDs(items), total, err, want)
		}
	}
}

func itemIDs(items []models.Item) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// TestStatementCounts: each read takes a fixed number of statements,
// whatever the number of rows it returns.
func TestStatementCounts(t *testing.T) {
	m, db := data(t)
	small, big := mustStore(t, m, "Small"), mustStore(t, m, "Big")
	mustItem(t, m, small.ID, "only", 1)
	bigTag := mustTag(t, m, big.ID, "t")
	for i := range 30 {
		item := mustItem(t, m, big.ID, fmt.Sprint("item ", i), 1)
		if _, err := m.Items.LinkTags(ctx, item.ID, []int64{bigTag.ID}, nil); err != nil {
			t.Fatal(err)
		}
	}
	counter := testdb.CountStatements(t, db.Gorm)
	page := models.Page{Number: 1, Size: 100}
	for _, c := range []struct {
		what string
		want int64
		read func() error
	}{
		{"an item with its store and tags", 1, func() error { _, err := m.Items.Get(ctx, 2); return err }},
		{"a small store with its items and tags", 2, func() error { _, err := m.Stores.Get(ctx, small.ID); return err }},
		{"a big store with its items and tags", 2, func() error { _, err := m.Stores.Get(ctx, big.ID); return err }},
		{"a page of stores", 4, func() error { _, _, err := m.Stores.List(ctx, page); return err }},
		{"a page of items", 3, func() error { _, _, err := m.Items.List(ctx, models.ItemFilter{}, page); return err }},
		{"a page past the end", 1, func() error {
			_, _, err := m.Items.List(ctx, models.ItemFilter{}, models.Page{Number: 9, Size: 100})
			return err
		}},
		{"a tag with its store and items", 4, func() error { _, err := m.Tags.Get(ctx, bigTag.ID); return err }},
		{"a new store", 1, func() error { _, err := m.Stores.Create(ctx, "New"); return err }},
		{"a new item, read back", 2, func() error {
			_, err := m.Items.Create(ctx, models.Item{Name: "New", PriceCents: 1, StoreID: small.ID})
			return err
		}},
	} {
		var err error
		if n := counter.Measure(func() { err = c.read() }); err != nil || n != c.want {
			t.Errorf("%s took %d statements (%v), want %d", c.what, n, err, c.want)
		}
	}
}

// TestConcurrentLinkAndDelete: a tag deleted while it is being linked is
// either linked (and the delete refused) or deleted (and the link
// refused): never deleted with a link left behind.
func TestConcurrentLinkAndDelete(t *testing.T) {
	m, db := data(t)
	shop := mustStore(t, m, "Shop")
	for round := range 10 {
		item := mustItem(t, m, shop.ID, fmt.Sprint("item ", round), 1)
		tag := mustTag(t, m, shop.ID, fmt.Sprint("tag ", round))
		start := make(chan struct{})
		var wg sync.WaitGroup
		var linkErr, deleteErr error
		wg.Add(2)
		go func() { defer wg.Done(); <-start; _, linkErr = m.Items.LinkTags(ctx, item.ID, []int64{tag.ID}, nil) }()
		go func() { defer wg.Done(); <-start; deleteErr = m.Tags.Delete(ctx, tag.ID, nil) }()
		close(start)
		wg.Wait()
		linked := linkErr == nil
		deleted := deleteErr == nil
		if linked == deleted {
			t.Fatalf("round %d: link %v, delete %v: want exactly one to win", round, linkErr, deleteErr)
		}
		var links int64
		if err := db.Gorm.Table("items_tags").Where("tag_id = ?", tag.ID).Count(&links).Error; err != nil {
			t.Fatal(err)
		}
		if deleted && links != 0 {
			t.Fatalf("round %d: the tag was deleted with %d links left", round, links)
		}
	}
}
