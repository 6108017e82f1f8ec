package geo_test

// This file holds an independent, slow oracle for the distance between two
// footprints, written from the package documentation with plain 3-D vector
// math (package math only; no s2 predicates or distance functions), and a
// differential test of geo.Distance, geo.Within, geo.Conflict and
// geo.TimeAltOverlap against it on many random volume pairs.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// earthR is the radius of the sphere, copied from the specification (not
// from the package) so that a wrong constant would be caught.
const earthR = 6371008.8

// ---------------------------------------------------------------------------
// 3-D vectors

type vec3 [3]float64

func (a vec3) add(b vec3) vec3      { return vec3{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec3) sub(b vec3) vec3      { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec3) scale(k float64) vec3 { return vec3{k * a[0], k * a[1], k * a[2]} }
func (a vec3) neg() vec3            { return vec3{-a[0], -a[1], -a[2]} }
func (a vec3) dot(b vec3) float64   { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec3) norm() float64        { return math.Sqrt(a.dot(a)) }

func (a vec3) cross(b vec3) vec3 {
	return vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func (a vec3) unit() vec3 {
	n := a.norm()
	if n == 0 {
		return a
	}
	return a.scale(1 / n)
}

// angleBetween is the angle between two unit vectors, accurate for tiny and
// for nearly antipodal angles.
func angleBetween(a, b vec3) float64 { return math.Atan2(a.cross(b).norm(), a.dot(b)) }

// edgeNormal is the unit normal of the great circle through a then b, so that
// a×b points along it. (a+b)×(b−a) = 2 a×b, with less cancellation when a and
// b are close.
func edgeNormal(a, b vec3) vec3 { return a.add(b).cross(b.sub(a)).unit() }

func vecFromDeg(lat, lng float64) vec3 {
	phi, lam := lat*math.Pi/180, lng*math.Pi/180
	return vec3{math.Cos(phi) * math.Cos(lam), math.Cos(phi) * math.Sin(lam), math.Sin(phi)}
}

func vecFromLL(ll [2]geo.Degrees) vec3 { return vecFromDeg(float64(ll[0]), float64(ll[1])) }

func llFromVec(p vec3) [2]geo.Degrees {
	lat := math.Atan2(p[2], math.Hypot(p[0], p[1])) * 180 / math.Pi
	lng := math.Atan2(p[1], p[0]) * 180 / math.Pi
	return [2]geo.Degrees{geo.Degrees(lat), geo.Degrees(lng)}
}

// tangentBasis returns two unit vectors that, with c, form a right-handed
// orthonormal frame (e1 × e2 = c).
func tangentBasis(c vec3) (e1, e2 vec3) {
	ref := vec3{0, 0, 1}
	if math.Abs(c[2]) > 0.9 {
		ref = vec3{1, 0, 0}
	}
	e1 = ref.cross(c).unit()
	e2 = c.cross(e1).unit()
	return e1, e2
}

// offset moves from c by angle dist along the bearing theta measured in the
// tangent frame of c.
func offset(c vec3, dist, theta float64) vec3 {
	e1, e2 := tangentBasis(c)
	dir := e1.scale(math.Cos(theta)).add(e2.scale(math.Sin(theta)))
	return c.scale(math.Cos(dist)).add(dir.scale(math.Sin(dist))).unit()
}

// ---------------------------------------------------------------------------
// The oracle

// oShape is a footprint for the oracle.
type oShape struct {
	circle bool
	c      vec3    // circle centre
	r      float64 // circle radius in radians
	v      []vec3  // polygon ring, interior on the left (counter-clockwise)
	n      []vec3  // n[i] is the unit normal of edge v[i] → v[i+1]
}

// turningSum is the sum of the signed turning angles of the ring (left turns
// positive, seen from outside the sphere). For a simple ring the region on
// its left has area 2π − turningSum, so the left region is the smaller one
// iff the sum is positive. maxAbsTurn is the largest |turn|, near π for a
// ring that folds back on itself.
func turningSum(v []vec3) (sum, maxAbsTurn float64) {
	k := len(v)
	for i := range k {
		prev, cur, next := v[(i+k-1)%k], v[i], v[(i+1)%k]
		tin := edgeNormal(prev, cur).cross(cur).unit()
		tout := edgeNormal(cur, next).cross(cur).unit()
		turn := math.Atan2(tin.cross(tout).dot(cur), tin.dot(tout))
		sum += turn
		maxAbsTurn = max(maxAbsTurn, math.Abs(turn))
	}
	return sum, maxAbsTurn
}

// ringFromSpec returns the polygon vertices as given, without a closing
// vertex equal to the first.
func ringFromSpec(poly [][2]geo.Degrees) []vec3 {
	if len(poly) > 1 && poly[0] == poly[len(poly)-1] {
		poly = poly[:len(poly)-1]
	}
	v := make([]vec3, len(poly))
	for i, ll := range poly {
		v[i] = vecFromLL(ll)
	}
	return v
}

// newOShape builds the oracle's footprint from the (not normalised) input
// spec. ok is false if the oracle cannot tell the inside of the ring.
func newOShape(s geo.VolumeSpec) (sh oShape, ok bool) {
	if s.Circle != nil {
		return oShape{
			circle: true,
			c:      vecFromDeg(float64(s.Circle.Lat), float64(s.Circle.Lng)),
			r:      float64(s.Circle.RadiusM) / earthR,
		}, true
	}
	v := ringFromSpec(s.Polygon)
	sum, maxTurn := turningSum(v)
	if math.Abs(sum) < 1 || maxTurn > math.Pi-1e-9 {
		return sh, false
	}
	if sum < 0 {
		for i, j := 0, len(v)-1; i < j; i, j = i+1, j-1 {
			v[i], v[j] = v[j], v[i]
		}
	}
	n := make([]vec3, len(v))
	for i := range v {
		n[i] = edgeNormal(v[i], v[(i+1)%len(v)])
	}
	return oShape{v: v, n: n}, true
}

// onArc reports whether point s of the great circle with normal n lies on
// the minor arc a → b.
func onArc(s, a, b, n vec3) bool {
	return a.cross(s).dot(n) >= 0 && s.cross(b).dot(n) >= 0
}

// pointArcDist is the angle from p to the closest point of the minor arc
// a → b whose great circle has unit normal n.
func pointArcDist(p, a, b, n vec3) float64 {
	pn := p.dot(n)
	q := p.sub(n.scale(pn)) // projection onto the arc's plane
	if onArc(q, a, b, n) {
		return math.Atan2(math.Abs(pn), q.norm())
	}
	return min(angleBetween(p, a), angleBetween(p, b))
}

// arcsCross reports whether minor arcs a→b and c→d share a point, computed
// from the intersection of their great circles. It may be wrong only when
// the arcs are within rounding of each other, and then the endpoint
// distances that the caller also takes are tiny anyway.
func arcsCross(a, b, na, c, d, nc vec3) bool {
	x := na.cross(nc)
	if x.norm() < 1e-300 {
		return false
	}
	x = x.unit()
	for _, s := range [2]vec3{x, x.neg()} {
		if onArc(s, a, b, na) && onArc(s, c, d, nc) {
			return true
		}
	}
	return false
}

// boundaryDist is the angle from p to the polygon's boundary.
func (sh *oShape) boundaryDist(p vec3) float64 {
	best := math.Inf(1)
	k := len(sh.v)
	for i := range k {
		best = min(best, pointArcDist(p, sh.v[i], sh.v[(i+1)%k], sh.n[i]))
	}
	return best
}

// contains reports whether p is in the polygon, by the winding number of
// the ring around p: the sum of the signed angles at p subtended by the
// edges is 2π for a point inside a counter-clockwise ring and 0 (or −2π for
// a point whose antipode is inside) otherwise. sure is false when the sum
// is not close to a multiple of 2π, which happens only for points on or
// within rounding of the boundary.
func (sh *oShape) contains(p vec3) (in, sure bool) {
	k := len(sh.v)
	w := 0.0
	for i := range k {
		c1 := p.cross(sh.v[i])
		c2 := p.cross(sh.v[(i+1)%k])
		w += math.Atan2(c1.cross(c2).dot(p), c1.dot(c2))
	}
	turns := w / (2 * math.Pi)
	r := math.Round(turns)
	return r == 1, math.Abs(turns-r) < 1e-6
}

// pointDist is the angle from p to the closed polygon (0 inside).
func (sh *oShape) pointDist(p vec3) (d float64, sure bool) {
	b := sh.boundaryDist(p)
	in, ok := sh.contains(p)
	if !ok && b > 1e-9 {
		return b, false
	}
	if in {
		return 0, true
	}
	return b, true
}

// oracleAngle is the great-circle angle between two closed footprints.
func oracleAngle(a, b *oShape) (d float64, sure bool) {
	switch {
	case a.circle && b.circle:
		return max(0, angleBetween(a.c, b.c)-a.r-b.r), true
	case a.circle:
		d, sure := b.pointDist(a.c)
		return max(0, d-a.r), sure
	case b.circle:
		d, sure := a.pointDist(b.c)
		return max(0, d-b.r), sure
	}
	ka, kb := len(a.v), len(b.v)
	best := math.Inf(1)
	for i := range ka {
		a0, a1 := a.v[i], a.v[(i+1)%ka]
		for j := range kb {
			b0, b1 := b.v[j], b.v[(j+1)%kb]
			if arcsCross(a0, a1, a.n[i], b0, b1, b.n[j]) {
				return 0, true
			}
			best = min(best,
				pointArcDist(a0, b0, b1, b.n[j]),
				pointArcDist(b0, a0, a1, a.n[i]))
		}
	}
	// No edges meet: either one region holds the other, or they are apart.
	inA, sureA := a.contains(b.v[0])
	inB, sureB := b.contains(a.v[0])
	if inA || inB {
		return 0, true
	}
	return best, (sureA && sureB) || best < 1e-9
}

func oracleMeters(a, b *oShape) (float64, bool) {
	d, ok := oracleAngle(a, b)
	return d * earthR, ok
}

// ---------------------------------------------------------------------------
// Random footprints

const (
	mRad = 1 / earthR // one metre as an angle
)

type footGen struct{ r *rand.Rand }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// logUniform draws from [lo, hi] uniformly in log scale.
func (g footGen) logUniform(lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + g.r.Float64()*(math.Log(hi)-math.Log(lo)))
}

// centre returns a random point, often near the antimeridian or a pole.
func (g footGen) centre() vec3 {
	switch g.r.IntN(8) {
	case 0, 1: // near or on the antimeridian
		lat := -80 + 160*g.r.Float64()
		lng := 180 - g.logUniform(1e-7, 1)
		if g.r.IntN(4) == 0 {
			lng = 180
		}
		if g.r.IntN(2) == 0 {
			lng = -lng
		}
		return vecFromDeg(lat, lng)
	case 2, 3: // near or on a pole
		lat := 90 - g.logUniform(1e-7, 3)
		if g.r.IntN(5) == 0 {
			lat = 90
		}
		if g.r.IntN(2) == 0 {
			lat = -lat
		}
		return vecFromDeg(lat, 360*g.r.Float64()-180)
	default: // uniform on the sphere
		return vec3{g.r.NormFloat64(), g.r.NormFloat64(), g.r.NormFloat64()}.unit()
	}
}

// size returns a footprint scale (an angle) from a metre to a few hundred
// kilometres, log-uniform with some weight on the extremes.
func (g footGen) size(maxM float64) float64 {
	switch g.r.IntN(10) {
	case 0:
		return g.logUniform(1, 20) * mRad
	case 1:
		return g.logUniform(maxM/3, maxM) * mRad
	default:
		return g.logUniform(1, maxM) * mRad
	}
}

// circleSpec returns a circle spec centred at c with radius radM metres,
// clamped to the accepted range.
func circleSpec(c vec3, radM float64) *geo.CircleSpec {
	radM = min(max(radM, 1), 500_000)
	ll := llFromVec(c)
	if math.Abs(float64(ll[0])) == 90 {
		ll[1] = 0
	}
	return &geo.CircleSpec{Lat: ll[0], Lng: ll[1], RadiusM: geo.Meters(radM)}
}

// polygon returns a random simple star-shaped polygon around c with vertices
// at most size (an angle) from c. Vertices are placed in the gnomonic
// projection centred at c, where great-circle arcs are straight lines, so a
// polygon star-shaped there (angular gaps < π) is simple on the sphere. The
// ring is randomly reversed, rotated and closed.
func (g footGen) polygon(c vec3, size float64) [][2]geo.Degrees {
	k := 3 + g.r.IntN(10)
	switch g.r.IntN(20) {
	case 0:
		k = 20 + g.r.IntN(80)
	case 1:
		if g.r.IntN(5) == 0 {
			k = 100 + g.r.IntN(901)
		}
	}
	e1, e2 := tangentBasis(c)
	aspect := 1.0
	if g.r.IntN(3) == 0 {
		aspect = g.logUniform(0.05, 1)
	}
	spin := 2 * math.Pi * g.r.Float64() // direction of the long axis
	inner := 0.2 + 0.8*g.r.Float64()    // how deep the concavities go
	base := 2 * math.Pi * g.r.Float64()
	ring := make([][2]geo.Degrees, 0, k+1)
	for i := range k {
		th := base + 2*math.Pi*(float64(i)+0.4*g.r.Float64())/float64(k)
		rad := math.Tan(size * (inner + (1-inner)*g.r.Float64()))
		x, y := rad*math.Cos(th), rad*math.Sin(th)*aspect
		x, y = x*math.Cos(spin)-y*math.Sin(spin), x*math.Sin(spin)+y*math.Cos(spin)
		p := c.add(e1.scale(x)).add(e2.scale(y)).unit()
		ring = append(ring, llFromVec(p))
	}
	if g.r.IntN(2) == 0 {
		for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
			ring[i], ring[j] = ring[j], ring[i]
		}
	}
	rot := g.r.IntN(k)
	ring = append(ring[rot:], ring[:rot]...)
	if g.r.IntN(5) == 0 {
		ring = append(ring, ring[0])
	}
	return ring
}

