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
	"strings"
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

// raw reads a string literal in valid UTF-8, with no escapes but \", \\,
// \/, \b, \f, \n, \r, \t and \u of a code point that is not a
// surrogate, and returns its contents.
func (r *Reader) raw() []byte {
	if !r.ok || r.i >= len(r.b) || r.b[r.i] != '"' {
		r.ok = false
		return nil
	}
	start, ascii := r.i+1, true
	var out []byte // the contents so far, once an escape is met
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			s := r.b[start:j]
			if !ascii && !utf8.Valid(s) {
				r.ok = false // encoding/json would replace the invalid bytes
				return nil
			}
			r.i = j + 1
			if out != nil {
				return append(out, s...)
			}
			return s
		case c == '\\':
			if out == nil {
				out = make([]byte, 0, 2*(j-start)+16)
			}
			s := r.b[start:j]
			if !ascii && !utf8.Valid(s) {
				r.ok = false
				return nil
			}
			out = append(out, s...)
			n, ok := unescape(r.b[j:], &out)
			if !ok {
				r.ok = false
				return nil
			}
			j += n - 1
			start = j + 1
		case c < 0x20:
			r.ok = false
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	r.ok = false
	return nil
}

// unescape appends the character the escape at the start of b stands for
// to out and returns the escape's length.
func unescape(b []byte, out *[]byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '"', '\\', '/':
		*out = append(*out, b[1])
	case 'b':
		*out = append(*out, '\b')
	case 'f':
		*out = append(*out, '\f')
	case 'n':
		*out = append(*out, '\n')
	case 'r':
		*out = append(*out, '\r')
	case 't':
		*out = append(*out, '\t')
	case 'u':
		if len(b) < 6 {
			return 0, false
		}
		c, err := strconv.ParseUint(string(b[2:6]), 16, 16)
		if err != nil || c >= 0xd800 && c < 0xe000 {
			return 0, false // surrogates: left to encoding/json
		}
		*out = utf8.AppendRune(*out, rune(c))
		return 6, true
	default:
		return 0, false
	}
	return 2, true
}

// Quoted reads a string literal (as raw does) and returns it with its
// quotes and escapes as they are: for a type's own UnmarshalJSON.
func (r *Reader) Quoted() []byte {
	start := r.i
	r.raw()
	if !r.ok {
		return nil
	}
	return r.b[start:r.i]
}

// Value reads one JSON value of any kind, checking only that its strings
// and brackets are well formed, and returns its bytes: for
// encoding/json, which checks the rest, to decode.
func (r *Reader) Value() []byte {
	if !r.ok {
		return nil
	}
	start, depth := r.i, 0
	for r.i < len(r.b) {
		switch c := r.b[r.i]; c {
		case '"':
			r.raw()
			if !r.ok {
				return nil
			}
			if depth == 0 {
				return r.b[start:r.i]
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the value's container
				if r.i == start {
					r.ok = false
					return nil
				}
				return r.b[start:r.i]
			}
			depth--
			if depth == 0 {
				r.i++
				return r.b[start:r.i]
			}
		case ',':
			if depth == 0 {
				if r.i == start {
					r.ok = false
					return nil
				}
				return r.b[start:r.i]
			}
		}
		r.i++
	}
	if depth != 0 || r.i == start {
		r.ok = false
		return nil
	}
	return r.b[start:r.i]
}

// String reads a string.
func (r *Reader) String() string { return string(r.raw()) }

// Strings reads a non-empty array of strings, "[" to "]". Strings of
// plain ASCII (no escapes) share one allocation, the array's text; any
// other array is read string by string.
func (r *Reader) Strings() []string {
	if !r.ok {
		return nil
	}
	b, start, n := r.b, r.i, 0
	j := start + 1
	if j > len(b) || b[start] != '[' {
		r.ok = false
		return nil
	}
plain:
	for j < len(b) && b[j] == '"' {
		for j++; j < len(b) && b[j] != '"'; j++ {
			if c := b[j]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break plain
			}
		}
		if j++; j >= len(b) {
			break
		}
		n++
		switch b[j] {
		case ',':
			j++
			continue
		case ']':
			text := string(b[start+1 : j])
			out := make([]string, 0, n)
			for k := 0; k < len(text); {
				e := k + 1 + strings.IndexByte(text[k+1:], '"')
				out = append(out, text[k+1:e])
				k = e + 2 // past the quote and the comma
			}
			r.i = j + 1
			return out
		}
		break
	}
	var out []string
	r.Lit("[")
	r.Elems(func() { out = append(out, r.String()) })
	if !r.ok {
		return nil
	}
	return out
}

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
	q := r.Quoted()
	var t time.Time
	if !r.ok || t.UnmarshalJSON(q) != nil {
		r.ok = false
		return time.Time{}
	}
	return t
}

// number reads a number literal in JSON's grammar and returns it.
func (r *Reader) number() string {
	lit := r.numberBytes()
	if !r.ok {
		return ""
	}
	return string(lit)
}

// numberBytes reads a number literal in JSON's grammar and returns its
// bytes (part of the input).
func (r *Reader) numberBytes() []byte {
	if !r.ok {
		return nil
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
		return nil
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			r.ok = false
			return nil
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			r.ok = false
			return nil
		}
	}
	lit := b[r.i:j]
	r.i = j
	return lit
}

// Float reads a float64.
func (r *Reader) Float() float64 {
	lit := r.numberBytes()
	if !r.ok {
		return 0
	}
	if f, ok := exactDecimal(lit); ok {
		return f
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		r.ok = false
		return 0
	}
	return f
}

// pow10 holds the powers of ten up to 10^16, float64s all exact.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16}

// exactDecimal is strconv.ParseFloat of a number literal without exponent
// of at most 16 digits that, read as an integer m, is at most 2^53 (most
// coordinates and altitudes): m and 10^k (k digits after the point) are
// exact float64s then, and one division rounds m/10^k correctly, as
// ParseFloat does. ok is false for any other literal.
func exactDecimal(lit []byte) (float64, bool) {
	neg := len(lit) > 0 && lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var m uint64
	frac, n, point := 0, 0, false
	for _, c := range lit {
		switch {
		case c >= '0' && c <= '9':
			if n++; n > 16 { // more is above 2^53, or has leading zeros
				return 0, false
			}
			m = m*10 + uint64(c-'0')
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if n == 0 || m > 1<<53 {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
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

// Elems reads the elements of an array whose "[" has been read, calling
// elem to read each, and the closing "]". The array must hold at least one
// element: callers read an empty array ("[]", which encoding/json decodes
// to an empty slice, not nil) themselves, or decline it.
func (r *Reader) Elems(elem func()) {
	for r.OK() {
		elem()
		if !r.Next(",") {
			break
		}
	}
	r.Lit("]")
}
