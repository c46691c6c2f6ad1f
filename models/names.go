package models

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NameKey is the key under which the names of stores, and of the items
// and tags of a store, are unique: the name NFC-normalised and case-folded
// by Unicode's full case folding, so "café" and "CAFÉ", "Straße" and
// "STRASSE", and an "é" typed as one code point or as "e" and an accent
// are one name. The same Go code makes it on SQLite and PostgreSQL, whose
// own lower() disagree (SQLite's knows ASCII only), so both refuse the
// same names. Each table keeps it in name_key, under a unique index.
func NameKey(name string) string {
	// A Caser keeps state, so each call gets its own.
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(name)))
}