// footprint returns a random circle or polygon at c of about size.
func (g footGen) footprint(c vec3, size float64) geo.VolumeSpec {
	if g.r.IntN(2) == 0 {
		return geo.VolumeSpec{Circle: circleSpec(c, size*earthR)}
	}
	return geo.VolumeSpec{Polygon: g.polygon(c, size)}
}

// reach is an angle such that every point of the footprint is within it of
// the centre it was generated around.
func reach(s geo.VolumeSpec, c vec3) float64 {
	if s.Circle != nil {
		return angleBetween(c, vecFromDeg(float64(s.Circle.Lat), float64(s.Circle.Lng))) + float64(s.Circle.RadiusM)/earthR
	}
	r := 0.0
	for _, ll := range s.Polygon {
		r = max(r, angleBetween(c, vecFromLL(ll)))
	}
	return r
}

// pairKind names how the two footprints of a pair relate.
// Kinds are repeated to weight them.
var pairKinds = []string{
	"independent", "near", "near", "near", "nested",
	"touching-circle", "touching-circle", "touching-polygon", "touching-polygon",
	"shared-vertex", "shared-edge", "same", "antipodal",
	"crossing", "crossing", "parallel-edge", "parallel-edge",
}

// pair returns two footprints (without times and altitudes) of the given
// kind. The second may be invalid (the caller retries).
func (g footGen) pair(kind string) (a, b geo.VolumeSpec) {
	ca := g.centre()
	sa := g.size(170_000)
	a = g.footprint(ca, sa)
	ra := reach(a, ca)
	switch kind {
	case "independent":
		b = g.footprint(g.centre(), g.size(170_000))
	case "near":
		sb := g.size(170_000)
		d := (ra + sb) * 2 * g.r.Float64()
		if g.r.IntN(3) == 0 {
			d = (ra + sb) * (0.95 + 0.1*g.r.Float64())
		}
		cb := offset(ca, d, 2*math.Pi*g.r.Float64())
		b = g.footprint(cb, sb)
	case "nested":
		cb := offset(ca, ra*0.3*g.r.Float64(), 2*math.Pi*g.r.Float64())
		b = g.footprint(cb, max(ra*g.logUniform(0.001, 0.4), 2*mRad))
	case "touching-circle":
		q := offset(ca, ra*g.logUniform(1.01, 4), 2*math.Pi*g.r.Float64())
		sh, ok := newOShape(a)
		if !ok {
			return a, geo.VolumeSpec{}
		}
		var dq float64
		if sh.circle {
			dq = angleBetween(sh.c, q) - sh.r
		} else {
			dq, _ = sh.pointDist(q)
		}
		b = geo.VolumeSpec{Circle: circleSpec(q, dq*earthR+(-3+6*g.r.Float64()))}
	case "crossing":
		// Two thin shapes around nearby centres: edges cross with few or
		// no vertices inside the other shape.
		a = geo.VolumeSpec{Polygon: g.thin(ca, sa)}
		cb := offset(ca, sa*0.3*g.r.Float64(), 2*math.Pi*g.r.Float64())
		b = geo.VolumeSpec{Polygon: g.thin(cb, min(sa*g.logUniform(0.3, 3), 150_000*mRad))}
	case "touching-polygon", "shared-vertex", "shared-edge", "parallel-edge":
		if a.Circle != nil {
			a = geo.VolumeSpec{Polygon: g.polygon(ca, sa)}
		}
		sh, ok := newOShape(a)
		if !ok {
			return a, geo.VolumeSpec{}
		}
		k := len(sh.v)
		i := g.r.IntN(k)
		ring := a.Polygon
		if len(ring) > 1 && ring[0] == ring[len(ring)-1] {
			ring = ring[:len(ring)-1]
		}
		// Find the spec indices of the oriented edge v[i] → v[i+1].
		iv := llFromVecIndex(ring, sh.v[i])
		jv := llFromVecIndex(ring, sh.v[(i+1)%k])
		outward := sh.n[i].neg()
		sb := max(g.size(50_000), 5*mRad)
		switch kind {
		case "touching-polygon":
			t := g.r.Float64()
			p := sh.v[i].scale(1 - t).add(sh.v[(i+1)%k].scale(t)).unit()
			delta := (-3 + 8*g.r.Float64()) * mRad
			q := p.scale(math.Cos(delta)).add(outward.scale(math.Sin(delta))).unit()
			b = geo.VolumeSpec{Polygon: g.wedge(q, outward, sb)}
		case "shared-vertex":
			// A triangle with a vertex of a, opening outwards or anywhere.
			v := sh.v[i]
			out := sh.n[(i+k-1)%k].neg().add(outward).unit()
			if g.r.IntN(3) == 0 {
				e1, e2 := tangentBasis(v)
				th := 2 * math.Pi * g.r.Float64()
				out = e1.scale(math.Cos(th)).add(e2.scale(math.Sin(th)))
			}
			w := g.wedge(v, out, sb)
			w[0] = ring[iv]
			b = geo.VolumeSpec{Polygon: w}
		case "shared-edge":
			mid := sh.v[i].add(sh.v[(i+1)%k]).unit()
			h := max(angleBetween(sh.v[i], sh.v[(i+1)%k])*g.logUniform(0.05, 2), 2*mRad)
			apex := mid.scale(math.Cos(h)).add(outward.scale(math.Sin(h))).unit()
			b = geo.VolumeSpec{Polygon: [][2]geo.Degrees{ring[jv], ring[iv], llFromVec(apex)}}
		case "parallel-edge":
			// A triangle with an edge parallel to edge i of a, a few
			// metres outside or inside it, slid along it.
			p0, p1 := sh.v[i], sh.v[(i+1)%k]
			el := angleBetween(p0, p1)
			delta := (-3 + 8*g.r.Float64()) * mRad
			slide := el * (-0.8 + 1.6*g.r.Float64())
			move := func(p vec3) vec3 {
				along := sh.n[i].cross(p) // direction of travel at p
				p = p.scale(math.Cos(slide)).add(along.scale(math.Sin(slide))).unit()
				return p.scale(math.Cos(delta)).add(outward.scale(math.Sin(delta))).unit()
			}
			q0, q1 := move(p0), move(p1)
			mid := q0.add(q1).unit()
			h := max(el*g.logUniform(0.05, 2), 2*mRad)
			apex := mid.scale(math.Cos(h)).add(outward.scale(math.Sin(h))).unit()
			b = geo.VolumeSpec{Polygon: [][2]geo.Degrees{llFromVec(q1), llFromVec(q0), llFromVec(apex)}}
		}
	case "same":
		b = a
	case "antipodal":
		cb := offset(ca.neg(), g.logUniform(1e-12, 1e-2), 2*math.Pi*g.r.Float64())
		b = g.footprint(cb, g.size(170_000))
	}
	if g.r.IntN(2) == 0 {
		a, b = b, a
	}
	return a, b
}

