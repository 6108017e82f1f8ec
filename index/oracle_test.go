package index_test

// An independent differential test of the index: every Search is compared
// with brute force (geo.Conflict over every stored volume), every
// Candidates call with Search. The inputs are built to break a spatial
// index: pairs of footprints that touch exactly or nearly (gaps of 0,
// ±0.5 m and ±2 m beyond the horizontal separation) at the antimeridian,
// the poles, the equator, the corners and edges of a cube around the
// Earth, dyadic grid points of its faces and S2 cell vertices; windows
// that touch exactly (half-open) and bands that touch exactly (closed);
// footprints from 1 m to 1,500 km in one index.
//
// The test knows nothing of how the index works: only its public
// contract.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/index"
	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

var oracleLimits = geo.Limits{MaxArea: 1e13}

// oracleSeed varies the random inputs: INDEX_ORACLE_SEED=n go test ...
var oracleSeed = func() uint64 {
	n, _ := strconv.ParseUint(os.Getenv("INDEX_ORACLE_SEED"), 10, 64)
	return n
}()

const earthR = float64(geo.EarthRadius)

// src is where the generators take their choices from: a *rand.Rand, or
// a byteSrc decoding a fuzz input.
type src interface {
	IntN(n int) int
	Float64() float64
}

// byteSrc reads choices from bytes; once they run out, every choice is 0.
type byteSrc struct{ b []byte }

func (s *byteSrc) next() uint64 {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return uint64(c)
}

func (s *byteSrc) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	var v uint64
	for span := uint64(1); span < uint64(n); span <<= 8 {
		v = v<<8 | s.next()
	}
	return int(v % uint64(n))
}

func (s *byteSrc) Float64() float64 {
	v := s.next()<<24 | s.next()<<16 | s.next()<<8 | s.next()
	return float64(v) / (1 << 32)
}

func pick[T any](s src, xs ...T) T { return xs[s.IntN(len(xs))] }

func chance(s src, p float64) bool { return s.Float64() < p }

// logUniform is between lo and hi, log-uniformly.
func logUniform(s src, lo, hi float64) float64 {
	return lo * math.Exp(s.Float64()*math.Log(hi/lo))
}

// ---- points on the sphere, as unit vectors

func llPoint(lat, lng float64) r3.Vector {
	return s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lng)).Vector
}

func pointLL(p r3.Vector) [2]geo.Degrees {
	ll := s2.LatLngFromPoint(s2.Point{Vector: p})
	return [2]geo.Degrees{geo.Degrees(ll.Lat.Degrees()), geo.Degrees(ll.Lng.Degrees())}
}

// along is the point at angle ang from p in the tangent direction dir.
func along(p, dir r3.Vector, ang float64) r3.Vector {
	return p.Mul(math.Cos(ang)).Add(dir.Mul(math.Sin(ang))).Normalize()
}

// tangentFrame is an orthonormal basis (east, north) of the tangent plane
// at p; at a pole, east is an arbitrary tangent direction.
func tangentFrame(p r3.Vector) (east, north r3.Vector) {
	east = r3.Vector{Z: 1}.Cross(p)
	if east.Norm() < 1e-6 {
		x := r3.Vector{X: 1}
		east = x.Sub(p.Mul(x.Dot(p)))
	}
	east = east.Normalize()
	return east, p.Cross(east).Normalize()
}

func randomTangent(s src, p r3.Vector) r3.Vector {
	e, n := tangentFrame(p)
	a := s.Float64() * 2 * math.Pi
	return e.Mul(math.Cos(a)).Add(n.Mul(math.Sin(a))).Normalize()
}

// ---- hard places

type hardPlace struct {
	name string
	gen  func(s src) r3.Vector
}

var cornerLat = math.Atan(1/math.Sqrt2) * 180 / math.Pi // 35.264°

func sgn(s src) float64 { return pick(s, 1.0, -1.0) }

// faceXYZ maps face coordinates (u, v in [-1, 1]) of a cube face to a
// point; the set of grid lines is the same whichever convention a grid
// uses for the faces' orientation.
func faceXYZ(face int, u, v float64) r3.Vector {
	var p r3.Vector
	switch face {
	case 0:
		p = r3.Vector{X: 1, Y: u, Z: v}
	case 1:
		p = r3.Vector{X: -u, Y: 1, Z: v}
	case 2:
		p = r3.Vector{X: -u, Y: -v, Z: 1}
	case 3:
		p = r3.Vector{X: -1, Y: -v, Z: -u}
	case 4:
		p = r3.Vector{X: v, Y: -1, Z: -u}
	default:
		p = r3.Vector{X: v, Y: u, Z: -1}
	}
	return p.Normalize()
}

// dyadic is k/2^m in [0, 1] for a random level m, often an end or middle.
func dyadic(s src) float64 {
	m := s.IntN(27)
	k := s.IntN(1<<m + 1)
	return float64(k) / float64(int(1)<<m)
}

