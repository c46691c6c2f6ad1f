package admin

import (
	"errors"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"stores-api/models"
	"stores-api/schemas"
)

// form is what one HTML form shows again after a failed submit: the
// values as typed and the problems, per field (keyed like the JSON API's
// fields) or for the whole form. Its methods accept a nil form, an empty
// one.
type form struct {
	ID     string // prefixes the ids of its inputs, unique on the page
	Values map[string]string
	Errors schemas.FieldErrors
	Error  string
}

// newForm starts a form, optionally with the values to show.
func newForm(id string, values map[string]string) *form {
	if values == nil {
		values = map[string]string{}
	}
	return &form{ID: id, Values: values, Errors: schemas.FieldErrors{}}
}

// Value is what the field shows.
func (f *form) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.Values[name]
}

// Errs lists what is wrong with a field.
func (f *form) Errs(name string) []string {
	if f == nil {
		return nil
	}
	return f.Errors[name]
}

// Failed reports whether the form shows any problem.
func (f *form) Failed() bool { return f != nil && (len(f.Errors) > 0 || f.Error != "") }

// refusal is how a form shows one of the data layer's refusals: with what
// status, next to which field ("" for the whole form), in which words.
type refusal struct {
	status  int
	field   string
	message string
}

// refusals words the data layer's refusals of a submitted form.
var refusals = map[error]refusal{
	models.ErrStoreNameTaken: {fiber.StatusConflict, "name", "A store with that name already exists."},
	models.ErrItemNameTaken:  {fiber.StatusConflict, "name", "An item with that name already exists in this store."},
	models.ErrTagNameTaken:   {fiber.StatusConflict, "name", "A tag with that name already exists in this store."},
	models.ErrItemHasTags: {fiber.StatusConflict, "store_id",
		"An item linked to tags cannot move to another store. Remove its tags first."},
	models.ErrTagInUse: {fiber.StatusConflict, "",
		"Could not delete tag. Make sure tag is not associated with any items, then try again."},
	models.ErrNoSuchStore: {fiber.StatusUnprocessableEntity, "store_id", "Store not found."},
}

// fail records on the form why its submit failed and returns the status
// to show it with: a validation error, or one of the refusals. Anything
// else, a missing row included, is returned: it becomes an error page.
func (f *form) fail(err error) (int, error) {
	var (
		ve    *schemas.ValidationError
		other *models.TagsOfAnotherStoreError
	)
	switch {
	case errors.As(err, &ve):
		for name, msgs := range ve.Fields {
			f.Errors[name] = append(f.Errors[name], msgs...)
		}
		return fiber.StatusUnprocessableEntity, nil
	case errors.As(err, &other):
		f.Errors["tag_ids"] = append(f.Errors["tag_ids"], "No tag of the item's store has id "+models.JoinIDs(other.IDs)+".")
		return fiber.StatusUnprocessableEntity, nil
	}
	for sentinel, r := range refusals {
		if !errors.Is(err, sentinel) {
			continue
		}
		if r.field == "" {
			f.Error = r.message
		} else {
			f.Errors[r.field] = append(f.Errors[r.field], r.message)
		}
		return r.status, nil
	}
	return 0, err
}

// validate checks a struct filled from a form with the API's rules, as a
// *schemas.ValidationError (nil when it passes). errs are problems found
// while reading the form.
func (a *panel) validateForm(in any, errs schemas.FieldErrors) error {
	if errs := schemas.ValidateStruct(a.validate, in, errs); errs != nil {
		return &schemas.ValidationError{Fields: errs}
	}
	return nil
}

// field is one labelled input as the "input" partial renders it.
type field struct {
	ID, Name, Label, Type, Value, Hint string
	InputMode, Autocomplete            string
	MaxLength                          int
	Required, Autofocus, HideLabel     bool
	Errs                               []string
}

