package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// timeout bounds the dial and each SMTP command, so a dead mail server fails a request
// in seconds instead of holding it (go-mail's default is 15 s).
const timeout = 10 * time.Second

// SMTP is a Sender that delivers through an SMTP server. It is safe for concurrent use.
type SMTP struct {
	host string
	opts []gomail.Option
	from string
}

// NewSMTP returns a Sender for the server at rawURL, sending as from.
//
// smtp://[user:pass@]host[:port] submits on port 587 by default and requires STARTTLS,
// except on a loopback host, where development servers (Mailpit, smtptest) rarely have
// TLS and the traffic never leaves the machine. smtps:// uses implicit TLS on port 465
// by default. With a user, it authenticates with PLAIN or LOGIN, whichever the server
// offers. from is an RFC 5322 address such as "Stores API <no-reply@example.com>".
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, port, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := ValidateFrom(from); err != nil {
		return nil, err
	}
	return &SMTP{host: u.Hostname(), opts: options(u, port), from: from}, nil
}

// Send delivers m over a new connection. Each call builds its own go-mail Client: one
// connection per email is simple and survives mail server restarts, and go-mail's
// opportunistic AUTH writes to its Client while dialling, so a shared Client would race.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send %q: %w", m.Subject, err)
	}
	return nil
}

// message builds m as multipart/alternative: text/plain first, text/html preferred.
func (s *SMTP) message(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("mail: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}

// ValidateURL reports whether raw is a usable SMTP URL, so config can refuse a malformed
// MAIL_URL at start-up rather than at the first signup. The error never contains the
// password.
func ValidateURL(raw string) error {
	_, _, err := parseURL(raw)
	return err
}

// ValidateFrom reports whether addr is a single RFC 5322 address.
func ValidateFrom(addr string) error {
	if _, err := netmail.ParseAddress(addr); err != nil {
		return fmt.Errorf("mail: invalid from address %q: %w", addr, err)
	}
	return nil
}

// parseURL checks raw and returns it with its port, defaulted by scheme.
func parseURL(raw string) (*url.URL, int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL, password included
		}
		return nil, 0, fmt.Errorf("mail: invalid SMTP URL: %w", err)
	}
	var port int
	switch u.Scheme {
	case "smtp":
		port = 587
	case "smtps":
		port = 465
	default:
		return nil, 0, fmt.Errorf("mail: invalid SMTP URL: scheme %q is not smtp or smtps", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, 0, errors.New("mail: invalid SMTP URL: host required")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, 0, fmt.Errorf("mail: invalid SMTP URL: port %q", p)
		}
		port = n
	}
	return u, port, nil
}

// options turns a parsed URL into go-mail client options.
func options(u *url.URL, port int) []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout)}
	if u.Scheme == "smtps" {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(tlsPolicy(u)))
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		// Not SMTPAuthAutoDiscover: without TLS (loopback) it never picks PLAIN or LOGIN.
		// go-mail's PLAIN and LOGIN still refuse to send a password unencrypted to a
		// host other than localhost, 127.0.0.1 or ::1.
		opts = append(opts, gomail.WithUsername(user), gomail.WithPassword(pass),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	return opts
}

// tlsPolicy decides STARTTLS for smtp:// URLs: mandatory, so a server that does not offer
// it (or an attacker stripping it) cannot make us send passwords and reset links in clear
// text, except on loopback, where it is used only if offered.
func tlsPolicy(u *url.URL) gomail.TLSPolicy {
	if isLoopback(u.Hostname()) {
		return gomail.TLSOpportunistic
	}
	return gomail.TLSMandatory
}

// isLoopback reports whether host is "localhost" or an address in 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
