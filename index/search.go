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
	refs := x.gather(q, sep)
	// Touch every candidate first: the loads are independent, so their
	// cache misses overlap instead of coming one after the other in the
	// exact tests.
	var t int64
	for _, r := range refs {
		t += x.vols[r].StartNano()
	}
	x.touched = t
	for _, r := range refs {
		if v := x.vols[r]; geo.Conflict(q, v, sep) && !fn(r, v) {
			return
		}
	}
}

// candidates calls fn with each candidate of gather until it returns false.
func (x *Index) candidates(q *geo.Volume, sep geo.Separation, fn func(Ref) bool) {
	for _, r := range x.gather(q, sep) {
		if !fn(r) {
			return
		}
	}
}

// directLimit is the most cells of a finer level than the query's that a
// search looks up one by one; beyond, it visits those of the directory.
const directLimit = 64

// query is one search in progress. It runs in stages, each a loop whose
// memory accesses do not depend on each other, so that their cache misses
// overlap: find the lists, scan their keys, test the caps of the postings
// that pass.
type query struct {
	x      *Index
	sp     span
	alt    uint64   // altitude lanes
	times  []uint64 // time lanes of buckets b0..b1
	long   uint64   // time lanes of the long bucket
	b0, b1 int64
	f      capFilter

	lists []found // the lists to read
	hits  []hit   // their postings whose key passes
	refs  []Ref   // the candidates
}

// found is a list to read with the query's key for it.
type found struct {
	l     *list
	key   uint64
	flags uint8
}

// Flags of a found list.
const (
	longList = 1 << iota // the long bucket: no time corner
	lastS                // the cell is the last of its face in s
	lastT                // and in t
)

// hit is a posting of lists[list] whose key passed.
type hit struct {
	list, i int32
}

// gather returns, once each, the refs whose postings pass the keys and the
// bounding caps (widened by sep) in every list the query reads, valid until
// the next search; the caller applies the exact test.
func (x *Index) gather(q *geo.Volume, sep geo.Separation) []Ref {
	if x.n == 0 {
		return nil
	}
	x.gen++
	if x.gen == 0 { // wrapped: forget every old stamp
		clear(x.stamp)
		x.gen = 1
	}
	qs := &x.q
	qs.refs = qs.refs[:0]
	ws, we := satSub(q.StartNano(), int64(sep.Time)), satAdd(q.EndNano(), int64(sep.Time))
	b0, b1 := floorDiv(ws, x.bucket), floorDiv(we-1, x.bucket)
	if b1-b0 >= 10*int64(x.cfg.MaxBuckets) {
		// A window far longer than any stored short one: reading every
		// bucket costs more than scanning everything.
		for r, v := range x.vols {
			if v != nil {
				qs.refs = append(qs.refs, Ref(r))
			}
		}
		return qs.refs
	}
	qs.x, qs.b0, qs.b1, qs.f = x, b0, b1, makeCapFilter(q, sep)
	qs.sp = span{start: ws, end: we,
		lo: altLane(float64(q.AltLo()-sep.Vertical), false), hi: altLane(float64(q.AltHi()+sep.Vertical), true)}
	qs.alt = altLanes(&qs.sp, true)
	qs.times = qs.times[:0]
	for b := b0; b <= b1; b++ {
		qs.times = append(qs.times, x.timeLanes(&qs.sp, b, true))
	}
	qs.long = x.timeLanes(&qs.sp, longBucket, true)
	qs.lists, qs.hits = qs.lists[:0], qs.hits[:0]
	qs.findLists(x.cover(q, sep.Horizontal))
	qs.scanKeys()
	qs.testCaps()
	return qs.refs
}

// findLists notes the lists the query reads, at every level that holds
// volumes: those of the cells of its boxes at that level.
func (qs *query) findLists(cov *covering) {
	x := qs.x
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
				for i := b.i0; i <= b.i1; i++ {
					for j := b.j0; j <= b.j1; j++ {
						qs.cell(l, b, i, j)
					}
				}
			}
		} else {
			x.dir.each(l, boxes, func(bi, i, j int) { qs.cell(l, &boxes[bi], i, j) })
		}
	}
}

// cell notes the lists of cell (i, j) of level l on box's face.
func (qs *query) cell(l int, box *faceBox, i, j int) {
	x := qs.x
	cell := cellKey(l, box.face, i, j)
	qs.sp.box = box
	k := qs.alt | boxLanes(&qs.sp, l, i, j, true) | hiBits
	var flags uint8
	last := 1<<l - 1
	if i == last {
		flags |= lastS
	}
	if j == last {
		flags |= lastT
	}
	if x.longCount[l] > 0 {
		if lst := x.lists.get(cell, longBucket); lst != nil {
			qs.lists = append(qs.lists, found{lst, k | qs.long, flags | longList})
		}
	}
	for b := qs.b0; b <= qs.b1; b++ {
		if lst := x.lists.get(cell, b); lst != nil {
			qs.lists = append(qs.lists, found{lst, k | qs.times[b-qs.b0], flags})
		}
	}
}

// scanKeys notes the postings whose keys pass, each in one list only where
// it can: a pair of volumes whose windows and boxes overlap is kept only in
// the bucket and cell where the later start and the larger lows of the
// boxes lie (the corner of the overlap), which is one both are in. (A pair
// may still be kept on more than one face; the stamps remove those
// repeats.)
func (qs *query) scanKeys() {
	for li := range qs.lists {
		f := &qs.lists[li]
		k, flags := f.key, f.flags
		for i, pk := range f.l.keys {
			if keyPasses(k, pk) && ownsCorner(k, pk, flags) {
				qs.hits = append(qs.hits, hit{int32(li), int32(i)})
			}
		}
	}
}

// ownsCorner reports whether the corner of the overlap of a posting (key
// p) and a query (key q) lies in their list (see scanKeys). Lanes keep the
// order of what they round and count a bucket or a cell as laneUnits units
// from laneBias, the same way in every list (a bucket is exactly laneUnits
// time units), so the corner lies in the list's bucket and cell exactly
// when its lanes are in [laneBias, laneBias+laneUnits), or beyond for the
// last cell of a face, whose far edge (s or t = 1) is its own.
func ownsCorner(q, p uint64, flags uint8) bool {
	corner := func(shift uint) uint64 {
		return max(p>>shift&laneMax, laneMax-q>>(shift+8)&laneMax)
	}
	if flags&longList == 0 {
		if t := corner(0); t < laneBias || t >= laneBias+laneUnits {
			return false
		}
	}
	if s := corner(32); s < laneBias || s >= laneBias+laneUnits && flags&lastS == 0 {
		return false
	}
	if t := corner(48); t < laneBias || t >= laneBias+laneUnits && flags&lastT == 0 {
		return false
	}
	return true
}

// testCaps keeps, once each, the postings noted whose caps meet the
// query's.
func (qs *query) testCaps() {
	x, f := qs.x, &qs.f
	for _, h := range qs.hits {
		p := &qs.lists[h.list].l.ents[h.i]
		// The chord between the centres is at most the angle between
		// them, so a chord longer than the sum of radii proves the caps
		// apart.
		dx, dy, dz, r := p.x-f.x, p.y-f.y, p.z-f.z, p.radius+f.radius
		if dx*dx+dy*dy+dz*dz > r*r || x.stamp[p.ref] == x.gen {
			continue
		}
		x.stamp[p.ref] = x.gen
		qs.refs = append(qs.refs, p.ref)
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
