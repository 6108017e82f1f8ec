package geo_test

// Hand-computed footprint distances and time/altitude boundary cases.

import (
	"math"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// degM is the length of one degree of great-circle arc in metres.
const degM = earthR * math.Pi / 180

func timeAltSpec(s geo.VolumeSpec) geo.VolumeSpec {
	s.AltLoM, s.AltHiM = 0, 100
	s.Start, s.End = t0, t0.Add(time.Hour)
	return s
}

func mustVolume(t *testing.T, s geo.VolumeSpec) *geo.Volume {
	t.Helper()
	v, err := geo.NewVolume(timeAltSpec(s), geo.Limits{})
	if err != nil {
		t.Fatalf("NewVolume(%s): %v", specJSON(s), err)
	}
	return v
}

func circ(lat, lng geo.Degrees, r geo.Meters) geo.VolumeSpec {
	return geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: lat, Lng: lng, RadiusM: r}}
}

func poly(pts ...[2]geo.Degrees) geo.VolumeSpec { return geo.VolumeSpec{Polygon: pts} }

func reversed(s geo.VolumeSpec) geo.VolumeSpec {
	p := make([][2]geo.Degrees, len(s.Polygon))
	for i, v := range s.Polygon {
		p[len(p)-1-i] = v
	}
	return geo.VolumeSpec{Polygon: p}
}

// square has edges along the meridians lng0 and lng1 (great circles) and
// great-circle arcs between the corners at lat0 and lat1.
func square(lat0, lng0, lat1, lng1 geo.Degrees) geo.VolumeSpec {
	return poly([2]geo.Degrees{lat0, lng0}, [2]geo.Degrees{lat0, lng1}, [2]geo.Degrees{lat1, lng1}, [2]geo.Degrees{lat1, lng0})
}

