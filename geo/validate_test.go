package geo_test

// Validation rules of NewVolume: one named case per refusal, and accepted
// inputs with their normalisation.

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// baseSpec is a valid volume with a circle footprint.
func baseSpec() geo.VolumeSpec {
	return geo.VolumeSpec{
		Circle: &geo.CircleSpec{Lat: 48.85, Lng: 2.35, RadiusM: 1000},
		AltLoM: 0, AltHiM: 120,
		Start: t0, End: t0.Add(time.Hour),
	}
}

// withPolygon is baseSpec with the circle replaced by a polygon.
func withPolygon(pts ...[2]geo.Degrees) geo.VolumeSpec {
	s := baseSpec()
	s.Circle = nil
	s.Polygon = pts
	return s
}

// regular returns a ring of k vertices on a small circle of angular radius
// radDeg degrees around (lat, lng), counter-clockwise.
func regular(lat, lng float64, radDeg float64, k int) [][2]geo.Degrees {
	c := vecFromDeg(lat, lng)
	e1, e2 := tangentBasis(c)
	ring := make([][2]geo.Degrees, k)
	r := radDeg * math.Pi / 180
	for i := range ring {
		th := 2 * math.Pi * float64(i) / float64(k)
		d := e1.scale(math.Cos(th)).add(e2.scale(math.Sin(th)))
		ring[i] = llFromVec(c.scale(math.Cos(r)).add(d.scale(math.Sin(r))))
	}
	return ring
}

var (
	nan  = math.NaN()
	pinf = math.Inf(1)
	ninf = math.Inf(-1)
)

