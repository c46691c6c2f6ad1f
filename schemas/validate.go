package schemas

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"

	"github.com/go-playground/validator/v10"
)

// NewValidator returns the one validator the app shares (it caches struct
// metadata and is safe for concurrent use), with our custom rules and JSON
// field names in its errors.
func NewValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(sf reflect.StructField) string { return jsonName(sf) })
	v.RegisterCustomTypeFunc(func(f reflect.Value) any {
		return f.Interface().(interface{ validatedValue() any }).validatedValue()
	}, Nullable[string]{})
	must(v.RegisterValidation("nocontrol", noControl))
	must(v.RegisterValidation("nonul", noNUL))
	must(v.RegisterValidation("maxbytes", maxBytes))
	v.RegisterStructValidation(validateRegister, RegisterIn{})
	v.RegisterStructValidation(validateNewPassword, NewPassword{})
	return v
}

func must(err error) {
	if err != nil {
		panic(err) // a typo in a rule registration is a programming error
	}
}

// noControl rejects control characters (NUL, newlines, escapes) in names.
func noControl(fl validator.FieldLevel) bool {
	return !strings.ContainsFunc(fl.Field().String(), unicode.IsControl)
}

// noNUL rejects the NUL character in free text (descriptions keep their
// newlines and tabs): PostgreSQL text cannot store it.
func noNUL(fl validator.FieldLevel) bool { return !strings.ContainsRune(fl.Field().String(), 0) }

// maxBytes bounds a string's length in bytes, not characters: bcrypt reads
// at most 72 bytes of a password.
func maxBytes(fl validator.FieldLevel) bool { return len(fl.Field().String()) <= intParam(fl) }

func intParam(fl validator.FieldLevel) int {
	var n int
	fmt.Sscan(fl.Param(), &n)
	return n
}

// ruleMessage says in a sentence which rule a value broke.
func ruleMessage(fe validator.FieldError) string {
	isString := fe.Kind() == reflect.String
	isList := fe.Kind() == reflect.Slice
	switch fe.Tag() {
	case "required":
		return "Field may not be empty."
	case "min":
		if isString {
			return fmt.Sprintf("Must be at least %s %s long.", fe.Param(), plural(fe.Param(), "character", "characters"))
		}
		if isList {
			return fmt.Sprintf("Must have at least %s %s.", fe.Param(), plural(fe.Param(), "entry", "entries"))
		}
		return "Must be greater than or equal to " + fe.Param() + "."
	case "max":
		if isString {
			return fmt.Sprintf("Must be at most %s characters long.", fe.Param())
		}
		if isList {
			return fmt.Sprintf("Must have at most %s entries.", fe.Param())
		}
		return "Must be less than or equal to " + fe.Param() + "."
	case "gt":
		return "Must be greater than " + fe.Param() + "."
	case "gte":
		return "Must be greater than or equal to " + fe.Param() + "."
	case "maxbytes":
		return "Must be at most " + fe.Param() + " bytes long."
	case "email":
		return "Not a valid email address."
	case "nonul":
		return "Must not contain the NUL character."
	case "nocontrol":
		return "Must not contain control characters."
	case tagNotEmail:
		return "Must not be your email address."
	case tagGuessable:
		return "Too easy to guess: a common password, or common words, names, dates or patterns. " +
			"Try a few unrelated words."
	}
	return "Invalid value."
}

// plural picks the word that agrees with the count n ("1 entry", "2 entries").
func plural(n, one, many string) string {
	if n == "1" {
		return one
	}
	return many
}
