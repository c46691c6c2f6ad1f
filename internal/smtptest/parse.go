package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
)

// Received is one accepted message, decoded so tests can assert on what a reader sees.
type Received struct {
	From    string   // the From header with RFC 2047 words decoded, e.g. "Stores API <no-reply@example.com>"
	To      []string // the envelope recipients (RCPT TO): who the server actually delivered to
	Subject string   // the Subject header, decoded
	Text    string   // the first text/plain part, transfer encoding undone, CRLF turned into LF
	HTML    string   // the first text/html part, likewise
	Raw     []byte   // the DATA exactly as received, for anything the fields above leave out
}

// parse decodes raw with the standard library only, so a bug in the sender's MIME writer
// cannot be hidden by a matching bug in a shared MIME library.
func parse(raw []byte, rcpts []string) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("smtptest: parse message: %w", err)
	}
	var dec mime.WordDecoder
	from, err := dec.DecodeHeader(m.Header.Get("From"))
	if err != nil {
		return Received{}, fmt.Errorf("smtptest: decode From: %w", err)
	}
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("smtptest: decode Subject: %w", err)
	}
	r := Received{From: from, To: slices.Clone(rcpts), Subject: subject, Raw: raw}
	if err := r.addBody(textproto.MIMEHeader(m.Header), m.Body); err != nil {
		return Received{}, fmt.Errorf("smtptest: parse body: %w", err)
	}
	return r, nil
}

// addBody fills Text and HTML from one entity, descending into multipart containers so
// multipart/mixed around multipart/alternative is read too. Other media types are skipped.
func (r *Received) addBody(h textproto.MIMEHeader, body io.Reader) error {
	mediaType, params := "text/plain", map[string]string(nil) // RFC 2045's default
	if ct := h.Get("Content-Type"); ct != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(ct); err != nil {
			return fmt.Errorf("content type %q: %w", ct, err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		return r.addParts(multipart.NewReader(body, params["boundary"]))
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	dec, err := decoder(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(dec)
	if err != nil {
		return fmt.Errorf("decode %s: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	if mediaType == "text/plain" && r.Text == "" {
		r.Text = text
	}
	if mediaType == "text/html" && r.HTML == "" {
		r.HTML = text
	}
	return nil
}

// addParts reads every part of a multipart body. NextRawPart, not NextPart: NextPart
// decodes quoted-printable itself but not base64, and decoder handles both alike.
func (r *Received) addParts(mr *multipart.Reader) error {
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("next part: %w", err)
		}
		if err := r.addBody(p.Header, p); err != nil {
			return err
		}
	}
}

// decoder undoes a Content-Transfer-Encoding.
func decoder(cte string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return r, nil
	case "quoted-printable":
		return quotedprintable.NewReader(r), nil
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r), nil // skips the CRLF line breaks
	default:
		return nil, fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
	}
}
