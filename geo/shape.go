package geo

import (
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// shape is a footprint prepared for fast exact tests. Every point of the
// footprint lies within outer of center; if hasInner, every point within
// inner of center lies in the footprint. A circle is exactly its cap.
type shape struct {
	center       s2.Point
	outer        s1.Angle
	inner        s1.Angle
	hasInner     bool
	originInside bool       // polygon only: whether s2.OriginPoint() is inside
	verts        []s2.Point // polygon vertices, counter-clockwise; nil for a circle
	area         float64    // steradians
}

// minArea (m²) is the least area a polygon must enclose: less means its
// vertices lie on one great circle and the ring folds back on itself.
const minArea = 0.1

// boundSlack absorbs rounding in bounds: 1e-12 rad is about 6 µm.
const boundSlack s1.Angle = 1e-12

func newCircle(c CircleSpec) (shape, error) {
	if err := checkLatLng(c.Lat, c.Lng); err != nil {
		return shape{}, err
	}
	if !finite(float64(c.RadiusM)) || c.RadiusM < MinRadius || c.RadiusM > MaxRadius {
		return shape{}, fieldErr("radius_m", c.RadiusM, "must be in [%v, %v] metres", MinRadius, MaxRadius)
	}
	r := c.RadiusM.Angle()
	cap := s2.CapFromCenterAngle(LatLng{c.Lat, c.Lng}.Point(), r)
	return shape{center: cap.Center(), outer: r, inner: r, hasInner: true, area: cap.Area()}, nil
}

// newPolygon validates a ring of [lat, lng] pairs and returns it normalised
// (no closing vertex, counter-clockwise) with its prepared shape. A plainly
// counter-clockwise, small ring is prepared without an s2.Loop
// (storedShape, exactly the same shape); any other goes through one
// (loopShape), which also finds the orientation.
func newPolygon(ring [][2]Degrees, maxArea float64, checkCrossing bool) ([][2]Degrees, shape, error) {
	ring, pts, err := polygonPoints(ring)
	if err != nil {
		return nil, shape{}, err
	}
	if checkCrossing {
		if i, j, ok := selfIntersection(pts); ok {
			return nil, shape{}, fieldErr("polygon", nil, "edges %d and %d cross: the ring must not intersect itself", i, j)
		}
	}
	if s, ok := storedShape(pts); ok {
		if err := checkMaxArea(s.area, maxArea); err != nil {
			return nil, shape{}, err
		}
		return append([][2]Degrees(nil), ring...), s, nil
	}
	return loopShape(ring, pts, maxArea)
}

// checkMaxArea refuses a polygon of area (steradians) over maxArea (m²).
func checkMaxArea(area, maxArea float64) error {
	if a := area * float64(EarthRadius) * float64(EarthRadius); a > maxArea {
		return fieldErr("polygon", nil, "area %.0f km² is larger than the maximum %.0f km²", a/1e6, maxArea/1e6)
	}
	return nil
}

// polygonPoints checks the vertices of a ring (dropping a closing vertex)
// and returns the ring and its points.
func polygonPoints(ring [][2]Degrees) ([][2]Degrees, []s2.Point, error) {
	if n := len(ring); n > 1 && ring[0] == ring[n-1] {
		ring = ring[:n-1] // GeoJSON-style closing vertex
	}
	if len(ring) < MinVertices || len(ring) > MaxVertices {
		return nil, nil, fieldErr("polygon", len(ring), "must have %d to %d distinct vertices", MinVertices, MaxVertices)
	}
	pts := make([]s2.Point, len(ring))
	for i, ll := range ring {
		if err := checkLatLng(ll[0], ll[1]); err != nil {
			return nil, nil, Prefix(fieldIndex("polygon", i), err)
		}
		pts[i] = LatLng{ll[0], ll[1]}.Point()
	}
	for i := range pts {
		j := (i + 1) % len(pts)
		if pts[i] == pts[j] {
			return nil, nil, fieldErr(fieldIndex("polygon", j), ring[j], "repeats the vertex before it")
		}
		if pts[i].Dot(pts[j].Vector) < -1+1e-15 {
			return nil, nil, fieldErr(fieldIndex("polygon", j), ring[j], "is antipodal to the vertex before it: the edge is undefined")
		}
	}
	return ring, pts, nil
}

// loopShape prepares a ring (its points pts, checked) through an s2.Loop:
// reversed if it is given clockwise, so that the smaller region is inside.
func loopShape(ring [][2]Degrees, pts []s2.Point, maxArea float64) ([][2]Degrees, shape, error) {
	loop := s2.LoopFromPoints(pts)
	var out [][2]Degrees
	if !loop.IsNormalized() {
		// Given clockwise: keep the smaller region by reversing the ring.
		out = make([][2]Degrees, len(ring))
		rev := make([]s2.Point, len(pts))
		for i := range ring {
			out[i] = ring[len(ring)-1-i]
			rev[i] = pts[len(pts)-1-i]
		}
		pts = rev
		loop = s2.LoopFromPoints(pts)
	} else {
		out = append([][2]Degrees(nil), ring...)
	}
	area := loop.Area()
	if area*float64(EarthRadius)*float64(EarthRadius) < minArea {
		return nil, shape{}, fieldErr("polygon", nil, "encloses less than 0.1 m²: its vertices lie on (or within a hair of) one great circle")
	}
	if err := checkMaxArea(area, maxArea); err != nil {
		return nil, shape{}, err
	}
	s := shape{verts: pts, originInside: loop.ContainsOrigin(), area: area}
	s.initBounds()
	return out, s, nil
}

// storedShape prepares a polygon (a stored one is counter-clockwise, as it
// was accepted) without building an s2.Loop, whose bounds and index cost
// most of building a volume: its area is the fan of triangles from
// the first vertex (what s2.Loop.Area sums when no vertex is nearly
// antipodal to the first), and whether s2.OriginPoint() is inside is
// found as s2.Loop finds it, from whether the ring holds its second
// vertex. ok is false unless the ring is plainly counter-clockwise and
// small (area in [maxErr, 1 sr), 1 sr being about 40 million km²) and no
// vertex is nearly antipodal to the first: the caller takes the s2.Loop
// path then.
func storedShape(pts []s2.Point) (shape, bool) {
	const maxLength = math.Pi - 1e-5 // as s2.Loop's fan
	v0 := pts[0]
	var area float64
	for i := 1; i+1 < len(pts); i++ {
		if pts[i+1].Angle(v0.Vector) > maxLength {
			return shape{}, false
		}
		area += s2.SignedArea(v0, pts[i], pts[i+1])
	}
	// Well above s2's bound on the error of the turning angle, under which
	// it decides the orientation another way.
	if maxErr := 1e-12 * float64(len(pts)); !(area >= maxErr && area < 1) || area*float64(EarthRadius)*float64(EarthRadius) < minArea {
		return shape{}, false
	}
	s := shape{verts: pts, area: area}
	// With the origin taken as outside, the ring must hold its second
	// vertex iff the wedge at it holds s2's reference direction; if
	// counting crossings says otherwise, the origin is inside.
	inWedge := s2.AngleContainsVertex(pts[0], pts[1], pts[2])
	s.originInside = inWedge != s.contains(pts[1])
	s.initBounds()
	return s, true
}

func fieldIndex(name string, i int) string { return name + "[" + itoa(i) + "]" }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

// selfIntersection reports two non-adjacent edges of the ring that cross or
// touch (edge i runs from vertex i to vertex i+1).
func selfIntersection(pts []s2.Point) (int, int, bool) {
	n := len(pts)
	for i := 0; i < n; i++ {
		a, b := pts[i], pts[(i+1)%n]
		cr := s2.NewEdgeCrosser(a, b)
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // adjacent through vertex 0
			}
			if cr.CrossingSign(pts[j], pts[(j+1)%n]) != s2.DoNotCross {
				return i, j, true
			}
		}
	}
	// Adjacent edges that fold back onto each other (a, b, a) overlap.
	for i := 0; i < n; i++ {
		if pts[i] == pts[(i+2)%n] {
			return i, (i + 1) % n, true
		}
	}
	return 0, 0, false
}

