package mail

import (
	netmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"stores-api/internal/smtptest"
)

const from = "Stores API <no-reply@example.com>"

func TestValidateURL(t *testing.T) {
	tests := []struct {
		raw     string
		wantErr bool
	}{
		{"smtp://mail.example.com", false},
		{"smtp://user:p%40ss@mail.example.com:2525", false},
		{"smtps://mail.example.com:465", false},
		{"smtp://[::1]:1025", false},
		{"smtp://mail.example.com:", false}, // empty port: the default
		{"", true},
		{"mail.example.com:587", true},
		{"http://mail.example.com", true},
		{"smtp://", true},
		{"smtp://user:pass@:587", true},
		{"smtp://mail.example.com:abc", true},
		{"smtp://mail.example.com:0", true},
		{"smtp://mail.example.com:70000", true},
	}
	for _, tt := range tests {
		if err := ValidateURL(tt.raw); (err != nil) != tt.wantErr {
			t.Errorf("ValidateURL(%q) = %v, wantErr %v", tt.raw, err, tt.wantErr)
		}
	}
}

func TestValidateURLHidesPassword(t *testing.T) {
	for _, raw := range []string{"smtp://u:hunter2@host:abc", "ftp://u:hunter2@host", "smtp://u:hunter2@host:0"} {
		err := ValidateURL(raw)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ValidateURL(%q) = %v, want an error without the password", raw, err)
		}
	}
}

func TestValidateFrom(t *testing.T) {
	for _, ok := range []string{from, "no-reply@example.com"} {
		if err := ValidateFrom(ok); err != nil {
			t.Errorf("ValidateFrom(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "no-reply", "a@example.com, b@example.com"} {
		if err := ValidateFrom(bad); err == nil {
			t.Errorf("ValidateFrom(%q) = nil, want an error", bad)
		}
	}
}

func TestTLSPolicy(t *testing.T) {
	tests := []struct {
		raw  string
		want gomail.TLSPolicy
	}{
		{"smtp://mail.example.com", gomail.TLSMandatory},
		{"smtp://10.0.0.5:25", gomail.TLSMandatory},
		{"smtp://localhost.example.com", gomail.TLSMandatory},
		{"smtp://[2001:db8::1]", gomail.TLSMandatory},
		{"smtp://localhost:1025", gomail.TLSOpportunistic},
		{"smtp://LocalHost", gomail.TLSOpportunistic},
		{"smtp://127.0.0.1:1025", gomail.TLSOpportunistic},
		{"smtp://127.3.2.1", gomail.TLSOpportunistic},
		{"smtp://[::1]:1025", gomail.TLSOpportunistic},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := tlsPolicy(u); got != tt.want {
			t.Errorf("tlsPolicy(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	if _, err := NewSMTP("smtp://", from); err == nil {
		t.Error("NewSMTP accepted a URL without host")
	}
	if _, err := NewSMTP("smtp://127.0.0.1:1025", "not an address"); err == nil {
		t.Error("NewSMTP accepted a bad from address")
	}
}

func mustSMTP(t *testing.T, rawURL string) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL, from)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func mustWelcome(t *testing.T) Message {
	t.Helper()
	m, err := Welcome("ann@example.com", "https://stores.example/verify?token=abc&next=1")
	if err != nil {
		t.Fatalf("Welcome: %v", err)
	}
	return m
}

func TestSMTPSendDelivers(t *testing.T) {
	srv := smtptest.Start(t)
	m := mustWelcome(t)
	if err := mustSMTP(t, srv.URL()).Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Next(t, 5*time.Second)
	gotFrom, err := netmail.ParseAddress(got.From) // go-mail quotes the name: "Stores API" <...>
	if err != nil || *gotFrom != (netmail.Address{Name: "Stores API", Address: "no-reply@example.com"}) {
		t.Errorf("From = %q (%v)", got.From, err)
	}
	if got.Subject != m.Subject || !slices.Equal(got.To, []string{"ann@example.com"}) {
		t.Errorf("Subject, To = %q, %q", got.Subject, got.To)
	}
	if !strings.Contains(string(got.Raw), "multipart/alternative") {
		t.Errorf("not multipart/alternative:\n%s", got.Raw)
	}
	if strings.TrimSpace(got.Text) != strings.TrimSpace(m.Text) {
		t.Errorf("text part = %q, want %q", got.Text, m.Text)
	}
	if strings.TrimSpace(got.HTML) != strings.TrimSpace(m.HTML) {
		t.Errorf("HTML part = %q, want %q", got.HTML, m.HTML)
	}
}

func TestSMTPSendAuthenticates(t *testing.T) {
	const user, pass = "mailer", "p@ss word/%"
	srv := smtptest.StartWithAuth(t, user, pass)
	withCreds := func(p string) string {
		return (&url.URL{Scheme: "smtp", User: url.UserPassword(user, p), Host: srv.Addr()}).String()
	}
	if err := mustSMTP(t, withCreds(pass)).Send(t.Context(), mustWelcome(t)); err != nil {
		t.Fatalf("Send with the right password: %v", err)
	}
	srv.Next(t, 5*time.Second)
	if err := mustSMTP(t, withCreds("wrong")).Send(t.Context(), mustWelcome(t)); err == nil {
		t.Error("Send with a wrong password succeeded")
	}
	if err := mustSMTP(t, srv.URL()).Send(t.Context(), mustWelcome(t)); err == nil {
		t.Error("Send without credentials succeeded against a server requiring AUTH")
	}
	if srv.Count() != 1 {
		t.Errorf("Count = %d, want 1", srv.Count())
	}
}

func TestSMTPSendServerDownThenBack(t *testing.T) {
	srv := smtptest.Start(t)
	s := mustSMTP(t, srv.URL())
	srv.Stop()
	start := time.Now()
	if err := s.Send(t.Context(), mustWelcome(t)); err == nil {
		t.Fatal("Send succeeded with the server down")
	}
	if elapsed := time.Since(start); elapsed > timeout+time.Second {
		t.Errorf("Send took %v to fail, want under the %v timeout", elapsed, timeout)
	}
	srv.Restart(t)
	if err := s.Send(t.Context(), mustWelcome(t)); err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	srv.Next(t, 5*time.Second)
}
