package geo

import (
	"math"

	"github.com/deconflict/deconflict/internal/canonjson"
)

// AppendJSON appends v's wire form (its VolumeSpec) as JSON, byte for byte
// what json.Marshal(v.Spec()) makes, without reflection: logs and replies
// encode every volume they hold.
func (v *Volume) AppendJSON(b []byte) []byte {
	s := v.Spec()
	return appendSpec(b, &s)
}

// AppendSpecJSON appends s as json.Marshal writes it; ok is false (and b
// unchanged) for a spec json.Marshal refuses (a number that is not
// finite, a time it cannot write).
func AppendSpecJSON(b []byte, s *VolumeSpec) (_ []byte, ok bool) {
	fin := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	ok = fin(float64(s.AltLoM)) && fin(float64(s.AltHiM)) && canonjson.TimeOK(s.Start) && canonjson.TimeOK(s.End)
	if c := s.Circle; c != nil {
		ok = ok && fin(float64(c.Lat)) && fin(float64(c.Lng)) && fin(float64(c.RadiusM))
	}
	for _, p := range s.Polygon {
		ok = ok && fin(float64(p[0])) && fin(float64(p[1]))
	}
	if !ok {
		return b, false
	}
	return appendSpec(b, s), true
}

func appendSpec(b []byte, s *VolumeSpec) []byte {
	b = append(b, '{')
	if c := s.Circle; c != nil {
		b = append(b, `"circle":{"lat":`...)
		b = canonjson.AppendFloat(b, float64(c.Lat))
		b = append(b, `,"lng":`...)
		b = canonjson.AppendFloat(b, float64(c.Lng))
		b = append(b, `,"radius_m":`...)
		b = canonjson.AppendFloat(b, float64(c.RadiusM))
		b = append(b, "},"...)
	}
	if len(s.Polygon) > 0 {
		b = append(b, `"polygon":[`...)
		for i, p := range s.Polygon {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = canonjson.AppendFloat(b, float64(p[0]))
			b = append(b, ',')
			b = canonjson.AppendFloat(b, float64(p[1]))
			b = append(b, ']')
		}
		b = append(b, "],"...)
	}
	b = append(b, `"alt_lo_m":`...)
	b = canonjson.AppendFloat(b, float64(s.AltLoM))
	b = append(b, `,"alt_hi_m":`...)
	b = canonjson.AppendFloat(b, float64(s.AltHiM))
	b = append(b, `,"start":`...)
	b = canonjson.AppendTime(b, s.Start)
	b = append(b, `,"end":`...)
	b = canonjson.AppendTime(b, s.End)
	return append(b, '}')
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
		r.Elems(func() {
			r.Lit("[")
			var p [2]Degrees
			p[0] = Degrees(r.Float())
			r.Lit(",")
			p[1] = Degrees(r.Float())
			r.Lit("]")
			s.Polygon = append(s.Polygon, p)
		})
		r.Lit(",")
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
