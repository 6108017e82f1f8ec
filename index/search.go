package index

import (
	"math"
	"slices"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/golang/geo/s2"
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

// term is a cell a query reads, and which kinds of postings (bit 1<<kind).
type term struct {
	cell  s2.CellID
	kinds uint8
}

// candidates yields, once each, the refs whose postings pass the filter
// (window, band and bounding cap, widened by sep) under every term the
// query reads; the caller applies the exact test.
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
	qc := q.Bound(sep.Horizontal)
	qp := qc.Center()
	f := filter{
		start:  secondsFloor(ws),
		end:    secondsCeil(we),
		lo:     altUnitDown(float64(q.AltLo() - sep.Vertical)),
		hi:     altUnitUp(float64(q.AltHi() + sep.Vertical)),
		x:      float32(qp.X),
		y:      float32(qp.Y),
		z:      float32(qp.Z),
		radius: float32Up(qc.Radius().Radians() + capSlack),
	}
	b0, b1 := floorDiv(ws, x.bucket), floorDiv(we-1, x.bucket)
	if b1-b0 > 10*int64(x.cfg.MaxBuckets) {
		// A window far longer than any stored short one: reading every
		// bucket costs more than scanning everything.
		x.scanAll(fn)
		return
	}
	terms := x.queryTerms(x.covering(qc))
	if terms == nil {
		x.scanAll(fn)
		return
	}
	for _, t := range terms {
		e := x.cells[t.cell]
		if e == nil {
			continue
		}
		for kind := range 2 {
			if t.kinds&(1<<kind) == 0 {
				continue
			}
			bs := e.kinds[kind]
			if len(bs) > 0 && bs[0].b == longBucket && !x.scan(bs[0].postings, &f, fn) {
				return
			}
			i, _ := slices.BinarySearchFunc(bs, b0, cmpBucket)
			for ; i < len(bs) && bs[i].b <= b1; i++ {
				if !x.scan(bs[i].postings, &f, fn) {
					return
				}
			}
		}
	}
}

// queryTerms lists the cells a query with these cells reads and which
// kinds of postings (see the package doc), or nil if it should rather
// scan everything.
func (x *Index) queryTerms(cells []s2.CellID) []term {
	terms := x.qterms[:0]
	add := func(c s2.CellID, kind int) {
		for i := range terms {
			if terms[i].cell == c {
				terms[i].kinds |= 1 << kind
				return
			}
		}
		terms = append(terms, term{c, 1 << kind})
	}
	step, depth := x.cfg.LevelStep, x.cfg.AncestorDepth
	for _, c := range cells {
		lq := c.Level()
		for l := lq; l >= 0; l -= step {
			if x.levelCount[l] > 0 {
				add(c.Parent(l), kindCovering)
			}
		}
		if x.anyIn(lq+1, lq+depth) {
			add(c, kindAncestor)
		}
		for l := lq + depth + step; l <= x.cfg.MaxLevel; l += step {
			if x.levelCount[l] == 0 {
				continue
			}
			a := l - depth
			if a-lq > maxDescend {
				x.qterms = terms[:0]
				return nil
			}
			for d, end := c.ChildBeginAtLevel(a), c.ChildEndAtLevel(a); d != end; d = d.Next() {
				add(d, kindAncestor)
			}
		}
	}
	x.qterms = terms
	return terms
}

// maxDescend bounds the levels a query descends to find much smaller
// stored volumes: 4^3 = 64 lookups per query cell. Beyond, it is cheaper
// to scan every stored volume.
const maxDescend = 3

// anyIn reports whether covering cells are stored at a level in [lo, hi].
func (x *Index) anyIn(lo, hi int) bool {
	for l := lo; l <= min(hi, len(x.levelCount)-1); l++ {
		if x.levelCount[l] > 0 {
			return true
		}
	}
	return false
}

// scanAll yields every stored volume: the fallback for a query far larger
// (in space or time) than the stored volumes.
func (x *Index) scanAll(fn func(Ref) bool) {
	for r, v := range x.vols {
		if v != nil && !fn(Ref(r)) {
			return
		}
	}
}

type filter struct {
	start, end int32
	lo, hi     int16
	x, y, z    float32
	radius     float32
}

// scan yields the postings that pass f and were not yet seen in this
// search. It returns false if fn asked to stop.
func (x *Index) scan(list []posting, f *filter, fn func(Ref) bool) bool {
	for i := range list {
		p := &list[i]
		if p.start > f.end || f.start > p.end || // > not >=: saturated ends may be equal
			p.lo > f.hi || f.lo > p.hi {
			continue
		}
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
		if !fn(p.ref) {
			return false
		}
	}
	return true
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

// epoch is the zero of posting times: seconds from it fit in int32 for
// 2000 ± 68 years; times beyond saturate, which only adds candidates.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

func secondsFloor(ns int64) int32 {
	s := floorDiv(satSub(ns, epoch), 1e9)
	return int32(max(math.MinInt32, min(math.MaxInt32, s)))
}

func secondsCeil(ns int64) int32 {
	s := -floorDiv(-satSub(ns, epoch), 1e9)
	return int32(max(math.MinInt32, min(math.MaxInt32, s)))
}

// altUnit is the altitude unit of postings: 4 m from geo.MinAltitude, so
// that geo's whole range fits an int16 (27,000 units). Altitudes beyond
// saturate, which only adds candidates.
const altUnit = 4

func altUnitDown(m float64) int16 {
	u := math.Floor((m - float64(geo.MinAltitude)) / altUnit)
	return int16(max(math.MinInt16, min(math.MaxInt16, u)))
}

func altUnitUp(m float64) int16 {
	u := math.Ceil((m - float64(geo.MinAltitude)) / altUnit)
	return int16(max(math.MinInt16, min(math.MaxInt16, u)))
}

func float32Up(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}
