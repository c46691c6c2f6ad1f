package middleware

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// Answers to bodies that cannot be decoded. They are *fiber.Error, as the
// server's own 413 is, so each front end words them its way.
var (
	// errBodyTooLarge: the body passes MaxBodyBytes once decoded.
	errBodyTooLarge = fiber.ErrRequestEntityTooLarge
	// errBadEncoding: the body does not decode as its Content-Encoding
	// says.
	errBadEncoding = fiber.NewError(fiber.StatusBadRequest,
		"The request body does not decode as its Content-Encoding says.")
	// errUnknownEncoding: a Content-Encoding the server does not decode,
	// or more than one.
	errUnknownEncoding = fiber.NewError(fiber.StatusUnsupportedMediaType,
		"The request's Content-Encoding is not supported: send the body as it is, or with one of gzip, deflate or br.")
)

// decodeBody replaces a body sent with a Content-Encoding (gzip, deflate
// or br) by its decoded bytes before anything reads it. Fiber would
// otherwise inflate it on the first c.Body() with no bound at all, so a
// few hundred KiB of gzip could take gigabytes of memory: here decoding
// stops, with a 413, as soon as the output passes limit, the same limit
// the server applies to the bytes on the wire. The output goes through
// buffers kept for reuse, so a stream of such bodies leaves no garbage.
func decodeBody(limit int) fiber.Handler {
	buffers := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	return func(c *fiber.Ctx) error {
		header := c.Request().Header.Peek(fiber.HeaderContentEncoding)
		if len(header) == 0 {
			return c.Next()
		}
		coding, err := singleCoding(string(header))
		if err != nil {
			return err
		}
		if coding != "" {
			buf := buffers.Get().(*bytes.Buffer)
			defer buffers.Put(buf)
			buf.Reset()
			if err := decode(coding, c.Request().Body(), limit, buf); err != nil {
				return err
			}
			c.Request().SetBody(buf.Bytes()) // a copy: buf goes back to the pool
		}
		c.Request().Header.Del(fiber.HeaderContentEncoding)
		return c.Next()
	}
}

// singleCoding reads a Content-Encoding header naming at most one coding
// besides identity, and returns it ("" for none). Stacked codings are
// legal HTTP but no client sends them for a request body.
func singleCoding(header string) (string, error) {
	coding := ""
	for _, c := range strings.Split(header, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		switch {
		case c == "identity" || c == "":
		case coding != "":
			return "", errUnknownEncoding
		default:
			coding = c
		}
	}
	return coding, nil
}

// decode undoes one coding into out, reading at most limit+1 bytes of
// output: one byte past the limit is enough to know the body is too large.
func decode(coding string, body []byte, limit int, out *bytes.Buffer) error {
	var (
		r   io.Reader
		err error
	)
	switch coding {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate": // RFC 9110 §8.4.1.2: the zlib format
		r, err = zlib.NewReader(bytes.NewReader(body))
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return errUnknownEncoding
	}
	if err != nil {
		return errBadEncoding
	}
	n, err := out.ReadFrom(io.LimitReader(r, int64(limit)+1))
	switch {
	case n > int64(limit):
		return errBodyTooLarge
	case err != nil && !errors.Is(err, io.EOF):
		return errBadEncoding
	}
	return nil
}

// dbDeadline gives the request's database work a deadline, through the
// user context that handlers pass to the data layer: see defaultDBTimeout.
func (s *Stack) dbDeadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.dbTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// errTooManySignIns answers a client past the sign-in rate limit; the
// limiter has set Retry-After.
var errTooManySignIns = fiber.NewError(fiber.StatusTooManyRequests, "Too many requests: try again later.")

// signInLimit allows perMinute requests a minute per client address;
// 0 turns it off. The count lives in process memory, so each replica keeps
// its own; with REDIS_URL, sharedLimit replaces it.
func signInLimit(perMinute int) fiber.Handler {
	if perMinute == 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max:          perMinute,
		Expiration:   time.Minute,
		LimitReached: func(*fiber.Ctx) error { return errTooManySignIns },
	})
}
