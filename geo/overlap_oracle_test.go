package geo

// An independent check of OverlapCells against its doc comment, written by
// a reviewer who did not read overlap.go, cellgrid.go or gnomonic*.go (a
// review on 3 December 2026: about 59,000 cases over seeds 1-7, no
// violation).
//
// Checked, for every case:
//
//	STRUCT    returned level <= max(asked, 1); >= 1 when cells are returned;
//	          at most maxCells cells; valid, distinct, all at the returned
//	          level; level 0 only when level 1 could not fit (maxCells < 24).
//	FAR       no cells when the footprints are more than 2 sep + 2 cell
//	          diameters apart.
//	COVER     when the returned level is >= 1: every point x with
//	          sdA(x) <= sep-eps and sdB(x) <= sep-eps lies in (the closed
//	          set of) some returned cell; sd is the signed great-circle
//	          distance to the footprint (negative inside), eps = 1e-6 m.
//	SOUND     every returned cell is within sep + 2*diam(cell) of both
//	          footprints (cell-to-footprint distance, exact via s2).
//
// Distances come from plain s2 only: a circle is (centre, radius); a
// polygon is an s2.Loop of its vertices, normalised to the smaller region,
// with s2.DistanceFromSegment to its edges.
//
// Candidate points for COVER: a branch-and-bound search over the cell
// hierarchy for points of the region outside the returned cells; random
// points in the region's bounding cap; boundary points found by bisection
// along rays (distance sep-eps exactly, to ~1e-15 rad); points just outside
// the edges and vertices of returned cells.
//
// A third of the cases are "pinch" cases: a and b on either side of a
// special point x (cell vertex, face corner, pole, ...), each at signed
// distance sep - delta from x (delta 1e-5 m .. 2 m), so that the region is a
// small lens around x, which must be covered.
//
// Doc-comment readings recorded for information only (not failures):
// FAR-INFO, cells returned although the footprints are more than sep apart
// (the doc's rule "kept if it comes within sep of both" allows up to 2 sep);
// KEPT-IF, cells of the returned level within sep of both footprints that
// were not returned.
//
// Knobs: OVC_SEED (default 1), OVC_CASES (default 1500, 500 with -short;
// the loop also stops after 100 s), OVC_SHOW (3), OVC_BREAK=drop (sabotage
// self-check: the test must then fail).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

const (
	ovcR   = 6371008.8 // metres per radian
	ovcEps = 1e-6 / ovcR
)

// ovcBreak (OVC_BREAK=drop) drops the first returned cell, to show that the
// COVER check fails when a cell is missing. Unset in normal runs.
var ovcBreak = os.Getenv("OVC_BREAK")

var ovcT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ---------------------------------------------------------------------------
// Oracle footprints.

type ovcFoot struct {
	circle bool
	c      s2.Point
	r      float64 // radians
	verts  []s2.Point
	loop   *s2.Loop
}

func ovcPt(lat, lng float64) s2.Point {
	return s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lng))
}

func ovcFootOf(s VolumeSpec) *ovcFoot {
	if s.Circle != nil {
		return &ovcFoot{circle: true, c: ovcPt(float64(s.Circle.Lat), float64(s.Circle.Lng)), r: float64(s.Circle.RadiusM) / ovcR}
	}
	f := &ovcFoot{}
	for _, v := range s.Polygon {
		f.verts = append(f.verts, ovcPt(float64(v[0]), float64(v[1])))
	}
	f.loop = s2.LoopFromPoints(append([]s2.Point(nil), f.verts...))
	f.loop.Normalize()
	return f
}

func (f *ovcFoot) edgeDist(p s2.Point) float64 {
	d := math.Inf(1)
	n := len(f.verts)
	for i := range n {
		if e := float64(s2.DistanceFromSegment(p, f.verts[i], f.verts[(i+1)%n])); e < d {
			d = e
		}
	}
	return d
}

// sd is the signed distance (radians) from p to the footprint: negative
// inside, the distance to the boundary.
func (f *ovcFoot) sd(p s2.Point) float64 {
	if f.circle {
		return float64(p.Distance(f.c)) - f.r
	}
	d := f.edgeDist(p)
	if f.loop.ContainsPoint(p) {
		return -d
	}
	return d
}

// cellDist is the distance from a cell (closed) to the footprint.
func (f *ovcFoot) cellDist(id s2.CellID) float64 {
	c := s2.CellFromCellID(id)
	if f.circle {
		return math.Max(0, c.Distance(f.c).Angle().Radians()-f.r)
	}
	if f.loop.ContainsPoint(c.Center()) {
		return 0
	}
	d := math.Inf(1)
	n := len(f.verts)
	for i := range n {
		if e := c.DistanceToEdge(f.verts[i], f.verts[(i+1)%n]).Angle().Radians(); e < d {
			d = e
		}
	}
	return d
}

// cap bounds the footprint.
func (f *ovcFoot) bound() s2.Cap {
	if f.circle {
		return s2.CapFromCenterAngle(f.c, s1.Angle(f.r))
	}
	return f.loop.CapBound()
}

