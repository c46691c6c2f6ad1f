package smtptest_test

import (
	"fmt"
	"net"
	"net/smtp"
	"slices"
	"strings"
	"testing"
	"time"

	"stores-api/internal/smtptest"
)

// alternative is a multipart/alternative message with a quoted-printable text part (with
// a soft line break) and a base64 HTML part, as real senders write them.
const alternative = "From: =?UTF-8?q?Caf=C3=A9?= <cafe@example.com>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: =?UTF-8?q?Caf=C3=A9_news?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Caf=C3=A9 is open, see https://example.com/a?x=3D1&=\r\n" +
	"y=3D2\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+Q2Fmw6kgaXMgb3BlbjwvcD4=\r\n" + // <p>Café is open</p>
	"--b1--\r\n"

func send(t *testing.T, addr string, auth smtp.Auth) error {
	t.Helper()
	return smtp.SendMail(addr, auth, "cafe@example.com", []string{"bob@example.com"}, []byte(alternative))
}

func TestNextDecodesMultipartAlternative(t *testing.T) {
	srv := smtptest.Start(t)
	if err := send(t, srv.Addr(), nil); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.Next(t, 5*time.Second)
	if got.From != "Café <cafe@example.com>" || got.Subject != "Café news" {
		t.Errorf("From, Subject = %q, %q", got.From, got.Subject)
	}
	if !slices.Equal(got.To, []string{"bob@example.com"}) {
		t.Errorf("To = %q", got.To)
	}
	if want := "Café is open, see https://example.com/a?x=1&y=2"; got.Text != want {
		t.Errorf("Text = %q, want %q", got.Text, want)
	}
	if want := "<p>Café is open</p>"; got.HTML != want {
		t.Errorf("HTML = %q, want %q", got.HTML, want)
	}
	if !strings.Contains(string(got.Raw), "boundary=\"b1\"") {
		t.Errorf("Raw lacks the original headers:\n%s", got.Raw)
	}
	if srv.Count() != 1 {
		t.Errorf("Count = %d, want 1", srv.Count())
	}
}

func TestStopRefusesAndRestartServesSamePort(t *testing.T) {
	srv := smtptest.Start(t)
	addr := srv.Addr()
	srv.Stop()
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("dial after Stop succeeded")
	}
	srv.Restart(t)
	if srv.Addr() != addr || srv.URL() != "smtp://"+addr {
		t.Errorf("Addr, URL = %q, %q after restart, want %q", srv.Addr(), srv.URL(), addr)
	}
	if err := send(t, addr, nil); err != nil {
		t.Fatalf("send after Restart: %v", err)
	}
	srv.Next(t, 5*time.Second)
}

func TestAuthRequired(t *testing.T) {
	srv := smtptest.StartWithAuth(t, "alice", "s3cret")
	host, _, _ := net.SplitHostPort(srv.Addr())
	tests := []struct {
		name    string
		auth    smtp.Auth
		wantErr bool
	}{
		{"no auth", nil, true},
		{"wrong password", smtp.PlainAuth("", "alice", "nope", host), true},
		{"right password", smtp.PlainAuth("", "alice", "s3cret", host), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := send(t, srv.Addr(), tt.auth)
			if (err != nil) != tt.wantErr {
				t.Fatalf("send err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	if srv.Count() != 1 {
		t.Errorf("Count = %d, want 1 (only the authenticated send)", srv.Count())
	}
}

// fatalRecorder records Fatalf instead of stopping the test, to check Next's timeout.
type fatalRecorder struct {
	testing.TB
	fatal string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestNextFailsOnTimeout(t *testing.T) {
	srv := smtptest.Start(t)
	rec := &fatalRecorder{TB: t}
	start := time.Now()
	srv.Next(rec, 100*time.Millisecond)
	if !strings.Contains(rec.fatal, "no message within") {
		t.Errorf("Fatalf message = %q", rec.fatal)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Next waited %v for a 100ms timeout", elapsed)
	}
}
