package schemas

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"stores-api/models"
)

// Paging limits of every list endpoint.
const (
	DefaultPerPage = 50
	MaxPerPage     = 100
	// MaxPage bounds page so that the row offset, (page-1) × per_page,
	// can never overflow.
	MaxPage = math.MaxInt32
	// MaxTags bounds how many tag parameters one search may repeat.
	MaxTags = 20
	// maxNameLen matches the longest item or tag name that can exist.
	maxNameLen = 80
)

// QueryParam is one name=value pair of a query string. Lists keep the pairs
// in order, so the Link header can repeat the client's own parameters.
type QueryParam struct {
	Name  string
	Value string
}

// ItemQuery is the query string of GET /items: the filter, with its sort,
// and the page.
type ItemQuery struct {
	Filter models.ItemFilter
	Page   models.Page
}

// Messages a bad query parameter is reported with.
const (
	msgUnknownParam = "Unknown parameter."
	msgRepeated     = "Must be given at most once."
	msgNotInteger   = "Not a valid integer."
)

// queryReader groups the values of a query string by name and collects
// every problem, so one response reports all bad parameters at once.
type queryReader struct {
	values map[string][]string
	errs   FieldErrors
}

func newQueryReader(params []QueryParam, allowed ...string) *queryReader {
	r := &queryReader{values: map[string][]string{}, errs: FieldErrors{}}
	for _, p := range params {
		r.values[p.Name] = append(r.values[p.Name], p.Value)
	}
	for name := range r.values {
		if !slices.Contains(allowed, name) {
			r.errs.add(name, msgUnknownParam)
		}
	}
	return r
}

// single returns the one value of a parameter that may not repeat.
func (r *queryReader) single(name string) (string, bool) {
	vals := r.values[name]
	switch len(vals) {
	case 0:
		return "", false
	case 1:
		return vals[0], true
	}
	r.errs.add(name, msgRepeated)
	return "", false
}

// integer reads a whole number from lo to hi, or def when absent.
func (r *queryReader) integer(name string, def, lo, hi int64) int64 {
	v, ok := r.single(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && !isDigits(strings.TrimPrefix(v, "-")) {
		r.errs.add(name, msgNotInteger)
		return def
	}
	if err != nil || n < lo || n > hi { // err here is a range error
		r.errs.add(name, "Must be between "+strconv.FormatInt(lo, 10)+" and "+strconv.FormatInt(hi, 10)+".")
		return def
	}
	return n
}

// price reads an exact price in cents, the same way a JSON body's price is
// read, so min_price=19.99 means exactly 1999 cents.
func (r *queryReader) price(name string) *int64 {
	v, ok := r.single(name)
	if !ok {
		return nil
	}
	cents, err := ParsePrice(v)
	if err != nil {
		r.errs.add(name, err.Error())
		return nil
	}
	return &cents
}

func (r *queryReader) page() models.Page {
	return models.Page{
		Number: r.integer("page", 1, 1, MaxPage),
		Size:   r.integer("per_page", DefaultPerPage, 1, MaxPerPage),
	}
}

func (r *queryReader) err() error {
	if len(r.errs) > 0 {
		return &ValidationError{Fields: r.errs}
	}
	return nil
}

// ParsePageQuery reads the query string of a list that only pages
// (GET /stores, GET /stores/{id}/tags). A *ValidationError names every bad
// or unknown parameter.
func ParsePageQuery(params []QueryParam) (models.Page, error) {
	r := newQueryReader(params, "page", "per_page")
	p := r.page()
	return p, r.err()
}

// ParseItemQuery reads the query string of GET /items. A *ValidationError
// names every bad or unknown parameter.
func ParseItemQuery(params []QueryParam) (ItemQuery, error) {
	r := newQueryReader(params, "name", "store_id", "tag", "min_price", "max_price", "sort", "page", "per_page")
	q := ItemQuery{Page: r.page(), Filter: models.ItemFilter{Sort: models.SortID}}
	f := &q.Filter
	if name, ok := r.single("name"); ok {
		if msg := badName(name); msg != "" {
			r.errs.add("name", msg)
		}
		f.Name = strings.ToLower(name)
	}
	f.StoreID = r.integer("store_id", 0, 1, math.MaxInt64)
	f.TagNames = r.tags()
	f.MinPrice = r.price("min_price")
	f.MaxPrice = r.price("max_price")
	if f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice {
		r.errs.add("min_price", "Must not be greater than max_price.")
	}
	if sort, ok := r.single("sort"); ok {
		if slices.Contains(models.ItemSorts, models.ItemSort(sort)) {
			f.Sort = models.ItemSort(sort)
		} else {
			r.errs.add("sort", "Must be one of: "+joinSorts(models.ItemSorts)+".")
		}
	}
	return q, r.err()
}

func joinSorts(sorts []models.ItemSort) string {
	words := make([]string, len(sorts))
	for i, s := range sorts {
		words[i] = string(s)
	}
	return strings.Join(words, ", ")
}

// tags reads the repeatable tag parameter. Tag names are stored trimmed,
// so the values are trimmed too; they are compared without case.
func (r *queryReader) tags() []string {
	vals := r.values["tag"]
	if len(vals) > MaxTags {
		r.errs.add("tag", "Must have at most "+strconv.Itoa(MaxTags)+" entries.")
		return nil
	}
	var tags []string
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if v == "" {
			r.errs.add("tag", "Field may not be empty.")
			return nil
		}
		if msg := badName(v); msg != "" { // before ToLower, which would mend bad UTF-8
			r.errs.add("tag", msg)
			return nil
		}
		if v = strings.ToLower(v); !slices.Contains(tags, v) {
			tags = append(tags, v)
		}
	}
	return tags
}

// badName says what is wrong with a name to search for, or "". Stored
// names are valid UTF-8 without control characters and at most 80
// characters long, so nothing else could match; PostgreSQL would also
// refuse a NUL byte or invalid UTF-8 outright.
func badName(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "Not a valid string."
	case strings.ContainsFunc(s, unicode.IsControl):
		return "Must not contain control characters."
	case utf8.RuneCountInString(s) > maxNameLen:
		return "Must be at most 80 characters long."
	}
	return ""
}