var hardPlaces = []hardPlace{
	{"north pole", func(src) r3.Vector { return r3.Vector{Z: 1} }},
	{"south pole", func(src) r3.Vector { return r3.Vector{Z: -1} }},
	{"near a pole", func(s src) r3.Vector {
		lat := 90 - logUniform(s, 1e-10, 0.5)
		return llPoint(sgn(s)*lat, s.Float64()*360-180)
	}},
	{"antimeridian", func(s src) r3.Vector {
		lat := pick(s, 0, 45, -45, cornerLat, -cornerLat, 89.99, -89.99, s.Float64()*170-85, s.Float64()*170-85)
		return llPoint(lat, pick(s, 180.0, -180.0))
	}},
	{"equator", func(s src) r3.Vector {
		lng := pick(s, 0, 45, -45, 90, -90, 135, -135, 180, s.Float64()*360-180, s.Float64()*360-180)
		return llPoint(0, lng)
	}},
	{"cube corner", func(s src) r3.Vector {
		return r3.Vector{X: sgn(s), Y: sgn(s), Z: sgn(s)}.Normalize()
	}},
	{"cube edge", func(s src) r3.Vector {
		// Two coordinates of magnitude 1: the edge between their faces.
		i := s.IntN(3)
		j := (i + 1 + s.IntN(2)) % 3
		var c [3]float64
		c[i], c[j] = sgn(s), sgn(s)
		c[3-i-j] = pick(s, 0, 0, 1, -1, 1-1e-9, -(1 - 1e-9), 0.5, -0.5, s.Float64()*2-1, s.Float64()*2-1)
		return r3.Vector{X: c[0], Y: c[1], Z: c[2]}.Normalize()
	}},
	{"cube edge midpoint", func(s src) r3.Vector {
		// lat 0 lng ±45/±135, lat ±45 lng 0/90/180/-90.
		if chance(s, 1.0/3) {
			return llPoint(0, pick(s, 45.0, -45, 135, -135))
		}
		return llPoint(sgn(s)*45, pick(s, 0.0, 90, 180, -90))
	}},
	{"face centre", func(s src) r3.Vector {
		return faceXYZ(s.IntN(6), 0, 0)
	}},
	{"S2 cell vertex", func(s src) r3.Vector {
		p := randomPoint(s)
		c := s2.CellFromCellID(s2.CellIDFromLatLng(s2.LatLngFromPoint(s2.Point{Vector: p})).Parent(s.IntN(27)))
		if chance(s, 0.3) { // a point on a cell edge
			return s2.Interpolate(s.Float64(), c.Vertex(0), c.Vertex(1)).Vector
		}
		return c.Vertex(s.IntN(4)).Vector
	}},
	{"dyadic face point", func(s src) r3.Vector {
		// Grid lines of a cube face under a linear or a tangent projection.
		su, sv := dyadic(s), dyadic(s)
		if chance(s, 0.5) {
			return faceXYZ(s.IntN(6), 2*su-1, 2*sv-1)
		}
		return faceXYZ(s.IntN(6), math.Tan(math.Pi/2*su-math.Pi/4), math.Tan(math.Pi/2*sv-math.Pi/4))
	}},
	{"random", randomPoint},
	{"random", randomPoint},
}

func randomPoint(s src) r3.Vector {
	return llPoint(math.Asin(2*s.Float64()-1)*180/math.Pi, s.Float64()*360-180)
}

// jitter moves p by a distance that is 0, tiny or up to maxM metres.
func jitter(s src, p r3.Vector, maxM float64) r3.Vector {
	var d float64
	switch s.IntN(3) {
	case 0:
		return p
	case 1:
		d = logUniform(s, 1e-6, 10)
	default:
		d = logUniform(s, 10, maxM)
	}
	return along(p, randomTangent(s, p), d/earthR)
}

// ---- footprints

const (
	kindCircle = iota // the cap itself
	kindVertex        // a polygon in the cap with a vertex at the contact point
	kindEdge          // a polygon with an edge through the contact point, at right angles to the contact line
)

type sideSpec struct {
	kind   int
	size   float64 // metres: the circle's radius, the polygon's cap radius
	nv     int     // polygon vertices
	w1, w2 float64 // kindEdge: the edge's half-lengths, as fractions of size
}

func genSide(s src) sideSpec {
	sd := sideSpec{kind: s.IntN(3), size: logUniform(s, 1, 500_000)}
	if sd.kind == kindCircle {
		return sd
	}
	if chance(s, 0.1) {
		sd.size = logUniform(s, 100_000, 1_500_000)
	}
	sd.size = max(sd.size, 3) // below that a polygon's area is under 0.1 m²
	sd.nv = 3 + s.IntN(10)
	if sd.kind == kindEdge {
		sd.nv++
	}
	switch {
	case chance(s, 0.01):
		sd.nv = 300 + s.IntN(701)
	case chance(s, 0.05):
		sd.nv = 20 + s.IntN(100)
	}
	sd.w1, sd.w2 = logUniform(s, 0.01, 1.5), logUniform(s, 0.01, 1.5)
	return sd
}

// footprint builds the footprint of sd in the cap of centre c whose
// boundary meets the contact point T = along(c, toward, size); n is the
// unit tangent at c perpendicular to toward. Polygons are star-shaped
// around c (vertices sorted by azimuth, gaps under 180°), hence simple.
func footprint(s src, c, toward, n r3.Vector, sd sideSpec) (*geo.CircleSpec, [][2]geo.Degrees, bool) {
	if sd.kind == kindCircle {
		ll := pointLL(c)
		return &geo.CircleSpec{Lat: ll[0], Lng: ll[1], RadiusM: geo.Meters(sd.size)}, nil, true
	}
	R := sd.size / earthR
	T := along(c, toward, R)
	azimuth := func(q r3.Vector) float64 {
		a := math.Atan2(q.Dot(n), q.Dot(toward))
		if a < 0 {
			a += 2 * math.Pi
		}
		return a
	}
	type vert struct {
		a float64
		p r3.Vector
	}
	for try := 0; try < 10; try++ {
		var vs []vert
		lo, hi := 0.0, 2*math.Pi
		if sd.kind == kindVertex {
			vs = append(vs, vert{0, T})
		} else {
			// n is also the tangent at T along the edge (the great
			// circle through T at right angles to the contact line).
			ep, em := along(T, n, sd.w1*R), along(T, n.Mul(-1), sd.w2*R)
			vs = append(vs, vert{azimuth(ep), ep}, vert{azimuth(em), em})
			lo, hi = vs[0].a, vs[1].a
		}
		m := sd.nv - len(vs)
		for j := 0; j < m; j++ {
			a := lo + (float64(j)+0.5+0.9*(s.Float64()-0.5))*(hi-lo)/float64(m)
			d := R * (0.2 + 0.79*s.Float64())
			dir := toward.Mul(math.Cos(a)).Add(n.Mul(math.Sin(a)))
			p := along(c, dir, d)
			vs = append(vs, vert{azimuth(p), p})
		}
		sort.Slice(vs, func(i, j int) bool { return vs[i].a < vs[j].a })
		ok := true
		for i := range vs {
			next := vs[(i+1)%len(vs)].a
			if i == len(vs)-1 {
				next += 2 * math.Pi
			}
			if g := next - vs[i].a; g >= 0.95*math.Pi || g <= 0 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		ring := make([][2]geo.Degrees, len(vs))
		for i, v := range vs {
			ring[i] = pointLL(v.p)
		}
		if chance(s, 0.5) { // either orientation is accepted
			for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
				ring[i], ring[j] = ring[j], ring[i]
			}
		}
		return nil, ring, true
	}
	return nil, nil, false
}