func ovcSegDist(a0, a1, b0, b1 s2.Point) float64 {
	if s2.CrossingSign(a0, a1, b0, b1) != s2.DoNotCross {
		return 0
	}
	return math.Min(
		math.Min(float64(s2.DistanceFromSegment(a0, b0, b1)), float64(s2.DistanceFromSegment(a1, b0, b1))),
		math.Min(float64(s2.DistanceFromSegment(b0, a0, a1)), float64(s2.DistanceFromSegment(b1, a0, a1))))
}

// ovcFootDist is the distance between two closed footprints (radians).
func ovcFootDist(a, b *ovcFoot) float64 {
	switch {
	case a.circle && b.circle:
		return math.Max(0, float64(a.c.Distance(b.c))-a.r-b.r)
	case a.circle:
		return math.Max(0, b.sd(a.c)-a.r)
	case b.circle:
		return math.Max(0, a.sd(b.c)-b.r)
	}
	if a.loop.ContainsPoint(b.verts[0]) || b.loop.ContainsPoint(a.verts[0]) {
		return 0
	}
	d := math.Inf(1)
	na, nb := len(a.verts), len(b.verts)
	for i := range na {
		for j := range nb {
			d = math.Min(d, ovcSegDist(a.verts[i], a.verts[(i+1)%na], b.verts[j], b.verts[(j+1)%nb]))
			if d == 0 {
				return 0
			}
		}
	}
	return d
}

// ovcDist2 is a second, independent distance from p to a footprint (not
// signed): s2.Cap for circles, a ShapeIndex closest-edge query with
// interiors for polygons.
func ovcDist2(s VolumeSpec, p s2.Point) float64 {
	if s.Circle != nil {
		c := s2.CapFromCenterAngle(ovcPt(float64(s.Circle.Lat), float64(s.Circle.Lng)), s1.Angle(float64(s.Circle.RadiusM)/ovcR))
		if c.ContainsPoint(p) {
			return 0
		}
		return float64(c.Center().Distance(p)) - float64(c.Radius())
	}
	var pts []s2.Point
	for _, v := range s.Polygon {
		pts = append(pts, ovcPt(float64(v[0]), float64(v[1])))
	}
	l := s2.LoopFromPoints(pts)
	if l.Area() > 2*math.Pi {
		l.Invert()
	}
	idx := s2.NewShapeIndex()
	idx.Add(s2.PolygonFromLoops([]*s2.Loop{l}))
	q := s2.NewClosestEdgeQuery(idx, s2.NewClosestEdgeQueryOptions().IncludeInteriors(true))
	return q.Distance(s2.NewMinDistanceToPointTarget(p)).Angle().Radians()
}

// ---------------------------------------------------------------------------
// Shapes and cases.

func ovcLL(p s2.Point) [2]Degrees {
	ll := s2.LatLngFromPoint(p)
	return [2]Degrees{Degrees(ll.Lat.Degrees()), Degrees(ll.Lng.Degrees())}
}

