package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/golang/geo/s2"
)

// Limits bound what NewVolume accepts. The zero value means the defaults.
type Limits struct {
	// MaxArea is the largest polygon area, in square metres
	// (default DefaultMaxArea).
	MaxArea float64
	// MaxDuration is the longest time window (default DefaultMaxDuration).
	MaxDuration time.Duration
}

// Defaults and fixed bounds of validation.
const (
	DefaultMaxArea     = 100_000 * 1e6 // 100,000 km² in m²
	DefaultMaxDuration = 7 * 24 * time.Hour

	MinRadius   Meters = 1
	MaxRadius   Meters = 500_000
	MinVertices        = 3
	MaxVertices        = 1000
	MinAltitude Meters = -8_000 // ASTM F3548 altitude range
	MaxAltitude Meters = 100_000
	MinYear            = 1970 // times are kept as int64 unix nanoseconds
	MaxYear            = 2200
)

func (l Limits) withDefaults() Limits {
	if l.MaxArea == 0 {
		l.MaxArea = DefaultMaxArea
	}
	if l.MaxDuration == 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	return l
}

// Validate reports whether the limits themselves make sense.
func (l Limits) Validate() error {
	if !finite(l.MaxArea) || l.MaxArea < 0 {
		return fmt.Errorf("geo: max area %v must be a finite number >= 0", l.MaxArea)
	}
	if l.MaxDuration < 0 {
		return fmt.Errorf("geo: max duration %v must be >= 0", l.MaxDuration)
	}
	return nil
}

// CircleSpec is a circular footprint.
type CircleSpec struct {
	Lat     Degrees `json:"lat"`
	Lng     Degrees `json:"lng"`
	RadiusM Meters  `json:"radius_m"`
}

// VolumeSpec is the wire form of a volume (see the package doc).
type VolumeSpec struct {
	Circle  *CircleSpec  `json:"circle,omitempty"`
	Polygon [][2]Degrees `json:"polygon,omitempty"` // [lat, lng] pairs
	AltLoM  Meters       `json:"alt_lo_m"`
	AltHiM  Meters       `json:"alt_hi_m"`
	Start   time.Time    `json:"start"`
	End     time.Time    `json:"end"`
}

// Volume is a validated 4D volume, ready for exact conflict tests. It is
// immutable and safe for concurrent use.
type Volume struct {
	// What the exact test reads comes first: a Volume takes 192 bytes, a
	// size class whose objects start on a cache line, so the window, band
	// and bounding cap of a stored volume are in one line.
	start, end int64  // unix nanoseconds
	lo, hi     Meters // the band
	shape      shape
	// The rest of the normalised spec: UTC times, CCW polygon without
	// closing vertex.
	circle       *CircleSpec
	polygon      [][2]Degrees
	tStart, tEnd time.Time
}

// NewVolume validates spec against lim and prepares it for conflict tests.
// Every error wraps ErrInvalid and is a *FieldError.
func NewVolume(spec VolumeSpec, lim Limits) (*Volume, error) {
	return newVolume(spec, lim, true)
}

// NewStoredVolume is NewVolume with NoLimits for a volume that NewVolume
// accepted once and that comes back from the service's own storage (a
// registry snapshot, checksummed): it checks everything NewVolume checks
// but whether a polygon's edges cross, the costliest check (a quarter of
// a restart's volume building).
func NewStoredVolume(spec VolumeSpec) (*Volume, error) {
	return newVolume(spec, NoLimits, false)
}

func newVolume(spec VolumeSpec, lim Limits, checkCrossing bool) (*Volume, error) {
	lim = lim.withDefaults()
	v := &Volume{}
	if err := v.validateAltTime(&spec, lim); err != nil {
		return nil, err
	}
	switch {
	case spec.Circle != nil && spec.Polygon != nil:
		return nil, fieldErr("footprint", nil, "has both circle and polygon; give exactly one")
	case spec.Circle != nil:
		c := *spec.Circle
		s, err := newCircle(c)
		if err != nil {
			return nil, Prefix("circle", err)
		}
		v.circle, v.shape = &c, s
	case spec.Polygon != nil:
		ring, s, err := newPolygon(spec.Polygon, lim.MaxArea, checkCrossing)
		if err != nil {
			return nil, err
		}
		v.polygon, v.shape = ring, s
	default:
		return nil, fieldErr("footprint", nil, "missing: give a circle or a polygon")
	}
	return v, nil
}