// thin returns a long thin quadrilateral or hexagon centred at c, of half
// length size, in a random direction.
func (g footGen) thin(c vec3, size float64) [][2]geo.Degrees {
	e1, e2 := tangentBasis(c)
	spin := 2 * math.Pi * g.r.Float64()
	u := e1.scale(math.Cos(spin)).add(e2.scale(math.Sin(spin)))
	w := c.cross(u)
	half := math.Tan(size)
	width := half * g.logUniform(0.01, 0.3)
	var pts [][2]float64
	if g.r.IntN(2) == 0 {
		pts = [][2]float64{{-half, -width}, {half, -width}, {half, width}, {-half, width}}
	} else {
		pts = [][2]float64{{-half, 0}, {-half / 2, -width}, {half / 2, -width}, {half, 0}, {half / 2, width}, {-half / 2, width}}
	}
	ring := make([][2]geo.Degrees, len(pts))
	for i, p := range pts {
		ring[i] = llFromVec(c.add(u.scale(p[0])).add(w.scale(p[1])).unit())
	}
	if g.r.IntN(2) == 0 {
		for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
			ring[i], ring[j] = ring[j], ring[i]
		}
	}
	return ring
}

// llFromVecIndex returns the index of the ring vertex whose unit vector is v.
func llFromVecIndex(ring [][2]geo.Degrees, v vec3) int {
	for i, ll := range ring {
		if vecFromLL(ll) == v {
			return i
		}
	}
	panic("vertex not found")
}