func TestDistanceHand(t *testing.T) {
	deg := math.Pi / 180
	unit := square(0, 0, 1, 1) // bottom edge on the equator, sides on meridians
	d1km := geo.Degrees(1000 / degM)
	// Edge (89,0)-(89,90) bulges towards the pole; its midpoint is at
	// latitude atan(√2 tan 89°).
	midLat := math.Atan(math.Sqrt2*math.Tan(89*deg)) / deg
	cases := []struct {
		name  string
		a, b  geo.VolumeSpec
		want  float64 // metres
		tol   float64 // metres
		exact bool    // touching with shared input coordinates: Within(0) must hold
	}{
		{"equator circles 1° apart", circ(0, 0, 1000), circ(0, 1, 2000), degM - 3000, 1e-3, false},
		{"equator circles 2.5° apart", circ(0, 10, 50000), circ(0, 12.5, 1), 2.5*degM - 50001, 1e-3, false},
		{"meridian circles 1° apart", circ(10, 20, 500), circ(11, 20, 500), degM - 1000, 1e-3, false},
		{"quarter of the globe apart", circ(0, 0, 1000), circ(0, 90, 1000), 90*degM - 2000, 1e-3, false},
		{"overlapping circles", circ(0, 0, 60000), circ(0, 1, 60000), 0, 1e-3, false},
		{"concentric circles", circ(45, 45, 10), circ(45, 45, 500000), 0, 0, true},
		{"tiny circles 3 m apart", circ(0, 0, 1), circ(0, 5/degM, 1), 3, 1e-3, false},
		{"circle touching polygon edge", circ(-0.3, 0.5, geo.Meters(0.3*degM)), unit, 0, 1e-3, false},
		{"circle 10 m from polygon edge", circ(-0.3, 0.5, geo.Meters(0.3*degM-10)), unit, 10, 1e-3, false},
		{"circle 10 m from clockwise polygon edge", circ(-0.3, 0.5, geo.Meters(0.3*degM-10)), reversed(unit), 10, 1e-3, false},
		{"circle across polygon edge", circ(-0.3, 0.5, geo.Meters(0.3*degM+10)), unit, 0, 1e-3, false},
		{"circle inside polygon", circ(0.5, 0.5, 1000), unit, 0, 0, true},
		{"polygon inside circle", square(0.4, 0.4, 0.6, 0.6), circ(0.5, 0.5, 100000), 0, 0, true},
		{"polygon inside polygon", square(0.4, 0.4, 0.6, 0.6), unit, 0, 0, true},
		{"polygon inside polygon, both clockwise", reversed(square(0.4, 0.4, 0.6, 0.6)), reversed(unit), 0, 0, true},
		{"polygons sharing an edge", unit, square(0, 1, 1, 2), 0, 0, true},
		{"polygons sharing an edge, one clockwise", unit, reversed(square(0, 1, 1, 2)), 0, 0, true},
		{"polygons sharing a vertex", unit, square(1, 1, 2, 2), 0, 0, true},
		{"triangles sharing a vertex", poly([2]geo.Degrees{0, 0}, [2]geo.Degrees{-1, -1}, [2]geo.Degrees{-1, 1}), poly([2]geo.Degrees{0, 0}, [2]geo.Degrees{1, 1}, [2]geo.Degrees{1, -1}), 0, 0, true},
		// Meridians converge: the closest points are the corners at latitude -1.
		{"polygons side by side below the equator", square(-1, 0, 0, 1), square(-1, 2, 0, 3), 2 * math.Asin(math.Cos(deg)*math.Sin(deg/2)) * earthR, 1e-3, false},
		{"triangles 1 km apart along a meridian",
			poly([2]geo.Degrees{9.9, 19.9}, [2]geo.Degrees{9.9, 20.1}, [2]geo.Degrees{10, 20}),
			poly([2]geo.Degrees{10 + d1km, 20}, [2]geo.Degrees{10.1, 20.1}, [2]geo.Degrees{10.1, 19.9}),
			1000, 1e-3, false},
		{"circles across the antimeridian", circ(0, 179.99, 100), circ(0, -179.99, 100), 0.02*degM - 200, 1e-3, false},
		{"circles at lng 180 and -180", circ(10, 180, 1), circ(10, -180, 1), 0, 0, true},
		{"polygons across the antimeridian",
			square(-1, 179, 1, 179.9), square(-1, -179.9, 1, -179),
			2 * math.Asin(math.Cos(deg)*math.Sin(0.1*deg)) * earthR, 1e-3, false},
		{"circle at lng 180 inside polygon across the antimeridian", circ(0, 180, 1), square(-1, 179.5, 1, -179.5), 0, 0, true},
		{"circle west of polygon across the antimeridian", circ(0, 179, 100), square(-1, 179.5, 1, -179.5), 0.5*degM - 100, 1e-3, false},
		{"circle east of polygon across the antimeridian", circ(0, -179, 100), square(-1, 179.5, 1, -179.5), 0.5*degM - 100, 1e-3, false},
		{"circles across the north pole", circ(89.99, 0, 100), circ(89.99, 180, 100), 0.02*degM - 200, 1e-3, false},
		{"circles across the south pole", circ(-89.99, 45, 100), circ(-89.99, -135, 100), 0.02*degM - 200, 1e-3, false},
		{"triangles across the north pole",
			poly([2]geo.Degrees{89.9, -5}, [2]geo.Degrees{89.9, 5}, [2]geo.Degrees{89.99, 0}),
			poly([2]geo.Degrees{89.9, 175}, [2]geo.Degrees{89.9, -175}, [2]geo.Degrees{89.99, 180}),
			0.02 * degM, 1e-3, false},
		{"polygon around the north pole holds a circle at the pole",
			poly([2]geo.Degrees{89, 0}, [2]geo.Degrees{89, 90}, [2]geo.Degrees{89, 180}, [2]geo.Degrees{89, -90}),
			circ(90, 0, 1000), 0, 0, true},
		{"circle at the pole to a great-circle edge",
			poly([2]geo.Degrees{89, 0}, [2]geo.Degrees{89, 90}, [2]geo.Degrees{88, 45}),
			circ(90, 0, 1000), (90-midLat)*degM - 1000, 1e-3, false},
		{"circle at the south pole to a ring around the north pole",
			poly([2]geo.Degrees{89, 0}, [2]geo.Degrees{89, 90}, [2]geo.Degrees{89, 180}, [2]geo.Degrees{89, -90}),
			circ(-90, 0, 1000), 179*degM - 1000, 1e-3, false},
		// Antipodal footprints: the package's promise is sub-millimetre, but
		// near π many formulas lose precision; the requirement is 1 m.
		{"antipodal circles on the equator", circ(0, 0, 1), circ(0, 180, 1), math.Pi*earthR - 2, 1, false},
		{"antipodal circles at the poles", circ(90, 0, 1), circ(-90, 0, 1), math.Pi*earthR - 2, 1, false},
		{"nearly antipodal circles", circ(0, 0, 1), circ(1e-9, 180, 1), math.Pi*earthR - 2 - 1e-9*degM, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := mustVolume(t, c.a), mustVolume(t, c.b)
			for _, p := range [][2]*geo.Volume{{a, b}, {b, a}} {
				x, y := p[0], p[1]
				got := float64(geo.Distance(x, y))
				if math.IsNaN(got) || math.Abs(got-c.want) > c.tol {
					t.Errorf("Distance = %.6f m, want %.6f m (±%g)\n a=%s\n b=%s",
						got, c.want, c.tol, specJSON(x.Spec()), specJSON(y.Spec()))
				}
				if c.exact && got != 0 {
					t.Errorf("Distance = %g m, want exactly 0 (the footprints share points given by identical coordinates)", got)
				}
				if c.exact && !geo.Within(x, y, 0) {
					t.Errorf("Within(0) = false for footprints that touch or overlap")
				}
				if c.want >= 1.5 && geo.Within(x, y, geo.Meters(c.want-1)) {
					t.Errorf("Within(%.3f) = true at distance %.3f", c.want-1, c.want)
				}
				if !geo.Within(x, y, geo.Meters(c.want+1)) {
					t.Errorf("Within(%.3f) = false at distance %.3f", c.want+1, c.want)
				}
				// Same start, end and altitudes: Conflict is the footprint test.
				if !geo.Conflict(x, y, geo.Separation{Horizontal: geo.Meters(c.want + 1)}) {
					t.Errorf("Conflict(H=%.3f) = false at distance %.3f", c.want+1, c.want)
				}
				if c.want >= 1.5 && geo.Conflict(x, y, geo.Separation{Horizontal: geo.Meters(c.want - 1)}) {
					t.Errorf("Conflict(H=%.3f) = true at distance %.3f", c.want-1, c.want)
				}
				if c.exact && !geo.Conflict(x, y, geo.Separation{}) {
					t.Errorf("Conflict(zero separation) = false for touching footprints in the same window and band")
				}
			}
		})
	}
}