// inputField builds a field in a template:
//
//	{{template "input" (input .Form "name" "Name" "required" "maxlength=80")}}
//
// Options are type=, inputmode=, autocomplete=, maxlength=, hint=,
// required, autofocus and hidelabel (for screen readers only, where the
// context already shows what the field is).
func inputField(f *form, name, label string, opts ...string) field {
	id := name
	if f != nil && f.ID != "" {
		id = f.ID + "-" + name
	}
	v := field{ID: id, Name: name, Label: label, Type: "text", Value: f.Value(name), Errs: f.Errs(name)}
	for _, opt := range opts {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "type":
			v.Type = val
		case "inputmode":
			v.InputMode = val
		case "autocomplete":
			v.Autocomplete = val
		case "maxlength":
			v.MaxLength, _ = strconv.Atoi(val)
		case "hint":
			v.Hint = val
		case "required":
			v.Required = true
		case "autofocus":
			v.Autofocus = true
		case "hidelabel":
			v.HideLabel = true
		}
	}
	return v
}

// formatPrice shows cents as the decimal a price field accepts: 19.99.
func formatPrice(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "." + strconv.FormatInt(cents%100/10, 10) + strconv.FormatInt(cents%10, 10)
}

// formValue reads a form field, copied: fasthttp reuses the request's
// memory once the handler returns. Bytes that are not UTF-8 become U+FFFD,
// as encoding/json does for the API: PostgreSQL refuses them in a query.
func formValue(c *fiber.Ctx, name string) string {
	return strings.ToValidUTF8(utils.CopyString(c.FormValue(name)), "\uFFFD")
}

// formText reads a form field meant for a text column or a query. NUL
// cannot be typed into a form and PostgreSQL refuses it in text, so it is
// dropped.
func formText(c *fiber.Ctx, name string) string {
	return strings.ReplaceAll(formValue(c, name), "\x00", "")
}

// formValues reads every value of a repeated form field (checkboxes).
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	ct, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if ct == fiber.MIMEMultipartForm {
		if mf, err := c.MultipartForm(); err == nil {
			for _, v := range mf.Value[name] {
				out = append(out, strings.Clone(v))
			}
		}
		return out
	}
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// pathID reads the id a path names; anything that cannot be an id is the
// resource's not-found.
func pathID(c *fiber.Ctx, param string, notFound error) (int64, error) {
	id, ok := parseID(c.Params(param))
	if !ok {
		return 0, notFound
	}
	return id, nil
}

// queryID reads a positive whole number from the query string; anything
// else means "not given".
func queryID(c *fiber.Ctx, name string) int64 {
	id, _ := parseID(c.Query(name))
	return id
}

// parseID reads a positive id; anything else is 0 and not ok.
func parseID(raw string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// countNoun writes "1 tag", "2 tags".
func countNoun(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

// pager is one page of a list, with links to its neighbours that keep the
// list's filters.
type pager struct {
	Page, Pages, Total int64
	Prev, Next         string
}

// newPager shows page p (one that exists) of total rows of the list at
// path, whose links keep params.
func newPager(p models.Page, path string, params url.Values, total int64) pager {
	v := pager{Page: p.Number, Pages: p.Last(total), Total: total}
	link := func(n int64) string {
		q := url.Values{}
		for k, vals := range params {
			q[k] = vals
		}
		if n > 1 {
			q.Set("page", strconv.FormatInt(n, 10))
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	if v.Page > 1 {
		v.Prev = link(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.Next = link(v.Page + 1)
	}
	return v
}

// askedPage is the page of size the query string asks for (the first
// when none or garbage).
func askedPage(c *fiber.Ctx, size int64) models.Page {
	return models.Page{Number: max(1, queryID(c, "page")), Size: size}
}

// redirectWith sends the browser to location (a GET, after a POST) with a
// short notice for the next page to show.
func (a *panel) redirectWith(c *fiber.Ctx, location, notice string) error {
	if notice != "" {
		c.Cookie(a.cookie(c, noticeCookie, url.QueryEscape(notice), time.Now().Add(time.Minute)))
	}
	return c.Redirect(location, fiber.StatusSeeOther)
}

// takeNotice reads the notice the previous action left, and clears it.
func (a *panel) takeNotice(c *fiber.Ctx) string {
	raw := c.Cookies(noticeCookie)
	if raw == "" {
		return ""
	}
	c.Cookie(a.cookie(c, noticeCookie, "", cookieDeleted))
	notice, err := url.QueryUnescape(raw)
	if err != nil || len(notice) > 200 {
		return ""
	}
	return notice
}