// ---- time windows and altitude bands

var (
	t0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tEpoch = time.Unix(0, 0).UTC()
	tLate  = time.Date(2200, 12, 20, 0, 0, 0, 0, time.UTC)
)

func genDur(s src) time.Duration {
	var d float64
	switch s.IntN(4) {
	case 0:
		d = logUniform(s, 1, 1800)
	case 1, 2:
		d = logUniform(s, 1800, 6*3600)
	default:
		d = logUniform(s, 6*3600, 7*24*3600)
	}
	dur := time.Duration(d * float64(time.Second))
	if chance(s, 0.5) {
		dur = max(10*time.Minute, dur.Round(10*time.Minute))
	}
	return min(dur, 7*24*time.Hour)
}

func genStart(s src) time.Time {
	switch {
	case chance(s, 0.04):
		return tEpoch.Add(time.Duration(s.IntN(6*60)) * time.Minute)
	case chance(s, 0.04):
		return tLate.Add(time.Duration(s.IntN(48*60)) * time.Minute)
	}
	st := t0.Add(time.Duration(s.Float64() * float64(48*time.Hour)))
	if chance(s, 0.5) {
		st = st.Truncate(10 * time.Minute)
	}
	return st
}

func genBand(s src) (lo, hi float64) {
	if chance(s, 0.05) {
		return float64(geo.MinAltitude), float64(geo.MaxAltitude)
	}
	thick := math.Round(logUniform(s, 1, 20_000))
	if chance(s, 0.2) {
		thick = 0.5 * float64(1+s.IntN(8))
	}
	switch {
	case chance(s, 0.05):
		lo = float64(geo.MinAltitude)
	case chance(s, 0.05):
		lo = float64(geo.MaxAltitude) - thick
	case chance(s, 0.7):
		lo = float64(s.IntN(3000))
	default:
		lo = float64(geo.MinAltitude) + float64(s.IntN(int(geo.MaxAltitude-geo.MinAltitude)))
	}
	return lo, lo + thick
}

// ---- separations

var (
	sepZero = geo.Separation{}
	sepMid  = geo.Separation{Horizontal: 5000, Vertical: 300, Time: 10 * time.Minute}
	sepWide = geo.Separation{Horizontal: 200_000}
	sepTime = geo.Separation{Time: time.Hour}
	sepHair = geo.Separation{Horizontal: 1, Vertical: 1, Time: 1}
	sepMax  = geo.Separation{Horizontal: geo.MaxRadius, Vertical: geo.MaxAltitude - geo.MinAltitude, Time: 7 * 24 * time.Hour}
)

func genSep(s src) geo.Separation {
	switch s.IntN(10) {
	case 0, 1, 2, 3:
		return sepZero
	case 4, 5:
		return sepMid
	case 6, 7:
		return sepWide
	case 8:
		return sepTime
	}
	if chance(s, 0.8) {
		return sepHair
	}
	return sepMax
}

// ---- pairs of volumes that touch or nearly touch

type pair struct {
	a, b  *geo.Volume
	sep   geo.Separation
	place string
	// known says whether the construction decides Conflict(a, b, sep)
	// (with a margin of at least 0.5 m, 1 ns, 0.5 m), and want what it is.
	known, want bool
}

