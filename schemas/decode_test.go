package schemas

import (
	"errors"
	"testing"
)

func TestDecodeReportsEveryField(t *testing.T) {
	v := NewValidator()
	var in ItemIn
	err := Decode(v, []byte(`{"name": 1, "price": 1.234, "extra": true, "description": null}`), &in)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	want := map[string]string{
		"name":     "Not a valid string.",
		"price":    "Must have at most two decimal places.",
		"store_id": "Missing data for required field.",
		"extra":    "Unknown field.",
	}
	for field, msg := range want {
		if got := ve.Fields[field]; len(got) != 1 || got[0] != msg {
			t.Errorf("%s: %v, want [%q]", field, got, msg)
		}
	}
	if len(ve.Fields) != len(want) {
		t.Errorf("fields = %v", ve.Fields)
	}
}

func TestDecodeNormalizes(t *testing.T) {
	var in RegisterIn
	if err := Decode(NewValidator(), []byte(`{"email": "  Ann@Example.COM ", "password": " spaces kept "}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.Email != "ann@example.com" || in.Password != " spaces kept " {
		t.Errorf("in = %+v", in)
	}
}

func TestDecodeNullable(t *testing.T) {
	v := NewValidator()
	var absent, null, set ItemUpdate
	for body, dst := range map[string]*ItemUpdate{`{"name": "x"}`: &absent, `{"description": null}`: &null, `{"description": "d"}`: &set} {
		if err := Decode(v, []byte(body), dst); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	if absent.Description.Set || !null.Description.Set || null.Description.Value != nil || *set.Description.Value != "d" {
		t.Errorf("absent=%+v null=%+v set=%+v", absent.Description, null.Description, set.Description)
	}
	if null.Empty() {
		t.Error("clearing the description is an update")
	}
}

func TestDecodePasswordBytes(t *testing.T) {
	v := NewValidator()
	// 24 three-byte characters are 72 bytes: accepted; one more is not.
	ok := `{"email": "a@b.co", "password": "` + repeat("€", 24) + `"}`
	tooLong := `{"email": "a@b.co", "password": "` + repeat("€", 25) + `"}`
	if err := Decode(v, []byte(ok), &RegisterIn{}); err != nil {
		t.Errorf("72 bytes refused: %v", err)
	}
	if err := Decode(v, []byte(tooLong), &RegisterIn{}); err == nil {
		t.Error("75 bytes accepted")
	}
}

// Whatever the bytes, Decode answers with nil, ErrMalformedJSON or a
// ValidationError, and never panics: the API turns these into 2xx, 400 and
// 422, so no body can cause a 500.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"name": "Chair", "price": 19.99, "store_id": 1}`, `{"name": "", "price": "x"}`, `[]`, `null`, `{`,
		`{"tag_ids": [1, 2, 3]}`, `{"description": null}`, `{"price": 1e999999}`, "\xff", `{"name": "a\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	v := NewValidator()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&StoreIn{}, &ItemIn{}, &ItemUpdate{}, &LinkTagsIn{}, &RegisterIn{}, &LoginIn{}} {
			err := Decode(v, body, dst)
			var ve *ValidationError
			if err != nil && !errors.Is(err, ErrMalformedJSON) && !errors.As(err, &ve) {
				t.Fatalf("Decode(%q) = %v", body, err)
			}
		}
	})
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// PostgreSQL cannot store NUL in text, so no field that reaches it may
// carry one: it is a 422, never a database error.
func TestDecodeRefusesNUL(t *testing.T) {
	v := NewValidator()
	login := `{"email": "a\u0000@b.co", "password": "12345678"}`
	cases := []struct {
		body string
		dst  any
	}{
		{`{"name": "a", "price": 1, "store_id": 1, "description": "x\u0000y"}`, &ItemIn{}},
		{`{"description": "x\u0000y"}`, &ItemUpdate{}},
		{login, &LoginIn{}},
		{login, &RegisterIn{}},
	}
	for _, c := range cases {
		var ve *ValidationError
		if err := Decode(v, []byte(c.body), c.dst); !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", c.body, err)
		}
	}
	var in ItemIn
	if err := Decode(v, []byte(`{"name": "a", "price": 1, "store_id": 1, "description": "line 1\nline 2\ttab"}`), &in); err != nil {
		t.Errorf("newlines and tabs in a description are fine: %v", err)
	}
}
