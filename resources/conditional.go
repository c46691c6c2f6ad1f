package resources

import (
	"github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"stores-api/middleware"
	"stores-api/models"
)

// Conditional writes (RFC 9110 §13): a client sends back, in If-Match, the
// ETag of the version it read, and the write happens only if the resource
// is still that version, so two clients cannot overwrite each other's
// changes unknowingly. The data layer checks the version under the same
// lock as the write (models.Check).

var (
	errPreconditionFailed = &Error{Status: fiber.StatusPreconditionFailed, Code: "precondition_failed",
		Message: "The resource has changed since you read it: fetch it again, and retry with its new ETag."}
	errPreconditionRequired = &Error{Status: fiber.StatusPreconditionRequired, Code: "precondition_required",
		Message: "This server requires If-Match on writes: send the ETag of the version you read."}
)

// ifMatch is the Check a write makes of the request's If-Match: that the
// resource, as out represents it to clients, still has one of the listed
// ETags (or exists at all, for "*"). Without If-Match there is nothing to
// check, unless REQUIRE_IF_MATCH makes that a 428.
func ifMatch[T, O any](s *server, c *fiber.Ctx, out func(T) O) (models.Check[T], error) {
	header := c.Get(fiber.HeaderIfMatch)
	if header == "" {
		if s.cfg.RequireIfMatch {
			return nil, errPreconditionRequired
		}
		return nil, nil
	}
	header = string([]byte(header)) // a copy: the check may run after Fiber reuses the request's buffers
	return func(current T) error {
		body, err := json.Marshal(out(current))
		if err != nil {
			return err
		}
		if !middleware.IfMatchHolds(header, middleware.ETag(body)) {
			return errPreconditionFailed
		}
		return nil
	}, nil
}

// sendWithETag answers with v as JSON and its ETag, the one a GET of the
// same resource gives, so a client can chain writes without reading.
func sendWithETag(c *fiber.Ctx, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, middleware.ETag(body))
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}