func TestNewVolumeErrors(t *testing.T) {
	sq := [][2]geo.Degrees{{0, 0}, {0, 1}, {1, 1}, {1, 0}}
	cases := []struct {
		name   string
		mod    func(s *geo.VolumeSpec)
		lim    geo.Limits
		fields []string // acceptable values of FieldError.Field
	}{
		// Altitudes.
		{"alt_lo_m NaN", func(s *geo.VolumeSpec) { s.AltLoM = geo.Meters(nan) }, geo.Limits{}, []string{"alt_lo_m"}},
		{"alt_lo_m +Inf", func(s *geo.VolumeSpec) { s.AltLoM = geo.Meters(pinf) }, geo.Limits{}, []string{"alt_lo_m"}},
		{"alt_lo_m -Inf", func(s *geo.VolumeSpec) { s.AltLoM = geo.Meters(ninf) }, geo.Limits{}, []string{"alt_lo_m"}},
		{"alt_lo_m below -8000", func(s *geo.VolumeSpec) { s.AltLoM = -8000.001 }, geo.Limits{}, []string{"alt_lo_m"}},
		{"alt_lo_m above 100000", func(s *geo.VolumeSpec) { s.AltLoM, s.AltHiM = 100000.5, 100001 }, geo.Limits{}, []string{"alt_lo_m", "alt_hi_m"}},
		{"alt_hi_m NaN", func(s *geo.VolumeSpec) { s.AltHiM = geo.Meters(nan) }, geo.Limits{}, []string{"alt_hi_m"}},
		{"alt_hi_m +Inf", func(s *geo.VolumeSpec) { s.AltHiM = geo.Meters(pinf) }, geo.Limits{}, []string{"alt_hi_m"}},
		{"alt_hi_m above 100000", func(s *geo.VolumeSpec) { s.AltHiM = 100000.001 }, geo.Limits{}, []string{"alt_hi_m"}},
		{"alt_hi_m below -8000", func(s *geo.VolumeSpec) { s.AltLoM, s.AltHiM = -9000, -8500 }, geo.Limits{}, []string{"alt_lo_m", "alt_hi_m"}},
		{"alt lo equals hi", func(s *geo.VolumeSpec) { s.AltLoM, s.AltHiM = 50, 50 }, geo.Limits{}, []string{"alt_lo_m", "alt_hi_m"}},
		{"alt lo above hi", func(s *geo.VolumeSpec) { s.AltLoM, s.AltHiM = 100, 50 }, geo.Limits{}, []string{"alt_lo_m", "alt_hi_m"}},
		// Times.
		{"start missing", func(s *geo.VolumeSpec) { s.Start = time.Time{} }, geo.Limits{}, []string{"start"}},
		{"end missing", func(s *geo.VolumeSpec) { s.End = time.Time{} }, geo.Limits{}, []string{"end"}},
		{"start equals end", func(s *geo.VolumeSpec) { s.End = s.Start }, geo.Limits{}, []string{"start", "end"}},
		{"start equals end in another zone", func(s *geo.VolumeSpec) { s.End = s.Start.In(time.FixedZone("X", -5*3600)) }, geo.Limits{}, []string{"start", "end"}},
		{"start after end", func(s *geo.VolumeSpec) { s.Start, s.End = s.End, s.Start }, geo.Limits{}, []string{"start", "end"}},
		{"start 1ns after end", func(s *geo.VolumeSpec) { s.Start = s.End.Add(1) }, geo.Limits{}, []string{"start", "end"}},
		{"window longer than 7 days", func(s *geo.VolumeSpec) { s.End = s.Start.Add(7*24*time.Hour + 1) }, geo.Limits{}, []string{"start", "end"}},
		{"window longer than custom MaxDuration", func(s *geo.VolumeSpec) { s.End = s.Start.Add(2 * time.Hour) }, geo.Limits{MaxDuration: time.Hour}, []string{"start", "end"}},
		{"start before 1970", func(s *geo.VolumeSpec) {
			s.Start = time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
			s.End = s.Start.Add(time.Hour)
		}, geo.Limits{}, []string{"start"}},
		{"end after 2200", func(s *geo.VolumeSpec) {
			s.Start = time.Date(2200, 12, 31, 23, 30, 0, 0, time.UTC)
			s.End = s.Start.Add(time.Hour)
		}, geo.Limits{}, []string{"end"}},
		// Footprint choice.
		{"neither circle nor polygon", func(s *geo.VolumeSpec) { s.Circle = nil }, geo.Limits{}, []string{"footprint", "circle", "polygon"}},
		{"both circle and polygon", func(s *geo.VolumeSpec) { s.Polygon = sq }, geo.Limits{}, []string{"footprint", "circle", "polygon"}},
		// Circles.
		{"circle lat NaN", func(s *geo.VolumeSpec) { s.Circle.Lat = geo.Degrees(nan) }, geo.Limits{}, []string{"circle.lat"}},
		{"circle lat +Inf", func(s *geo.VolumeSpec) { s.Circle.Lat = geo.Degrees(pinf) }, geo.Limits{}, []string{"circle.lat"}},
		{"circle lat above 90", func(s *geo.VolumeSpec) { s.Circle.Lat = 90.000001 }, geo.Limits{}, []string{"circle.lat"}},
		{"circle lat below -90", func(s *geo.VolumeSpec) { s.Circle.Lat = -90.5 }, geo.Limits{}, []string{"circle.lat"}},
		{"circle lng NaN", func(s *geo.VolumeSpec) { s.Circle.Lng = geo.Degrees(nan) }, geo.Limits{}, []string{"circle.lng"}},
		{"circle lng -Inf", func(s *geo.VolumeSpec) { s.Circle.Lng = geo.Degrees(ninf) }, geo.Limits{}, []string{"circle.lng"}},
		{"circle lng above 180", func(s *geo.VolumeSpec) { s.Circle.Lng = 180.0001 }, geo.Limits{}, []string{"circle.lng"}},
		{"circle lng below -180", func(s *geo.VolumeSpec) { s.Circle.Lng = -181 }, geo.Limits{}, []string{"circle.lng"}},
		{"circle lng 360", func(s *geo.VolumeSpec) { s.Circle.Lng = 360 }, geo.Limits{}, []string{"circle.lng"}},
		{"circle radius 0", func(s *geo.VolumeSpec) { s.Circle.RadiusM = 0 }, geo.Limits{}, []string{"circle.radius_m"}},
		{"circle radius below 1 m", func(s *geo.VolumeSpec) { s.Circle.RadiusM = 0.999 }, geo.Limits{}, []string{"circle.radius_m"}},
		{"circle radius negative", func(s *geo.VolumeSpec) { s.Circle.RadiusM = -100 }, geo.Limits{}, []string{"circle.radius_m"}},
		{"circle radius above 500 km", func(s *geo.VolumeSpec) { s.Circle.RadiusM = 500000.001 }, geo.Limits{}, []string{"circle.radius_m"}},
		{"circle radius NaN", func(s *geo.VolumeSpec) { s.Circle.RadiusM = geo.Meters(nan) }, geo.Limits{}, []string{"circle.radius_m"}},
		{"circle radius +Inf", func(s *geo.VolumeSpec) { s.Circle.RadiusM = geo.Meters(pinf) }, geo.Limits{}, []string{"circle.radius_m"}},
		// Polygon vertex counts.
		{"polygon empty", func(s *geo.VolumeSpec) { *s = withPolygon([][2]geo.Degrees{}...) }, geo.Limits{}, []string{"polygon"}},
		{"polygon 1 vertex", func(s *geo.VolumeSpec) { *s = withPolygon([2]geo.Degrees{1, 1}) }, geo.Limits{}, []string{"polygon"}},
		{"polygon 2 vertices", func(s *geo.VolumeSpec) { *s = withPolygon(sq[:2]...) }, geo.Limits{}, []string{"polygon"}},
		{"polygon 2 distinct vertices and closing vertex", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], sq[0]) }, geo.Limits{}, []string{"polygon"}},
		{"polygon 1001 vertices", func(s *geo.VolumeSpec) { *s = withPolygon(regular(10, 10, 0.5, 1001)...) }, geo.Limits{}, []string{"polygon"}},
		// Polygon coordinates.
		{"polygon lat NaN", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], [2]geo.Degrees{geo.Degrees(nan), 1}, sq[3]) }, geo.Limits{}, []string{"polygon[2].lat"}},
		{"polygon lat above 90", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], [2]geo.Degrees{91, 1}) }, geo.Limits{}, []string{"polygon[2].lat"}},
		{"polygon lat below -90", func(s *geo.VolumeSpec) { *s = withPolygon([2]geo.Degrees{-90.1, 0}, sq[1], sq[2]) }, geo.Limits{}, []string{"polygon[0].lat"}},
		{"polygon lng above 180", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], [2]geo.Degrees{0, 180.5}, sq[2]) }, geo.Limits{}, []string{"polygon[1].lng"}},
		{"polygon lng below -180", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], sq[2], [2]geo.Degrees{1, -180.5}) }, geo.Limits{}, []string{"polygon[3].lng"}},
		{"polygon lng +Inf", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], [2]geo.Degrees{0, geo.Degrees(pinf)}, sq[2]) }, geo.Limits{}, []string{"polygon[1].lng"}},
		// Polygon shape.
		{"polygon repeated consecutive vertex", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], sq[1], sq[2], sq[3]) }, geo.Limits{}, []string{"polygon", "polygon[1]", "polygon[2]"}},
		{"polygon repeated first vertex", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[0], sq[1], sq[2], sq[3]) }, geo.Limits{}, []string{"polygon", "polygon[0]", "polygon[1]"}},
		{"polygon closing vertex repeated", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], sq[2], sq[3], sq[0], sq[0]) }, geo.Limits{}, []string{"polygon", "polygon[0]", "polygon[4]", "polygon[5]"}},
		{"polygon bow tie", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[2], sq[1], sq[3]) }, geo.Limits{}, []string{"polygon"}},
		{"polygon bow tie across the antimeridian", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{-1, 179.5}, [2]geo.Degrees{1, -179.5}, [2]geo.Degrees{-1, -179.5}, [2]geo.Degrees{1, 179.5})
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon ring touching itself at a vertex", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{1, 1}, [2]geo.Degrees{1, -1}, [2]geo.Degrees{0, 0}, [2]geo.Degrees{-1, 1}, [2]geo.Degrees{-1, -1})
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon vertex on another edge", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 2}, [2]geo.Degrees{1, 2}, [2]geo.Degrees{0, 1}, [2]geo.Degrees{1, 0})
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon spike folding back on an edge", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 2}, [2]geo.Degrees{0, 1}, [2]geo.Degrees{1, 1})
		}, geo.Limits{}, []string{"polygon"}},
		// A triangle whose three vertices lie on one great circle bounds no
		// region: its last edge runs back over the first two.
		{"polygon degenerate triangle on the equator", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 1}, [2]geo.Degrees{0, 2})
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon degenerate triangle folding back on a meridian", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{10, 5}, [2]geo.Degrees{12, 5}, [2]geo.Degrees{11, 5})
		}, geo.Limits{}, []string{"polygon"}},
		// Polygon area.
		{"polygon area above 100,000 km²", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 5}, [2]geo.Degrees{5, 5}, [2]geo.Degrees{5, 0})
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon area above 100,000 km², clockwise", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{5, 0}, [2]geo.Degrees{5, 5}, [2]geo.Degrees{0, 5})
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon area above 100,000 km² around a pole", func(s *geo.VolumeSpec) {
			*s = withPolygon(regular(90, 0, 3, 12)...)
		}, geo.Limits{}, []string{"polygon"}},
		{"polygon area above custom MaxArea", func(s *geo.VolumeSpec) { *s = withPolygon(sq...) }, geo.Limits{MaxArea: 1e9}, []string{"polygon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := baseSpec()
			c.mod(&s)
			v, err := geo.NewVolume(s, c.lim)
			if err == nil {
				t.Fatalf("NewVolume accepted %s (Spec %s)", specJSON(s), specJSON(v.Spec()))
			}
			if v != nil {
				t.Errorf("NewVolume returned a volume with error %v", err)
			}
			if !errors.Is(err, geo.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			var fe *geo.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FieldError", err, err)
			}
			if !slices.Contains(c.fields, fe.Field) {
				t.Errorf("Field = %q, want one of %q (error: %v)", fe.Field, c.fields, err)
			}
			if fe.Reason == "" || !strings.Contains(err.Error(), fe.Field) {
				t.Errorf("error text %q lacks a reason or the field", err.Error())
			}
		})
	}
}