// wedge returns a triangle with apex q that opens in direction dir (a unit
// tangent at q), with sides of about size.
func (g footGen) wedge(q, dir vec3, size float64) [][2]geo.Degrees {
	side := q.cross(dir).unit()
	pt := func(phi float64) vec3 {
		d := dir.scale(math.Cos(phi)).add(side.scale(math.Sin(phi)))
		s := size * (0.3 + 0.7*g.r.Float64())
		return q.scale(math.Cos(s)).add(d.scale(math.Sin(s))).unit()
	}
	p1 := 0.1 + 1.2*g.r.Float64()
	p2 := -(0.1 + 1.2*g.r.Float64())
	w := [][2]geo.Degrees{llFromVec(q), llFromVec(pt(p1)), llFromVec(pt(p2))}
	if g.r.IntN(2) == 0 {
		w[1], w[2] = w[2], w[1]
	}
	return w
}

// ---------------------------------------------------------------------------
// Random times, altitudes and separations (on coarse grids so that touching
// boundaries are common).

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (g footGen) timeAlt(s *geo.VolumeSpec) {
	s.Start = t0.Add(time.Duration(g.r.IntN(120)) * time.Minute)
	s.End = s.Start.Add(time.Duration(1+g.r.IntN(60)) * time.Minute)
	if g.r.IntN(10) == 0 {
		s.End = s.Start.Add(time.Duration(1 + g.r.Int64N(int64(time.Hour))))
	}
	s.AltLoM = geo.Meters(10 * g.r.IntN(50))
	s.AltHiM = s.AltLoM + geo.Meters(10*(1+g.r.IntN(20)))
	if g.r.IntN(10) == 0 {
		s.AltHiM = s.AltLoM + geo.Meters(g.r.Float64()*200+1e-3)
	}
}

