package models

import "testing"

func TestParseURL(t *testing.T) {
	cases := []struct {
		in      string
		dialect string
		dsn     string
	}{
		{"", SQLite, "data.db"},
		{"sqlite:///data.db", SQLite, "data.db"},
		{"sqlite:///sub/dir/app.db", SQLite, "sub/dir/app.db"},
		{"sqlite:////var/lib/app.db", SQLite, "/var/lib/app.db"},
		{"postgres://u:p@db:5432/stores", Postgres, "postgres://u:p@db:5432/stores"},
		{"postgresql://u@localhost/stores?sslmode=disable", Postgres, "postgresql://u@localhost/stores?sslmode=disable"},
	}
	for _, c := range cases {
		got, err := ParseURL(c.in)
		if err != nil || got.Dialect != c.dialect || got.DSN != c.dsn {
			t.Errorf("ParseURL(%q) = %+v, %v; want %s %s", c.in, got, err, c.dialect, c.dsn)
		}
	}
	for _, bad := range []string{"mysql://x", "data.db", "sqlite://", "sqlite:///", "sqlite:///x.db?mode=ro"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}