func ovcLogU(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

func ovcBasis(c s2.Point) (e1, e2 r3.Vector) {
	ref := r3.Vector{X: 0, Y: 0, Z: 1}
	if math.Abs(c.Z) > 0.9 {
		ref = r3.Vector{X: 1, Y: 0, Z: 0}
	}
	e1 = ref.Cross(c.Vector).Normalize()
	e2 = c.Vector.Cross(e1).Normalize()
	return
}

// ovcOffset moves dist radians from c along bearing th.
func ovcOffset(c s2.Point, dist, th float64) s2.Point {
	e1, e2 := ovcBasis(c)
	dir := e2.Mul(math.Cos(th)).Add(e1.Mul(math.Sin(th)))
	return s2.Point{Vector: c.Vector.Mul(math.Cos(dist)).Add(dir.Mul(math.Sin(dist))).Normalize()}
}

func ovcBase() VolumeSpec {
	return VolumeSpec{AltLoM: 0, AltHiM: 100, Start: ovcT0, End: ovcT0.Add(time.Hour)}
}

type ovcShape struct {
	circle bool
	r      float64
	th, rr []float64
	rev    bool
	kind   string
}

func (s *ovcShape) outer() float64 {
	if s.circle {
		return s.r
	}
	m := 0.0
	for _, x := range s.rr {
		m = math.Max(m, x)
	}
	return m
}

func (s *ovcShape) spec(c s2.Point, rot float64) VolumeSpec {
	sp := ovcBase()
	if s.circle {
		ll := ovcLL(c)
		sp.Circle = &CircleSpec{Lat: ll[0], Lng: ll[1], RadiusM: Meters(s.r * ovcR)}
		return sp
	}
	for i := range s.th {
		sp.Polygon = append(sp.Polygon, ovcLL(ovcOffset(c, s.rr[i], s.th[i]+rot)))
	}
	if s.rev {
		for i, j := 0, len(sp.Polygon)-1; i < j; i, j = i+1, j-1 {
			sp.Polygon[i], sp.Polygon[j] = sp.Polygon[j], sp.Polygon[i]
		}
	}
	return sp
}

func ovcRandShape(r *rand.Rand) ovcShape {
	size := func() float64 {
		switch r.IntN(4) {
		case 0:
			return ovcLogU(r, 1, 50) // tiny
		case 1:
			return ovcLogU(r, 200_000, 500_000) // huge
		}
		return ovcLogU(r, 1, 500_000)
	}
	if r.IntN(3) == 0 {
		return ovcShape{circle: true, r: size() / ovcR, kind: "circle"}
	}
	R := math.Max(size(), 3) / ovcR
	long := r.IntN(6) == 0
	if long { // few, long geodesic edges (they bulge poleward)
		R = ovcLogU(r, 500_000, 3_000_000) / ovcR
	}
	k := 3 + r.IntN(4)
	if r.IntN(2) == 0 {
		k = 3 + r.IntN(30)
	}
	for {
		s := ovcShape{rev: r.IntN(2) == 0}
		switch r.IntN(4) {
		case 0:
			s.kind = "convex"
			off := r.Float64()
			for i := range k {
				s.th = append(s.th, 2*math.Pi*(float64(i)+off*0.5)/float64(k))
				s.rr = append(s.rr, R)
			}
		case 1:
			s.kind = "convex"
			for range k {
				s.th = append(s.th, r.Float64()*2*math.Pi)
			}
			sort.Float64s(s.th)
			for range k {
				s.rr = append(s.rr, R)
			}
		case 2:
			s.kind = "concave"
			if k < 4 {
				k = 4 + 2*r.IntN(6)
			}
			inner := 0.05 + 0.6*r.Float64()
			for i := range k {
				s.th = append(s.th, 2*math.Pi*(float64(i)+0.3*r.Float64())/float64(k))
				if i%2 == 0 {
					s.rr = append(s.rr, R)
				} else {
					s.rr = append(s.rr, R*inner)
				}
			}
		case 3:
			s.kind = "concave"
			sliver := r.IntN(3) == 0
			for range k {
				s.th = append(s.th, r.Float64()*2*math.Pi)
			}
			sort.Float64s(s.th)
			for i := range k {
				x := R * (0.05 + 0.95*r.Float64())
				if sliver {
					s.kind = "sliver"
					x = R / math.Sqrt(math.Pow(math.Cos(s.th[i]), 2)+math.Pow(40*math.Sin(s.th[i]), 2))
					x = math.Max(x, 0.5/ovcR)
				}
				s.rr = append(s.rr, x)
			}
		}
		ok := true
		for i := range k {
			g := s.th[(i+1)%k] - s.th[i]
			if i == k-1 {
				g += 2 * math.Pi
			}
			if g >= 0.9*math.Pi || g <= 1e-6 {
				ok = false
			}
		}
		if ok {
			if long {
				s.kind = "long" + s.kind
			}
			return s
		}
	}
}

// ovcSpecial returns an adversarial location.
func ovcSpecial(r *rand.Rand) (s2.Point, string) {
	const cornerLat = 35.26438968275465 // atan(1/sqrt 2)
	sgn := func() float64 { return float64(1 - 2*r.IntN(2)) }
	jit := func(p s2.Point) s2.Point {
		if r.IntN(2) == 0 {
			return p
		}
		return ovcOffset(p, ovcLogU(r, 1e-12, 1e-3), r.Float64()*2*math.Pi)
	}
	rnd := func() s2.Point {
		return s2.Point{Vector: r3.Vector{X: r.NormFloat64(), Y: r.NormFloat64(), Z: r.NormFloat64()}.Normalize()}
	}
	switch r.IntN(8) {
	case 0:
		return rnd(), "random"
	case 1:
		lat := 90 - ovcLogU(r, 1e-9, 3)
		if r.IntN(3) == 0 {
			lat = 90
		}
		return ovcPt(sgn()*lat, r.Float64()*360-180), "pole"
	case 2:
		lng := 180 - ovcLogU(r, 1e-9, 1)
		if r.IntN(3) == 0 {
			lng = 180
		}
		return ovcPt(r.Float64()*170-85, sgn()*lng), "antimeridian"
	case 3:
		lngs := []float64{45, 135, -45, -135}
		return jit(ovcPt(sgn()*cornerLat, lngs[r.IntN(4)])), "facecorner"
	case 4:
		var v [3]float64
		i := r.IntN(3)
		j := (i + 1 + r.IntN(2)) % 3
		k := 3 - i - j
		v[i], v[j], v[k] = sgn(), sgn(), 2*r.Float64()-1
		return jit(s2.Point{Vector: r3.Vector{X: v[0], Y: v[1], Z: v[2]}.Normalize()}), "faceedge"
	case 5:
		id := ovcCellOf(rnd()).Parent(r.IntN(25))
		return s2.CellFromCellID(id).Vertex(r.IntN(4)), "cellvertex"
	case 6:
		id := ovcCellOf(rnd()).Parent(r.IntN(25))
		c := s2.CellFromCellID(id)
		k := r.IntN(4)
		return s2.Interpolate(r.Float64(), c.Vertex(k), c.Vertex((k+1)%4)), "celledge"
	default:
		return s2.CellFromCellID(ovcCellOf(rnd()).Parent(r.IntN(25))).Center(), "cellcentre"
	}
}

var (
	ovcSeps     = []float64{0, 1, 50, 5000, 100_000}
	ovcMaxCells = []int{1, 4, 16, 64, 256}
)

type ovcCase struct {
	kind            string
	a, b            VolumeSpec
	sep             float64 // metres
	level, maxCells int
}

func ovcJSON(s VolumeSpec) string {
	if s.Circle != nil {
		return fmt.Sprintf("circle{%.17g, %.17g, r=%.17g}", float64(s.Circle.Lat), float64(s.Circle.Lng), float64(s.Circle.RadiusM))
	}
	var b strings.Builder
	b.WriteString("polygon{")
	for i, v := range s.Polygon {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%.17g, %.17g}", float64(v[0]), float64(v[1]))
	}
	b.WriteString("}")
	return b.String()
}