// cyclicSame reports whether got lists the vertices of want (without a
// closing vertex) in the same cyclic order, or in the reverse order if rev.
func cyclicSame(got, want [][2]geo.Degrees, rev bool) bool {
	if len(got) != len(want) {
		return false
	}
	w := slices.Clone(want)
	if rev {
		slices.Reverse(w)
	}
	for r := range w {
		if slices.Equal(got, append(slices.Clone(w[r:]), w[:r]...)) {
			return true
		}
	}
	return false
}

func TestNewVolumeAccepts(t *testing.T) {
	sq := [][2]geo.Degrees{{0, 0}, {0, 1}, {1, 1}, {1, 0}} // counter-clockwise
	rad := math.Pi / 180
	R2 := earthR * earthR
	// Area of the square bounded by meridians 0 and 1 and latitudes 0 and 1
	// (its top edge is a great-circle arc, a negligible difference).
	sqArea := R2 * rad * math.Sin(rad)
	// Area of the ring across the antimeridian: lat -1..1, 1° of longitude.
	amArea := R2 * rad * 2 * math.Sin(rad)
	// A square inscribed in the circle 1° around a pole: ≈ 2 (1°)².
	poleArea := 2 * rad * rad * R2
	capArea := func(r float64) float64 { return 2 * math.Pi * R2 * (1 - math.Cos(r/earthR)) }
	rev := func(p [][2]geo.Degrees) [][2]geo.Degrees { q := slices.Clone(p); slices.Reverse(q); return q }
	north := [][2]geo.Degrees{{89, 0}, {89, 90}, {89, 180}, {89, -90}}
	south := [][2]geo.Degrees{{-89, 0}, {-89, -90}, {-89, 180}, {-89, 90}}
	antimeridian := [][2]geo.Degrees{{-1, 179.5}, {-1, -179.5}, {1, -179.5}, {1, 179.5}}

	type check func(t *testing.T, in geo.VolumeSpec, v *geo.Volume)
	area := func(want, relTol float64) check {
		return func(t *testing.T, _ geo.VolumeSpec, v *geo.Volume) {
			if got := v.Area(); !(math.Abs(got-want) <= relTol*want) {
				t.Errorf("Area() = %.6g m², want %.6g m² (±%g%%)", got, want, relTol*100)
			}
		}
	}
	ccw := func(t *testing.T, _ geo.VolumeSpec, v *geo.Volume) {
		p := v.Spec().Polygon
		ring := make([]vec3, len(p))
		for i, ll := range p {
			ring[i] = vecFromLL(ll)
		}
		if sum, _ := turningSum(ring); !(sum > 0) {
			t.Errorf("Spec().Polygon %v is not counter-clockwise around the smaller region (turning sum %.4f)", p, sum)
		}
		if len(p) > 1 && p[0] == p[len(p)-1] {
			t.Errorf("Spec().Polygon %v keeps a closing vertex", p)
		}
	}
	sameRing := func(want [][2]geo.Degrees, reversed bool) check {
		return func(t *testing.T, _ geo.VolumeSpec, v *geo.Volume) {
			if got := v.Spec().Polygon; !cyclicSame(got, want, reversed) {
				t.Errorf("Spec().Polygon = %v, want the vertices of %v in %s order", got, want, map[bool]string{false: "the same", true: "reverse"}[reversed])
			}
		}
	}
	contains := func(lat, lng geo.Degrees) check {
		return func(t *testing.T, _ geo.VolumeSpec, v *geo.Volume) {
			p := mustVolume(t, circ(lat, lng, 1))
			if d := geo.Distance(v, p); d != 0 {
				t.Errorf("footprint does not contain (%v, %v): Distance to a 1 m circle there = %v m", lat, lng, d)
			}
		}
	}
	excludes := func(lat, lng geo.Degrees) check {
		return func(t *testing.T, _ geo.VolumeSpec, v *geo.Volume) {
			p := mustVolume(t, circ(lat, lng, 1))
			if d := geo.Distance(v, p); d < 1000 {
				t.Errorf("footprint reaches (%v, %v): Distance to a 1 m circle there = %v m", lat, lng, d)
			}
		}
	}
	isCircle := func(want bool) check {
		return func(t *testing.T, _ geo.VolumeSpec, v *geo.Volume) {
			if v.IsCircle() != want {
				t.Errorf("IsCircle() = %v, want %v", v.IsCircle(), want)
			}
		}
	}
	specKept := func(t *testing.T, in geo.VolumeSpec, v *geo.Volume) {
		out := v.Spec()
		if !out.Start.Equal(in.Start) || !out.End.Equal(in.End) || out.Start.Location() != time.UTC || out.End.Location() != time.UTC {
			t.Errorf("Spec() window [%v, %v), want [%v, %v) in UTC", out.Start, out.End, in.Start, in.End)
		}
		if out.AltLoM != in.AltLoM || out.AltHiM != in.AltHiM || v.AltLo() != in.AltLoM || v.AltHi() != in.AltHiM {
			t.Errorf("Spec() band [%v, %v], want [%v, %v]", out.AltLoM, out.AltHiM, in.AltLoM, in.AltHiM)
		}
		if v.StartNano() != in.Start.UnixNano() || v.EndNano() != in.End.UnixNano() || !v.Start().Equal(in.Start) || !v.End().Equal(in.End) {
			t.Errorf("Start/End accessors disagree with the input window")
		}
		if in.Circle != nil && (out.Circle == nil || *out.Circle != *in.Circle) {
			t.Errorf("Spec().Circle = %+v, want %+v", out.Circle, in.Circle)
		}
	}

	cases := []struct {
		name   string
		mod    func(s *geo.VolumeSpec)
		lim    geo.Limits
		checks []check
	}{
		{"circle", func(s *geo.VolumeSpec) {}, geo.Limits{}, []check{specKept, isCircle(true), area(capArea(1000), 1e-6)}},
		{"circle at the north pole", func(s *geo.VolumeSpec) { s.Circle = &geo.CircleSpec{Lat: 90, Lng: 0, RadiusM: 1000} }, geo.Limits{},
			[]check{specKept, area(capArea(1000), 1e-6), contains(89.995, 123), excludes(89.98, -60)}},
		{"circle at the south pole with a longitude", func(s *geo.VolumeSpec) { s.Circle = &geo.CircleSpec{Lat: -90, Lng: 123, RadiusM: 500000} }, geo.Limits{},
			[]check{specKept, area(capArea(500000), 1e-6), contains(-86, -57), excludes(-85, 0)}},
		{"circle at lng 180", func(s *geo.VolumeSpec) { s.Circle = &geo.CircleSpec{Lat: 0, Lng: 180, RadiusM: 10} }, geo.Limits{}, []check{specKept, contains(0, -179.99999)}},
		{"circle at lng -180", func(s *geo.VolumeSpec) { s.Circle = &geo.CircleSpec{Lat: 0, Lng: -180, RadiusM: 10} }, geo.Limits{}, []check{specKept, contains(0, 179.99999)}},
		{"circle radius exactly 1 m", func(s *geo.VolumeSpec) { s.Circle.RadiusM = 1 }, geo.Limits{}, []check{specKept}},
		{"circle radius exactly 500 km", func(s *geo.VolumeSpec) { s.Circle.RadiusM = 500000 }, geo.Limits{}, []check{specKept}},
		{"altitudes at the bounds", func(s *geo.VolumeSpec) { s.AltLoM, s.AltHiM = -8000, 100000 }, geo.Limits{}, []check{specKept}},
		{"altitudes 1 mm apart", func(s *geo.VolumeSpec) { s.AltLoM, s.AltHiM = 10, 10.001 }, geo.Limits{}, []check{specKept}},
		{"window of exactly 7 days", func(s *geo.VolumeSpec) { s.End = s.Start.Add(7 * 24 * time.Hour) }, geo.Limits{}, []check{specKept}},
		{"window of 1ns", func(s *geo.VolumeSpec) { s.End = s.Start.Add(1) }, geo.Limits{}, []check{specKept}},
		{"window in another zone", func(s *geo.VolumeSpec) {
			z := time.FixedZone("UTC+5:30", 5*3600+1800)
			s.Start, s.End = s.Start.In(z), s.End.In(z)
		}, geo.Limits{}, []check{specKept}},
		{"window at the start of 1970", func(s *geo.VolumeSpec) {
			s.Start = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
			s.End = s.Start.Add(time.Hour)
		}, geo.Limits{}, []check{specKept}},
		{"window at the end of 2200", func(s *geo.VolumeSpec) {
			s.Start = time.Date(2200, 12, 31, 22, 0, 0, 0, time.UTC)
			s.End = s.Start.Add(time.Hour)
		}, geo.Limits{}, []check{specKept}},
		{"custom MaxDuration allows 10 days", func(s *geo.VolumeSpec) { s.End = s.Start.Add(10 * 24 * time.Hour) }, geo.Limits{MaxDuration: 30 * 24 * time.Hour}, []check{specKept}},
		{"counter-clockwise polygon", func(s *geo.VolumeSpec) { *s = withPolygon(sq...) }, geo.Limits{},
			[]check{specKept, isCircle(false), ccw, sameRing(sq, false), area(sqArea, 0.01), contains(0.5, 0.5), excludes(2, 2)}},
		{"clockwise polygon", func(s *geo.VolumeSpec) { *s = withPolygon(rev(sq)...) }, geo.Limits{},
			[]check{specKept, ccw, sameRing(sq, false), area(sqArea, 0.01), contains(0.5, 0.5), excludes(2, 2)}},
		{"closed ring", func(s *geo.VolumeSpec) { *s = withPolygon(append(slices.Clone(sq), sq[0])...) }, geo.Limits{},
			[]check{specKept, ccw, sameRing(sq, false), area(sqArea, 0.01)}},
		{"closed clockwise ring", func(s *geo.VolumeSpec) { *s = withPolygon(append(rev(sq), sq[3])...) }, geo.Limits{},
			[]check{specKept, ccw, sameRing(sq, false), area(sqArea, 0.01)}},
		{"closed triangle", func(s *geo.VolumeSpec) { *s = withPolygon(sq[0], sq[1], sq[2], sq[0]) }, geo.Limits{},
			[]check{ccw, sameRing(sq[:3], false)}},
		{"polygon with collinear consecutive vertices", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 0.5}, [2]geo.Degrees{0, 1}, [2]geo.Degrees{1, 1}, [2]geo.Degrees{1, 0})
		}, geo.Limits{}, []check{ccw, area(sqArea, 0.01)}},
		{"polygon across the antimeridian", func(s *geo.VolumeSpec) { *s = withPolygon(antimeridian...) }, geo.Limits{},
			[]check{ccw, sameRing(antimeridian, false), area(amArea, 0.01), contains(0, 180), contains(0.5, -179.9), excludes(0, 0), excludes(0, 179)}},
		{"clockwise polygon across the antimeridian", func(s *geo.VolumeSpec) { *s = withPolygon(rev(antimeridian)...) }, geo.Limits{},
			[]check{ccw, sameRing(antimeridian, false), area(amArea, 0.01), contains(0, -180), excludes(0, 0)}},
		{"polygon containing the north pole", func(s *geo.VolumeSpec) { *s = withPolygon(north...) }, geo.Limits{},
			[]check{ccw, sameRing(north, false), area(poleArea, 0.02), contains(90, 0), excludes(88, 45)}},
		{"clockwise polygon containing the north pole", func(s *geo.VolumeSpec) { *s = withPolygon(rev(north)...) }, geo.Limits{},
			[]check{ccw, sameRing(north, false), area(poleArea, 0.02), contains(90, 0), excludes(-90, 0)}},
		{"polygon containing the south pole", func(s *geo.VolumeSpec) { *s = withPolygon(south...) }, geo.Limits{},
			[]check{ccw, sameRing(south, false), area(poleArea, 0.02), contains(-90, 0), excludes(90, 0)}},
		{"clockwise polygon containing the south pole", func(s *geo.VolumeSpec) { *s = withPolygon(rev(south)...) }, geo.Limits{},
			[]check{ccw, sameRing(south, false), area(poleArea, 0.02), contains(-90, 77), excludes(0, 0)}},
		{"polygon with a vertex at the pole", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{90, 0}, [2]geo.Degrees{89, 0}, [2]geo.Degrees{89, 90})
		}, geo.Limits{}, []check{ccw, contains(89.5, 45)}},
		{"polygon with 1000 vertices", func(s *geo.VolumeSpec) { *s = withPolygon(regular(10, 10, 0.5, 1000)...) }, geo.Limits{},
			[]check{ccw, sameRing(regular(10, 10, 0.5, 1000), false), area(capArea(0.5*degM), 0.001)}},
		{"polygon with 1000 vertices and a closing vertex", func(s *geo.VolumeSpec) {
			r := regular(-10, 170, 0.5, 1000)
			*s = withPolygon(append(r, r[0])...)
		}, geo.Limits{}, []check{ccw, sameRing(regular(-10, 170, 0.5, 1000), false)}},
		{"tiny polygon (1 m)", func(s *geo.VolumeSpec) { *s = withPolygon(regular(45, 45, 1/degM, 5)...) }, geo.Limits{},
			[]check{ccw, area(5*0.5*math.Sin(2*math.Pi/5), 0.001)}},
		{"tiny clockwise polygon (1 m)", func(s *geo.VolumeSpec) { *s = withPolygon(rev(regular(45, 45, 1/degM, 5))...) }, geo.Limits{},
			[]check{ccw, area(5*0.5*math.Sin(2*math.Pi/5), 0.001)}},
		{"thin sliver polygon", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 1}, [2]geo.Degrees{1e-6, 0.5})
		}, geo.Limits{}, []check{ccw}},
		{"polygon just under 100,000 km²", func(s *geo.VolumeSpec) { *s = withPolygon(regular(30, 30, 1.6, 64)...) }, geo.Limits{}, []check{ccw}},
		{"custom MaxArea allows 5°×5°", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 5}, [2]geo.Degrees{5, 5}, [2]geo.Degrees{5, 0})
		}, geo.Limits{MaxArea: 4e11}, []check{ccw, area(R2*5*rad*math.Sin(5*rad), 0.01)}},
		{"custom MaxArea allows clockwise 5°×5°", func(s *geo.VolumeSpec) {
			*s = withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{5, 0}, [2]geo.Degrees{5, 5}, [2]geo.Degrees{0, 5})
		}, geo.Limits{MaxArea: 4e11}, []check{ccw, area(R2*5*rad*math.Sin(5*rad), 0.01)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := baseSpec()
			c.mod(&s)
			in := s
			in.Polygon = slices.Clone(s.Polygon)
			v, err := geo.NewVolume(s, c.lim)
			if err != nil {
				t.Fatalf("NewVolume(%s): %v", specJSON(s), err)
			}
			if !slices.Equal(s.Polygon, in.Polygon) {
				t.Errorf("NewVolume modified the caller's polygon slice")
			}
			for _, ch := range c.checks {
				ch(t, in, v)
			}
		})
	}
}