// initBounds sets the polygon's centre, outer and inner radii.
func (s *shape) initBounds() {
	var sum s2.Point
	for _, p := range s.verts {
		sum.Vector = sum.Vector.Add(p.Vector)
	}
	s.outer = s1.Angle(math.Pi)
	if sum.Norm() < 1e-9 {
		s.center = s.verts[0]
		return
	}
	s.center = s2.Point{Vector: sum.Normalize()}
	var far s1.Angle
	for _, p := range s.verts {
		far = max(far, s.center.Distance(p))
	}
	// A cap of radius under 90° is convex, so it holds the edges between
	// its vertices; and since the polygon is the smaller region, it holds
	// the interior too (the cap's complement, larger than a hemisphere,
	// cannot be inside).
	if far < math.Pi/2-1e-9 {
		s.outer = far + boundSlack
	}
	if s.contains(s.center) {
		in := s1.StraightChordAngle
		for i := range s.verts {
			in, _ = s2.UpdateMinDistance(s.center, s.verts[i], s.vertex(i+1), in)
		}
		if a := in.Angle() - boundSlack; a > 0 {
			s.inner, s.hasInner = a, true
		}
	}
}

func (s *shape) vertex(i int) s2.Point {
	if i >= len(s.verts) {
		return s.verts[i-len(s.verts)]
	}
	return s.verts[i]
}

// chord converts an angle to a chord angle, saturating at a straight angle.
func chord(a s1.Angle) s1.ChordAngle {
	if a >= math.Pi {
		return s1.StraightChordAngle
	}
	return s1.ChordAngleFromAngle(a)
}

// chordBetween is s2.ChordAngleBetweenPoints(p, q), the same value, with
// the builtin min instead of math.Min (a call that does not inline): the
// overlap cells compute it for every cell they look at.
func chordBetween(p, q s2.Point) s1.ChordAngle {
	return s1.ChordAngle(min(4, p.Sub(q.Vector).Norm2()))
}

// chordAdd is a.Add(b), the same value (s1's formula), with the builtin
// min instead of math.Min.
func chordAdd(a, b s1.ChordAngle) s1.ChordAngle {
	if b == 0 {
		return a
	}
	if a+b >= 4 {
		return s1.StraightChordAngle
	}
	x := float64(a * (1 - 0.25*b))
	y := float64(b * (1 - 0.25*a))
	return s1.ChordAngle(min(4, x+y+2*math.Sqrt(x*y)))
}