// genPair builds two volumes whose footprints lie on either side of a
// contact line through a hard place, gap sep.Horizontal + delta apart, with
// windows and bands that overlap or touch.
func genPair(s src, placeIdx int, sep geo.Separation) (pair, bool) {
	pl := hardPlaces[placeIdx]
	M := jitter(s, pl.gen(s), 50_000)
	e, nth := tangentFrame(M)
	theta := s.Float64() * 2 * math.Pi
	if chance(s, 0.5) { // along a meridian or a parallel
		theta = float64(s.IntN(4)) * math.Pi / 2
	}
	u := e.Mul(math.Cos(theta)).Add(nth.Mul(math.Sin(theta))).Normalize()
	n := M.Cross(u).Normalize()
	A, B := genSide(s), genSide(s)
	switch {
	case chance(s, 0.1): // tiny against huge
		A.size, B.size = max(3, logUniform(s, 1, 10)), logUniform(s, 200_000, 500_000)
	case chance(s, 0.1):
		A.size, B.size = logUniform(s, 200_000, 500_000), max(3, logUniform(s, 1, 10))
	}
	// Which of space, time and altitude are made to touch: one, or all.
	crit := s.IntN(4)
	touch := func(dim int) bool { return crit == dim || crit == 3 }
	H := float64(sep.Horizontal)
	delta := pick(s, 0, 0, 0.5, -0.5, 2, -2, 1e-3, -1e-3)
	if !touch(0) && chance(s, 0.5) {
		delta = -pick(s, 0.5, 2, 100)
	}
	exactGap := true
	if chance(s, 0.15) {
		delta = -H + (s.Float64()*1.2-1)*min(A.size, B.size)
		exactGap = false
	}
	g := H + delta
	var sTA float64 // where A's contact point is on the contact line from M
	switch s.IntN(3) {
	case 0:
		sTA = -g / 2 / earthR // the hard place midway
	case 1:
		sTA = 0 // the hard place on A's boundary
	default:
		sTA = A.size / earthR // A centred on the hard place
	}
	P := func(x float64) r3.Vector { return along(M, u, x) }
	tangent := func(x float64) r3.Vector { return u.Mul(math.Cos(x)).Sub(M.Mul(math.Sin(x))).Normalize() }
	sCA := sTA - A.size/earthR
	sCB := sTA + g/earthR + B.size/earthR
	circA, polyA, ok := footprint(s, P(sCA), tangent(sCA), n, A)
	if !ok {
		return pair{}, false
	}
	circB, polyB, ok := footprint(s, P(sCB), tangent(sCB).Mul(-1), n, B)
	if !ok {
		return pair{}, false
	}

	// Time: B overlaps A's window, or starts (ends) sep.Time after (before)
	// A's end (start), give or take a little.
	aStart, aDur, bDur := genStart(s), genDur(s), genDur(s)
	aEnd := aStart.Add(aDur)
	var bStart time.Time
	tMode := s.IntN(10)
	if !touch(1) {
		tMode = 6
	}
	tOff := pick(s, 0, 0, -1, 1, -time.Second, time.Second, -10*time.Minute, 10*time.Minute)
	switch {
	case tMode < 3: // B after A
		bStart = aEnd.Add(sep.Time + tOff)
	case tMode < 6: // B before A
		bStart = aStart.Add(-sep.Time + tOff - bDur)
	case tMode < 9: // overlapping
		f := s.Float64()
		bStart = aStart.Add(-bDur + 1 + time.Duration(f*float64(aDur+bDur-2)))
	default:
		bStart = aStart.Add(time.Duration((s.Float64()*2 - 1) * float64(72*time.Hour)))
	}
	bEnd := bStart.Add(bDur)

	// Altitude: likewise, with values exact in binary so that touching
	// bands touch exactly.
	aLo, aHi := genBand(s)
	bLo, bHi := genBand(s)
	bThick := bHi - bLo
	V := float64(sep.Vertical)
	aOff := pick(s, 0, 0, 0.5, -0.5, 1, -1, 100, -100)
	aMode := s.IntN(10)
	if !touch(2) {
		aMode = 6
	}
	switch aMode {
	case 0, 1, 2: // B above
		bLo = aHi + V + aOff
		bHi = bLo + bThick
	case 3, 4, 5: // B below
		bHi = aLo - V + aOff
		bLo = bHi - bThick
	case 6, 7, 8:
		bLo = aLo - bThick + s.Float64()*(aHi-aLo+bThick)
		bHi = bLo + bThick
	}
	if bLo < float64(geo.MinAltitude) || bHi > float64(geo.MaxAltitude) {
		return pair{}, false
	}

	va, err := geo.NewVolume(geo.VolumeSpec{Circle: circA, Polygon: polyA, AltLoM: geo.Meters(aLo), AltHiM: geo.Meters(aHi), Start: aStart, End: aEnd}, oracleLimits)
	if err != nil {
		return pair{}, false
	}
	vb, err := geo.NewVolume(geo.VolumeSpec{Circle: circB, Polygon: polyB, AltLoM: geo.Meters(bLo), AltHiM: geo.Meters(bHi), Start: bStart, End: bEnd}, oracleLimits)
	if err != nil {
		return pair{}, false
	}
	p := pair{a: va, b: vb, sep: sep, place: pl.name}
	// The gap is exact unless both polygons have an edge at the contact
	// (two edges on great circles at right angles to the contact line
	// come closer than g away from it) and g > 0.
	spaceKnown := exactGap && math.Abs(delta) >= 0.5 && (delta < 0 || A.kind != kindEdge || B.kind != kindEdge) && (g >= 0 || -g <= min(A.size, B.size))
	// Time and altitude are plain arithmetic; the self-check is of the
	// footprints.
	T := sep.Time.Nanoseconds()
	timeOK := aStart.UnixNano() < bEnd.UnixNano()+T && bStart.UnixNano() < aEnd.UnixNano()+T
	altOK := bLo <= aHi+V && aLo <= bHi+V
	p.known = spaceKnown
	p.want = delta < 0 && timeOK && altOK
	if chance(s, 0.5) {
		p.a, p.b = p.b, p.a
	}
	return p, true
}

func mustPair(t testing.TB, s src, placeIdx int, sep geo.Separation) pair {
	for range 1000 {
		if p, ok := genPair(s, placeIdx, sep); ok {
			return p
		}
	}
	t.Fatalf("cannot build a pair at %s", hardPlaces[placeIdx].name)
	return pair{}
}

// genLoose is a volume around a hard place, not made to touch anything.
func genLoose(s src) *geo.Volume {
	for {
		c := jitter(s, hardPlaces[s.IntN(len(hardPlaces))].gen(s), 300_000)
		sd := genSide(s)
		if sd.kind == kindEdge {
			sd.kind = kindVertex
		}
		toward := randomTangent(s, c)
		circ, poly, ok := footprint(s, c, toward, c.Cross(toward).Normalize(), sd)
		if !ok {
			continue
		}
		lo, hi := genBand(s)
		st := genStart(s)
		v, err := geo.NewVolume(geo.VolumeSpec{Circle: circ, Polygon: poly, AltLoM: geo.Meters(lo), AltHiM: geo.Meters(hi), Start: st, End: st.Add(genDur(s))}, oracleLimits)
		if err == nil {
			return v
		}
	}
}

// ---- the oracle

func specJSON(v *geo.Volume) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// model is the test's own record of what the index holds.
type model struct {
	x      *index.Index
	cfg    index.Config
	stored map[index.Ref]*geo.Volume
}

func newModel(t testing.TB, cfg index.Config) *model {
	x, err := index.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return &model{x: x, cfg: cfg, stored: map[index.Ref]*geo.Volume{}}
}

func (m *model) insert(t testing.TB, v *geo.Volume) index.Ref {
	r := m.x.Insert(v)
	m.added(t, r, v)
	return r
}

