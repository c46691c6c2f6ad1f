package main

import (
	"strings"
	"testing"
)

// A recorded request becomes a script that runs the same SQL text, with the
// varying arguments drawn per transaction and the others as they were.
func TestBuildReference(t *testing.T) {
	stmts := []statement{
		{sql: "INSERT INTO items (name, name_key, store_id) SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $4 AND user_id = $5) RETURNING id",
			args: []any{"Lamp", "lamp", "7", "SID", int64(1)}},
		{sql: "SELECT * FROM items WHERE id = $1 AND store_id = $2", args: []any{"42", int64(7)}},
	}
	ref, err := buildReference(stmts, varying{ids: map[int64][2]string{7: {"store", "random(1, 10)"}},
		texts: map[string]bool{"Lamp": true, "lamp": true}, returned: 42})
	if err != nil {
		t.Fatal(err)
	}
	want := `\set store random(1, 10)
\set unique random(1, 9000000000000000000)
\set s0a5 1
INSERT INTO items (name, name_key, store_id) SELECT :unique, :unique, :store WHERE EXISTS (SELECT 1 FROM sessions WHERE id = :s0a4 AND user_id = :s0a5) RETURNING id \gset returned_
SELECT * FROM items WHERE id = :returned_id AND store_id = :store;
`
	if ref.script != want {
		t.Fatalf("script:\n%s\nwant:\n%s", ref.script, want)
	}
	if strings.Join(ref.defines, " ") != "s0a4=SID" {
		t.Fatalf("defines = %v", ref.defines)
	}
}
