package index

import (
	"math"

	"github.com/deconflict/deconflict/geo"
)

// Candidates calls fn once for each stored volume that may conflict with q
// under sep: a superset of the conflicts. It stops when fn returns false.
func (x *Index) Candidates(q *geo.Volume, sep geo.Separation, fn func(Ref) bool) {
	x.candidates(q, sep, fn)
}

// Search calls fn once for each stored volume that conflicts with q under
// sep, by geo.Conflict. It stops when fn returns false.
func (x *Index) Search(q *geo.Volume, sep geo.Separation, fn func(Ref, *geo.Volume) bool) {
	x.candidates(q, sep, func(r Ref) bool {
		v := x.vols[r]
		if !geo.Conflict(q, v, sep) {
			return true
		}
		return fn(r, v)
	})
}

// directLimit is the most cells of a finer level than the query's that a
// search looks up one by one; beyond, it visits those of the directory.
const directLimit = 64

// query is one search in progress.
type query struct {
	x       *Index
	sp      span
	alt     uint64   // altitude lanes
	times   []uint64 // time lanes of buckets b0..b1
	long    uint64   // time lanes of the long bucket
	b0, b1  int64
	f       capFilter
	fn      func(Ref) bool
	stopped bool
}

// candidates yields, once each, the refs whose postings pass the keys and
// the bounding caps (widened by sep) in every list the query reads; the
// caller applies the exact test.
func (x *Index) candidates(q *geo.Volume, sep geo.Separation, fn func(Ref) bool) {
	if x.n == 0 {
		return
	}
	x.gen++
	if x.gen == 0 { // wrapped: forget every old stamp
		clear(x.stamp)
		x.gen = 1
	}
	ws, we := satSub(q.StartNano(), int64(sep.Time)), satAdd(q.EndNano(), int64(sep.Time))
	b0, b1 := floorDiv(ws, x.bucket), floorDiv(we-1, x.bucket)
	if b1-b0 >= 10*int64(x.cfg.MaxBuckets) {
		// A window far longer than any stored short one: reading every
		// bucket costs more than scanning everything.
		x.scanAll(fn)
		return
	}
	qs := &x.q
	*qs = query{x: x, fn: fn, b0: b0, b1: b1, f: makeCapFilter(q, sep)}
	qs.sp = span{start: ws, end: we,
		lo: altLane(float64(q.AltLo()-sep.Vertical), false), hi: altLane(float64(q.AltHi()+sep.Vertical), true)}
	qs.alt = altLanes(&qs.sp, true)
	qs.times = x.qtimes[:0]
	for b := b0; b <= b1; b++ {
		qs.times = append(qs.times, x.timeLanes(&qs.sp, b, true))
	}
	x.qtimes = qs.times
	qs.long = x.timeLanes(&qs.sp, longBucket, true)

	cov := x.cover(q, sep.Horizontal)
	boxes := append(x.qboxes[:0], cov.boxes...)
	x.qboxes = boxes
	for l := range x.levelCount {
		if x.levelCount[l] == 0 {
			continue
		}
		for i := range boxes {
			boxes[i].atLevel(l)
		}
		if l <= cov.level || cellCount(boxes) <= directLimit {
			for bi := range boxes {
				b := &boxes[bi]
				for i := b.i0; i <= b.i1 && !qs.stopped; i++ {
					for j := b.j0; j <= b.j1 && !qs.stopped; j++ {
						qs.cell(l, b, i, j)
					}
				}
			}
		} else {
			x.dir.each(l, boxes, func(bi, i, j int) {
				if !qs.stopped {
					qs.cell(l, &boxes[bi], i, j)
				}
			})
		}
		if qs.stopped {
			break
		}
	}
	qs.fn = nil
}

// cell reads the lists of cell (i, j) of level l on box's face.
func (qs *query) cell(l int, box *faceBox, i, j int) {
	x := qs.x
	cell := cellKey(l, box.face, i, j)
	qs.sp.box = box
	k := qs.alt | boxLanes(&qs.sp, l, i, j, true) | hiBits
	if x.longCount[l] > 0 {
		if lst := x.lists.get(cell, longBucket); lst != nil && !qs.scan(lst, k|qs.long) {
			return
		}
	}
	for b := qs.b0; b <= qs.b1; b++ {
		if lst := x.lists.get(cell, b); lst != nil && !qs.scan(lst, k|qs.times[b-qs.b0]) {
			return
		}
	}
}

// capFilter is the query's bounding cap, widened by the separation, as
// postings hold theirs.
type capFilter struct {
	x, y, z, radius float32
}

func makeCapFilter(q *geo.Volume, sep geo.Separation) capFilter {
	c := q.Bound(sep.Horizontal)
	p := c.Center()
	return capFilter{x: float32(p.X), y: float32(p.Y), z: float32(p.Z),
		radius: float32Up(c.Radius().Radians() + capSlack)}
}

// scan yields the postings of l whose key passes k and whose cap meets the
// query's, if not yet seen in this search. It returns false if fn asked to
// stop.
func (qs *query) scan(l *list, k uint64) bool {
	x, f := qs.x, &qs.f
	ents := l.ents[:len(l.keys)]
	for i, pk := range l.keys {
		if !keyPasses(k, pk) {
			continue
		}
		p := &ents[i]
		// The chord between the centres is at most the angle between
		// them, so a chord longer than the sum of radii proves the caps
		// apart.
		dx, dy, dz, r := p.x-f.x, p.y-f.y, p.z-f.z, p.radius+f.radius
		if dx*dx+dy*dy+dz*dz > r*r {
			continue
		}
		if x.stamp[p.ref] == x.gen {
			continue
		}
		x.stamp[p.ref] = x.gen
		if !qs.fn(p.ref) {
			qs.stopped = true
			return false
		}
	}
	return true
}

// scanAll yields every stored volume: the fallback for a query far longer
// than the stored volumes.
func (x *Index) scanAll(fn func(Ref) bool) {
	for r, v := range x.vols {
		if v != nil && !fn(Ref(r)) {
			return
		}
	}
}

func satAdd(x, d int64) int64 {
	if x > math.MaxInt64-d {
		return math.MaxInt64
	}
	return x + d
}

func satSub(x, d int64) int64 {
	if x < math.MinInt64+d {
		return math.MinInt64
	}
	return x - d
}

func float32Up(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}
