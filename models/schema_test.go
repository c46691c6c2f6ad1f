package models_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"stores-api/blocklist"
	"stores-api/internal/testdb"
	"stores-api/models"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.DropTemplate()
	os.Exit(code)
}

// The schema comes from the SQL migrations, the queries from the GORM
// models: they must agree, column for column, on both databases.
func TestMigratedSchemaMatchesModels(t *testing.T) {
	db := testdb.Open(t)
	migrator := db.Gorm.Migrator()
	for _, model := range append(models.All(), &blocklist.Session{}) {
		parsed, err := schema.Parse(model, &sync.Map{}, db.Gorm.NamingStrategy)
		if err != nil {
			t.Fatal(err)
		}
		table := parsed.Table
		if !migrator.HasTable(table) {
			t.Errorf("table %s is missing", table)
			continue
		}
		columns, err := migrator.ColumnTypes(model)
		if err != nil {
			t.Fatal(err)
		}
		inTable := map[string]bool{}
		for _, c := range columns {
			inTable[c.Name()] = true
		}
		inModel := map[string]bool{}
		for _, f := range parsed.Fields {
			if f.DBName == "" {
				continue // associations
			}
			inModel[f.DBName] = true
			if !inTable[f.DBName] {
				t.Errorf("%s.%s is in the model but not in the table", table, f.DBName)
			}
		}
		for name := range inTable {
			if !inModel[name] {
				t.Errorf("%s.%s is in the table but not in the model", table, name)
			}
		}
	}
}

// The indexes the migrations promise: case-insensitive unique names, and
// an index for every foreign key lookup.
func TestMigratedIndexesExist(t *testing.T) {
	db := testdb.Open(t)
	migrator := db.Gorm.Migrator()
	for table, indexes := range map[string][]string{
		"stores":     {"stores_name_key_key"},
		"items":      {"items_name_key_key", "items_price_cents_idx"},
		"tags":       {"tags_name_key_key"},
		"items_tags": {"items_tags_tag_id_idx"},
		"sessions":   {"sessions_user_id_idx", "sessions_expires_at_idx"},
	} {
		for _, index := range indexes {
			if !migrator.HasIndex(table, index) {
				t.Errorf("index %s on %s is missing", index, table)
			}
		}
	}
}

// The items_tags primary key is (item_id, tag_id): a second identical link
// is refused by the database itself.
func TestItemsTagsPrimaryKey(t *testing.T) {
	db := testdb.Open(t)
	g := db.Gorm
	store := models.Store{Name: "s"}
	must(t, g.Create(&store).Error)
	item := models.Item{Name: "i", PriceCents: 1, StoreID: store.ID}
	must(t, g.Omit("Store", "Tags").Create(&item).Error)
	tag := models.Tag{Name: "t", StoreID: store.ID}
	must(t, g.Omit("Store", "Items").Create(&tag).Error)
	must(t, g.Create(&models.ItemTag{ItemID: item.ID, TagID: tag.ID}).Error)
	if err := g.Create(&models.ItemTag{ItemID: item.ID, TagID: tag.ID}).Error; err == nil {
		t.Error("a duplicate link was accepted")
	}
	// Foreign keys are enforced (SQLite needs the pragma for that).
	if err := g.Create(&models.ItemTag{ItemID: item.ID, TagID: tag.ID + 100}).Error; err == nil {
		t.Error("a link to a missing tag was accepted")
	}
	// Prices are bounded in the database too.
	bad := models.Item{Name: "neg", PriceCents: -1, StoreID: store.ID}
	if err := g.Omit("Store", "Tags").Create(&bad).Error; err == nil {
		t.Error("a negative price was accepted")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The service's PostgreSQL sessions use generic plans unless DATABASE_URL
// chooses otherwise (see genericPlans in db.go).
func TestPostgresSessionsUseGenericPlans(t *testing.T) {
	if os.Getenv(testdb.EnvURL) == "" {
		t.Skip("PostgreSQL only: set " + testdb.EnvURL)
	}
	url := testdb.NewURL(t)
	for dsn, want := range map[string]string{
		url:                           "force_generic_plan",
		url + "&plan_cache_mode=auto": "auto",
	} {
		if !strings.Contains(url, "?") {
			t.Fatalf("test URL %q has no query to extend", url)
		}
		db, err := models.Open(context.Background(), models.Target{Dialect: models.Postgres, DSN: dsn},
			models.Options{MaxOpen: 1, MaxIdle: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		err = db.Raw("SHOW plan_cache_mode").Scan(&mode).Error
		models.Close(db)
		if err != nil || mode != want {
			t.Errorf("plan_cache_mode = %q, %v; want %q", mode, err, want)
		}
	}
}
