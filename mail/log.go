package mail

import (
	"context"
	"log/slog"
)

// Log is the Sender used in development when no MAIL_URL is set: it writes each email to
// the log in full, so a learner can click the verification link without a mail server.
// Never use it in production: the log would hold every reset link.
type Log struct {
	log *slog.Logger
}

// NewLog returns a Sender that logs emails to log instead of sending them.
func NewLog(log *slog.Logger) *Log {
	return &Log{log: log}
}

// Send logs m at INFO and always succeeds.
func (l *Log) Send(ctx context.Context, m Message) error {
	l.log.InfoContext(ctx, "email not sent (no MAIL_URL); logged instead",
		"to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