// TestPolygonSpecOrientationRandom checks normalisation on many random
// simple polygons in both orientations.
func TestPolygonSpecOrientationRandom(t *testing.T) {
	g := footGen{newRand(7)}
	for range 2000 {
		c := g.centre()
		ring := g.polygon(c, g.size(170_000))
		v, err := geo.NewVolume(timeAltSpec(geo.VolumeSpec{Polygon: ring}), geo.Limits{})
		if err != nil {
			t.Errorf("NewVolume rejected a simple polygon %v: %v", ring, err)
			continue
		}
		open := ring
		if open[0] == open[len(open)-1] {
			open = open[:len(open)-1]
		}
		// Our own orientation of the input.
		vs := ringFromSpec(ring)
		sum, _ := turningSum(vs)
		if got := v.Spec().Polygon; !cyclicSame(got, open, sum < 0) {
			t.Errorf("Spec().Polygon = %v\nwant the input %v\nin %s order", got, ring, map[bool]string{false: "the same", true: "reverse"}[sum < 0])
		}
	}
}

func TestLimitsAndSeparationValidate(t *testing.T) {
	for _, l := range []geo.Limits{{}, {MaxArea: 1}, {MaxDuration: time.Hour}} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", l, err)
		}
	}
	for _, l := range []geo.Limits{{MaxArea: -1}, {MaxArea: nan}, {MaxArea: pinf}, {MaxDuration: -1}} {
		if err := l.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil", l)
		}
	}
	for _, s := range []geo.Separation{{}, {Horizontal: 1, Vertical: 2, Time: 3}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", s, err)
		}
	}
	for _, s := range []geo.Separation{
		{Horizontal: -1}, {Vertical: -1}, {Time: -1},
		{Horizontal: geo.Meters(nan)}, {Vertical: geo.Meters(pinf)}, {Horizontal: geo.Meters(pinf)},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil", s)
		}
	}
}

