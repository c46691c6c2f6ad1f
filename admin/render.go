package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// assets holds the templates and static files, built into the binary so
// the panel needs no files on disk, no build step and no CDN.
//
//go:embed templates/*.html static/*
var assets embed.FS

// page is what every page shows around its content. Page types embed it.
type page struct {
	Title  string
	Nav    string     // the menu entry to mark as current
	Me     *adminUser // nil when signed out
	CSRF   string     // the token every data-changing form posts back
	Notice string     // a short note left by the previous action
	Asset  func(string) string
}

func (p *page) base() *page { return p }

// view is any page type: a struct embedding page.
type view interface{ base() *page }

// errorView is the page of an error no form could show.
type errorView struct {
	page
	Status  int
	Message string
}

// renderError shows the error page. It never fails: if even that page
// cannot be rendered, a line of plain text goes out.
func (a *panel) renderError(c *fiber.Ctx, status int, title, message string) error {
	err := a.render(c, status, "error", &errorView{page: page{Title: title}, Status: status, Message: message})
	if err != nil {
		a.log.Error("rendering the admin error page failed", "err", err)
		c.Type("txt", "utf-8")
		return c.Status(status).SendString(title + ". " + message)
	}
	return nil
}

// render executes a page template into the response. The notice left by
// the previous action is shown once, by the next page a GET renders.
func (a *panel) render(c *fiber.Ctx, status int, name string, v view) error {
	p := v.base()
	p.Me = currentAdmin(c)
	p.CSRF, _ = c.Locals(localsCSRF).(string)
	p.Asset = assetURL
	if c.Method() == fiber.MethodGet && p.Notice == "" {
		p.Notice = a.takeNotice(c)
	}
	t, ok := pages[name]
	if !ok {
		return errors.New("admin page template " + name + " does not exist")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.Status(status).Send(buf.Bytes())
}

// pages holds one template set per page: the layout, the shared partials
// and the page's own content block. They and the static files below are
// parsed from the binary once, as constants are: nothing changes them.
var pages = mustParsePages()

func mustParsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"input": inputField,
		"price": formatPrice,
		"add":   func(a, b int64) int64 { return a + b },
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(assets, "templates/_*.html"))
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(assets, file))
	}
	return out
}

// static maps a static file's name to its content; staticVersion changes
// whenever a file does.
var static, staticVersion = loadStatic()

func loadStatic() (map[string][]byte, string) {
	files := map[string][]byte{}
	names, err := fs.Glob(assets, "static/*")
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	for _, file := range names {
		b, err := assets.ReadFile(file)
		if err != nil {
			panic(err)
		}
		files[path.Base(file)] = b
		h.Write(b)
	}
	return files, hex.EncodeToString(h.Sum(nil))[:12]
}

// assetURL names a static file with a version that changes with the
// files, so browsers may cache them for a long time.
func assetURL(name string) string {
	return Prefix + "/static/" + name + "?v=" + staticVersion
}

// serveAsset handles GET /admin/static/:name.
func serveAsset(c *fiber.Ctx) error {
	b, ok := static[c.Params("name")]
	if !ok {
		return errNoSuchPage
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(c.Params("name"))))
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(b)
}