func (g footGen) separation(dist float64) geo.Separation {
	var s geo.Separation
	switch g.r.IntN(4) {
	case 0:
	case 1:
		s.Time = time.Duration(g.r.IntN(30)) * time.Minute
		s.Vertical = geo.Meters(10 * g.r.IntN(10))
	case 2:
		s.Time = time.Duration(g.r.Int64N(int64(30 * time.Minute)))
		s.Vertical = geo.Meters(g.r.Float64() * 100)
	case 3:
		s.Time = time.Duration(g.r.IntN(3)) * time.Nanosecond
		s.Vertical = geo.Meters(g.r.IntN(3))
	}
	switch g.r.IntN(4) {
	case 0:
	case 1:
		s.Horizontal = geo.Meters(dist * 2 * g.r.Float64())
	case 2:
		s.Horizontal = geo.Meters(max(0, dist+(-50+100*g.r.Float64())))
	case 3:
		s.Horizontal = geo.Meters(g.logUniform(1, 1e6))
	}
	return s
}

// oracleTimeAlt is the time and altitude part of the conflict definition.
func oracleTimeAlt(a, b geo.VolumeSpec, sep geo.Separation) bool {
	as, ae := a.Start.UnixNano(), a.End.UnixNano()
	bs, be := b.Start.UnixNano(), b.End.UnixNano()
	st := int64(sep.Time)
	// x < y + s written as x - y < s: the differences of times in
	// 1970..2200 cannot overflow, sums with a large s could.
	timeOK := as-be < st && bs-ae < st
	altOK := a.AltLoM <= b.AltHiM+sep.Vertical && b.AltLoM <= a.AltHiM+sep.Vertical
	return timeOK && altOK
}

