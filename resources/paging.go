package resources

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/schemas"
)

// Headers of a paged list.
const (
	headerTotalCount = "X-Total-Count"
	headerLink       = "Link"
)

// queryParams copies the request's query string into name/value pairs, in
// the order the client sent them. string(b) copies, so the pairs stay valid
// after fasthttp reuses its buffers.
func queryParams(c *fiber.Ctx) []schemas.QueryParam {
	var params []schemas.QueryParam
	c.Context().QueryArgs().VisitAll(func(name, value []byte) {
		params = append(params, schemas.QueryParam{Name: string(name), Value: string(value)})
	})
	return params
}

// queryError reports bad query parameters under errors.query.<param>.
func queryError(err error) error {
	var ve *schemas.ValidationError
	if errors.As(err, &ve) {
		return &Error{
			Status:  fiber.StatusUnprocessableEntity,
			Message: "Validation failed.",
			Fields:  map[string]schemas.FieldErrors{"query": ve.Fields},
		}
	}
	return err
}

// listQuery describes one paged list: how to narrow the rows, and how to
// read the page that is returned.
type listQuery struct {
	Path   string               // canonical path of the list, for the Link header
	Params []schemas.QueryParam // the client's parameters, kept in the links
	Page   schemas.Page
	Model  any                     // the table counted
	Filter func(*gorm.DB) *gorm.DB // WHERE clauses, shared by the count and the page
	// Read orders the page it is given (with a unique tie-break) and reads
	// its rows, with what they show, into the caller's variable.
	Read func(page *gorm.DB) error
}

// findPage counts the matching rows, sets X-Total-Count and Link, then
// reads the requested page. A page past the end is not read: an empty
// list, not an error. The number of queries does not depend on the page
// size.
func (s *Server) findPage(c *fiber.Ctx, q listQuery) error {
	db := s.DB.WithContext(c.UserContext())
	var total int64
	if err := db.Model(q.Model).Scopes(q.Filter).Count(&total).Error; err != nil {
		return err
	}
	setPageHeaders(c, q.Path, q.Params, q.Page, total)
	if q.Page.Offset() >= total {
		return nil
	}
	return q.Read(db.Model(q.Model).Scopes(q.Filter).Limit(int(q.Page.PerPage)).Offset(int(q.Page.Offset())))
}

// noFilter is the Filter of a list that only pages.
func noFilter(db *gorm.DB) *gorm.DB { return db }

// lastPage is the number of the last page: 1 for an empty list, so first
// and last always name a page that exists.
func lastPage(total, perPage int64) int64 {
	return max(1, (total+perPage-1)/perPage)
}

// setPageHeaders sets X-Total-Count (the matches before paging) and an
// RFC 8288 Link header with first, prev, next and last, as they apply.
// The links are relative references (path and query, no scheme or host),
// so they stay right behind any proxy; each keeps the client's other
// parameters in their order and ends with page and per_page.
func setPageHeaders(c *fiber.Ctx, path string, params []schemas.QueryParam, p schemas.Page, total int64) {
	c.Set(headerTotalCount, strconv.FormatInt(total, 10))
	last := lastPage(total, p.PerPage)
	base := pageBase(path, params)
	link := func(rel string, page int64) string {
		return "<" + base + "page=" + strconv.FormatInt(page, 10) + "&per_page=" + strconv.FormatInt(p.PerPage, 10) +
			`>; rel="` + rel + `"`
	}
	links := []string{link("first", 1)}
	if p.Page > 1 { // past the end, prev is the last page that has rows
		links = append(links, link("prev", min(p.Page-1, last)))
	}
	if p.Page < last {
		links = append(links, link("next", p.Page+1))
	}
	links = append(links, link("last", last))
	c.Set(headerLink, strings.Join(links, ", "))
}

// pageBase is path?<the client's parameters but page and per_page>&,
// ready for page=N&per_page=M to be appended.
func pageBase(path string, params []schemas.QueryParam) string {
	var b strings.Builder
	b.WriteString(path)
	b.WriteByte('?')
	for _, p := range params {
		if p.Name == "page" || p.Name == "per_page" {
			continue
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
		b.WriteByte('&')
	}
	return b.String()
}
