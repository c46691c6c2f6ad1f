package schemas

import (
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/trustelem/zxcvbn"
)

// Password rules, beyond the lengths the validate tags check (at least 8
// characters, at most the 72 bytes bcrypt reads): a new password is not
// the account's email, and not easy to guess.
//
// "Easy to guess" is zxcvbn's judgement (Dropbox's estimator, here its Go
// port): it knows the most common passwords, words, names, dates, keyboard
// patterns and repeats, and estimates how many guesses a password takes.
// A score under minPasswordScore means fewer than a million: "password",
// "12345678", eight spaces and "letmein!" are refused, "correct horse"
// passes. Existing passwords are never checked again: only registration
// (and a new password) has to follow the rules.
const minPasswordScore = 2

// Validation tags of the password rules, which ruleMessage explains.
const (
	tagNotEmail  = "notemail"
	tagGuessable = "guessable"
)

// PasswordRule names the rule a new password of the account email breaks,
// as a validation tag, or "" when it follows them all. Lengths are left to
// the field's own tags, so a password breaks one rule at a time.
func PasswordRule(password, email string) string {
	if utf8.RuneCountInString(password) < 8 || len(password) > 72 {
		return ""
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(password), email) {
		return tagNotEmail
	}
	// The email and its parts count as known words: "alice2024" is weak
	// for alice@example.com.
	local, domain, _ := strings.Cut(email, "@")
	if zxcvbn.PasswordStrength(password, []string{email, local, domain}).Score < minPasswordScore {
		return tagGuessable
	}
	return ""
}

// validateRegister applies the password rules to a registration.
func validateRegister(sl validator.StructLevel) {
	in := sl.Current().Interface().(RegisterIn)
	if tag := PasswordRule(in.Password, in.Email); tag != "" {
		sl.ReportError(in.Password, "password", "Password", tag, "")
	}
}

// validateNewPassword applies the password rules to a new password.
func validateNewPassword(sl validator.StructLevel) {
	in := sl.Current().Interface().(NewPassword)
	if tag := PasswordRule(in.Password, in.Email); tag != "" {
		sl.ReportError(in.Password, "password", "Password", tag, "")
	}
}
