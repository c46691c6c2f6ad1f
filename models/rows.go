package models

import (
	"database/sql"
	"errors"

	"gorm.io/gorm"
)

// The helpers of the statements whose rows are scanned directly rather
// than through GORM's reflection: the hot reads, where that costs a
// fraction as much.

// eachRow runs a query and calls scan for each of its rows.
func eachRow(query *gorm.DB, scan func(*sql.Rows) error) error {
	rows, err := query.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// insertReturningID runs an INSERT … RETURNING id and returns the new id,
// or 0 when the statement inserted nothing because its guard failed. It
// reads the row straight from the driver (GORM's Scan renders the SQL for
// its logger first), so it translates constraint violations into
// gorm.ErrDuplicatedKey and gorm.ErrForeignKeyViolated itself, as GORM
// does for its own statements.
func insertReturningID(db *gorm.DB, query string, args ...any) (int64, error) {
	var id int64
	err := eachRow(db.Raw(query+" RETURNING id", args...), func(rows *sql.Rows) error { return rows.Scan(&id) })
	if translator, ok := db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		err = translator.Translate(err)
	}
	return id, err
}

// take reads the row of T with primary key id, or answers notFound.
func take[T any](db *gorm.DB, id int64, notFound error) (T, error) {
	var row T
	err := db.Take(&row, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, notFound
	}
	return row, err
}

// nullableItem holds the item columns of a row that may have none: a store
// without items, joined to them.
type nullableItem struct {
	ID          sql.NullInt64
	Name        sql.NullString
	PriceCents  sql.NullInt64
	Description *string
}

func (n nullableItem) value(storeID int64) Item {
	return Item{ID: n.ID.Int64, Name: n.Name.String, PriceCents: n.PriceCents.Int64, Description: n.Description, StoreID: storeID}
}