func (c *ovcCase) String() string {
	return fmt.Sprintf("kind=%s sep=%s level=%d maxCells=%d\n    a=%s\n    b=%s", c.kind,
		strconv.FormatFloat(c.sep, 'g', -1, 64), c.level, c.maxCells, ovcJSON(c.a), ovcJSON(c.b))
}

// ovcGenCase builds a random case; gapM < 0 means overlapping/nested.
func ovcGenCase(r *rand.Rand) (*ovcCase, bool) {
	sa, sb := ovcRandShape(r), ovcRandShape(r)
	P, where := ovcSpecial(r)
	sep := ovcSeps[r.IntN(len(ovcSeps))]
	rotA, rotB := r.Float64()*2*math.Pi, r.Float64()*2*math.Pi
	ca := P
	beta := r.Float64() * 2 * math.Pi
	if r.IntN(2) == 0 && !(sa.circle && where == "pole") {
		// put the special point between a and b
		ca = ovcOffset(P, sa.outer()*(0.3+0.8*r.Float64()), r.Float64()*2*math.Pi)
		e1, e2 := ovcBasis(ca)
		tang := P.Vector.Sub(ca.Vector.Mul(ca.Dot(P.Vector)))
		beta = math.Atan2(tang.Dot(e1), tang.Dot(e2))
	}
	specA := sa.spec(ca, rotA)
	if _, err := NewVolume(specA, NoLimits); err != nil {
		return nil, false
	}
	fa := ovcFootOf(specA)
	var specB VolumeSpec
	var rel string
	switch x := r.IntN(10); {
	case x < 1:
		rel = "nested"
		specB = sb.spec(ca, rotB)
	case x < 3:
		rel = "overlap"
		specB = sb.spec(ovcOffset(ca, r.Float64()*(sa.outer()+sb.outer()), beta), rotB)
	default:
		var gap float64
		graze := 0.0
		switch y := r.IntN(7); y {
		case 6:
			rel, gap, graze = "graze", 0, ovcLogU(r, 1e-5, 10)/ovcR
		case 0:
			rel, gap = "touch", 0
		case 1, 2:
			rel, gap = "gap<sep", sep*r.Float64()
		case 3:
			rel, gap = "gap~sep", sep*(1-ovcLogU(r, 1e-9, 1e-2))
		case 4:
			rel, gap = "gap>sep", sep+ovcLogU(r, 1e-3, 10)
		default:
			rel, gap = "far", sep+ovcLogU(r, 10, 1e6)
		}
		gap /= ovcR
		at := func(t float64) (VolumeSpec, float64) {
			sp := sb.spec(ovcOffset(ca, t, beta), rotB)
			return sp, ovcFootDist(fa, ovcFootOf(sp))
		}
		lo, hi := 0.0, sa.outer()+sb.outer()+gap+1e-7
		if hi > 3 {
			return nil, false
		}
		if _, d := at(hi); d <= gap {
			return nil, false
		}
		for range 80 {
			mid := (lo + hi) / 2
			if mid <= lo || mid >= hi {
				break
			}
			if _, d := at(mid); d <= gap {
				lo = mid
			} else {
				hi = mid
			}
		}
		t := lo - graze
		if rel == "gap>sep" || rel == "far" {
			t = hi
		}
		specB, _ = at(t)
	}
	if _, err := NewVolume(specB, NoLimits); err != nil {
		return nil, false
	}
	level := 1 + r.IntN(30)
	if r.IntN(3) == 0 {
		level = 20 + r.IntN(11)
	}
	if r.IntN(40) == 0 {
		level = -r.IntN(3)
	}
	cs := &ovcCase{
		kind:     fmt.Sprintf("%s/%s-%s/%s", where, sa.kind, sb.kind, rel),
		a:        specA,
		b:        specB,
		sep:      sep,
		level:    level,
		maxCells: ovcMaxCells[r.IntN(len(ovcMaxCells))],
	}
	if r.IntN(2) == 0 {
		cs.a, cs.b = cs.b, cs.a
	}
	return cs, true
}

