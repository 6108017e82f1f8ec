package index

import (
	"cmp"
	"math"
	"slices"

	"github.com/deconflict/deconflict/geo"
)

// Candidates calls fn once for each stored volume that may conflict with q
// under sep: a superset of the conflicts. It stops when fn returns false.
func (x *Index) Candidates(q *geo.Volume, sep geo.Separation, fn func(Ref) bool) {
	x.one[0] = q
	s := x.gather(x.one[:], sep)
	x.one[0] = nil
	for _, c := range s.cands {
		if !fn(c.ref) {
			return
		}
	}
}

// Search calls fn once for each stored volume that conflicts with q under
// sep, by geo.Conflict. It stops when fn returns false. fn must not use
// the index (searches reuse its scratch space).
func (x *Index) Search(q *geo.Volume, sep geo.Separation, fn func(Ref, *geo.Volume) bool) {
	x.one[0] = q
	x.SearchAll(x.one[:], sep, func(_ int, r Ref, v *geo.Volume) bool { return fn(r, v) })
	x.one[0] = nil
}

// SearchAll calls fn once for each pair of a query qs[i] and a stored
// volume that conflict under sep, by geo.Conflict: all pairs of qs[0],
// then of qs[1], and so on. It stops when fn returns false. It is
// Search for each query, done at once: the memory accesses of all the
// queries overlap. Like Search's, fn must not use the index.
func (x *Index) SearchAll(qs []*geo.Volume, sep geo.Separation, fn func(i int, r Ref, v *geo.Volume) bool) {
	s := x.gather(qs, sep)
	// Touch every candidate first: the loads are independent, so their
	// cache misses overlap instead of coming one after the other in the
	// exact tests.
	var t int64
	for _, c := range s.cands {
		t += x.vols[c.ref].StartNano()
	}
	x.touched = t
	for _, c := range s.cands {
		if v := x.vols[c.ref]; geo.Conflict(qs[c.q], v, sep) && !fn(int(c.q), c.ref, v) {
			return
		}
	}
}

// directLimit is the most cells of a finer level than the query's that a
// search looks up one by one; beyond, it visits those of the directory.
const directLimit = 64

// search is a batch of queries in progress. It runs in stages, each a loop
// whose memory accesses do not depend on each other, so that their cache
// misses overlap: find the lists, scan their keys, test the caps of the
// postings that pass.
type search struct {
	x     *Index
	qs    []query
	lists []found // the lists to read
	hits  []hit   // their postings whose key passes
	cands []cand  // the candidates, by query
}

// query is one volume of a search.
type query struct {
	sp     span
	alt    uint64   // altitude lanes
	times  []uint64 // time lanes of buckets b0..b1
	long   uint64   // time lanes of the long bucket
	b0, b1 int64
	f      capFilter
	gen    uint32 // its stamp
	// multi is set when its covering has boxes on more than one face:
	// only then can a posting pass in more than one of its lists (see
	// scanKeys), so only then are stamps needed.
	multi bool
}

// found is a list to read with the query's key for it.
type found struct {
	l     *list
	key   uint64
	q     int32
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

// cand is a candidate of query q.
type cand struct {
	q   int32
	ref Ref
}

// gather finds, once for each query, the refs whose postings pass the keys
// and the bounding caps (widened by sep) in every list the query reads.
// The search is valid until the next; the caller applies the exact test.
func (x *Index) gather(vols []*geo.Volume, sep geo.Separation) *search {
	s := &x.s
	s.x = x
	s.lists, s.hits, s.cands = s.lists[:0], s.hits[:0], s.cands[:0]
	if x.n == 0 {
		return s
	}
	if x.gen > math.MaxUint32-uint32(len(vols))-1 { // about to wrap: forget every old stamp
		clear(x.stamp)
		x.gen = 0
	}
	scanned := false // a query took every stored volume
	for len(s.qs) < len(vols) {
		s.qs = append(s.qs, query{})
	}
	for qi, q := range vols {
		x.gen++
		qs := &s.qs[qi]
		qs.gen = x.gen
		ws, we := satSub(q.StartNano(), int64(sep.Time)), satAdd(q.EndNano(), int64(sep.Time))
		qs.b0, qs.b1 = floorDiv(ws, x.bucket), floorDiv(we-1, x.bucket)
		if qs.b1-qs.b0 >= 10*int64(x.cfg.MaxBuckets) {
			// A window far longer than any stored short one: reading
			// every bucket costs more than scanning everything.
			for r, v := range x.vols {
				if v != nil {
					s.cands = append(s.cands, cand{int32(qi), Ref(r)})
				}
			}
			scanned = true
			continue
		}
		qs.f = makeCapFilter(q, sep)
		qs.sp = span{start: ws, end: we,
			lo: altLane(float64(q.AltLo()-sep.Vertical), false), hi: altLane(float64(q.AltHi()+sep.Vertical), true)}
		qs.alt = altLanes(&qs.sp, true)
		qs.times = qs.times[:0]
		for b := qs.b0; b <= qs.b1; b++ {
			qs.times = append(qs.times, x.timeLanes(&qs.sp, b, true))
		}
		qs.long = x.timeLanes(&qs.sp, longBucket, true)
		cov := x.cover(q, sep.Horizontal)
		qs.multi = len(cov.boxes) > 1
		s.findLists(qi, cov)
	}
	s.scanKeys()
	s.testCaps()
	if scanned { // its candidates came first: put them in query order
		slices.SortStableFunc(s.cands, func(a, b cand) int { return cmp.Compare(a.q, b.q) })
	}
	return s
}

// findLists notes the lists query qi reads, at every level that holds
// volumes: those of the cells of its boxes at that level.
func (s *search) findLists(qi int, cov *covering) {
	x := s.x
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
						s.cell(qi, l, b, i, j)
					}
				}
			}
		} else {
			x.dir.each(l, boxes, func(bi, i, j int) { s.cell(qi, l, &boxes[bi], i, j) })
		}
	}
}