func specJSON(s geo.VolumeSpec) string {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%#v", s)
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Tests

// TestOracleSelfCheck makes sure the oracle agrees with a few answers known
// in closed form, so that a disagreement in the differential test is more
// likely to be the package's fault than the oracle's.
func TestOracleSelfCheck(t *testing.T) {
	deg := math.Pi / 180
	sq := func(lat0, lng0, lat1, lng1 geo.Degrees) geo.VolumeSpec {
		return geo.VolumeSpec{Polygon: [][2]geo.Degrees{{lat0, lng0}, {lat0, lng1}, {lat1, lng1}, {lat1, lng0}}}
	}
	circ := func(lat, lng geo.Degrees, r geo.Meters) geo.VolumeSpec {
		return geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: lat, Lng: lng, RadiusM: r}}
	}
	cw := func(s geo.VolumeSpec) geo.VolumeSpec {
		p := append([][2]geo.Degrees(nil), s.Polygon...)
		for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
		return geo.VolumeSpec{Polygon: p}
	}
	cases := []struct {
		name string
		a, b geo.VolumeSpec
		want float64 // angle
	}{
		{"circles", circ(0, 0, 1000), circ(0, 1, 1000), deg - 2000/earthR},
		{"circle below equator edge", circ(-0.3, 0.5, 100), sq(0, 0, 1, 1), 0.3*deg - 100/earthR},
		{"circle below equator edge cw", circ(-0.3, 0.5, 100), cw(sq(0, 0, 1, 1)), 0.3*deg - 100/earthR},
		{"circle inside", circ(0.5, 0.5, 100), sq(0, 0, 1, 1), 0},
		{"circle inside cw", circ(0.5, 0.5, 100), cw(sq(0, 0, 1, 1)), 0},
		{"polygon inside", sq(0.4, 0.4, 0.6, 0.6), cw(sq(0, 0, 1, 1)), 0},
		// Meridians converge, so the closest points are the corners at -1°.
		{"polygons east-west below equator", sq(-1, 0, 0, 1), sq(-1, 2, 0, 3), 2 * math.Asin(math.Cos(deg)*math.Sin(deg/2))},
		{"pole circle and ring", circ(90, 0, 1), sq(-1, 0, 0, 1), 90*deg - 1/earthR},
	}
	for _, c := range cases {
		a, _ := newOShape(c.a)
		b, _ := newOShape(c.b)
		for _, swap := range []bool{false, true} {
			x, y := &a, &b
			if swap {
				x, y = y, x
			}
			got, sure := oracleAngle(x, y)
			if !sure || math.Abs(got-c.want)*earthR > 1e-3 {
				t.Errorf("%s (swap %v): oracle %.6f m (sure %v), want %.6f m", c.name, swap, got*earthR, sure, c.want*earthR)
			}
		}
	}
	// Polygon around the north pole contains the pole, either orientation.
	ring := [][2]geo.Degrees{{89, 0}, {89, 90}, {89, 180}, {89, -90}}
	for _, r := range [][][2]geo.Degrees{ring, cw(geo.VolumeSpec{Polygon: ring}).Polygon} {
		sh, ok := newOShape(geo.VolumeSpec{Polygon: r})
		in, sure := sh.contains(vec3{0, 0, 1})
		out, sure2 := sh.contains(vec3{0, 0, -1})
		if !ok || !in || !sure || out || !sure2 {
			t.Errorf("pole ring %v: ok %v, contains N %v (%v), contains S %v (%v)", r, ok, in, sure, out, sure2)
		}
	}
}

