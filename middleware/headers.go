package middleware

import "github.com/gofiber/fiber/v2"

// contentSecurityPolicy lets a page load scripts, styles, images and data
// from this origin only. JSON responses do not care; the Swagger UI and
// the admin panel (which sets a stricter policy of its own) serve every
// file they use themselves. Inline styles are allowed because the Swagger
// UI's page carries one; inline scripts are not.
const contentSecurityPolicy = "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; " +
	"script-src 'self'; style-src 'self' 'unsafe-inline'"

// hstsMaxAge is how long a browser that saw the API over HTTPS keeps to
// HTTPS: 180 days.
const hstsMaxAge = "max-age=15552000"

// SetSecurityHeaders sets the headers every answer carries: helmet's
// defaults, with frames denied and this API's Content-Security-Policy.
// The middleware sets them before the handler runs; the error handler sets
// them on answers the HTTP server makes before routing (400, 408, 413,
// 431), which no middleware sees. HSTS goes only over HTTPS, which the app
// sees only through a trusted proxy's X-Forwarded-Proto; subdomains are
// not the API's call.
func SetSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.Set(fiber.HeaderXXSSProtection, "0")
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set("Cross-Origin-Embedder-Policy", "require-corp")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Origin-Agent-Cluster", "?1")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set("X-DNS-Prefetch-Control", "off")
	h.Set("X-Download-Options", "noopen")
	h.Set("X-Permitted-Cross-Domain-Policies", "none")
	if c.Protocol() == "https" {
		h.Set(fiber.HeaderStrictTransportSecurity, hstsMaxAge)
	}
	h.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
}