func (m *model) added(t testing.TB, r index.Ref, v *geo.Volume) {
	t.Helper()
	if old, ok := m.stored[r]; ok {
		t.Fatalf("cfg %+v: Insert returned ref %d, which still holds %s", m.cfg, r, specJSON(old))
	}
	m.stored[r] = v
}

func (m *model) remove(r index.Ref) {
	m.x.Remove(r)
	delete(m.stored, r)
}

// checkStore compares Len and Volume with the model.
func (m *model) checkStore(t testing.TB, what string) {
	t.Helper()
	if m.x.Len() != len(m.stored) {
		t.Fatalf("cfg %+v, %s: Len() = %d, want %d", m.cfg, what, m.x.Len(), len(m.stored))
	}
	for r, v := range m.stored {
		if got := m.x.Volume(r); got != v {
			t.Fatalf("cfg %+v, %s: Volume(%d) = %p, want %p", m.cfg, what, r, got, v)
		}
	}
}

// check compares Search and Candidates for q under sep with brute force.
// It returns the number of conflicts with stored volumes other than q.
func (m *model) check(t testing.TB, what string, q *geo.Volume, sep geo.Separation) int {
	t.Helper()
	want := map[index.Ref]bool{}
	others := 0
	for r, v := range m.stored {
		if geo.Conflict(q, v, sep) {
			want[r] = true
			if v != q {
				others++
			}
		}
	}
	got := map[index.Ref]bool{}
	var problems []string
	m.x.Search(q, sep, func(r index.Ref, v *geo.Volume) bool {
		sv, ok := m.stored[r]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("Search yielded ref %d, which is not stored", r))
		case got[r]:
			problems = append(problems, fmt.Sprintf("Search yielded ref %d twice", r))
		case v != sv:
			problems = append(problems, fmt.Sprintf("Search yielded ref %d with volume %s, but it stores %s", r, specJSON(v), specJSON(sv)))
		}
		got[r] = true
		return true
	})
	cand := map[index.Ref]bool{}
	m.x.Candidates(q, sep, func(r index.Ref) bool {
		if _, ok := m.stored[r]; !ok {
			problems = append(problems, fmt.Sprintf("Candidates yielded ref %d, which is not stored", r))
		}
		if cand[r] {
			problems = append(problems, fmt.Sprintf("Candidates yielded ref %d twice", r))
		}
		cand[r] = true
		return true
	})
	for r := range want {
		if !got[r] {
			problems = append(problems, "Search missed a conflict: "+m.describe(r, q, sep, cand[r]))
		}
		if !cand[r] {
			problems = append(problems, "Candidates missed a conflict: "+m.describe(r, q, sep, cand[r]))
		}
	}
	for r := range got {
		if !want[r] {
			if _, ok := m.stored[r]; ok {
				problems = append(problems, "Search yielded a non-conflict: "+m.describe(r, q, sep, cand[r]))
			}
		}
	}
	if len(problems) > 0 {
		t.Fatalf("cfg %+v, %s: %d stored, sep %+v\nquery %s\n%s", m.cfg, what, len(m.stored), sep, specJSON(q),
			strings.Join(problems[:min(3, len(problems))], "\n"))
	}
	return others
}

func (m *model) describe(r index.Ref, q *geo.Volume, sep geo.Separation, isCand bool) string {
	v := m.stored[r]
	return fmt.Sprintf("ref %d %s\n  Conflict=%v distance=%.6g m TimeAltOverlap=%v candidate=%v",
		r, specJSON(v), geo.Conflict(q, v, sep), float64(geo.Distance(q, v)), geo.TimeAltOverlap(q, v, sep), isCand)
}

// ---- tests

var oracleConfigs = []index.Config{
	{},
	{Level: 13, LevelStep: 1, MaxCells: 6, BucketSize: 10 * time.Minute, MaxBuckets: 2},
	{Level: 4, LevelStep: 3, MaxCells: 100},
	{Level: 20, LevelStep: 5},
	{Level: 0}, // the zero value: the defaults
	{Level: 1, LevelStep: 1, MaxCells: 6},
	{Level: 26, LevelStep: 7, MaxCells: 6, BucketSize: time.Minute, MaxBuckets: 64},
	{Level: 26, LevelStep: 26, BucketSize: 7 * 24 * time.Hour, MaxBuckets: 1},
}

var otherSeps = []geo.Separation{sepZero, sepMid, sepWide, sepTime, sepHair}

