package canonjson

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The writers append values exactly as encoding/json writes them (with
// its default HTML escaping), so that hand-written encoders of the
// module's types make json.Marshal's bytes.

// AppendString appends s quoted as encoding/json writes a string: with
// ", \ and control characters escaped, <, > and & as \u00XX, invalid
// UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	i := 0
	for i < len(s) && plainASCII[s[i]] { // most strings: ids, tokens, names
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainASCII[c] reports whether encoding/json writes byte c of a string as
// it is: printable ASCII but ", \, <, > and &.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendBytes appends p as encoding/json writes a []byte: standard base64,
// quoted.
func AppendBytes(b, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// AppendFloat appends f as encoding/json writes a float64: like %g with
// the exponent only below 1e-6 or from 1e21 on, and not padded. f is
// finite (json.Marshal refuses the others).
func AppendFloat(b []byte, f float64) []byte {
	if out, ok := appendMicros(b, f); ok {
		return out
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1] // e-07 -> e-7
			b = b[:n-1]
		}
	}
	return b
}

// appendMicros appends f as AppendFloat does when f is a whole number of
// millionths (as degrees with six decimals and whole metres are), under
// 2^32 in magnitude and not zero, faster than strconv's shortest
// formatting; ok is false for any other f. It writes the decimal d with at
// most six decimals that parses back to f (m/1e6 == f: the division, like
// parsing, rounds the exact quotient correctly), and that is what
// strconv's shortest form is: the doubles that round to f span at most
// 2^-20 < 1e-6 below 2^32, so no other decimal of six or fewer decimals
// parses to f, and one of more decimals has more digits.
func appendMicros(b []byte, f float64) ([]byte, bool) {
	if !(f > -1<<32 && f < 1<<32) || f == 0 {
		return b, false
	}
	m := math.Round(f * 1e6)
	if m/1e6 != f {
		return b, false
	}
	u := int64(m)
	if u < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendInt(b, u/1e6, 10)
	if frac := u % 1e6; frac != 0 {
		d := [7]byte{'.'}
		for i := 6; i > 0; i-- {
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return b, true
}

// AppendTime appends t as encoding/json writes a time.Time (RFC 3339
// with nanoseconds, quoted), for times of the years 0 to 9999 with offsets
// under 24 hours: json.Marshal refuses the others, so callers must check
// (TimeOK).
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// TimeOK reports whether json.Marshal writes t (as AppendTime does)
// rather than refusing it.
func TimeOK(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}