// TestDistanceSelf: a footprint is at distance 0 from itself.
func TestDistanceSelf(t *testing.T) {
	for _, s := range []geo.VolumeSpec{
		circ(0, 0, 1), circ(90, 0, 500000), circ(-90, 17, 3), circ(0, 180, 10),
		square(0, 0, 1, 1), reversed(square(-1, 179.5, 1, -179.5)),
		poly([2]geo.Degrees{89, 0}, [2]geo.Degrees{89, 120}, [2]geo.Degrees{89, -120}),
	} {
		v := mustVolume(t, s)
		if d := geo.Distance(v, v); d != 0 || !geo.Within(v, v, 0) || !geo.Conflict(v, v, geo.Separation{}) {
			t.Errorf("%s: Distance to itself %g, Within(0) %v, Conflict %v", specJSON(s), d, geo.Within(v, v, 0), geo.Conflict(v, v, geo.Separation{}))
		}
	}
}

// TestConflictTimeAlt checks the time and altitude boundaries of Conflict:
// windows are half-open (touching windows do not overlap), bands are closed
// (touching bands do), and separations widen both.
func TestConflictTimeAlt(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	type tw struct {
		start, end time.Time
		lo, hi     geo.Meters
	}
	mk := func(t *testing.T, w tw) *geo.Volume {
		t.Helper()
		v, err := geo.NewVolume(geo.VolumeSpec{
			Circle: &geo.CircleSpec{Lat: 51.5, Lng: -0.1, RadiusM: 100},
			AltLoM: w.lo, AltHiM: w.hi, Start: w.start, End: w.end,
		}, geo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	paris := time.FixedZone("CET", 3600)
	cases := []struct {
		name string
		a, b tw
		sep  geo.Separation
		want bool
	}{
		{"same window and band", tw{at(0), at(10), 0, 100}, tw{at(0), at(10), 0, 100}, geo.Separation{}, true},
		{"touching windows", tw{at(0), at(10), 0, 100}, tw{at(10), at(20), 0, 100}, geo.Separation{}, false},
		{"touching windows, 1ns time separation", tw{at(0), at(10), 0, 100}, tw{at(10), at(20), 0, 100}, geo.Separation{Time: 1}, true},
		{"windows 1ns apart, 1ns time separation", tw{at(0), at(10), 0, 100}, tw{at(10).Add(1), at(20), 0, 100}, geo.Separation{Time: 1}, false},
		{"windows 5 min apart, 5 min separation", tw{at(0), at(10), 0, 100}, tw{at(15), at(20), 0, 100}, geo.Separation{Time: 5 * time.Minute}, false},
		{"windows 5 min apart, 5 min 1ns separation", tw{at(0), at(10), 0, 100}, tw{at(15), at(20), 0, 100}, geo.Separation{Time: 5*time.Minute + 1}, true},
		{"windows overlapping by 1ns", tw{at(0), at(10).Add(1), 0, 100}, tw{at(10), at(20), 0, 100}, geo.Separation{}, true},
		{"nested windows", tw{at(0), at(60), 0, 100}, tw{at(10), at(20), 0, 100}, geo.Separation{}, true},
		{"touching windows in another zone", tw{at(0), at(10), 0, 100}, tw{at(10).In(paris), at(20).In(paris), 0, 100}, geo.Separation{}, false},
		{"overlapping windows in another zone", tw{at(0), at(10), 0, 100}, tw{at(9).In(paris), at(20).In(paris), 0, 100}, geo.Separation{}, true},
		{"touching bands", tw{at(0), at(10), 0, 100}, tw{at(0), at(10), 100, 200}, geo.Separation{}, true},
		{"bands 0.5 m apart", tw{at(0), at(10), 0, 100}, tw{at(0), at(10), 100.5, 200}, geo.Separation{}, false},
		{"bands 0.5 m apart, 0.5 m vertical separation", tw{at(0), at(10), 0, 100}, tw{at(0), at(10), 100.5, 200}, geo.Separation{Vertical: 0.5}, true},
		{"bands 0.5 m apart, 0.4 m vertical separation", tw{at(0), at(10), 0, 100}, tw{at(0), at(10), 100.5, 200}, geo.Separation{Vertical: 0.4}, false},
		{"band below", tw{at(0), at(10), -8000, -7000}, tw{at(0), at(10), -6000, 100000}, geo.Separation{Vertical: 999}, false},
		{"band below, touching with separation", tw{at(0), at(10), -8000, -7000}, tw{at(0), at(10), -6000, 100000}, geo.Separation{Vertical: 1000}, true},
		{"nested bands", tw{at(0), at(10), 0, 1000}, tw{at(0), at(10), 10, 20}, geo.Separation{}, true},
		{"touching windows and bands", tw{at(0), at(10), 0, 100}, tw{at(10), at(20), 100, 200}, geo.Separation{}, false},
		{"overlap in time only", tw{at(0), at(10), 0, 100}, tw{at(5), at(20), 200, 300}, geo.Separation{Time: time.Hour}, false},
		{"windows a week apart, a week of separation", tw{at(0), at(60), 0, 100}, tw{at(60 + 7*24*60), at(61 + 7*24*60), 0, 100}, geo.Separation{Time: 7 * 24 * time.Hour}, false},
		{"windows a week less 1ns apart, a week of separation", tw{at(0), at(60).Add(1), 0, 100}, tw{at(60 + 7*24*60), at(61 + 7*24*60), 0, 100}, geo.Separation{Time: 7 * 24 * time.Hour}, true},
		{"windows 174 years apart, huge time separation", tw{at(0), at(60), 0, 100}, tw{time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 1, 1, 1, 0, 0, 0, time.UTC), 0, 100}, geo.Separation{Time: math.MaxInt64}, true},
		{"bands at the extremes, huge vertical separation", tw{at(0), at(60), -8000, -7999}, tw{at(0), at(60), 99999, 100000}, geo.Separation{Vertical: math.MaxFloat64}, true},
		{"overlap in altitude only", tw{at(0), at(10), 0, 100}, tw{at(30), at(40), 0, 100}, geo.Separation{Vertical: 1000}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := mk(t, c.a), mk(t, c.b)
			for _, p := range [][2]*geo.Volume{{a, b}, {b, a}} {
				if got := geo.Conflict(p[0], p[1], c.sep); got != c.want {
					t.Errorf("Conflict = %v, want %v", got, c.want)
				}
				if got := geo.TimeAltOverlap(p[0], p[1], c.sep); got != c.want {
					t.Errorf("TimeAltOverlap = %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestDistanceNearHemisphere: with a raised MaxArea, a ring along latitude 1°
// bounds a region of nearly half the sphere; the smaller side (the north) is
// the inside whichever way the ring runs.
func TestDistanceNearHemisphere(t *testing.T) {
	var ring [][2]geo.Degrees
	for lng := -180; lng < 180; lng++ {
		ring = append(ring, [2]geo.Degrees{1, geo.Degrees(lng)})
	}
	lim := geo.Limits{MaxArea: 3e14}
	for _, r := range [][][2]geo.Degrees{ring, reversed(geo.VolumeSpec{Polygon: ring}).Polygon} {
		v, err := geo.NewVolume(timeAltSpec(geo.VolumeSpec{Polygon: r}), lim)
		if err != nil {
			t.Fatal(err)
		}
		cap := 2 * math.Pi * earthR * earthR * (1 - math.Sin(math.Pi/180))
		if got := v.Area(); math.Abs(got-cap) > 1e-3*cap {
			t.Errorf("Area() = %.6g m², want about %.6g m²", got, cap)
		}
		for _, c := range []struct {
			lat, lng geo.Degrees
			want     float64
		}{
			{90, 0, 0},
			{1.5, 0.5, 0},
			{-10, 0, 11*degM - 1000},
			{-90, 0, 91*degM - 1000},
		} {
			p := mustVolume(t, circ(c.lat, c.lng, 1000))
			if got := float64(geo.Distance(v, p)); math.Abs(got-c.want) > 1e-3 {
				t.Errorf("ring %v...: Distance to 1 km circle at (%v, %v) = %.4f m, want %.4f m", r[:2], c.lat, c.lng, got, c.want)
			}
		}
	}
	if _, err := geo.NewVolume(timeAltSpec(geo.VolumeSpec{Polygon: ring}), geo.Limits{}); err == nil {
		t.Errorf("ring along latitude 1° accepted under the default MaxArea")
	}
}
