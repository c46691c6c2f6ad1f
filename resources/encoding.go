package resources

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
)

// errBodyTooLarge answers a body over maxBodyBytes, as sent or once
// decoded.
var errBodyTooLarge = &Error{Status: fiber.StatusRequestEntityTooLarge, Message: "The request body is larger than 1 MiB."}

// errBadEncoding answers a body that does not decode as its
// Content-Encoding says.
var errBadEncoding = &Error{Status: fiber.StatusBadRequest, Message: "The request body does not decode as its Content-Encoding says."}

// decodeBody replaces a body sent with a Content-Encoding (gzip, deflate
// or br) by its decoded bytes before anything reads it. Fiber would
// otherwise inflate it on the first c.Body() with no bound at all, so a
// few hundred KiB of gzip could take gigabytes of memory: here decoding
// stops, with a 413, as soon as the output passes maxBodyBytes, the same
// limit the server applies to the bytes on the wire.
func decodeBody(limit int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		header := c.Request().Header.Peek(fiber.HeaderContentEncoding)
		if len(header) == 0 {
			return c.Next()
		}
		body, err := decodeAll(string(header), c.Request().Body(), limit)
		if err != nil {
			return err
		}
		c.Request().Header.Del(fiber.HeaderContentEncoding)
		c.Request().SetBody(body)
		return c.Next()
	}
}

// decodeAll undoes the codings listed in a Content-Encoding header, last
// applied first (RFC 9110 §8.4), never producing more than limit bytes.
func decodeAll(header string, body []byte, limit int) ([]byte, error) {
	codings := strings.Split(header, ",")
	for i := len(codings) - 1; i >= 0; i-- {
		coding := strings.ToLower(strings.TrimSpace(codings[i]))
		if coding == "identity" || coding == "" {
			continue
		}
		decoded, err := decodeOne(coding, body, limit)
		if err != nil {
			return nil, err
		}
		body = decoded
	}
	return body, nil
}

// decodeOne undoes one coding, reading at most limit+1 bytes of output:
// one byte past the limit is enough to know the body is too large.
func decodeOne(coding string, body []byte, limit int) ([]byte, error) {
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
		return nil, &Error{
			Status:  fiber.StatusUnsupportedMediaType,
			Message: "The request's Content-Encoding is not supported: send the body as it is, or with gzip, deflate or br.",
		}
	}
	if err != nil {
		return nil, errBadEncoding
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	switch {
	case len(out) > limit:
		return nil, errBodyTooLarge
	case err != nil && !errors.Is(err, io.EOF):
		return nil, errBadEncoding
	}
	return out, nil
}
