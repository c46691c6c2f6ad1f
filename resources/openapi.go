package resources

import (
	"embed"
	"stores-api/schemas"

	"github.com/gofiber/fiber/v2"
)

// openAPIDocument is the OpenAPI 3 description of the whole API, written by
// hand next to the handlers it describes. The test suite keeps it honest:
// every route of the app must be in it and every route in it must exist,
// and every response the tests receive is validated against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// swaggerAssets is Swagger UI (swagger-ui-dist, Apache-2.0: see
// swagger/LICENSE), embedded so the page works without any CDN.
//
//go:embed swagger/index.html swagger/swagger-initializer.js swagger/swagger-ui.css swagger/swagger-ui-bundle.js
var swaggerAssets embed.FS

// swaggerFiles maps the files GET /swagger-ui/:file serves to their types.
var swaggerFiles = map[string]string{
	"swagger-initializer.js": "text/javascript; charset=utf-8",
	"swagger-ui-bundle.js":   "text/javascript; charset=utf-8",
	"swagger-ui.css":         "text/css; charset=utf-8",
}

// registerDocRoutes serves the API's description. It needs no token: the
// document describes the API, it holds no data.
func registerDocRoutes(r fiber.Router) {
	r.Get("/", serveIndex)
	r.Get("/openapi.json", serveOpenAPI)
	r.Get("/swagger-ui", serveSwaggerUI)
	r.Get("/swagger-ui/:file", serveSwaggerAsset)
}

// index is what GET / answers: where to go next.
var index = schemas.IndexOut{
	Name:    "Stores API",
	Docs:    "/swagger-ui",
	OpenAPI: "/openapi.json",
	Admin:   "/admin",
	Health:  "/healthz",
}

// serveIndex handles GET /: the links a newcomer looks for first.
func serveIndex(c *fiber.Ctx) error { return c.JSON(index) }

// serveOpenAPI handles GET /openapi.json.
func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(openAPIDocument)
}

// serveSwaggerUI handles GET /swagger-ui: the page, which loads its
// scripts from /swagger-ui/ and the document from /openapi.json.
func serveSwaggerUI(c *fiber.Ctx) error {
	page, err := swaggerAssets.ReadFile("swagger/index.html")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(page)
}

// serveSwaggerAsset handles GET /swagger-ui/:file, for the files the page
// names and no others.
func serveSwaggerAsset(c *fiber.Ctx) error {
	name := c.Params("file")
	contentType, ok := swaggerFiles[name]
	if !ok {
		return fiber.ErrNotFound
	}
	body, err := swaggerAssets.ReadFile("swagger/" + name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, contentType)
	return c.Send(body)
}
