package schemas

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Nullable is a field that may be absent, null, or a value. PUT needs all
// three: absent leaves the column alone, null clears it, a value sets it.
// It is the only kind of field that accepts null.
type Nullable[T any] struct {
	Set   bool // the field was in the body, null or not
	Value *T   // nil for null
}

// UnmarshalJSON records that the field was present.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	n.Value = nil
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// acceptsNull marks Nullable for the decoder.
func (Nullable[T]) acceptsNull() {}

// elemType is T, so type errors name the right kind ("Not a valid string.").
func (Nullable[T]) elemType() reflect.Type { return reflect.TypeFor[T]() }

// validatedValue lets validator rules such as max=1000 see the value.
func (n Nullable[T]) validatedValue() any {
	if n.Value == nil {
		return nil
	}
	return *n.Value
}

type nullAccepter interface{ acceptsNull() }

type elemTyper interface{ elemType() reflect.Type }
