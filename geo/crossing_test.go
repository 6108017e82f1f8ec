package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/golang/geo/s2"
)

// TestCrossingMatchesS2: crossingSign agrees with s2.CrossingSign, and
// shape.contains with s2.Loop.ContainsPoint, on random edges and on the
// degenerate ones where the rules matter: shared and repeated vertices,
// points on one great circle, nearly collinear and antipodal points.
func TestCrossingMatchesS2(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	randPoint := func() s2.Point {
		return s2.PointFromCoords(r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
	}
	near := func(p s2.Point, eps float64) s2.Point {
		return s2.PointFromCoords(p.X+eps*r.NormFloat64(), p.Y+eps*r.NormFloat64(), p.Z+eps*r.NormFloat64())
	}
	var pool []s2.Point
	pick := func() s2.Point {
		switch k := r.IntN(6); {
		case k == 0 && len(pool) > 0:
			return pool[r.IntN(len(pool))] // a shared vertex
		case k == 1 && len(pool) > 1: // on the great circle of two others
			a, b := pool[r.IntN(len(pool))], pool[r.IntN(len(pool))]
			return s2.Interpolate(r.Float64()*3-1, a, b)
		case k == 2 && len(pool) > 0:
			return near(pool[r.IntN(len(pool))], math.Pow(10, -float64(5+r.IntN(10))))
		case k == 3 && len(pool) > 0:
			return s2.Point{Vector: pool[r.IntN(len(pool))].Mul(-1)}
		}
		p := randPoint()
		pool = append(pool, p)
		if len(pool) > 8 {
			pool = pool[1:]
		}
		return p
	}
	counts := map[s2.Crossing]int{}
	for i := range 300_000 {
		a, b, c, d := pick(), pick(), pick(), pick()
		if a.Vector == b.Mul(-1) || c.Vector == d.Mul(-1) {
			continue // antipodal ends: the edge is undefined (volumes refuse them)
		}
		got, want := crossingSign(a, b, c, d), s2.CrossingSign(a, b, c, d)
		if got != want {
			t.Fatalf("case %d: crossingSign(%v, %v, %v, %v) = %v, s2 says %v", i, a, b, c, d, got, want)
		}
		counts[got]++
	}
	if counts[s2.Cross] < 1000 || counts[s2.MaybeCross] < 1000 || counts[s2.DoNotCross] < 1000 {
		t.Fatalf("too few of some outcome: %v", counts)
	}

	// Containment, including points that are vertices of the polygon or
	// lie on its edges.
	for i := range 3000 {
		c := randPoint()
		n := 3 + r.IntN(10)
		var pts []s2.Point
		for k := range n {
			ang := (float64(k) + 0.2 + 0.6*r.Float64()) * 2 * math.Pi / float64(n)
			rad := 0.01 + 0.2*r.Float64()
			pts = append(pts, destinationPoint(c, ang, rad))
		}
		loop := s2.LoopFromPoints(pts)
		if !loop.IsNormalized() {
			continue
		}
		sh := shape{verts: pts, originInside: loop.ContainsOrigin()}
		for range 40 {
			var p s2.Point
			switch r.IntN(4) {
			case 0:
				p = pts[r.IntN(n)]
			case 1:
				k := r.IntN(n)
				p = s2.Interpolate(r.Float64(), pts[k], pts[(k+1)%n])
			default:
				p = near(c, 0.3*r.Float64())
			}
			if got, want := sh.contains(p), loop.ContainsPoint(p); got != want {
				t.Fatalf("polygon %d: contains(%v) = %v, s2.Loop says %v", i, p, got, want)
			}
		}
	}
}

// destinationPoint is the point at angle dist (radians) from c in the
// direction ang (radians from an arbitrary reference).
func destinationPoint(c s2.Point, ang, dist float64) s2.Point {
	u := s2.Point{Vector: c.Ortho()}
	v := s2.Point{Vector: c.Cross(u.Vector)}
	dir := u.Mul(math.Cos(ang)).Add(v.Mul(math.Sin(ang)))
	return s2.Point{Vector: c.Mul(math.Cos(dist)).Add(dir.Mul(math.Sin(dist))).Normalize()}
}
