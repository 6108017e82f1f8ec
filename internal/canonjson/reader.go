// Package canonjson reads JSON written in one known layout: no spaces,
// fields in a fixed order, strings without escapes, as this module's
// hand-written encoders write it (geo.Volume.AppendJSON, the service's
// log records). It is a fast path for reading back what we wrote, not a
// JSON decoder: a [Reader] stops at the first byte that departs from the
// layout its caller expects, and the caller then decodes the input with
// encoding/json, which has the last word. For input a Reader accepts, each
// value it returns is the one encoding/json would decode into a field of
// that type.
package canonjson

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// Reader reads values from a byte slice in order. Errors are sticky:
// after the first mismatch every method returns a zero value and OK
// reports false.
type Reader struct {
	b  []byte
	i  int
	ok bool
}

// NewReader returns a Reader at the start of b.
func NewReader(b []byte) *Reader { return &Reader{b: b, ok: true} }

// OK reports whether everything read so far matched.
func (r *Reader) OK() bool { return r.ok }

// Fail marks the input as not in the expected layout.
func (r *Reader) Fail() { r.ok = false }

// Done reports whether everything matched and all the input was read.
func (r *Reader) Done() bool { return r.ok && r.i == len(r.b) }

// Lit reads the literal s.
func (r *Reader) Lit(s string) {
	if !r.Next(s) {
		r.ok = false
	}
}

// Next reads the literal s if the input continues with it, and reports
// whether it did.
func (r *Reader) Next(s string) bool {
	if !r.ok || len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

// raw reads a string literal without escapes or control characters, in
// valid UTF-8, and returns its contents.
func (r *Reader) raw() []byte {
	if !r.ok || r.i >= len(r.b) || r.b[r.i] != '"' {
		r.ok = false
		return nil
	}
	start, ascii := r.i+1, true
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			s := r.b[start:j]
			if !ascii && !utf8.Valid(s) {
				r.ok = false // encoding/json would replace the invalid bytes
				return nil
			}
			r.i = j + 1
			return s
		case c == '\\' || c < 0x20:
			r.ok = false
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	r.ok = false
	return nil
}

// String reads a string.
func (r *Reader) String() string { return string(r.raw()) }

// Bytes reads a []byte: base64 in a string, decoded as encoding/json does.
func (r *Reader) Bytes() []byte {
	s := r.raw()
	if !r.ok {
		return nil
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		r.ok = false
		return nil
	}
	return b[:n]
}

// Time reads a time.Time, by its UnmarshalJSON as encoding/json does.
func (r *Reader) Time() time.Time {
	start := r.i
	r.raw()
	var t time.Time
	if !r.ok || t.UnmarshalJSON(r.b[start:r.i]) != nil {
		r.ok = false
		return time.Time{}
	}
	return t
}

// number reads a number literal in JSON's grammar and returns it.
func (r *Reader) number() string {
	if !r.ok {
		return ""
	}
	b, j := r.b, r.i
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		r.ok = false
		return ""
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			r.ok = false
			return ""
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			r.ok = false
			return ""
		}
	}
	s := string(b[r.i:j])
	r.i = j
	return s
}

// Float reads a float64.
func (r *Reader) Float() float64 {
	s := r.number()
	if !r.ok {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		r.ok = false
		return 0
	}
	return f
}

// Int reads an int.
func (r *Reader) Int() int {
	s := r.number()
	if !r.ok {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || int64(int(n)) != n {
		r.ok = false
		return 0
	}
	return int(n)
}

// Uint reads a uint64.
func (r *Reader) Uint() uint64 {
	s := r.number()
	if !r.ok {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		r.ok = false
		return 0
	}
	return n
}
