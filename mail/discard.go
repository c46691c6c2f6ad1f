package mail

import (
	"context"
	"log/slog"
)

// Discard is the Sender of a deployment that sends no email
// (MAIL_DISABLED=true): each email is dropped, and a line without its
// content says so.
type Discard struct {
	log *slog.Logger
}

// NewDiscard returns a Sender that sends nothing.
func NewDiscard(log *slog.Logger) *Discard { return &Discard{log: log} }

// Send drops m.
func (d *Discard) Send(ctx context.Context, m Message) error {
	d.log.InfoContext(ctx, "email not sent: MAIL_DISABLED=true", "subject", m.Subject)
	return nil
}
