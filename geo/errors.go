package geo

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every validation error of this package, so a
// caller can tell bad input from other failures with errors.Is.
var ErrInvalid = errors.New("invalid volume")

// FieldError says which field of an input is wrong, what its value was, and
// why it was refused. Field is a path such as "polygon[3].lat" or
// "alt_hi_m"; callers that nest volumes prefix it (see Prefix).
type FieldError struct {
	Field  string
	Value  string // the offending value as text; empty when there is none
	Reason string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %s (got %s)", e.Field, e.Reason, e.Value)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Prefix returns err with prefix prepended to its field path if err is a
// *FieldError, and err unchanged otherwise.
func Prefix(prefix string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	c := *fe
	if c.Field == "" {
		c.Field = prefix
	} else if c.Field[0] == '[' {
		c.Field = prefix + c.Field
	} else {
		c.Field = prefix + "." + c.Field
	}
	return &c
}

func fieldErr(field string, value any, format string, args ...any) error {
	v := ""
	if value != nil {
		v = fmt.Sprint(value)
	}
	return &FieldError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)}
}
