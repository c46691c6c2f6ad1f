package models

import (
	"strconv"
	"strings"

	"stores-api/blocklist"
)

// A statement is SQL of the hot paths, written once with ? placeholders
// and rendered for PostgreSQL ($1, $2, …) when the program starts, so that
// running it costs no parsing: GORM's Raw scans the text for placeholders
// on every call. Only constant SQL becomes a statement, and none has a ?
// inside a string literal.
type statement struct {
	text     string // as written: SQLite's placeholders
	numbered string // PostgreSQL's
}

func newStatement(text string) statement {
	var b strings.Builder
	n := 0
	for _, r := range text {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return statement{text: text, numbered: b.String()}
}

// sql is the statement's text for the dialect.
func (s statement) sql(dialect string) string {
	if dialect == Postgres {
		return s.numbered
	}
	return s.text
}

// guardable is a statement in two forms: as written, and checking a token
// as it runs (Guard).
type guardable struct {
	open, guarded statement
}

// guardableAnd is the statement head + tail, whose WHERE clause, which
// ends head, takes a Guard's condition after an AND.
func guardableAnd(head, tail string) guardable {
	return newGuardable(head, " AND ", tail)
}

// guardableWhere is the statement head + tail, where head has no WHERE
// clause of its own: a Guard's condition becomes it.
func guardableWhere(head, tail string) guardable {
	return newGuardable(head, " WHERE ", tail)
}

func newGuardable(head, join, tail string) guardable {
	return guardable{
		open:    newStatement(head + tail),
		guarded: newStatement(head + join + blocklist.LiveCondition + tail),
	}
}