// ovcPinchFoot returns a footprint whose signed distance from x is about d
// (radians), lying in direction th from x.
func ovcPinchFoot(r *rand.Rand, x s2.Point, d, th float64) (VolumeSpec, string) {
	sp := ovcBase()
	R := ovcLogU(r, 1, 500_000) / ovcR
	switch r.IntN(3) {
	case 0:
		ll := ovcLL(ovcOffset(x, d+R, th))
		sp.Circle = &CircleSpec{Lat: ll[0], Lng: ll[1], RadiusM: Meters(R * ovcR)}
		return sp, "circle"
	case 1: // wedge, apex towards x
		apex := ovcOffset(x, d, th)
		// bearing at apex pointing away from x: go a little past and measure
		far := ovcOffset(x, d+2*R, th)
		half := 0.2 + 1.2*r.Float64()
		e1, e2 := ovcBasis(apex)
		tang := far.Vector.Sub(apex.Vector.Mul(apex.Dot(far.Vector)))
		b := math.Atan2(tang.Dot(e1), tang.Dot(e2))
		sp.Polygon = [][2]Degrees{ovcLL(apex), ovcLL(ovcOffset(apex, R, b+half)), ovcLL(ovcOffset(apex, R, b-half))}
	default: // edge perpendicular to th, at distance d
		m := ovcOffset(x, d, th)
		e1, e2 := ovcBasis(m)
		far := ovcOffset(x, d+R, th)
		tang := far.Vector.Sub(m.Vector.Mul(m.Dot(far.Vector)))
		b := math.Atan2(tang.Dot(e1), tang.Dot(e2))
		h := ovcLogU(r, 1, 500_000) / ovcR
		q1, q2 := ovcOffset(m, h, b+math.Pi/2), ovcOffset(m, h, b-math.Pi/2)
		sp.Polygon = [][2]Degrees{ovcLL(q1), ovcLL(q2), ovcLL(far)}
	}
	if r.IntN(2) == 0 {
		p := sp.Polygon
		for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
	}
	return sp, "poly"
}

// ovcPinchCase puts a and b on either side of x, each at signed distance
// sep - delta from it, so that the sep-region is a small lens around x;
// x is near a cell vertex or edge or another special point.
func ovcPinchCase(r *rand.Rand) (*ovcCase, s2.Point) {
	x, where := ovcSpecial(r)
	sep := ovcSeps[r.IntN(len(ovcSeps))]
	delta := ovcLogU(r, 1e-5, 2)
	th := r.Float64() * 2 * math.Pi
	d := (sep - delta) / ovcR
	a, ka := ovcPinchFoot(r, x, d, th)
	b, kb := ovcPinchFoot(r, x, d, th+math.Pi+(r.Float64()-0.5)*0.5)
	cs := &ovcCase{
		kind:     fmt.Sprintf("pinch-%s/%s-%s/delta=1e%d", where, ka, kb, int(math.Floor(math.Log10(delta)))),
		a:        a,
		b:        b,
		sep:      sep,
		level:    1 + r.IntN(30),
		maxCells: ovcMaxCells[r.IntN(len(ovcMaxCells))],
	}
	return cs, x
}

// ---------------------------------------------------------------------------
// Checking.

type ovcFail struct {
	cat, msg string
}

type ovcRun struct {
	cs           *ovcCase
	fa, fb       *ovcFoot
	sep          float64 // radians
	lvl          int
	cells        []s2.CellID
	set          map[s2.CellID]bool
	fails        []ovcFail
	nPoints      int // region points checked
	probed       int // non-returned cells at the returned level probed
	keptIf       int // of which within sep of both footprints
	keptIfMargin float64
	keptIfCell   s2.CellID
	keptIfMsg    string
	seen         map[string]bool
}

// f <= 0 iff p is in the (shrunk by eps) sep-region.
func (x *ovcRun) f(p s2.Point) float64 {
	return math.Max(x.fa.sd(p), x.fb.sd(p)) - x.sep + ovcEps
}

func (x *ovcRun) covered(p s2.Point) bool {
	if x.set[ovcCellOf(p).Parent(x.lvl)] {
		return true
	}
	for _, id := range x.cells {
		if s2.CellFromCellID(id).ContainsPoint(p) {
			return true
		}
	}
	return false
}

// check records a COVER failure if p is in the region and not covered.
func (x *ovcRun) check(p s2.Point, how string) {
	if x.f(p) > 0 {
		return
	}
	x.nPoints++
	if x.lvl < 1 || x.covered(p) {
		return
	}
	if x.seen[how] { // one report per source per case
		return
	}
	x.seen[how] = true
	out := math.Inf(1)
	for _, id := range x.cells {
		out = math.Min(out, s2.CellFromCellID(id).Distance(p).Angle().Radians())
	}
	ll := s2.LatLngFromPoint(p)
	x.fails = append(x.fails, ovcFail{"COVER", fmt.Sprintf(
		"uncovered point (%s) %.15f,%.15f in cell %s: sdA=%.9g m sdB=%.9g m (second oracle dA=%.9g m dB=%.9g m), sep=%g m, %.3g m outside the nearest returned cell",
		how, ll.Lat.Degrees(), ll.Lng.Degrees(), ovcCellOf(p).Parent(x.lvl).ToToken(),
		x.fa.sd(p)*ovcR, x.fb.sd(p)*ovcR, ovcDist2(x.cs.a, p)*ovcR, ovcDist2(x.cs.b, p)*ovcR, x.cs.sep, out*ovcR)})
}

func ovcReach(c s2.Cell) (s2.Point, float64) {
	ctr := c.Center()
	r := 0.0
	for k := range 4 {
		r = math.Max(r, float64(ctr.Distance(c.Vertex(k))))
	}
	return ctr, r*(1+1e-9) + 1e-15
}

