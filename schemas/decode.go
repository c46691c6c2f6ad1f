package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// ErrMalformedJSON means the body is not JSON at all (a 400, unlike a body
// of the wrong shape, which is a 422).
var ErrMalformedJSON = errors.New("malformed JSON")

// FieldErrors maps a JSON field name to what is wrong with it, in the
// shape webargs/marshmallow clients parse: {"price": ["Not a valid number."]}.
type FieldErrors map[string][]string

// ValidationError lists every offending field of a request body.
type ValidationError struct {
	Fields FieldErrors
}

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid input: %v", e.Fields) }

func (f FieldErrors) add(field, msg string) { f[field] = append(f[field], msg) }

// normalizer is implemented by inputs that clean values (trim names,
// lower-case emails) before they are validated.
type normalizer interface{ Normalize() }

// Decode reads a JSON object into dst (a pointer to an In struct), then
// normalizes and validates it. Unlike a plain json.Unmarshal it reports
// every problem at once: unknown fields, missing required fields, wrong
// types and failed constraints, keyed by JSON field name.
func Decode(v *validator.Validate, body []byte, dst any) error {
	if !json.Valid(body) {
		return ErrMalformedJSON
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return &ValidationError{Fields: FieldErrors{"_schema": {"Invalid input type: expected a JSON object."}}}
	}
	errs := FieldErrors{}
	decodeFields(raw, reflect.ValueOf(dst).Elem(), errs)
	if n, ok := dst.(normalizer); ok {
		n.Normalize()
	}
	validateFields(v, dst, errs)
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

// ValidateStruct normalizes and validates an In struct that was filled from
// something other than a JSON body, such as an HTML form, with the same
// rules and messages as Decode. errs may hold problems the caller already
// found while converting the raw text (a price that is not a number); those
// fields get no second message. It returns every problem, or nil.
func ValidateStruct(v *validator.Validate, in any, errs FieldErrors) FieldErrors {
	if errs == nil {
		errs = FieldErrors{}
	}
	if n, ok := in.(normalizer); ok {
		n.Normalize()
	}
	validateFields(v, in, errs)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// decodeFields decodes each known field on its own so that one bad field
// does not hide the others.
func decodeFields(raw map[string]json.RawMessage, dst reflect.Value, errs FieldErrors) {
	known := map[string]bool{}
	t := dst.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := jsonName(sf)
		if name == "" {
			continue
		}
		known[name] = true
		value, present := raw[name]
		required := hasRule(sf, "required")
		switch {
		case !present:
			if required {
				errs.add(name, "Missing data for required field.")
			}
		case bytes.Equal(value, []byte("null")) && !acceptsNull(sf.Type):
			errs.add(name, "Field may not be null.")
		default:
			if err := json.Unmarshal(value, dst.Field(i).Addr().Interface()); err != nil {
				errs.add(name, typeMessage(sf.Type, err))
			}
		}
	}
	for name := range raw {
		if !known[name] {
			errs.add(name, "Unknown field.")
		}
	}
}

// validateFields runs the validate tags, skipping fields that already
// failed to decode (their zero value would only add noise).
func validateFields(v *validator.Validate, dst any, errs FieldErrors) {
	var verrs validator.ValidationErrors
	if err := v.Struct(dst); !errors.As(err, &verrs) {
		return
	}
	failed := map[string]bool{}
	for name := range errs {
		failed[name] = true
	}
	for _, fe := range verrs {
		name := fieldName(fe)
		if !failed[name] {
			errs.add(name, ruleMessage(fe))
		}
	}
}

// fieldName turns "tag_ids[3]" into "tag_ids".
func fieldName(fe validator.FieldError) string {
	name, _, _ := strings.Cut(fe.Field(), "[")
	return name
}

func jsonName(sf reflect.StructField) string {
	tag := sf.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !sf.IsExported() {
		return ""
	}
	if name == "" {
		return sf.Name
	}
	return name
}

func acceptsNull(t reflect.Type) bool {
	return t.Implements(reflect.TypeFor[nullAccepter]())
}

func hasRule(sf reflect.StructField, rule string) bool {
	for _, r := range strings.Split(sf.Tag.Get("validate"), ",") {
		if r == rule {
			return true
		}
	}
	return false
}

// typeMessage explains a value of the wrong JSON type, in marshmallow's words.
func typeMessage(t reflect.Type, err error) string {
	if !errors.As(err, new(*json.UnmarshalTypeError)) && !errors.As(err, new(*json.SyntaxError)) {
		return err.Error() // our own types (Price) return sentences
	}
	if et, ok := reflect.Zero(t).Interface().(elemTyper); ok {
		t = et.elemType()
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "Not a valid string."
	case reflect.Bool:
		return "Not a valid boolean."
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "Not a valid integer."
	case reflect.Float32, reflect.Float64:
		return "Not a valid number."
	case reflect.Slice:
		return "Not a valid list of " + elemNoun(t.Elem()) + "."
	}
	return "Invalid value."
}

func elemNoun(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64:
		return "integers"
	case reflect.String:
		return "strings"
	}
	return "values"
}
