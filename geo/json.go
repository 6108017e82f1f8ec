package geo

import (
	"math"
	"strconv"
	"time"

	"github.com/deconflict/deconflict/internal/canonjson"
)

// AppendJSON appends v's wire form (its VolumeSpec) as JSON, byte for byte
// what json.Marshal(v.Spec()) makes, without reflection: logs and replies
// encode every volume they hold.
func (v *Volume) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if c := v.circle; c != nil {
		b = append(b, `"circle":{"lat":`...)
		b = appendFloat(b, float64(c.Lat))
		b = append(b, `,"lng":`...)
		b = appendFloat(b, float64(c.Lng))
		b = append(b, `,"radius_m":`...)
		b = appendFloat(b, float64(c.RadiusM))
		b = append(b, "},"...)
	}
	if len(v.polygon) > 0 {
		b = append(b, `"polygon":[`...)
		for i, p := range v.polygon {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendFloat(b, float64(p[0]))
			b = append(b, ',')
			b = appendFloat(b, float64(p[1]))
			b = append(b, ']')
		}
		b = append(b, "],"...)
	}
	b = append(b, `"alt_lo_m":`...)
	b = appendFloat(b, float64(v.lo))
	b = append(b, `,"alt_hi_m":`...)
	b = appendFloat(b, float64(v.hi))
	b = append(b, `,"start":`...)
	b = AppendJSONTime(b, v.tStart)
	b = append(b, `,"end":`...)
	b = AppendJSONTime(b, v.tEnd)
	return append(b, '}')
}

// appendFloat appends f as encoding/json writes a float64: like %g with
// the exponent only below 1e-6 or from 1e21 on, and not padded. f is
// finite (volumes hold only finite numbers).
func appendFloat(b []byte, f float64) []byte {
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

// AppendJSONTime appends t as encoding/json writes a time.Time (RFC 3339
// with nanoseconds, quoted) for UTC times of the years 0 to 9999 (it
// refuses other years, and offsets of 24 hours or more).
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// ReadVolumeSpec reads from r a volume in the layout AppendJSON writes, as
// encoding/json would decode it into a VolumeSpec; anything else makes r
// fail (and the caller decode with encoding/json).
func ReadVolumeSpec(r *canonjson.Reader) VolumeSpec {
	var s VolumeSpec
	r.Lit("{")
	if r.Next(`"circle":{"lat":`) {
		c := &CircleSpec{}
		c.Lat = Degrees(r.Float())
		r.Lit(`,"lng":`)
		c.Lng = Degrees(r.Float())
		r.Lit(`,"radius_m":`)
		c.RadiusM = Meters(r.Float())
		r.Lit("},")
		s.Circle = c
	}
	if r.Next(`"polygon":[`) {
		for r.OK() {
			r.Lit("[")
			var p [2]Degrees
			p[0] = Degrees(r.Float())
			r.Lit(",")
			p[1] = Degrees(r.Float())
			r.Lit("]")
			s.Polygon = append(s.Polygon, p)
			if !r.Next(",") {
				break
			}
		}
		r.Lit("],")
	}
	r.Lit(`"alt_lo_m":`)
	s.AltLoM = Meters(r.Float())
	r.Lit(`,"alt_hi_m":`)
	s.AltHiM = Meters(r.Float())
	r.Lit(`,"start":`)
	s.Start = r.Time()
	r.Lit(`,"end":`)
	s.End = r.Time()
	r.Lit("}")
	return s
}
