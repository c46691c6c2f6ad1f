package middleware

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// cacheControlPrivate is sent with every response to an authenticated
// request: no shared cache may store it, and a browser must revalidate
// (with the ETag) before reusing it.
const cacheControlPrivate = "private, no-cache"

// httpCaching is app-wide middleware that runs after the handler:
//   - a successful GET or HEAD gets an ETag, a hash of the body;
//   - when the request's If-None-Match names that ETag, the answer is 304
//     with no body, so a client revalidates a list without downloading it;
//   - a response to a request that carries credentials (an Authorization
//     header) gets Cache-Control: private, no-cache (unless the handler
//     chose no-store) and Vary: Authorization, whatever its status, so it
//     is never shared between users.
//
// Error responses are written later, by the error handler, so they never
// get an ETag; the Cache-Control set here stays on them.
func httpCaching(c *fiber.Ctx) error {
	err := c.Next()
	if len(c.Request().Header.Peek(fiber.HeaderAuthorization)) > 0 {
		// A handler's no-store is stricter still: keep it.
		if !strings.Contains(string(c.Response().Header.Peek(fiber.HeaderCacheControl)), "no-store") {
			c.Set(fiber.HeaderCacheControl, cacheControlPrivate)
		}
		c.Vary(fiber.HeaderAuthorization)
	}
	if err != nil || c.Response().StatusCode() != fiber.StatusOK {
		return err
	}
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		return nil
	}
	etag := bodyETag(c.Response().Body())
	c.Set(fiber.HeaderETag, etag)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		// No body, and no Content-Type for the body that is not there.
		c.Context().ResetBody()
		c.Response().Header.SetNoDefaultContentType(true)
		c.Response().Header.Del(fiber.HeaderContentType)
		c.Status(fiber.StatusNotModified)
	}
	return nil
}

// bodyETag is a weak entity tag made from a hash of the body. Weak because
// it vouches for the content, not the bytes on the wire: the same body may
// be sent compressed or not.
func bodyETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches applies If-None-Match as RFC 9110 §13.1.2 says: "*" matches
// any current representation, otherwise any tag in the comma-separated
// list matches by weak comparison (W/ prefixes ignored).
func etagMatches(header, etag string) bool {
	header = strings.TrimSpace(header)
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == want {
			return true
		}
	}
	return false
}
