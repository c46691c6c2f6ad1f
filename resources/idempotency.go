package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"stores-api/middleware"
	"stores-api/models"
)

// Idempotent retries (the IETF draft "The Idempotency-Key HTTP Header
// Field"): a client that sends POST /stores, POST /items,
// POST /stores/{id}/tags or POST /register with an Idempotency-Key may
// send the same request again, after a timeout say, and gets the first
// answer back, marked Idempotent-Replayed, instead of a second store or a
// 409 that hides whether the first try worked. Keys and answers are kept
// in the database for a day, so every replica and a restarted process
// replay them. Without the header nothing changes.
//
// The work and the keeping of its answer are two steps: a process that
// dies between them leaves the key to be taken over after a minute, and
// the retry does the work again. Each of these routes creates a row whose
// name (or email) is unique, so that retry gets a 409, never a duplicate.

const (
	headerIdempotencyKey      = "Idempotency-Key"
	headerIdempotentReplayed  = "Idempotent-Replayed"
	maxIdempotencyKeyLength   = 255
	idempotencyRetryAfterSecs = "1"
)

var (
	errBadIdempotencyKey = &Error{Status: fiber.StatusBadRequest, Code: "invalid_idempotency_key",
		Message: "Idempotency-Key must be 1 to 255 printable ASCII characters."}
	errIdempotencyKeyReused = &Error{Status: fiber.StatusUnprocessableEntity, Code: "idempotency_key_reused",
		Message: "This Idempotency-Key came with another request: use a new key for a new request."}
	errIdempotencyKeyInProgress = &Error{Status: fiber.StatusConflict, Code: "idempotency_key_in_progress",
		Message:    "A request with this Idempotency-Key is still being answered: retry in a moment.",
		RetryAfter: idempotencyRetryAfterSecs}
)

// keptHeaders are the headers of an answer a replay repeats.
var keptHeaders = []string{fiber.HeaderContentType, fiber.HeaderLocation, fiber.HeaderETag}

// keyScope says whose keys a route's keys are: a user's, or, before there
// is a user, a client address's.
type keyScope func(s *server, c *fiber.Ctx) (string, error)

// byUser scopes keys to the caller's account, so no user can see another's
// answers. On a guarded route the token is not checked yet; it is checked
// here, since a replay reads no data of its own to prove it with.
func byUser(s *server, c *fiber.Ctx) (string, error) {
	p := caller(c)
	if p == nil {
		var err error
		if p, err = s.checkBearer(c); err != nil {
			return "", err
		}
	}
	return "user:" + strconv.FormatInt(p.UserID, 10), nil
}

// byClientAddress scopes keys to the client's address, for /register.
func byClientAddress(_ *server, c *fiber.Ctx) (string, error) {
	return "address:" + c.IP(), nil
}

// idempotent makes a route honour Idempotency-Key.
func (s *server) idempotent(scopeOf keyScope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := c.Get(headerIdempotencyKey)
		if key == "" {
			return c.Next()
		}
		if !validIdempotencyKey(key) {
			return errBadIdempotencyKey
		}
		key = strings.Clone(key)
		scope, err := scopeOf(s, c)
		if err != nil {
			return err
		}
		keys := s.data.IdempotencyKeys
		previous, err := keys.Claim(c.UserContext(), scope, key, requestHash(c), time.Now())
		switch {
		case errors.Is(err, models.ErrKeyReused):
			return errIdempotencyKeyReused
		case errors.Is(err, models.ErrKeyInProgress):
			return errIdempotencyKeyInProgress
		case err != nil:
			return err
		case previous != nil:
			return replay(c, *previous)
		}
		answer, err := s.answerOnce(c)
		if err != nil {
			keys.Release(c.UserContext(), scope, key)
			return err
		}
		if err := keys.Record(c.UserContext(), scope, key, answer); err != nil {
			// The client has its answer; a retry after the key's lease
			// does the work again, and meets the name it made (409).
			s.log.Warn("keeping the answer of an idempotent request failed", "request_id", middleware.RequestID(c), "err", err)
		}
		return nil
	}
}

// answerOnce runs the route and writes its answer, errors included, so it
// can be kept. An answer a retry must not get again, because it depends
// on the credentials or the server's state rather than on the request
// (401, 403, 429, 5xx), is returned as an error instead: the key is then
// released and the error answered as usual.
func (s *server) answerOnce(c *fiber.Ctx) (models.Answer, error) {
	if err := c.Next(); err != nil {
		e := s.toError(c, err)
		if e.Status >= 500 || e.Status == fiber.StatusUnauthorized || e.Status == fiber.StatusForbidden ||
			e.Status == fiber.StatusTooManyRequests {
			return models.Answer{}, err
		}
		if err := s.errorHandler(c, e); err != nil {
			return models.Answer{}, err
		}
	}
	a := models.Answer{Status: c.Response().StatusCode(), Body: append([]byte(nil), c.Response().Body()...),
		Headers: map[string]string{}}
	for _, h := range keptHeaders {
		if v := c.Response().Header.Peek(h); len(v) > 0 {
			a.Headers[h] = string(v)
		}
	}
	return a, nil
}

// replay sends a kept answer again.
func replay(c *fiber.Ctx, a models.Answer) error {
	for h, v := range a.Headers {
		c.Set(h, v)
	}
	c.Set(headerIdempotentReplayed, "true")
	return c.Status(a.Status).Send(a.Body)
}

// validIdempotencyKey accepts 1 to 255 printable ASCII characters.
func validIdempotencyKey(key string) bool {
	if len(key) == 0 || len(key) > maxIdempotencyKeyLength {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestHash tells one request from another sent with the same key: the
// method, the path and the body, decoded.
func requestHash(c *fiber.Ctx) string {
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.Path() + "\n"))
	h.Write(c.Body())
	return hex.EncodeToString(h.Sum(nil))
}

// checkBearer checks the request's access token as requireAccess does,
// for a route whose own middleware checks it later, or not at all.
func (s *server) checkBearer(c *fiber.Ctx) (*principal, error) {
	raw, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || raw == "" {
		return nil, errAuthRequired
	}
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
	if err != nil {
		return nil, tokenError(c, err)
	}
	userID, err := validClaims(claims)
	if err != nil {
		return nil, err
	}
	if claims.Type != accessToken {
		return nil, errWrongType
	}
	return s.lookUpToken(c, claims, userID, verifiedEmail)
}
