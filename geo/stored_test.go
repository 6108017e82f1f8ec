package geo

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/golang/geo/s2"
)

// TestStoredPolygonMatchesLoop: a polygon, filed or stored, built without
// an s2.Loop (storedShape) is exactly the one built through s2.Loop (same
// ring, area to the bit, origin side, bounds), for simple rings of every
// size from a metre to a third of the sphere, at the poles and across the
// antimeridian, given in either orientation; and the fast path is taken
// for most of them.
func TestStoredPolygonMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fast, fastFiled, n := 0, 0, 0
	for range 20_000 {
		var c s2.Point
		switch r.IntN(4) {
		case 0: // near a pole
			c = LatLng{Degrees(math.Copysign(89+r.Float64(), r.Float64()-0.5)), Degrees(r.Float64()*360 - 180)}.Point()
		case 1: // near the antimeridian
			c = LatLng{Degrees(r.Float64()*160 - 80), Degrees(math.Copysign(179+r.Float64(), r.Float64()-0.5))}.Point()
		default:
			c = s2.PointFromCoords(r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
		}
		size := math.Pow(10, -6.8+7*r.Float64()) // radians: 1 m to 1.2 rad
		k := 3 + r.IntN(40)
		angles := make([]float64, k)
		for i := range angles {
			angles[i] = r.Float64() * 2 * math.Pi
		}
		// Sorted angles with radii round a centre: a simple (star-shaped)
		// ring, counter-clockwise or reversed.
		slices.Sort(angles)
		ring := make([][2]Degrees, k)
		for i, a := range angles {
			ll := LatLngFromPoint(destinationPoint(c, a, size*(0.3+0.7*r.Float64())))
			ring[i] = [2]Degrees{ll.Lat, ll.Lng}
		}
		if r.IntN(2) == 0 {
			for i, j := 0, k-1; i < j; i, j = i+1, j-1 {
				ring[i], ring[j] = ring[j], ring[i]
			}
		}
		spec := VolumeSpec{Polygon: ring, AltLoM: 0, AltHiM: 100, Start: t0, End: t0.Add(time.Hour)}
		// The oracle: the ring prepared through an s2.Loop, as a volume.
		want, err := newVolume(spec, NoLimits, true)
		if err != nil {
			continue // rounding made an invalid ring: not what this tests
		}
		r2, pts, err := polygonPoints(ring)
		if err != nil {
			t.Fatalf("ring %v: %v", ring, err)
		}
		if want.polygon, want.shape, err = loopShape(r2, pts, math.Inf(1)); err != nil {
			t.Fatalf("ring %v: NewVolume accepted it, the loop path refuses it: %v", ring, err)
		}
		for _, checkCrossing := range []bool{true, false} { // filed, stored
			got, err := newVolume(spec, NoLimits, checkCrossing)
			if err != nil {
				t.Fatalf("ring %v: build (crossings checked: %t) failed: %v", ring, checkCrossing, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ring %v (crossings checked: %t):\ngot  %+v\nloop %+v", ring, checkCrossing, got.shape, want.shape)
			}
		}
		n++
		if _, ok := storedShape(want.shape.verts); ok {
			fast++ // stored: counter-clockwise
		}
		if _, ok := storedShape(pts); ok {
			fastFiled++ // as given: half of them clockwise
		}
	}
	if n < 15_000 || fast < n*3/4 || fastFiled < n/3 {
		t.Fatalf("%d valid rings, %d on the fast path when stored, %d when filed: the generator is broken", n, fast, fastFiled)
	}
}
