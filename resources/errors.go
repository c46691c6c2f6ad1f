package resources

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"stores-api/middleware"
	"stores-api/models"
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

// dataAnswers are the answers to the data layer's errors: the same answer
// whichever route met the error.
var dataAnswers = []struct {
	err    error
	answer *Error
}{
	{models.ErrStoreNotFound, notFound("Store not found.")},
	{models.ErrItemNotFound, notFound("Item not found.")},
	{models.ErrTagNotFound, notFound("Tag not found.")},
	{models.ErrUserNotFound, notFound("User not found.")},
	{models.ErrNotLinked, notFound("The item is not linked to that tag.")},
	{models.ErrStoreNameTaken, conflict("A store with that name already exists.")},
	{models.ErrItemNameTaken, conflict("An item with that name already exists in this store.")},
	{models.ErrTagNameTaken, conflict("A tag with that name already exists in this store.")},
	{models.ErrEmailTaken, conflict("A user with that email already exists.")},
	{models.ErrItemHasTags, conflict("An item linked to tags cannot move to another store. Remove its tags first.")},
	{models.ErrTagInUse, conflict("Could not delete tag. Make sure tag is not associated with any items, then try again.")},
	{models.ErrNoSuchStore, invalidField("store_id", "Store not found.")},
	{models.ErrInvalidCredentials, authError("invalid_credentials", "Invalid credentials.")},
	// A guarded write that wrote nothing: only the guard can have stopped
	// it. The token middleware's own check then names the reason; this
	// answer stands only if the session has since come back, which
	// revocation never allows.
	{models.ErrGuardFailed, errTokenRevoked},
}

// dataAnswer is the answer to a data layer error, nil for a fault.
func dataAnswer(err error) *Error {
	var other *models.TagsOfAnotherStoreError
	if errors.As(err, &other) {
		return invalidField("tag_ids", "No tag of the item's store has id "+models.JoinIDs(other.IDs)+".")
	}
	for _, a := range dataAnswers {
		if errors.Is(err, a.err) {
			return a.answer
		}
	}
	return nil
}

// errDatabaseUnavailable answers a request that failed because the
// database could not be reached: the client may retry, nothing is wrong
// with the request.
var errDatabaseUnavailable = &Error{
	Status:     fiber.StatusServiceUnavailable,
	Code:       "database_unavailable",
	Message:    "Database unavailable.",
	RetryAfter: "5",
}

// errorHandler turns every error, from handlers, middleware, the data layer
// or Fiber itself, into the envelope. Only real faults are logged, with
// their detail; the client gets a generic message because the detail may
// contain SQL.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	if len(c.Response().Header.Peek(fiber.HeaderXContentTypeOptions)) == 0 {
		middleware.SetSecurityHeaders(c) // an answer made before routing
	}
	e := s.toError(c, err)
	if e.RetryAfter != "" {
		c.Set(fiber.HeaderRetryAfter, e.RetryAfter)
	}
	return c.Status(e.Status).JSON(e.body())
}

func (s *server) toError(c *fiber.Ctx, err error) *Error {
	if stack := middleware.PanicStack(c); stack != nil {
		s.log.Error("panic recovered", "method", c.Method(), "path", c.Path(), "request_id", middleware.RequestID(c),
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
	case errors.As(err, &fe):
		return fiberError(fe)
	case dataAnswer(err) != nil:
		return dataAnswer(err)
	case models.Unavailable(err):
		s.log.Warn("database unavailable", "method", c.Method(), "path", c.Path(),
			"request_id", middleware.RequestID(c), "err", err)
		return errDatabaseUnavailable
	}
	s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", middleware.RequestID(c), "err", err)
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
