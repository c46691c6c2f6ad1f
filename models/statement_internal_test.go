package models

import "testing"

func TestStatementsNumberTheirPlaceholders(t *testing.T) {
	s := newStatement("SELECT a FROM t WHERE a = ? AND b IN (?, ?)")
	if s.sql(SQLite) != "SELECT a FROM t WHERE a = ? AND b IN (?, ?)" {
		t.Errorf("SQLite's text changed: %q", s.sql(SQLite))
	}
	if want := "SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)"; s.sql(Postgres) != want {
		t.Errorf("PostgreSQL's text is %q, want %q", s.sql(Postgres), want)
	}
	g := guardableAnd("SELECT a FROM t WHERE a = ?", " ORDER BY a")
	if want := "SELECT a FROM t WHERE a = $1 AND EXISTS (SELECT 1 FROM sessions WHERE id = $2 AND user_id = $3) ORDER BY a"; g.guarded.numbered != want {
		t.Errorf("guarded: %q, want %q", g.guarded.numbered, want)
	}
	if st, args := NewGuard("s", 7).pick(g, 1); st != g.guarded || len(args) != 3 || args[1] != "s" || args[2] != int64(7) {
		t.Errorf("a guard picked %q with %v", st.text, args)
	}
	if st, args := noGuard.pick(g, 1); st != g.open || len(args) != 1 || st.numbered != "SELECT a FROM t WHERE a = $1 ORDER BY a" {
		t.Errorf("no guard picked %q with %v", st.numbered, args)
	}
}
