package admin

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"stores-api/schemas"
)

// What the store and item lists share: their search forms read from the
// query string, and their orders, chosen with a select or by clicking a
// column header.

// maxSearch is the longest text a list's search field keeps: the longest
// name there can be, so a longer search could match nothing.
const maxSearch = 80

// queryText reads a search field of a list from the query string: valid
// UTF-8 without NUL (PostgreSQL refuses both in a query), trimmed, cut to
// maxSearch characters.
func queryText(c *fiber.Ctx, name string) string {
	s := strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(c.Query(name), ""), "\x00", ""))
	if utf8.RuneCountInString(s) > maxSearch {
		s = string([]rune(s)[:maxSearch])
	}
	return s
}

// queryPrice reads a price bound of a filter form, exactly as the API
// reads min_price and max_price: nil when the field is empty, and nil with
// the reason on the form when it is not a price.
func queryPrice(f *form, name string) *int64 {
	raw := f.Values[name]
	if raw == "" {
		return nil
	}
	cents, err := schemas.ParsePrice(raw)
	if err != nil {
		f.Errors[name] = append(f.Errors[name], err.Error())
		return nil
	}
	return &cents
}

// msgUnknownSort explains a sort parameter no link or select of the
// panel sends.
const msgUnknownSort = "Unknown order: choose one from the list."

// sortOption is one choice of a list's sort select.
type sortOption struct {
	Value, Label string
}

// listSort is the order of a list page: the choices of its select, the
// current one, and the links of its sortable column headers.
type listSort struct {
	Current string
	Options []sortOption
	def     string     // the order when none is asked for, left out of links
	path    string     // the list's page
	params  url.Values // the list's other parameters, kept by every link
}

// querySort reads the sort parameter of a list whose orders are options,
// def when it is absent. An order not among them is def, with the reason
// on the form.
func querySort(c *fiber.Ctx, f *form, path string, def string, options []sortOption) listSort {
	s := listSort{Current: def, Options: options, def: def, path: path}
	raw := strings.TrimSpace(c.Query("sort"))
	switch {
	case raw == "":
	case slices.ContainsFunc(options, func(o sortOption) bool { return o.Value == raw }):
		s.Current = strings.Clone(raw)
	default:
		f.Errors["sort"] = append(f.Errors["sort"], msgUnknownSort)
	}
	return s
}

// keep sets the list's other parameters, which every link keeps.
func (s *listSort) keep(params url.Values) { s.params = params }

// with is the list's parameters with the order sort.
func (s listSort) with(sort string) url.Values {
	q := url.Values{}
	for k, v := range s.params {
		q[k] = v
	}
	if sort != s.def {
		q.Set("sort", sort)
	}
	return q
}

// Chosen reports whether the list is in an order other than its default.
func (s listSort) Chosen() bool { return s.Current != s.def }

// Params are the list's parameters with its current order, for the pager.
func (s listSort) Params() url.Values { return s.with(s.Current) }

// sortHeader is a column header that sorts the list by its column.
type sortHeader struct {
	Label string
	Class string
	Href  string // the list sorted by the column: ascending, or descending when it already is ascending
	Dir   string // the aria-sort value when the list is sorted by the column, else ""
}

// Header is the header of the column whose ascending order is key and
// descending order "-"+key. Its link goes back to the first page.
func (s listSort) Header(key, label string, class ...string) sortHeader {
	h := sortHeader{Label: label, Class: strings.Join(class, " ")}
	next := key
	switch s.Current {
	case key:
		h.Dir, next = "ascending", "-"+key
	case "-" + key:
		h.Dir = "descending"
	}
	h.Href = s.path
	if q := s.with(next); len(q) > 0 {
		h.Href += "?" + q.Encode()
	}
	return h
}
