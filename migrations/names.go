package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"stores-api/models"
)

// nameKeyTables are the tables whose names are unique, and within what:
// stores everywhere, items and tags within their store.
var nameKeyTables = []struct {
	table, scope, oldIndex string
}{
	{"stores", "", "stores_lower_name_key"},
	{"items", "store_id", "items_store_id_lower_name_key"},
	{"tags", "store_id", "tags_store_id_lower_name_key"},
}

// nameKeyMigration makes names unique by models.NameKey, the Unicode
// case-folded, NFC-normalised name, instead of lower(name), which knows
// ASCII only on SQLite: "café" and "CAFÉ" were two stores there and one on
// PostgreSQL. The key is made in Go, so it is a Go migration: it adds
// name_key to each table, fills it for every row, and only then builds the
// unique indexes. Rows that the new rule finds to share a name stop the
// migration with a message naming them, before anything changes.
func nameKeyMigration(version int64, dialect string) *goose.Migration {
	// pgx numbers its placeholders; SQLite takes ?.
	update := "UPDATE %s SET name_key = ? WHERE id = ?"
	if dialect == "postgres" {
		update = "UPDATE %s SET name_key = $1 WHERE id = $2"
	}
	return goose.NewGoMigration(version,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			for _, t := range nameKeyTables {
				if err := addNameKey(ctx, tx, t.table, t.scope, t.oldIndex, update); err != nil {
					return err
				}
			}
			return nil
		}},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			for _, t := range nameKeyTables {
				columns := strings.TrimPrefix(t.scope+", lower(name)", ", ")
				if err := execAll(ctx, tx,
					fmt.Sprintf("DROP INDEX %s_name_key_key", t.table),
					fmt.Sprintf("CREATE UNIQUE INDEX %s ON %s (%s)", t.oldIndex, t.table, columns),
					fmt.Sprintf("ALTER TABLE %s DROP COLUMN name_key", t.table),
				); err != nil {
					return err
				}
			}
			return nil
		}})
}

// addNameKey adds and fills name_key in table, whose names are unique
// within scope (a column, or "" for the whole table).
func addNameKey(ctx context.Context, tx *sql.Tx, table, scope, oldIndex, update string) error {
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN name_key TEXT NOT NULL DEFAULT ''", table)); err != nil {
		return err
	}
	keys, err := nameKeys(ctx, tx, table, scope)
	if err != nil {
		return err
	}
	for id, key := range keys {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(update, table), key, id); err != nil {
			return err
		}
	}
	columns := strings.TrimPrefix(scope+", name_key", ", ")
	return execAll(ctx, tx,
		fmt.Sprintf("DROP INDEX %s", oldIndex),
		fmt.Sprintf("CREATE UNIQUE INDEX %s_name_key_key ON %s (%s)", table, table, columns))
}

// nameKeys reads every row's name and returns its key by id, or an error
// naming two rows whose names the key makes one.
func nameKeys(ctx context.Context, tx *sql.Tx, table, scope string) (map[int64]string, error) {
	scopeColumn := "0"
	if scope != "" {
		scopeColumn = scope
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT id, name, %s FROM %s ORDER BY id", scopeColumn, table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type owner struct {
		id   int64
		name string
	}
	keys := map[int64]string{}
	seen := map[string]owner{}
	for rows.Next() {
		var (
			id, scopeID int64
			name        string
		)
		if err := rows.Scan(&id, &name, &scopeID); err != nil {
			return nil, err
		}
		key := models.NameKey(name)
		scoped := fmt.Sprint(scopeID, "\x00", key)
		if first, taken := seen[scoped]; taken {
			return nil, fmt.Errorf("%s %d %q and %d %q have the same name once case is ignored, which names may no "+
				"longer share: rename one of them (the admin panel can), then migrate again", table, first.id, first.name, id, name)
		}
		seen[scoped] = owner{id, name}
		keys[id] = key
	}
	return keys, rows.Err()
}

func execAll(ctx context.Context, tx *sql.Tx, statements ...string) error {
	for _, s := range statements {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
