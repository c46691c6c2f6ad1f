// Package mail sends the API's emails: account verification and password reset.
//
// Handlers depend on the Sender interface, not on SMTP, so development without a mail
// server (Log) and tests (a real SMTP server from internal/smtptest) need no special
// cases in the code that sends.
package mail

import "context"

// Message is one email. Every email carries both a plain-text and an HTML body: the text
// part is what screen readers, terminals and strict mail clients show.
type Message struct {
	To, Subject, Text, HTML string
}

// Sender delivers a Message. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*Log)(nil)
)