// TestOracleSearch fills an index per configuration with touching pairs
// and loose volumes, and checks every volume as a query, with its pair's
// separation and another one; then removes a random third, checks again,
// re-inserts some (refs are reused) and checks again.
func TestOracleSearch(t *testing.T) {
	nPairs, nLoose := 500, 200
	if testing.Short() {
		nPairs, nLoose = 150, 60
	}
	for ci, cfg := range oracleConfigs {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			t.Parallel()
			nPairs, nLoose := nPairs, nLoose
			if cfg.Level >= 20 {
				// A search for a 1,000 km query at a fine level costs
				// milliseconds: fewer volumes keep the test quick.
				nPairs, nLoose = max(100, nPairs/4), max(40, nLoose/4)
			}
			r := rand.New(rand.NewPCG(uint64(ci)+100, 7^oracleSeed))
			m := newModel(t, cfg)
			type query struct {
				v   *geo.Volume
				sep geo.Separation
			}
			var queries []query
			var pairs []pair
			var batch []*geo.Volume
			for i := range nPairs {
				p := mustPair(t, r, i%len(hardPlaces), genSep(r))
				pairs = append(pairs, p)
				queries = append(queries, query{p.a, p.sep}, query{p.b, p.sep})
				if i%3 == 0 { // some through InsertAll
					batch = append(batch, p.a)
				} else {
					m.insert(t, p.a)
				}
				if r.IntN(2) == 0 {
					m.insert(t, p.b)
				}
			}
			refs := m.x.InsertAll(batch)
			if len(refs) != len(batch) {
				t.Fatalf("InsertAll of %d returned %d refs", len(batch), len(refs))
			}
			for i, ref := range refs {
				m.added(t, ref, batch[i])
			}
			for range nLoose {
				v := genLoose(r)
				m.insert(t, v)
				queries = append(queries, query{v, genSep(r)})
			}
			// Check that the pairs test what they should: a fair share
			// conflict and a fair share just miss.
			hit, miss := 0, 0
			for _, p := range pairs {
				if geo.Conflict(p.a, p.b, p.sep) {
					hit++
				} else {
					miss++
				}
			}
			if hit < len(pairs)/5 || miss < len(pairs)/5 {
				t.Fatalf("of %d pairs %d conflict and %d do not: the generator is broken", len(pairs), hit, miss)
			}

			phase := func(name string) {
				m.checkStore(t, name)
				found, busy := 0, 0
				for qi, q := range queries {
					n := m.check(t, fmt.Sprintf("%s, query %d", name, qi), q.v, q.sep)
					n += m.check(t, fmt.Sprintf("%s, query %d", name, qi), q.v, otherSeps[r.IntN(len(otherSeps))])
					found += n
					if n > 0 {
						busy++
					}
				}
				t.Logf("%s: %d stored, %d queries, %d conflicts between distinct volumes, %d queries with one", name, len(m.stored), 2*len(queries), found, busy)
				if busy < len(queries)/8 {
					t.Fatalf("%s: only %d of %d queries conflict with another volume: too sparse to test anything", name, busy, len(queries))
				}
			}
			phase("after insert")

			var removed []*geo.Volume
			for ref, v := range m.stored {
				if r.IntN(3) == 0 {
					m.remove(ref)
					removed = append(removed, v)
					if m.x.Volume(ref) != nil {
						t.Fatalf("Volume(%d) after Remove is not nil", ref)
					}
					m.x.Remove(ref) // removing a free ref is a no-op
				}
			}
			phase("after removing a third")

			for _, v := range removed {
				if r.IntN(2) == 0 {
					m.insert(t, v)
				}
			}
			for i := range nPairs / 5 {
				p := mustPair(t, r, i%len(hardPlaces), genSep(r))
				m.insert(t, p.a)
				queries = append(queries, query{p.a, p.sep}, query{p.b, p.sep})
			}
			phase("after re-inserting")
		})
	}
}

// TestOracleGenerator checks the generator against its own construction:
// pairs whose outcome the geometry decides with a margin conflict exactly
// when they should. A failure here is a broken generator (or geo), not a
// broken index.
func TestOracleGenerator(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11^oracleSeed))
	n := 6000
	if testing.Short() {
		n = 2000
	}
	known, yes := 0, 0
	perPlace := map[string][2]int{}
	for i := range n {
		p := mustPair(t, r, i%len(hardPlaces), genSep(r))
		got := geo.Conflict(p.a, p.b, p.sep)
		c := perPlace[p.place]
		if got {
			c[0]++
		} else {
			c[1]++
		}
		perPlace[p.place] = c
		if !p.known {
			continue
		}
		known++
		if got {
			yes++
		}
		if got != p.want {
			t.Fatalf("pair %d at %s, sep %+v: Conflict = %v, the construction says %v (distance %.6g m)\na %s\nb %s",
				i, p.place, p.sep, got, p.want, float64(geo.Distance(p.a, p.b)), specJSON(p.a), specJSON(p.b))
		}
	}
	if known < n/5 || yes < known/5 || known-yes < known/5 {
		t.Fatalf("%d pairs, %d with a known outcome, %d of them conflicting: the generator is lopsided", n, known, yes)
	}
	for name, c := range perPlace {
		if c[0] < 10 || c[1] < 10 {
			t.Errorf("%s: %d pairs conflict, %d do not", name, c[0], c[1])
		}
	}
	t.Logf("%d pairs, %d with a known outcome (%d conflicting), by place %v", n, known, yes, perPlace)
}

// TestOracleEarlyStop: Search and Candidates stop when fn returns false.
func TestOracleEarlyStop(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12^oracleSeed))
	for _, cfg := range oracleConfigs[:3] {
		m := newModel(t, cfg)
		var vols []*geo.Volume
		for i := range 200 {
			p := mustPair(t, r, i%len(hardPlaces), sepZero)
			m.insert(t, p.a)
			m.insert(t, p.b)
			vols = append(vols, p.a, p.b)
		}
		tested := 0
		for _, q := range vols {
			for _, sep := range []geo.Separation{sepZero, sepWide} {
				want := 0
				for _, v := range m.stored {
					if geo.Conflict(q, v, sep) {
						want++
					}
				}
				if want < 2 {
					continue
				}
				tested++
				calls := 0
				m.x.Search(q, sep, func(index.Ref, *geo.Volume) bool { calls++; return false })
				if calls != 1 {
					t.Fatalf("cfg %+v: Search called fn %d times after it returned false (%d conflicts)", cfg, calls, want)
				}
				calls = 0
				m.x.Search(q, sep, func(index.Ref, *geo.Volume) bool { calls++; return calls < 2 })
				if calls != 2 {
					t.Fatalf("cfg %+v: Search called fn %d times, stopping at the second (%d conflicts)", cfg, calls, want)
				}
				calls = 0
				m.x.Candidates(q, sep, func(index.Ref) bool { calls++; return false })
				if calls != 1 {
					t.Fatalf("cfg %+v: Candidates called fn %d times after it returned false", cfg, calls)
				}
			}
		}
		if tested < 50 {
			t.Fatalf("cfg %+v: only %d queries with two conflicts", cfg, tested)
		}
	}
}