var (
	oracleSeed  = flag.Uint64("oracle.seed", 20260101, "seed of TestDifferential")
	oraclePairs = flag.Int("oracle.pairs", 0, "number of pairs in TestDifferential (0: default)")
)

// TestDifferential compares the package against the oracle on random pairs.
func TestDifferential(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 3000
	}
	if *oraclePairs > 0 {
		n = *oraclePairs
	}
	rng := newRand(*oracleSeed)
	g := footGen{rng}

	var (
		pairs, rejected, unsure          int
		distFail, withinFail, confFail   int
		taFail                           int
		withinChecks, withinSkipped      int
		confChecks, confSkipped          int
		worst, worstNear                 float64
		boundFail                        int
		worstDesc                        string
		kindCount                        = map[string]int{}
		distHist                         = map[string]int{}
		rejectReasons                    = map[string]int{}
		reported                         int
		touchingDist0, touchingDist0Fail int
	)
	report := func(format string, args ...any) {
		reported++
		if reported <= 25 {
			t.Errorf(format, args...)
		}
	}

	for pairs < n {
		kind := pairKinds[rng.IntN(len(pairKinds))]
		sa, sb := g.pair(kind)
		if sa.Circle == nil && sa.Polygon == nil || sb.Circle == nil && sb.Polygon == nil {
			continue
		}
		g.timeAlt(&sa)
		g.timeAlt(&sb)
		va, errA := geo.NewVolume(sa, geo.Limits{})
		vb, errB := geo.NewVolume(sb, geo.Limits{})
		if errA != nil || errB != nil {
			rejected++
			for _, err := range []error{errA, errB} {
				if err != nil {
					rejectReasons[kind+": "+err.Error()[:min(60, len(err.Error()))]]++
				}
			}
			continue
		}
		pairs++
		kindCount[kind]++
		for _, x := range []struct {
			s geo.VolumeSpec
			v *geo.Volume
		}{{sa, va}, {sb, vb}} {
			if msg := checkBound(x.s, x.v); msg != "" {
				boundFail++
				report("Bound: %s\n spec=%s", msg, specJSON(x.s))
			}
		}

		// The oracle reads the footprints as given (before normalisation).
		oa, okA := newOShape(sa)
		ob, okB := newOShape(sb)
		if !okA || !okB {
			unsure++
			continue
		}
		want, sure := oracleMeters(&oa, &ob)
		if !sure {
			unsure++
			continue
		}

		switch {
		case want == 0:
			distHist["0"]++
		case want <= 1:
			distHist["(0,1m]"]++
		case want <= 100:
			distHist["(1m,100m]"]++
		case want <= 10_000:
			distHist["(100m,10km]"]++
		default:
			distHist[">10km"]++
		}
		got := float64(geo.Distance(va, vb))
		got2 := float64(geo.Distance(vb, va))
		if e := math.Abs(got - want); e > worst {
			worst = e
			worstDesc = fmt.Sprintf("%s: got %.4f want %.4f\n a=%s\n b=%s", kind, got, want, specJSON(sa), specJSON(sb))
		}
		if e := math.Abs(got - want); want < 1e6 && e > worstNear {
			worstNear = e
		}
		if math.IsNaN(got) || math.Abs(got-want) > 1 || math.Abs(got2-want) > 1 {
			distFail++
			report("Distance (%s): got %.4f m (reversed %.4f m), oracle %.4f m\n a=%s\n b=%s",
				kind, got, got2, want, specJSON(sa), specJSON(sb))
		}
		if kind == "shared-vertex" || kind == "shared-edge" || kind == "same" {
			touchingDist0++
			if got != 0 || !geo.Within(va, vb, 0) {
				touchingDist0Fail++
				report("%s: footprints share a vertex but Distance = %g m, Within(0) = %v\n a=%s\n b=%s",
					kind, got, geo.Within(va, vb, 0), specJSON(sa), specJSON(sb))
			}
		}

		// Within at random thresholds.
		for range 3 {
			var d float64
			switch rng.IntN(4) {
			case 0:
				d = 0
			case 1:
				d = want * 2 * rng.Float64()
			case 2:
				d = want + (1.01+19*rng.Float64())*float64(1-2*rng.IntN(2))
			case 3:
				d = g.logUniform(1e-3, 2e7)
			}
			d = max(d, 0)
			withinChecks++
			if math.Abs(d-want) <= 1 {
				withinSkipped++
				continue
			}
			exp := want <= d
			if w := geo.Within(va, vb, geo.Meters(d)); w != exp {
				withinFail++
				report("Within(a, b, %.4f) (%s) = %v, oracle distance %.4f m\n a=%s\n b=%s",
					d, kind, w, want, specJSON(sa), specJSON(sb))
			}
			if w := geo.Within(vb, va, geo.Meters(d)); w != exp {
				withinFail++
				report("Within(b, a, %.4f) (%s) = %v, oracle distance %.4f m\n a=%s\n b=%s",
					d, kind, w, want, specJSON(sa), specJSON(sb))
			}
		}

		// Conflict and TimeAltOverlap at random separations.
		for range 3 {
			sep := g.separation(want)
			ta := oracleTimeAlt(sa, sb, sep)
			if got := geo.TimeAltOverlap(va, vb, sep); got != ta {
				taFail++
				report("TimeAltOverlap(sep %+v) = %v, want %v\n a=%s\n b=%s", sep, got, ta, specJSON(sa), specJSON(sb))
			}
			confChecks++
			if ta && math.Abs(want-float64(sep.Horizontal)) <= 1 {
				confSkipped++
				continue
			}
			exp := ta && want <= float64(sep.Horizontal)
			for _, ab := range [][2]*geo.Volume{{va, vb}, {vb, va}} {
				if got := geo.Conflict(ab[0], ab[1], sep); got != exp {
					confFail++
					report("Conflict(sep %+v) (%s) = %v, want %v (oracle distance %.4f m, time/alt %v)\n a=%s\n b=%s",
						sep, kind, got, exp, want, ta, specJSON(sa), specJSON(sb))
				}
			}
		}
	}

	t.Logf("pairs %d by kind %v; rejected by NewVolume %d; oracle unsure %d", pairs, kindCount, rejected, unsure)
	t.Logf("oracle distances: %v", distHist)
	t.Logf("worst |Distance - oracle| for distances under 1000 km = %.3g m", worstNear)
	t.Logf("worst |Distance - oracle| = %.3g m (%s)", worst, worstDesc)
	t.Logf("Within checks %d (skipped near threshold %d); Conflict checks %d (skipped %d)", withinChecks, withinSkipped, confChecks, confSkipped)
	for r, c := range rejectReasons {
		t.Logf("rejected %d× %s", c, r)
	}
	if distFail+withinFail+confFail+taFail+touchingDist0Fail+boundFail > 0 {
		t.Errorf("failures: Distance %d, Within %d, Conflict %d, TimeAltOverlap %d, touching-not-zero %d/%d, Bound %d",
			distFail, withinFail, confFail, taFail, touchingDist0Fail, touchingDist0, boundFail)
	}
	if unsure > n/1000 {
		t.Errorf("oracle unsure on %d of %d pairs: too many to trust the test", unsure, n)
	}
	if rejected > n/20 {
		t.Errorf("NewVolume rejected %d generated pairs (of %d accepted): the generator is off", rejected, n)
	}
}