// search walks the cell hierarchy for region points outside the returned
// cells, down to level stop, visiting at most budget cells.
func (x *ovcRun) search(stop, budget int) (visited int, inside []s2.Point) {
	var rec func(id s2.CellID) bool
	rec = func(id s2.CellID) bool {
		visited++
		if visited > budget {
			return false
		}
		if id.Level() >= x.lvl && x.set[id.Parent(x.lvl)] {
			return true
		}
		c := s2.CellFromCellID(id)
		ctr, reach := ovcReach(c)
		fc := x.f(ctr)
		if fc-reach > 0 {
			return true
		}
		if fc <= 0 {
			if len(inside) < 8 {
				inside = append(inside, ctr)
			}
			if id.Level() >= x.lvl {
				x.check(ctr, "search-centre")
			}
		}
		if id.Level() >= x.lvl {
			for k := range 4 {
				x.check(c.Vertex(k), "search-vertex")
			}
		}
		if id.Level() == x.lvl {
			x.probe(c)
		}
		if id.Level() >= stop || id.IsLeaf() {
			return true
		}
		for _, ch := range id.Children() {
			if !rec(ch) {
				return false
			}
		}
		return true
	}
	for face := range 6 {
		if !rec(s2.CellIDFromFace(face)) {
			break
		}
	}
	return
}

// probe minimises f over a cell at the returned level that was not
// returned (pattern search in the cell's face-plane parameters) and checks
// the best point found. It also records, for information, cells that come
// within sep of both footprints (the doc's "a cell is kept if ...").
func (x *ovcRun) probe(c s2.Cell) {
	x.probed++
	da, db := x.fa.cellDist(c.ID()), x.fb.cellDist(c.ID())
	if da <= x.sep-ovcEps && db <= x.sep-ovcEps {
		x.keptIf++
		if m := x.sep - math.Max(da, db); m > x.keptIfMargin || x.keptIfCell == 0 {
			x.keptIfMargin, x.keptIfCell = m, c.ID()
			x.keptIfMsg = fmt.Sprintf("cell %s: %.6g m from A, %.6g m from B", c.ID().ToToken(), da*ovcR, db*ovcR)
		}
	}
	v0, v1, v3 := c.VertexRaw(0).Vector, c.VertexRaw(1).Vector, c.VertexRaw(3).Vector
	at := func(a, b float64) s2.Point {
		a, b = math.Min(1, math.Max(0, a)), math.Min(1, math.Max(0, b))
		return s2.Point{Vector: v0.Add(v1.Sub(v0).Mul(a)).Add(v3.Sub(v0).Mul(b)).Normalize()}
	}
	type cand struct{ a, b, f float64 }
	var cs []cand
	const g = 6
	for i := 0; i <= g; i++ {
		for j := 0; j <= g; j++ {
			a, b := float64(i)/g, float64(j)/g
			cs = append(cs, cand{a, b, x.f(at(a, b))})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].f < cs[j].f })
	for k := range 2 {
		best := cs[k]
		step := 1.0 / g
		for step > 1e-13 {
			moved := false
			for _, d := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {1, -1}, {-1, 1}, {-1, -1}} {
				a, b := best.a+d[0]*step, best.b+d[1]*step
				a, b = math.Min(1, math.Max(0, a)), math.Min(1, math.Max(0, b))
				if fv := x.f(at(a, b)); fv < best.f {
					best, moved = cand{a, b, fv}, true
				}
			}
			if !moved {
				step /= 2
			}
			if best.f <= -1e-9 {
				break
			}
		}
		p := at(best.a, best.b)
		x.check(p, "probe-min")
		if best.f <= 0 {
			break
		}
	}
}

// boundary bisects between an inside point p and an outside point q along
// the geodesic and returns the inside end.
func (x *ovcRun) boundary(p, q s2.Point) s2.Point {
	lo, hi := 0.0, 1.0
	for range 70 {
		m := (lo + hi) / 2
		if x.f(s2.Interpolate(m, p, q)) <= 0 {
			lo = m
		} else {
			hi = m
		}
	}
	return s2.Interpolate(lo, p, q)
}

