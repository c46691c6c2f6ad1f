package resources

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"stores-api/schemas"
)

// Error is an error the client can act on. Handlers return it; the error
// handler writes it in the envelope:
//
//	{"code": 404, "status": "Not Found", "message": "Store not found."}
//
// Code is a machine-readable reason ("token_revoked") sent as "error";
// Fields become "errors", keyed by location ("json", "query") and field.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]schemas.FieldErrors
	// RetryAfter, when set, is sent as the Retry-After header (seconds).
	RetryAfter string
}

func (e *Error) Error() string { return e.Message }

// body builds a fresh map each time: sentinel errors are shared between
// requests and must never be mutated.
func (e *Error) body() fiber.Map {
	b := fiber.Map{"code": e.Status, "status": http.StatusText(e.Status), "message": e.Message}
	if e.Code != "" {
		b["error"] = e.Code
	}
	if len(e.Fields) > 0 {
		b["errors"] = e.Fields
	}
	return b
}

// notFound and conflict build the two most common client errors.
func notFound(msg string) *Error { return &Error{Status: fiber.StatusNotFound, Message: msg} }
func conflict(msg string) *Error { return &Error{Status: fiber.StatusConflict, Message: msg} }

// invalidField is a 422 naming one field of the JSON body.
func invalidField(field, msg string) *Error {
	return &Error{
		Status:  fiber.StatusUnprocessableEntity,
		Message: "Validation failed.",
		Fields:  map[string]schemas.FieldErrors{"json": {field: {msg}}},
	}
}

// Errors shared by several handlers.
var (
	errStoreNotFound = notFound("Store not found.")
	errItemNotFound  = notFound("Item not found.")
	errTagNotFound   = notFound("Tag not found.")
)

// errorHandler turns every error, from handlers, middleware or Fiber itself,
// into the envelope. Only real faults are logged, with their detail; the
// client gets a generic message because the detail may contain SQL.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	if len(c.Response().Header.Peek(fiber.HeaderXContentTypeOptions)) == 0 {
		setSecurityHeaders(c) // an answer made before routing (middleware.go)
	}
	e := s.toError(c, err)
	if e.RetryAfter != "" {
		c.Set(fiber.HeaderRetryAfter, e.RetryAfter)
	}
	return c.Status(e.Status).JSON(e.body())
}

func (s *Server) toError(c *fiber.Ctx, err error) *Error {
	if stack, ok := c.Locals(localsPanicStack).([]byte); ok { // recovered (middleware.go)
		s.Log.Error("panic recovered", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c),
			"panic", err, "stack", string(stack))
		return &Error{Status: fiber.StatusInternalServerError, Message: "Internal server error."}
	}
	var (
		ae *Error
		ve *schemas.ValidationError
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return &Error{
			Status:  fiber.StatusUnprocessableEntity,
			Message: "Validation failed.",
			Fields:  map[string]schemas.FieldErrors{"json": ve.Fields},
		}
	case errors.Is(err, schemas.ErrMalformedJSON):
		return &Error{Status: fiber.StatusBadRequest, Message: "The request body is not valid JSON."}
	case errors.Is(err, gorm.ErrRecordNotFound):
		return notFound("Resource not found.")
	case errors.As(err, &fe):
		return fiberError(fe)
	case dbUnavailable(err): // middleware.go
		s.Log.Warn("database unavailable", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c), "err", err)
		return errDatabaseUnavailable
	}
	s.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c), "err", err)
	return &Error{Status: fiber.StatusInternalServerError, Message: "Internal server error."}
}

// fiberError rewords Fiber's own errors (unknown route, wrong method, body
// too large), whose default messages echo the request back.
func fiberError(fe *fiber.Error) *Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return notFound("The requested URL was not found on the server.")
	case fiber.StatusMethodNotAllowed:
		return &Error{Status: fe.Code, Message: "The method is not allowed for the requested URL."}
	case fiber.StatusRequestEntityTooLarge:
		return &Error{Status: fe.Code, Message: "The request body is larger than 1 MiB."}
	}
	if fe.Code >= 500 {
		return &Error{Status: fe.Code, Message: http.StatusText(fe.Code) + "."}
	}
	return &Error{Status: fe.Code, Message: fe.Message}
}