func TestPrefix(t *testing.T) {
	_, err := geo.NewVolume(withPolygon([2]geo.Degrees{0, 0}, [2]geo.Degrees{0, 1}, [2]geo.Degrees{91, 0}), geo.Limits{})
	p := geo.Prefix("volumes[3]", err)
	var fe *geo.FieldError
	if !errors.As(p, &fe) || fe.Field != "volumes[3].polygon[2].lat" || !errors.Is(p, geo.ErrInvalid) {
		t.Errorf("Prefix = %v", p)
	}
	if other := errors.New("x"); geo.Prefix("a", other) != other {
		t.Errorf("Prefix changed a non-FieldError")
	}
}

// TestNewStoredVolume: a stored volume is built as NewVolume builds it,
// without the crossing check only (and without limits).
func TestNewStoredVolume(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	spec := func(ring ...[2]geo.Degrees) geo.VolumeSpec {
		return geo.VolumeSpec{Polygon: ring, AltLoM: 0, AltHiM: 100, Start: t0, End: t0.Add(time.Hour)}
	}
	// Clockwise: both normalise it the same way.
	good := spec([2]geo.Degrees{35, 40}, [2]geo.Degrees{35.1, 40}, [2]geo.Degrees{35.1, 40.1}, [2]geo.Degrees{35, 40.1})
	a, err := geo.NewVolume(good, geo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := geo.NewStoredVolume(good)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if string(ja) != string(jb) || a.Area() != b.Area() || a.Bound(0) != b.Bound(0) {
		t.Fatalf("stored volume differs: %s area %v, want %s area %v", jb, b.Area(), ja, a.Area())
	}
	bowtie := spec([2]geo.Degrees{35, 40}, [2]geo.Degrees{35.1, 40.1}, [2]geo.Degrees{35.1, 40}, [2]geo.Degrees{35, 40.1})
	if _, err := geo.NewVolume(bowtie, geo.Limits{}); err == nil {
		t.Fatal("NewVolume accepted a crossing ring")
	}
	if _, err := geo.NewStoredVolume(bowtie); err != nil {
		t.Fatalf("NewStoredVolume checked crossings: %v", err)
	}
	// Everything else is still checked.
	bad := good
	bad.AltHiM = -1
	if _, err := geo.NewStoredVolume(bad); err == nil {
		t.Fatal("NewStoredVolume accepted alt_hi below alt_lo")
	}
}