func ovcRunCase(cs *ovcCase, r *rand.Rand, st *ovcStats) *ovcRun {
	va, err := NewVolume(cs.a, NoLimits)
	if err != nil {
		return nil
	}
	vb, err := NewVolume(cs.b, NoLimits)
	if err != nil {
		return nil
	}
	cells, lvl := OverlapCells(va, vb, Meters(cs.sep), cs.level, cs.maxCells)
	if ovcBreak == "drop" && len(cells) > 0 { // sabotage: check the test can fail
		cells = cells[1:]
	}
	x := &ovcRun{cs: cs, fa: ovcFootOf(cs.a), fb: ovcFootOf(cs.b), sep: cs.sep / ovcR,
		lvl: lvl, cells: cells, set: map[s2.CellID]bool{}, seen: map[string]bool{}}
	fail := func(cat, format string, args ...any) {
		x.fails = append(x.fails, ovcFail{cat, fmt.Sprintf(format, args...)})
	}

	// STRUCT
	asked := max(cs.level, 1)
	if lvl < 0 || lvl > asked {
		fail("STRUCT", "returned level %d outside [0, %d]", lvl, asked)
	}
	if len(cells) > cs.maxCells {
		fail("STRUCT", "%d cells > maxCells %d", len(cells), cs.maxCells)
	}
	if len(cells) > 0 && lvl < 1 {
		fail("STRUCT", "%d cells at level %d", len(cells), lvl)
	}
	for _, id := range cells {
		switch {
		case !id.IsValid():
			fail("STRUCT", "invalid cell %x", uint64(id))
		case id.Level() != lvl:
			fail("STRUCT", "cell %s at level %d, returned level %d", id.ToToken(), id.Level(), lvl)
		case x.set[id]:
			fail("STRUCT", "duplicate cell %s", id.ToToken())
		}
		x.set[id] = true
	}
	if len(x.fails) > 0 {
		return x
	}

	dAB := ovcFootDist(x.fa, x.fb)
	st.gap(dAB, x.sep, len(cells))
	// FAR (with a 1e-12 rad = 6 µm margin)
	if dAB > x.sep+1e-12 && len(cells) > 0 {
		// The doc keeps a cell "if it comes within sep of both footprints",
		// which footprints up to 2 sep apart can do: only beyond that (plus
		// a cell's diameter, for "a cell beyond") is this a clear violation.
		st.farNonEmpty++
		diam := s2.MaxDiagMetric.Value(lvl)
		st.maxFarRatio = math.Max(st.maxFarRatio, (dAB-x.sep)/(x.sep+diam))
		if dAB > 2*x.sep+2*diam+1e-12 {
			fail("FAR", "footprints %.9g m apart > 2 sep + 2 diam (sep %g m), yet %d cells at level %d", dAB*ovcR, cs.sep, len(cells), lvl)
		} else if !st.farShown {
			st.farShown = true
			fail("FAR-INFO", "footprints %.9g m apart > sep %g m (geo.Distance %.9g m, Within %v), yet %d cells at level %d",
				dAB*ovcR, cs.sep, float64(Distance(va, vb)), Within(va, vb, Meters(cs.sep)), len(cells), lvl)
		}
	}
	// level 0 is only allowed when level 1 (24 cells) cannot fit.
	if lvl == 0 && cs.maxCells >= 24 && dAB < x.sep-1e-12 {
		fail("STRUCT", "level 0 (no cells) although maxCells %d >= 24 and footprints %.9g m apart <= sep", cs.maxCells, dAB*ovcR)
	}

	// SOUND
	for _, id := range cells {
		c := s2.CellFromCellID(id)
		diam := 0.0
		for i := range 4 {
			for j := i + 1; j < 4; j++ {
				diam = math.Max(diam, float64(c.Vertex(i).Distance(c.Vertex(j))))
			}
		}
		da, db := x.fa.cellDist(id), x.fb.cellDist(id)
		if lim := x.sep + 2*diam + 1e-12; da > lim || db > lim {
			fail("SOUND", "cell %s (level %d, diam %.4g m) is %.6g m from A and %.6g m from B; sep %g m", id.ToToken(), lvl, diam*ovcR, da*ovcR, db*ovcR, cs.sep)
			break
		}
		if lim := x.sep + diam + 1e-12; da > lim || db > lim {
			st.beyondDiam++
		}
	}

	if lvl < 1 {
		return x
	}

	// COVER (a): branch and bound over the hierarchy.
	stop := min(30, lvl+6)
	v, inside := x.search(stop, 40_000)
	st.searched += v

	// (b) random points in the smaller bounding cap, widened by sep.
	ba, bb := x.fa.bound(), x.fb.bound()
	capB := ba
	if bb.Radius() < ba.Radius() {
		capB = bb
	}
	capB = s2.CapFromCenterAngle(capB.Center(), capB.Radius()+s1.Angle(x.sep))
	rad := math.Min(float64(capB.Radius()), math.Pi)
	for range 300 {
		// uniform in the cap
		h := 1 - math.Cos(rad)
		d := math.Acos(1 - r.Float64()*h)
		p := ovcOffset(capB.Center(), d, r.Float64()*2*math.Pi)
		if x.f(p) <= 0 {
			if len(inside) < 16 {
				inside = append(inside, p)
			}
			x.check(p, "random")
		}
	}
	// returned cell centres are often inside
	for i, id := range cells {
		if i >= 8 {
			break
		}
		if p := s2.CellFromCellID(id).Center(); x.f(p) <= 0 {
			inside = append(inside, p)
		}
	}

	// (c) boundary points along rays from inside points.
	far := rad*2 + 1e-9
	for i, p := range inside {
		if i >= 6 {
			break
		}
		for range 24 {
			L := math.Min(far*r.Float64(), 3)
			q := ovcOffset(p, L, r.Float64()*2*math.Pi)
			if x.f(q) <= 0 {
				continue
			}
			b := x.boundary(p, q)
			x.check(b, "ray-boundary")
			// and a point just inside the cell boundary near it
			x.check(s2.Interpolate(0.5, p, b), "ray-mid")
		}
	}

	// (d) just outside the edges and vertices of returned cells.
	for i, id := range cells {
		if i >= 64 {
			break
		}
		c := s2.CellFromCellID(id)
		ctr := c.Center()
		for k := range 4 {
			v0, v1 := c.Vertex(k), c.Vertex((k+1)%4)
			for _, t := range []float64{0, r.Float64(), 0.5, 1} {
				e := s2.Interpolate(t, v0, v1)
				// step outward from the centre through e
				out := float64(ctr.Distance(e))
				for _, step := range []float64{1e-15, 1e-12, 1e-9, out * 1e-3, out * 0.3} {
					q := s2.Interpolate(1+step/out, ctr, e)
					x.check(q, "cell-edge-outside")
				}
			}
		}
	}
	return x
}

