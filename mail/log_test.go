package mail_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"stores-api/mail"
)

func TestLogWritesWholeEmail(t *testing.T) {
	var buf bytes.Buffer
	sender := mail.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	m, err := mail.Welcome("ann@example.com", "https://stores.example/verify?token=abc")
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	out := buf.String()
	for _, want := range []string{"level=INFO", "ann@example.com", m.Subject, "https://stores.example/verify?token=abc", "48 hours"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
