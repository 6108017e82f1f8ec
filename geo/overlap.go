package geo

import (
	"math"
	"sync"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// footprintWithin reports whether p is within r of the footprint: by its
// bounding caps when they decide, else by the polygon's edges.
func (s *shape) footprintWithin(p s2.Point, r s1.Angle) bool {
	d := s.center.Distance(p)
	if s.verts == nil {
		return d <= s.outer+r
	}
	if d > s.outer+r+boundSlack {
		return false
	}
	if s.hasInner && d+boundSlack <= s.inner {
		return true
	}
	return s.pointWithin(p, r)
}

// nearTest decides, for one footprint and the cells of one level, whether
// a cell comes within sep of the footprint: whether the footprint is
// within the cell's reach plus sep of its centre (footprintWithin). The
// bounds of the reach at the level (reachBounds) are turned into chord
// angles from the footprint's centre once, so that most cells are decided
// by one squared distance; the others compute their reach (cellReach).
type nearTest struct {
	s *shape
	k int // the fill's cells hold their distance from s's centre at d[k]
	// yes: a centre at most this far from the footprint's centre is near
	// (a circle's radius plus the reach's lower bound; a polygon's inner
	// radius); negative if none is.
	yes s1.ChordAngle
	// no: a centre farther is not near (the outer radius plus the
	// reach's upper bound).
	no s1.ChordAngle
	// maybe: a centre farther may be ruled out by the cell's reach
	// (polygons only; the outer radius plus the reach's lower bound).
	maybe s1.ChordAngle
	// outer is the outer radius (plus slack, for a polygon), to which a
	// cell's reach is added.
	outer s1.ChordAngle
	// A polygon whose cells to test lie within 1.5 rad of its centre is
	// tested for holding a point in its gnomonic projection from the
	// centre (which maps its geodesic edges to straight lines): x, y axes
	// and the vertices there: the first n of small, or big; n is 0 if it
	// is not (no slice into small is kept: t would escape).
	c, ex, ey r3.Vector
	n         int
	small     [16][2]float64
	big       [][2]float64
	// stretch bounds how much longer a line is in the plane than on the
	// sphere, in the cap the cells and edges lie in (1/cos² of its radius;
	// never less than 1).
	stretch float64
}

// maxGnomonic bounds the distance from a polygon's centre at which points
// are projected (where the projection's scale is under 200).
const maxGnomonic = 1.5

// init sets t up for s and the cells of bounds b.
func (t *nearTest) init(s *shape, b reachBounds) {
	if s.verts == nil {
		*t = nearTest{s: s, yes: chord(s.outer + b.lo), no: chord(s.outer + b.hi), outer: chord(s.outer)}
		return
	}
	t.s = s
	t.yes = s1.NegativeChordAngle
	t.no = chord(s.outer + b.hi + boundSlack)
	t.maybe = chord(s.outer + b.lo + boundSlack)
	t.outer = chord(s.outer + boundSlack)
	t.n, t.big = 0, nil
	if s.hasInner && s.inner > boundSlack {
		t.yes = chord(s.inner - boundSlack)
	}
	if s.outer+b.hi < maxGnomonic {
		t.c = s.center.Vector
		t.ex = s.center.Ortho()
		t.ey = t.c.Cross(t.ex)
		t.stretch = 1 / (math.Cos(float64(s.outer+b.hi)) * math.Cos(float64(s.outer+b.hi)))
		pl := t.small[:]
		if len(s.verts) > len(t.small) {
			t.big = make([][2]float64, len(s.verts))
			pl = t.big
		}
		for i, v := range s.verts {
			w := v.Dot(t.c)
			pl[i] = [2]float64{v.Dot(t.ex) / w, v.Dot(t.ey) / w}
		}
		t.n = len(s.verts)
	}
}

// plane returns the vertices in the plane (nil if not projected).
func (t *nearTest) plane() [][2]float64 {
	switch {
	case t.n == 0:
		return nil
	case t.big != nil:
		return t.big
	}
	return t.small[:t.n]
}

// holds reports whether the polygon holds p, a point within maxGnomonic of
// its centre if it is projected. In the plane this is the crossing count of
// a ray from p; its rounding (a nanometre) can err only for points that
// close to an edge, which near finds within reach of one anyway.
func (t *nearTest) holds(p s2.Point) bool {
	pl := t.plane()
	if pl == nil {
		return t.s.contains(p)
	}
	w := p.Dot(t.c)
	x, y := p.Dot(t.ex)/w, p.Dot(t.ey)/w
	in := false
	j := len(pl) - 1
	for i := range pl {
		xi, yi, xj, yj := pl[i][0], pl[i][1], pl[j][0], pl[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
		j = i
	}
	return in
}

// near reports whether the footprint comes within r's reach plus sep of
// r's cell.
func (t *nearTest) near(r *cellReach) bool {
	d := r.cell.d[t.k]
	switch {
	case d <= t.yes:
		return true
	case d > t.no:
		return false
	case t.s.verts == nil:
		return d <= chordAdd(t.outer, r.get())
	case d > t.maybe && d > chordAdd(t.outer, r.get()):
		return false
	}
	return t.holds(r.cell.p) || t.edgeWithin(r.cell.p, r.get())
}

// edgeWithin is shape.edgeWithinChord(p, limit.Successor()), deciding most
// edges in the plane of t's projection: the image of the shortest line
// from p to an edge is a line there, at least as long and at most
// t.stretch times as long (geodesics map to straight lines, and the
// projection stretches every direction by 1 to t.stretch in its cap). An
// edge is decided by the exact test only in the band between.
func (t *nearTest) edgeWithin(p s2.Point, limit s1.ChordAngle) bool {
	pl := t.plane()
	if pl == nil {
		return t.s.edgeWithinChord(p, limit.Successor())
	}
	// The limit's angle lies in [l, l/sqrt(1-l²/4)] for its chord l. A
	// millionth on either side, and 1e-13 (the plane's coordinates are
	// below 15, rounded to 1e-15), absorb the rounding.
	l2 := float64(limit)
	if l2 >= 2 {
		return t.s.edgeWithinChord(p, limit.Successor())
	}
	l := math.Sqrt(l2)
	yes := max(0, l*(1-1e-6)-1e-13)
	yes *= yes
	no := l/math.Sqrt(1-l2/4)*t.stretch*(1+1e-6) + 1e-13
	no *= no
	w := p.Dot(t.c)
	x, y := p.Dot(t.ex)/w, p.Dot(t.ey)/w
	for i := range pl {
		j := i + 1
		if j == len(pl) {
			j = 0
		}
		ax, ay := pl[i][0], pl[i][1]
		dx, dy := pl[j][0]-ax, pl[j][1]-ay
		px, py := x-ax, y-ay
		f := 0.0
		if n := dx*dx + dy*dy; n > 0 {
			f = min(1, max(0, (px*dx+py*dy)/n))
		}
		ex, ey := px-f*dx, py-f*dy
		switch d2 := ex*ex + ey*ey; {
		case d2 <= yes:
			return true
		case d2 > no:
		case s2.IsDistanceLess(p, t.s.verts[i], t.s.vertex(i+1), limit.Successor()):
			return true
		}
	}
	return false
}

// reachBounds bound a cell's reach plus sep at one level: lo <= reach + sep
// <= hi.
type reachBounds struct{ lo, hi s1.Angle }

// reachBoundsAt returns the bounds of level's cells. A cell's reach (from
// its centre to its farthest vertex) is at least half its longer diagonal
// (the diagonal's ends are at most twice the reach apart) and at most its
// longest side or diagonal; s2's metrics bound those at every level, and a
// hundredth more on each side absorbs rounding (TestReachBounds).
func reachBoundsAt(level int, sep Meters) reachBounds {
	s := sep.Angle()
	return reachBounds{
		lo: s1.Angle(0.99*s2.MinDiagMetric.Value(level)/2) + s,
		hi: s1.Angle(1.01*s2.MaxDiagMetric.Value(level)) + s,
	}
}

// cellReach is a fill cell's reach plus sep, as a chord angle computed on
// first use. sep holds the chord of sep plus the reach's rounding margin.
type cellReach struct {
	cell  *lensCell
	level int
	sep   s1.ChordAngle
	val   s1.ChordAngle
	done  bool
}

func (r *cellReach) get() s1.ChordAngle {
	if !r.done {
		r.val, r.done = chordAdd(r.cell.reachChord(r.cell.p, r.level), r.sep), true
	}
	return r.val
}

// OverlapCells returns S2 cells that cover where the footprints of a and
// b come within sep of each other: the coarse picture of a conflict that
// can be shown to a party without showing either footprint. Cells are at
// level (or coarser, down to level 0, so that there are at most maxCells)
// and the level used is returned. Every point within sep of both
// footprints lies in a returned cell (the result covers the overlap), and
// a cell is returned only if it comes within sep plus its own size of
// both: the result may reach a cell beyond the overlap, and footprints up
// to about twice sep (plus a cell) apart, which do not conflict, may have
// cells between them. The coarsest level used is 1 (a level below 1 is
// taken as 1): if even level 1 needs more than maxCells cells (it has 24),
// there are none, at level 0.
func OverlapCells(a, b *Volume, sep Meters, level, maxCells int) ([]s2.CellID, int) {
	level = max(level, 1)
	// Where the footprints come within sep of each other lies in both
	// bounding caps widened by sep: a lens (connected, as any intersection
	// of two caps), so the cells near it are edge-connected and a flood
	// fill from a point inside finds them all. It is often much smaller
	// than either cap.
	c1, c2 := a.Bound(sep), b.Bound(sep)
	ln := lensOf(c1, c2)
	if !ln.meet {
		return nil, level
	}
	r1, r2, d := c1.Radius(), c2.Radius(), ln.d
	// Start at the finest level whose cells, counted roughly (the lens's
	// area grown by most of a cell's width, over a cell's average area),
	// number at most maxCells: one flood fill instead of a failed one per
	// finer level.
	r := lensRadius(float64(r1), float64(r2), float64(d), float64(ln.hi-ln.lo))
	for ; level > 1; level-- {
		w := math.Sqrt(s2.AvgAreaMetric.Value(level))
		if n := math.Pi * (r + 0.75*w) * (r + 0.75*w) / (w * w); n <= float64(maxCells) {
			break
		}
	}
	buf := lensBufs.Get().(*[]lensCell)
	defer lensBufs.Put(buf)
	for ; level > 0; level-- {
		cov, ok := lensCells(c1, c2, ln.start, level, maxCells, *buf)
		*buf = cov[:0]
		if !ok {
			continue
		}
		out := make([]s2.CellID, 0, len(cov))
		bounds := reachBoundsAt(level, sep)
		// The footprint with fewer vertices (a circle has none) is tested
		// first: it is cheaper, and its answer may spare the other test.
		var ta, tb nearTest
		ta.init(&a.shape, bounds)
		tb.init(&b.shape, bounds)
		tb.k = 1
		first, second := &ta, &tb
		if len(b.shape.verts) < len(a.shape.verts) {
			first, second = second, first
		}
		sepChord := chord(sep.Angle() + reachRounding)
		for i := range cov {
			// Keep the cell if both footprints come within sep of some
			// point of it: within its reach (to its farthest vertex) plus
			// sep of its centre. The reach is computed only for the cells
			// its bounds do not decide.
			r := cellReach{cell: &cov[i], level: level, sep: sepChord}
			if first.near(&r) && second.near(&r) {
				out = append(out, cov[i].id(level))
			}
		}
		return out, level
	}
	return nil, 0
}

// lens is where caps c1 and c2 meet, along the line of their centres (d
// apart): from lo to hi from c1's centre, and start, its middle, the
// point the fill starts from. meet is false if the caps do not meet.
type lens struct {
	d, lo, hi s1.Angle
	start     s2.Point
	meet      bool
}

func lensOf(c1, c2 s2.Cap) lens {
	d := c1.Center().Distance(c2.Center())
	ln := lens{d: d, lo: max(0, d-c2.Radius()), hi: min(c1.Radius(), d+c2.Radius())}
	switch {
	case ln.lo > ln.hi:
	case d == 0:
		ln.start, ln.meet = c1.Center(), true
	default:
		ln.start, ln.meet = s2.InterpolateAtDistance((ln.lo+ln.hi)/2, c1.Center(), c2.Center()), true
	}
	return ln
}

// lensRadius is the radius of a disc of about the area of the lens where
// discs of radii r1 and r2, d apart, meet (width w along the line of
// centres), in the plane: enough to choose a cell level.
func lensRadius(r1, r2, d, w float64) float64 {
	h := min(r1, r2) // half the lens's height across the line of centres
	if d > 0 {
		if x := (d*d + r1*r1 - r2*r2) / (2 * d); x > -r1 && x < r1 {
			h = min(h, math.Sqrt(r1*r1-x*x))
		}
	}
	if d+min(r1, r2) <= max(r1, r2) { // one inside the other
		h = min(r1, r2)
	}
	return math.Sqrt(w / 2 * h)
}

// cellSet is the flood fill's visited set of cells (gridCell.key): an
// open-addressing table on the stack, and a map once it holds more than a
// few hundred cells (a fill of at most maxCells cells visits them and
// their edge neighbours).
type cellSet struct {
	slots [512]uint64 // 0 is empty: no key is 0
	n     int
	more  map[uint64]bool
}

// add adds c and reports whether it was new.
func (s *cellSet) add(c uint64) bool {
	if s.more != nil {
		if s.more[c] {
			return false
		}
		s.more[c] = true
		return true
	}
	h := c * 0x9e3779b97f4a7c15
	for i := h >> 55; ; i = (i + 1) % uint64(len(s.slots)) {
		switch s.slots[i] {
		case c:
			return false
		case 0:
			if s.n == len(s.slots)/2 {
				s.more = make(map[uint64]bool, 2*s.n)
				for _, x := range s.slots {
					if x != 0 {
						s.more[x] = true
					}
				}
				return s.add(c)
			}
			s.slots[i] = c
			s.n++
			return true
		}
	}
}

// lensBufs holds the fills' cell buffers, for reuse.
var lensBufs = sync.Pool{New: func() any { return new([]lensCell) }}

// lensCell is a cell the fill found, with its centre and its distances
// from the centres of the two caps.
type lensCell struct {
	gridCell
	p s2.Point
	d [2]s1.ChordAngle
}

// lensCells returns the cells at level that may meet both caps (their
// centre is within each cap's radius plus half the longest cell diagonal at
// level: a superset of the cells that meet the lens), by a flood fill from
// the cell holding start, a point of the lens, in the order of
// s2.CellID.EdgeNeighbors; ok is false if there are more than max. The
// cells are appended to buf[:0] (returned emptied if not ok).
func lensCells(c1, c2 s2.Cap, start s2.Point, level, max int, buf []lensCell) (cells []lensCell, ok bool) {
	// A cap that reaches round the sphere (a polygon whose vertices are
	// not all within 90° of their centroid has the full cap as its bound)
	// constrains nothing.
	half := s1.Angle(s2.MaxDiagMetric.Value(level) / 2)
	near1 := s1.ChordAngleFromAngle(min(math.Pi, c1.Radius()+half))
	near2 := s1.ChordAngleFromAngle(min(math.Pi, c2.Radius()+half))
	p1, p2 := c1.Center(), c2.Center()
	first := gridCellOf(s2.CellFromPoint(start).ID().Parent(level))
	q0 := first.center(level)
	cells = append(buf[:0], lensCell{first, q0, [2]s1.ChordAngle{chordBetween(p1, q0), chordBetween(p2, q0)}})
	var seen cellSet
	seen.add(first.key())
	for i := 0; i < len(cells); i++ {
		for k := range 4 {
			n := cells[i].neighbour(k, level)
			if !seen.add(n.key()) {
				continue
			}
			q := n.center(level)
			d1 := chordBetween(p1, q)
			if d1 > near1 {
				continue
			}
			d2 := chordBetween(p2, q)
			if d2 > near2 {
				continue
			}
			if len(cells) == max {
				return cells[:0], false
			}
			cells = append(cells, lensCell{n, q, [2]s1.ChordAngle{d1, d2}})
		}
	}
	return cells, true
}
