package resources

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
)

// errBodyTooLarge answers a body over maxBodyBytes, as sent or once
// decoded.
var errBodyTooLarge = &Error{Status: fiber.StatusRequestEntityTooLarge, Message: "The request body is larger than 1 MiB."}

// errBadEncoding answers a body that does not decode as its
// Content-Encoding says.
var errBadEncoding = &Error{Status: fiber.StatusBadRequest, Message: "The request body does not decode as its Content-Encoding says."}

// errUnknownEncoding answers a Content-Encoding the server does not
// decode, or more than one.
var errUnknownEncoding = &Error{
	Status:  fiber.StatusUnsupportedMediaType,
	Message: "The request's Content-Encoding is not supported: send the body as it is, or with one of gzip, deflate or br.",
}

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