func (v *Volume) validateAltTime(s *VolumeSpec, lim Limits) error {
	for _, a := range []struct {
		name string
		m    Meters
	}{{"alt_lo_m", s.AltLoM}, {"alt_hi_m", s.AltHiM}} {
		if !finite(float64(a.m)) || a.m < MinAltitude || a.m > MaxAltitude {
			return fieldErr(a.name, a.m, "must be a number of metres in [%v, %v]", MinAltitude, MaxAltitude)
		}
	}
	if !(s.AltLoM < s.AltHiM) {
		return fieldErr("alt_hi_m", s.AltHiM, "must be above alt_lo_m (%v)", s.AltLoM)
	}
	if s.Start.IsZero() {
		return fieldErr("start", nil, "missing")
	}
	if s.End.IsZero() {
		return fieldErr("end", nil, "missing")
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"start", s.Start}, {"end", s.End}} {
		if y := t.t.UTC().Year(); y < MinYear || y > MaxYear {
			return fieldErr(t.name, t.t.Format(time.RFC3339), "must be in the years %d to %d", MinYear, MaxYear)
		}
	}
	s.Start, s.End = s.Start.UTC(), s.End.UTC()
	if !s.Start.Before(s.End) {
		return fieldErr("end", s.End.Format(time.RFC3339Nano), "must be after start (%s)", s.Start.Format(time.RFC3339Nano))
	}
	if d := s.End.Sub(s.Start); d > lim.MaxDuration {
		return fieldErr("end", s.End.Format(time.RFC3339Nano), "window of %v is longer than the maximum %v", d, lim.MaxDuration)
	}
	v.start, v.end = s.Start.UnixNano(), s.End.UnixNano()
	v.lo, v.hi = s.AltLoM, s.AltHiM
	v.tStart, v.tEnd = s.Start, s.End
	return nil
}

func checkLatLng(lat, lng Degrees) error {
	if !finite(float64(lat)) || lat < -90 || lat > 90 {
		return fieldErr("lat", lat, "must be a latitude in degrees in [-90, 90]")
	}
	if !finite(float64(lng)) || lng < -180 || lng > 180 {
		return fieldErr("lng", lng, "must be a longitude in degrees in [-180, 180]")
	}
	return nil
}

// Spec returns the normalised wire form of v: times in UTC, a polygon
// counter-clockwise without a closing vertex.
func (v *Volume) Spec() VolumeSpec {
	return VolumeSpec{Circle: v.circle, Polygon: v.polygon, AltLoM: v.lo, AltHiM: v.hi, Start: v.tStart, End: v.tEnd}
}

// Start and End bound the time window [Start, End).
func (v *Volume) Start() time.Time { return v.tStart }

// End is the first instant after the window.
func (v *Volume) End() time.Time { return v.tEnd }

// StartNano and EndNano are the window in unix nanoseconds.
func (v *Volume) StartNano() int64 { return v.start }

// EndNano is End in unix nanoseconds.
func (v *Volume) EndNano() int64 { return v.end }

// AltLo and AltHi bound the closed altitude band.
func (v *Volume) AltLo() Meters { return v.lo }

// AltHi is the top of the altitude band.
func (v *Volume) AltHi() Meters { return v.hi }

// Bound is a cap that contains the footprint, widened by margin.
func (v *Volume) Bound(margin Meters) s2.Cap {
	return s2.CapFromCenterAngle(v.shape.center, v.shape.outer+margin.Angle())
}

// IsCircle reports whether the footprint is a circle.
func (v *Volume) IsCircle() bool { return v.shape.verts == nil }

// Area is the footprint's area in square metres.
func (v *Volume) Area() float64 { return v.shape.area * float64(EarthRadius) * float64(EarthRadius) }

// NoLimits accepts every volume that is well formed, whatever its area and
// duration. Decoding stored entries uses it: what was accepted once must
// replay under any later configuration.
var NoLimits = Limits{MaxArea: math.MaxFloat64, MaxDuration: math.MaxInt64}

// MarshalJSON encodes v as its VolumeSpec.
func (v *Volume) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// UnmarshalJSON decodes a VolumeSpec, rejecting unknown fields, and
// validates it with NoLimits.
func (v *Volume) UnmarshalJSON(b []byte) error {
	var spec VolumeSpec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return fmt.Errorf("geo: decoding volume: %w", err)
	}
	nv, err := NewVolume(spec, NoLimits)
	if err != nil {
		return err
	}
	*v = *nv
	return nil
}
