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
	etag := ETag(c.Response().Body())
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

// ETag is the entity tag of a JSON document: a strong tag made from a hash
// of its bytes, so two documents share it only when they are the same
// byte for byte. It names the document, not the bytes on the wire: the
// same tag goes out whether or not the compress middleware compresses the
// body in transit, so a client can send back whichever it got.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches applies If-None-Match as RFC 9110 §13.1.2 says: "*" matches
// any current representation, otherwise any tag in the comma-separated
// list matches by weak comparison (W/ prefixes ignored).
func etagMatches(header, etag string) bool {
	return matchAny(header, etag, func(tag string) string { return strings.TrimPrefix(tag, "W/") })
}

// IfMatchHolds applies If-Match as RFC 9110 §13.1.1 says, for a resource
// that exists with the strong tag etag: "*" matches, otherwise a tag in
// the list must equal it by strong comparison, so a weak tag (W/) never
// matches.
func IfMatchHolds(header, etag string) bool {
	return matchAny(header, etag, func(tag string) string { return tag })
}

// matchAny reports whether header is "*" or lists a tag that, normalized,
// equals the normalized etag.
func matchAny(header, etag string, normalize func(string) string) bool {
	header = strings.TrimSpace(header)
	if header == "*" {
		return true
	}
	want := normalize(etag)
	for _, tag := range strings.Split(header, ",") {
		if tag = strings.TrimSpace(tag); tag != "" && normalize(tag) == want {
			return true
		}
	}
	return false
}