// checkBound checks that v.Bound(m) is a cap holding the footprint widened
// by m: every point of the footprint is within the cap's radius minus m of
// its centre. It returns a description of the first violation.
func checkBound(s geo.VolumeSpec, v *geo.Volume) string {
	const eps = 1e-3 / earthR // a millimetre of rounding
	for _, m := range []geo.Meters{0, 1, 1000, 100_000} {
		c := v.Bound(m)
		cc := vec3{c.Center().X, c.Center().Y, c.Center().Z}.unit()
		r := c.Radius().Radians() - float64(m)/earthR
		if r > math.Pi/2 {
			continue // not convex: vertices alone would not show containment
		}
		if s.Circle != nil {
			centre := vecFromDeg(float64(s.Circle.Lat), float64(s.Circle.Lng))
			if far := angleBetween(cc, centre) + float64(s.Circle.RadiusM)/earthR; far > r+eps {
				return fmt.Sprintf("Bound(%v) radius %.3f m short of the circle (reaches %.3f m)", m, r*earthR, far*earthR)
			}
			continue
		}
		for i, ll := range s.Polygon {
			if far := angleBetween(cc, vecFromLL(ll)); far > r+eps {
				return fmt.Sprintf("Bound(%v) radius %.3f m misses vertex %d at %.3f m", m, r*earthR, i, far*earthR)
			}
		}
	}
	return ""
}
