package resources

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"stores-api/models"
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

// setPageHeaders sets X-Total-Count (the matches before paging) and an
// RFC 8288 Link header with first, prev, next and last, as they apply.
// The links are relative references (path and query, no scheme or host),
// so they stay right behind any proxy; each keeps the client's other
// parameters in their order and ends with page and per_page.
func setPageHeaders(c *fiber.Ctx, path string, params []schemas.QueryParam, p models.Page, total int64) {
	c.Set(headerTotalCount, strconv.FormatInt(total, 10))
	last := p.Last(total)
	base := pageBase(path, params)
	link := func(rel string, page int64) string {
		return "<" + base + "page=" + strconv.FormatInt(page, 10) + "&per_page=" + strconv.FormatInt(p.Size, 10) +
			`>; rel="` + rel + `"`
	}
	links := []string{link("first", 1)}
	if p.Number > 1 { // past the end, prev is the last page that has rows
		links = append(links, link("prev", min(p.Number-1, last)))
	}
	if p.Number < last {
		links = append(links, link("next", p.Number+1))
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