// TestOracleDuplicatesAndEmpty: the same volume stored under several refs
// is found under each; an emptied index finds nothing and refills.
func TestOracleDuplicatesAndEmpty(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13^oracleSeed))
	for _, cfg := range oracleConfigs {
		m := newModel(t, cfg)
		var qs []*geo.Volume
		for i := range 120 {
			p := mustPair(t, r, i%len(hardPlaces), sepZero)
			for range 1 + r.IntN(3) {
				m.insert(t, p.a) // the same pointer
			}
			again, err := geo.NewVolume(p.a.Spec(), oracleLimits) // an equal copy
			if err != nil {
				t.Fatal(err)
			}
			m.insert(t, again)
			qs = append(qs, p.a, p.b)
		}
		found := 0
		for qi, q := range qs {
			found += m.check(t, fmt.Sprintf("duplicates, query %d", qi), q, sepZero)
		}
		if found < len(qs) {
			t.Fatalf("cfg %+v: only %d conflicts", cfg, found)
		}
		for ref := range m.stored {
			m.remove(ref)
		}
		m.checkStore(t, "emptied")
		for qi, q := range qs {
			m.x.Search(q, sepMax, func(ref index.Ref, _ *geo.Volume) bool {
				t.Fatalf("cfg %+v: empty index yielded ref %d for query %d", cfg, ref, qi)
				return false
			})
			m.x.Candidates(q, sepMax, func(ref index.Ref) bool {
				t.Fatalf("cfg %+v: empty index yielded candidate %d for query %d", cfg, ref, qi)
				return false
			})
		}
		for _, q := range qs {
			m.insert(t, q)
		}
		for qi, q := range qs[:40] {
			m.check(t, fmt.Sprintf("refilled, query %d", qi), q, sepMid)
		}
	}
}

// TestOracleBulk: an index filled by Bulk answers as brute force does.
func TestOracleBulk(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14^oracleSeed))
	for _, cfg := range oracleConfigs[:4] {
		m := newModel(t, cfg)
		var qs []*geo.Volume
		bk := m.x.Bulk(600)
		for i := range 300 {
			p := mustPair(t, r, i%len(hardPlaces), sepZero)
			m.added(t, bk.Add(p.a), p.a)
			qs = append(qs, p.a, p.b)
		}
		bk.Finish()
		m.checkStore(t, "bulk")
		found := 0
		for qi, q := range qs {
			found += m.check(t, fmt.Sprintf("bulk, query %d", qi), q, sepZero)
		}
		if found < len(qs)/4 {
			t.Fatalf("cfg %+v: only %d conflicts", cfg, found)
		}
		for i := range 100 { // inserts after a bulk fill
			p := mustPair(t, r, i%len(hardPlaces), sepZero)
			m.insert(t, p.b)
		}
		for qi, q := range qs[:100] {
			m.check(t, fmt.Sprintf("bulk + insert, query %d", qi), q, sepZero)
		}
	}
}

// strip is a long thin polygon along a great circle: a band of half-width
// w (radians) either side of the arc from M in direction u, span long. Long
// ones wrap most of the way round the Earth, over poles and the
// antimeridian, and have no bounding cap smaller than the sphere.
type strip struct {
	v     *geo.Volume
	edges []r3.Vector // vertices on the band's edges
	outs  []r3.Vector // the outward tangent at each
}

func genStrip(s src, start, end time.Time) (strip, bool) {
	M := jitter(s, hardPlaces[s.IntN(len(hardPlaces))].gen(s), 50_000)
	u := randomTangent(s, M)
	if chance(s, 0.5) {
		e, nth := tangentFrame(M)
		u = pick(s, e, nth)
	}
	n := M.Cross(u).Normalize()
	span := pick(s, logUniform(s, 0.05, 1), logUniform(s, 1, 5.5), 5.5+s.Float64()*0.6)
	w := logUniform(s, 50, 150_000) / earthR
	steps := int(math.Ceil(span/(2*math.Pi/180))) + 1 // edges of at most 2°
	var side [2][]r3.Vector
	var outs [2][]r3.Vector
	for i := 0; i <= steps; i++ {
		x := span * float64(i) / float64(steps)
		c := along(M, u, x)
		for k, sg := range []float64{1, -1} {
			dir := n.Mul(sg)
			side[k] = append(side[k], along(c, dir, w))
			outs[k] = append(outs[k], c.Mul(-math.Sin(w)).Add(dir.Mul(math.Cos(w))).Normalize())
		}
	}
	var ring [][2]geo.Degrees
	var st strip
	for i := range side[0] {
		ring = append(ring, pointLL(side[0][i]))
		st.edges, st.outs = append(st.edges, side[0][i]), append(st.outs, outs[0][i])
	}
	for i := len(side[1]) - 1; i >= 0; i-- {
		ring = append(ring, pointLL(side[1][i]))
		st.edges, st.outs = append(st.edges, side[1][i]), append(st.outs, outs[1][i])
	}
	lo, hi := float64(geo.MinAltitude), float64(geo.MaxAltitude)
	if chance(s, 0.3) {
		lo, hi = genBand(s)
	}
	v, err := geo.NewVolume(geo.VolumeSpec{Polygon: ring, AltLoM: geo.Meters(lo), AltHiM: geo.Meters(hi), Start: start, End: end}, oracleLimits)
	if err != nil {
		return strip{}, false
	}
	st.v = v
	return st, true
}

// toucher is a small or large volume just outside (or just inside) a
// vertex of a strip's edge.
func toucher(s src, st strip, sep geo.Separation, start, end time.Time) *geo.Volume {
	for {
		i := s.IntN(len(st.edges))
		V, out := st.edges[i], st.outs[i]
		sd := genSide(s)
		if sd.kind == kindEdge {
			sd.kind = kindVertex
		}
		sd.size = min(sd.size, 300_000)
		d := (sd.size + float64(sep.Horizontal) + pick(s, 0, 0.5, -0.5, 2, -2, 100, -100)) / earthR
		c := along(V, out, d)
		toward := c.Mul(math.Sin(d)).Sub(out.Mul(math.Cos(d))).Normalize() // from c back to V
		circ, poly, ok := footprint(s, c, toward, c.Cross(toward).Normalize(), sd)
		if !ok {
			continue
		}
		lo, hi := genBand(s)
		if chance(s, 0.5) {
			lo, hi = float64(geo.MinAltitude), float64(geo.MaxAltitude)
		}
		st := start.Add(time.Duration(s.Float64() * float64(end.Sub(start))))
		v, err := geo.NewVolume(geo.VolumeSpec{Circle: circ, Polygon: poly, AltLoM: geo.Meters(lo), AltHiM: geo.Meters(hi), Start: st, End: st.Add(genDur(s))}, oracleLimits)
		if err == nil {
			return v
		}
	}
}

