package mail_test

import (
	"strings"
	"testing"

	"stores-api/mail"
)

func TestTemplates(t *testing.T) {
	const link = "https://stores.example/verify?token=abc&next=1"
	tests := []struct {
		name        string
		render      func(to, link string) (mail.Message, error)
		wantSubject string
		wantText    []string // in both parts
	}{
		{"welcome", mail.Welcome, "Welcome to the Stores API: confirm your email",
			[]string{"Welcome", "48 hours", "If you did not sign up, ignore this email."}},
		{"verify email", mail.VerifyEmail, "Confirm your email",
			[]string{"confirm your email", "48 hours", "ignore this email"}},
		{"password reset", mail.PasswordReset, "Reset your Stores API password",
			[]string{"1 hour", "If you did not ask, ignore this email; your password is unchanged."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.render("ann@example.com", link)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if m.To != "ann@example.com" || m.Subject != tt.wantSubject {
				t.Errorf("To, Subject = %q, %q; want ann@example.com, %q", m.To, m.Subject, tt.wantSubject)
			}
			if !strings.Contains(m.Text, link) {
				t.Errorf("text lacks the raw link:\n%s", m.Text)
			}
			escaped := "https://stores.example/verify?token=abc&amp;next=1"
			if !strings.Contains(m.HTML, `href="`+escaped+`"`) || strings.Count(m.HTML, escaped) != 2 {
				t.Errorf("HTML lacks the escaped link in href and text:\n%s", m.HTML)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("a part lacks %q:\ntext:\n%s\nhtml:\n%s", want, m.Text, m.HTML)
				}
			}
		})
	}
}

func TestTemplatesEscapeHostileLinks(t *testing.T) {
	m, err := mail.PasswordReset("ann@example.com", `https://x.example/"><script>alert(1)</script>`)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("HTML carries the injected tag:\n%s", m.HTML)
	}
	m, err = mail.Welcome("ann@example.com", "javascript:alert(1)")
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if !strings.Contains(m.HTML, `href="#ZgotmplZ"`) {
		t.Errorf("javascript: link not neutralised:\n%s", m.HTML)
	}
}
