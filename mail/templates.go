package mail

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/*
var templateFS embed.FS

// The templates are immutable data, parsed once: a broken template panics at start-up
// (and in the tests) instead of failing the first signup. HTML goes through html/template
// so a link is escaped for its attribute and text contexts.
var (
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/*.txt"))
	htmlTemplates = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/*.html"))
)

// Welcome is sent on signup: it greets the user and asks them to confirm their address
// with verifyURL, valid for 48 hours.
func Welcome(to, verifyURL string) (Message, error) {
	return render(to, "Welcome to the Stores API: confirm your email", "welcome", verifyURL)
}

// VerifyEmail is sent when a user asks for a new confirmation link.
func VerifyEmail(to, verifyURL string) (Message, error) {
	return render(to, "Confirm your email", "verify_email", verifyURL)
}

// PasswordReset carries resetURL, valid for 1 hour, and tells a user who did not ask that
// their password is unchanged.
func PasswordReset(to, resetURL string) (Message, error) {
	return render(to, "Reset your Stores API password", "password_reset", resetURL)
}

// render fills templates/name.txt and templates/name.html.
func render(to, subject, name, link string) (Message, error) {
	data := struct{ Subject, URL string }{subject, link}
	var text, html strings.Builder
	if err := textTemplates.ExecuteTemplate(&text, name+".txt", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s.txt: %w", name, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name+".html", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s.html: %w", name, err)
	}
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}