// TestOracleStrips files long thin polygons (up to most of a great circle
// long, over poles and the antimeridian) and volumes that touch their
// edges, large and small.
func TestOracleStrips(t *testing.T) {
	nStrips, nTouch := 40, 400
	if testing.Short() {
		nStrips, nTouch = 15, 150
	}
	for ci, cfg := range oracleConfigs {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			t.Parallel()
			nTouch := nTouch
			if cfg.Level >= 20 {
				nTouch /= 4
			}
			r := rand.New(rand.NewPCG(uint64(ci)+300, 15^oracleSeed))
			m := newModel(t, cfg)
			var strips []strip
			for len(strips) < nStrips {
				st := t0.Add(time.Duration(r.IntN(24)) * time.Hour)
				if sp, ok := genStrip(r, st, st.Add(genDur(r))); ok {
					strips = append(strips, sp)
					m.insert(t, sp.v)
				}
			}
			type query struct {
				v   *geo.Volume
				sep geo.Separation
			}
			var queries []query
			for i := range nTouch {
				sp := strips[i%len(strips)]
				sep := pick[geo.Separation](r, sepZero, sepZero, sepHair, sepMid, sepWide)
				v := toucher(r, sp, sep, sp.v.Start(), sp.v.End())
				queries = append(queries, query{v, sep})
				if r.IntN(2) == 0 {
					m.insert(t, v)
				}
			}
			for i, sp := range strips {
				// At a fine level a search for a strip (whose bound is
				// the sphere) costs a tenth of a second: a few will do.
				if cfg.Level >= 20 && i >= 4 {
					break
				}
				queries = append(queries, query{sp.v, sepZero}, query{sp.v, sepWide})
			}
			found, busy := 0, 0
			for qi, q := range queries {
				n := m.check(t, fmt.Sprintf("strips, query %d", qi), q.v, q.sep)
				found += n
				if n > 0 {
					busy++
				}
			}
			t.Logf("%d stored, %d queries, %d conflicts, %d queries with one", len(m.stored), len(queries), found, busy)
			if busy < len(queries)/4 {
				t.Fatalf("only %d of %d queries conflict with another volume", busy, len(queries))
			}
		})
	}
}

// TestOracleHardPlaces puts everything at one hard place at a time, so
// that each is tested densely, with each configuration.
func TestOracleHardPlaces(t *testing.T) {
	n := 80
	if testing.Short() {
		n = 30
	}
	for pi, pl := range hardPlaces[:len(hardPlaces)-1] {
		t.Run(pl.name, func(t *testing.T) {
			t.Parallel()
			found := 0
			for ci, cfg := range oracleConfigs {
				r := rand.New(rand.NewPCG(uint64(pi), (uint64(ci)+200)^oracleSeed))
				m := newModel(t, cfg)
				var ps []pair
				for range n {
					p := mustPair(t, r, pi, genSep(r))
					m.insert(t, p.a)
					ps = append(ps, p)
				}
				for qi, p := range ps {
					found += m.check(t, fmt.Sprintf("%s, query %d", pl.name, qi), p.b, p.sep)
					found += m.check(t, fmt.Sprintf("%s, query %d", pl.name, qi), p.a, otherSeps[r.IntN(len(otherSeps))])
				}
			}
			// Where each pair is somewhere else (cell vertices, random
			// points), a query conflicts with little but its partner.
			if found < n*len(oracleConfigs)/4 {
				t.Fatalf("%s: only %d conflicts", pl.name, found)
			}
		})
	}
}

// FuzzIndexOracle decodes the input into a few volumes near a chosen hard
// place (touching pairs and loose volumes), files them and compares Search
// and Candidates with brute force.
func FuzzIndexOracle(f *testing.F) {
	for i := range 40 {
		b := make([]byte, 8+i*13)
		seed := rand.New(rand.NewPCG(uint64(i), 99))
		for j := range b {
			b[j] = byte(seed.IntN(256))
		}
		b[0] = byte(i % len(hardPlaces))
		f.Add(b)
	}
	f.Add([]byte{0})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &byteSrc{data}
		placeIdx := s.IntN(len(hardPlaces))
		cfg := oracleConfigs[s.IntN(len(oracleConfigs))]
		m := newModel(t, cfg)
		var qs []*geo.Volume
		var seps []geo.Separation
		for range 1 + s.IntN(6) {
			sep := genSep(s)
			var p pair
			ok := false
			for try := 0; try < 4 && !ok; try++ {
				p, ok = genPair(s, placeIdx, sep)
			}
			if !ok {
				continue
			}
			if p.known && geo.Conflict(p.a, p.b, p.sep) != p.want {
				t.Fatalf("generator: pair at %s, sep %+v: Conflict = %v, the construction says %v\na %s\nb %s",
					p.place, p.sep, !p.want, p.want, specJSON(p.a), specJSON(p.b))
			}
			m.insert(t, p.a)
			if s.IntN(2) == 0 {
				m.insert(t, p.b)
			}
			qs = append(qs, p.a, p.b)
			seps = append(seps, sep, sep)
		}
		for qi, q := range qs {
			m.check(t, fmt.Sprintf("fuzz query %d", qi), q, seps[qi])
			m.check(t, fmt.Sprintf("fuzz query %d", qi), q, sepZero)
		}
		for ref := range m.stored {
			if s.IntN(2) == 0 {
				m.remove(ref)
			}
		}
		m.checkStore(t, "fuzz after remove")
		for qi, q := range qs {
			m.check(t, fmt.Sprintf("fuzz query %d after remove", qi), q, seps[qi])
		}
	})
}