type ovcStats struct {
	cases, rejected, points, searched, beyondDiam int
	empty, far, farEmpty, nearNonEmpty            int
	levels                                        [31]int
	byKind                                        map[string]int
	fails                                         map[string][]string
	failCases                                     int
	farNonEmpty                                   int
	maxFarRatio                                   float64
	farShown                                      bool
	probed, keptIf, keptIfCases, keptIfShown      int
	keptIfMargin                                  float64
	pinchIn                                       int
}

func (st *ovcStats) gap(d, sep float64, n int) {
	if d > sep {
		st.far++
		if n == 0 {
			st.farEmpty++
		}
	} else if n > 0 {
		st.nearNonEmpty++
	}
	if n == 0 {
		st.empty++
	}
}

func ovcEnvInt(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return def
}

func TestOverlapCellsIndependentOracle(t *testing.T) {
	seed := uint64(ovcEnvInt("OVC_SEED", 1))
	n := ovcEnvInt("OVC_CASES", 1500)
	if testing.Short() {
		n = min(n, 500)
	}
	t.Logf("seed %d (OVC_SEED), %d cases (OVC_CASES)", seed, n)
	r := rand.New(rand.NewPCG(seed, 3))
	st := &ovcStats{byKind: map[string]int{}, fails: map[string][]string{}}
	start := time.Now()
	for st.cases < n && time.Since(start) < 100*time.Second {
		var cs *ovcCase
		var pinch *s2.Point
		if r.IntN(3) == 0 {
			c, p := ovcPinchCase(r)
			cs, pinch = c, &p
		} else {
			c, ok := ovcGenCase(r)
			if !ok {
				st.rejected++
				continue
			}
			cs = c
		}
		x := ovcRunCase(cs, r, st)
		if x != nil && pinch != nil {
			if x.f(*pinch) <= 0 {
				st.pinchIn++
			}
			x.check(*pinch, "pinch-point")
		}
		if x == nil {
			st.rejected++
			continue
		}
		st.cases++
		parts := strings.Split(cs.kind, "/")
		st.byKind["where="+parts[0]]++
		for _, s := range strings.Split(parts[1], "-") {
			st.byKind["shape="+s]++
		}
		st.byKind["rel="+parts[2]]++
		st.byKind[fmt.Sprintf("sep=%g", cs.sep)]++
		st.byKind[fmt.Sprintf("maxCells=%03d", cs.maxCells)]++
		st.levels[x.lvl]++
		st.points += x.nPoints
		st.probed += x.probed
		if x.keptIf > 0 {
			st.keptIfCases++
			st.keptIf += x.keptIf
			st.keptIfMargin = math.Max(st.keptIfMargin, x.keptIfMargin)
			if st.keptIfShown < 3 {
				st.keptIfShown++
				t.Logf("KEPT-IF (info): %d cells at level %d within sep-1e-6 m of both footprints not returned (by up to %.6g m; %s):\n    %s", x.keptIf, x.lvl, x.keptIfMargin*ovcR, x.keptIfMsg, cs)
			}
		}
		if len(x.fails) > 0 {
			st.failCases++
		}
		for _, f := range x.fails {
			head := fmt.Sprintf("%s\n    -> returned level %d, %d cells; footprint distance %.9g m",
				cs, x.lvl, len(x.cells), ovcFootDist(x.fa, x.fb)*ovcR)
			st.fails[f.cat] = append(st.fails[f.cat], head+"\n    "+f.msg)
		}
	}
	t.Logf("%d cases in %v (%d generated cases rejected), %d region points checked, %d search cells, %d empty results, %d far pairs (%d empty), %d near pairs with cells, %d returned cells beyond sep+diam",
		st.cases, time.Since(start).Round(time.Millisecond), st.rejected, st.points, st.searched, st.empty, st.far, st.farEmpty, st.nearNonEmpty, st.beyondDiam)
	t.Logf("returned levels: %v", st.levels)
	t.Logf("pinch cases whose point is in the region: %d", st.pinchIn)
	t.Logf("probed %d non-returned cells at the returned level; %d of them (in %d cases) come within sep of both footprints (by up to %.6g m)", st.probed, st.keptIf, st.keptIfCases, st.keptIfMargin*ovcR)
	t.Logf("footprints farther apart than sep but cells returned: %d cases, largest (distance-sep)/(sep+cell diagonal) %.4g", st.farNonEmpty, st.maxFarRatio)
	keys := make([]string, 0, len(st.byKind))
	for k := range st.byKind {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s:%d", k, st.byKind[k])
	}
	t.Logf("kinds:%s", b.String())
	cats := make([]string, 0, len(st.fails))
	for c := range st.fails {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	show := ovcEnvInt("OVC_SHOW", 3)
	for _, c := range cats {
		t.Logf("%s: %d failures", c, len(st.fails[c]))
	}
	for _, c := range cats {
		for i, f := range st.fails[c] {
			if i >= show {
				break
			}
			if strings.HasSuffix(c, "-INFO") {
				t.Logf("%s\n  %s", c, f)
			} else {
				t.Errorf("%s\n  %s", c, f)
			}
		}
	}
}

func ovcCellOf(p s2.Point) s2.CellID { return s2.CellFromPoint(p).ID() }