// cell notes the lists of cell (i, j) of level l on box's face for query
// qi.
func (s *search) cell(qi, l int, box *faceBox, i, j int) {
	x, qs := s.x, &s.qs[qi]
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
			s.lists = append(s.lists, found{lst, k | qs.long, int32(qi), flags | longList})
		}
	}
	for b := qs.b0; b <= qs.b1; b++ {
		if lst := x.lists.get(cell, b); lst != nil {
			s.lists = append(s.lists, found{lst, k | qs.times[b-qs.b0], int32(qi), flags})
		}
	}
}

// scanKeys notes the postings whose keys pass, each in one list only where
// it can: a pair of volumes whose windows and boxes overlap is kept only in
// the bucket and cell where the later start and the larger lows of the
// boxes lie (the corner of the overlap), which is one both are in. (A pair
// may still be kept on more than one face; the stamps remove those
// repeats.)
func (s *search) scanKeys() {
	for li := range s.lists {
		f := &s.lists[li]
		k, flags, keys := f.key, f.flags, f.l.keys
		// Four keys at a time: few pass, so one well-predicted branch
		// skips four.
		i := 0
		for ; i+4 <= len(keys); i += 4 {
			if keyFails(k, keys[i]) && keyFails(k, keys[i+1]) && keyFails(k, keys[i+2]) && keyFails(k, keys[i+3]) {
				continue
			}
			for j := i; j < i+4; j++ {
				if keyPasses(k, keys[j]) && ownsCorner(k, keys[j], flags) {
					s.hits = append(s.hits, hit{int32(li), int32(j)})
				}
			}
		}
		for ; i < len(keys); i++ {
			if keyPasses(k, keys[i]) && ownsCorner(k, keys[i], flags) {
				s.hits = append(s.hits, hit{int32(li), int32(i)})
			}
		}
	}
}

// ownsCorner reports whether the corner of the overlap of a posting (key
// p) and a query (key q) lies in their list (see scanKeys). Lanes keep the
// order of what they round and count a bucket as laneUnits units and a
// cell as cellUnits from laneBias, the same way in every list (a bucket is
// exactly laneUnits time units), so the corner lies in the list's bucket
// and cell exactly when its lanes are in [laneBias, laneBias+laneUnits)
// and [laneBias, laneBias+cellUnits), or beyond for the last cell of a
// face, whose far edge (s or t = 1) is its own.
func ownsCorner(q, p uint64, flags uint8) bool {
	corner := func(shift uint) uint64 {
		return max(p>>shift&laneMax, laneMax-q>>(shift+8)&laneMax)
	}
	if flags&longList == 0 {
		if t := corner(0); t < laneBias || t >= laneBias+laneUnits {
			return false
		}
	}
	if s := corner(32); s < laneBias || s >= laneBias+cellUnits && flags&lastS == 0 {
		return false
	}
	if t := corner(48); t < laneBias || t >= laneBias+cellUnits && flags&lastT == 0 {
		return false
	}
	return true
}

// testCaps keeps, once for each query, the postings noted whose caps meet
// the query's. All the hits of one query come together (its lists do).
func (s *search) testCaps() {
	x := s.x
	for _, h := range s.hits {
		fl := &s.lists[h.list]
		p, q := &fl.l.ents[h.i], &s.qs[fl.q]
		f := &q.f
		// The chord between the centres is at most the angle between
		// them, so a chord longer than the sum of radii proves the caps
		// apart.
		dx, dy, dz, r := p.x-f.x, p.y-f.y, p.z-f.z, p.radius+f.radius
		if dx*dx+dy*dy+dz*dz > r*r {
			continue
		}
		if q.multi {
			if x.stamp[p.ref] == q.gen {
				continue
			}
			x.stamp[p.ref] = q.gen
		}
		s.cands = append(s.cands, cand{fl.q, p.ref})
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

// satAdd is x + d, saturating at the ends of int64.
func satAdd(x, d int64) int64 {
	r := x + d
	switch {
	case d > 0 && r < x:
		return math.MaxInt64
	case d < 0 && r > x:
		return math.MinInt64
	}
	return r
}

// satSub is x - d, saturating at the ends of int64.
func satSub(x, d int64) int64 {
	r := x - d
	switch {
	case d > 0 && r > x:
		return math.MinInt64
	case d < 0 && r < x:
		return math.MaxInt64
	}
	return r
}

func float32Up(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}
