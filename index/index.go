// Package index is a spatio-temporal candidate index over volumes: it finds
// every stored volume that may conflict with a query volume, and Search
// keeps those that do, by geo.Conflict. It never misses a conflict; the
// candidates it yields beyond the conflicts are removed by the exact test.
//
// # Terms
//
// A volume is indexed under S2 cells. Its cells are the cheap covering of
// its bounding cap (s2.Cap.CellUnionBound: at most 4 cells, 6 for huge
// caps), moved Config.Coarsen levels up and then to a level that is a
// multiple of Config.LevelStep, less the cells the cap (widened by a few
// metres, so that caps touching on a cell boundary keep the cells on both
// sides) does not reach. It is
// posted under each covering cell as a "covering" posting, and under the
// ancestors of those cells at the step levels up to Config.AncestorDepth
// levels coarser as "ancestor" postings.
//
// A query is covered the same way. Two cells intersect only if one contains
// the other, so for each query cell q at level lq it reads, for every level
// l that holds stored covering cells:
//
//   - l <= lq: the covering postings of q's ancestor at l (stored cells that
//     contain q);
//   - lq < l <= lq+AncestorDepth: the ancestor postings of q (stored cells
//     inside q);
//   - l > lq+AncestorDepth: the ancestor postings of q's descendants at
//     level l-AncestorDepth. This costs 4^(l-AncestorDepth-lq) lookups, paid
//     only by a query far larger than the stored volumes; bounding the depth
//     keeps coarse cells from collecting every volume of a region. Where
//     that would be more than 64 lookups per cell, the query scans every
//     stored volume instead.
//
// Every stored volume whose covering meets the query's is thus found.
//
// # Time
//
// Within a cell, postings are grouped in time buckets Config.BucketSize
// long, kept sorted: a volume is posted in each bucket its window touches,
// or in one "long" bucket when that would be more than Config.MaxBuckets,
// which every query also reads. A query reads, per cell, one map lookup and
// then only the buckets its window (widened by the time separation) touches.
//
// Each posting carries the volume's window and altitude band, rounded
// outward, and its bounding cap, so most candidates are dropped without
// touching the volume.
//
// An Index is not safe for concurrent use (searches reuse scratch space).
package index

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/golang/geo/s2"
)

// Ref names a stored volume. Refs of removed volumes are reused.
type Ref uint32

// Config tunes the index. The zero value means the defaults.
type Config struct {
	// BucketSize is the length of a time bucket (default DefaultBucketSize).
	// Shorter buckets give fewer candidates for short volumes but more
	// postings per volume.
	BucketSize time.Duration
	// MaxBuckets is the most buckets a volume is posted in; longer volumes
	// go in the long bucket that every query reads (default DefaultMaxBuckets).
	MaxBuckets int
	// LevelStep: covering cells are at levels that are multiples of it
	// (default DefaultLevelStep). A larger step means fewer ancestor
	// postings and lookups but coarser cells.
	LevelStep int
	// MaxLevel is the finest cell level used (default DefaultMaxLevel).
	MaxLevel int
	// Coarsen moves coverings this many levels above CellUnionBound's
	// (default 0). Coarser cells mean fewer lookups per search and longer
	// lists to scan; on the shared workload, 1 and 2 were slower than 0.
	Coarsen int
	// AncestorDepth is how many levels above its covering cells a volume is
	// also posted (default DefaultAncestorDepth; rounded down to a multiple
	// of LevelStep, at least LevelStep). Deeper means more postings per
	// volume; shallower means more lookups for queries much larger than
	// the stored volumes.
	AncestorDepth int
}

// Defaults for Config.
const (
	DefaultBucketSize    = time.Hour
	DefaultMaxBuckets    = 6
	DefaultLevelStep     = 2
	DefaultMaxLevel      = 24
	DefaultAncestorDepth = 6
)

// Validate reports whether c is usable.
func (c Config) Validate() error {
	if c.BucketSize < 0 || c.MaxBuckets < 0 || c.LevelStep < 0 || c.MaxLevel < 0 || c.AncestorDepth < 0 || c.Coarsen < 0 || c.Coarsen > s2.MaxLevel {
		return fmt.Errorf("index: negative setting in %+v", c)
	}
	c = c.withDefaults()
	if c.BucketSize < time.Second {
		return fmt.Errorf("index: bucket size %v is under a second", c.BucketSize)
	}
	if c.MaxBuckets > 10_000 {
		return fmt.Errorf("index: max buckets %d must be in [1, 10000]", c.MaxBuckets)
	}
	if c.LevelStep > s2.MaxLevel || c.MaxLevel > s2.MaxLevel || c.AncestorDepth > s2.MaxLevel {
		return fmt.Errorf("index: level step, max level and ancestor depth must be at most %d", s2.MaxLevel)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.BucketSize == 0 {
		c.BucketSize = DefaultBucketSize
	}
	if c.MaxBuckets == 0 {
		c.MaxBuckets = DefaultMaxBuckets
	}
	if c.LevelStep == 0 {
		c.LevelStep = DefaultLevelStep
	}
	if c.MaxLevel == 0 {
		c.MaxLevel = DefaultMaxLevel
	}
	c.MaxLevel -= c.MaxLevel % c.LevelStep
	if c.AncestorDepth == 0 {
		c.AncestorDepth = DefaultAncestorDepth
	}
	c.AncestorDepth = max(c.LevelStep, c.AncestorDepth-c.AncestorDepth%c.LevelStep)
	return c
}

// posting is one volume in one cell and bucket, with its window (unix
// seconds, floor and ceiling), band (altitude units, rounded outward) and
// bounding cap (centre as float32, radius rounded up past float32 error)
// for filtering without touching the volume: 32 bytes, two to a cache
// line.
type posting struct {
	ref        Ref
	start, end int32
	lo, hi     int16
	x, y, z    float32
	radius     float32
}

// bucket is the postings of one time bucket.
type bucket struct {
	b        int64
	postings []posting
}

// cell is what is posted under one S2 cell: per kind, buckets sorted by b.
type cell struct {
	kinds [2][]bucket
}

const (
	kindCovering = 0
	kindAncestor = 1
)

// Index is the candidate index. See the package doc.
type Index struct {
	cfg    Config
	bucket int64 // cfg.BucketSize in nanoseconds

	vols []*geo.Volume // by Ref; nil for a free slot
	free []Ref
	n    int

	cells map[s2.CellID]*cell

	levelCount [s2.MaxLevel + 1]int // covering cells stored per level
	long       int                  // volumes in the long bucket

	// Search state, reused between calls.
	stamp  []uint32 // by Ref: the search that last saw it
	gen    uint32
	seen   []s2.CellID
	qcells []s2.CellID
	qterms []term
}

// New returns an empty index.
func New(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Index{cfg: cfg, bucket: int64(cfg.BucketSize), cells: make(map[s2.CellID]*cell)}, nil
}

// Len is the number of stored volumes.
func (x *Index) Len() int { return x.n }

// Volume returns the volume stored under r, or nil.
func (x *Index) Volume(r Ref) *geo.Volume {
	if int(r) >= len(x.vols) {
		return nil
	}
	return x.vols[r]
}

// Insert stores v and returns its ref.
func (x *Index) Insert(v *geo.Volume) Ref {
	var r Ref
	if n := len(x.free); n > 0 {
		r, x.free = x.free[n-1], x.free[:n-1]
		x.vols[r] = v
	} else {
		if len(x.vols) >= math.MaxUint32 {
			panic("index: more than 2^32-1 volumes")
		}
		r = Ref(len(x.vols))
		x.vols = append(x.vols, v)
		x.stamp = append(x.stamp, 0)
	}
	x.n++
	p := makePosting(r, v)
	x.eachTerm(v, func(c s2.CellID, kind int, b int64) {
		e := x.cells[c]
		if e == nil {
			e = &cell{}
			x.cells[c] = e
		}
		bs := e.kinds[kind]
		i, ok := slices.BinarySearchFunc(bs, b, cmpBucket)
		if !ok {
			bs = slices.Insert(bs, i, bucket{b: b})
			e.kinds[kind] = bs
		}
		bs[i].postings = appendPosting(bs[i].postings, p)
	}, +1)
	return r
}

// appendPosting appends p to list, doubling its capacity when full: append
// grows large slices by only a quarter, and coarse cells' lists of tens of
// thousands of postings were copied over and over.
func appendPosting(list []posting, p posting) []posting {
	if len(list) == cap(list) {
		grown := make([]posting, len(list), max(4, 2*cap(list)))
		copy(grown, list)
		list = grown
	}
	return append(list, p)
}

func cmpBucket(e bucket, b int64) int {
	switch {
	case e.b < b:
		return -1
	case e.b > b:
		return 1
	}
	return 0
}

// Remove deletes the volume stored under r; removing a free ref is a no-op.
func (x *Index) Remove(r Ref) {
	v := x.Volume(r)
	if v == nil {
		return
	}
	x.eachTerm(v, func(c s2.CellID, kind int, b int64) {
		e := x.cells[c]
		if e == nil {
			return
		}
		bs := e.kinds[kind]
		i, ok := slices.BinarySearchFunc(bs, b, cmpBucket)
		if !ok {
			return
		}
		list := bs[i].postings
		for j := range list {
			if list[j].ref == r {
				last := len(list) - 1
				list[j] = list[last]
				list = list[:last]
				break
			}
		}
		if len(list) == 0 {
			e.kinds[kind] = slices.Delete(bs, i, i+1)
			if len(e.kinds[0]) == 0 && len(e.kinds[1]) == 0 {
				delete(x.cells, c)
			}
		} else {
			bs[i].postings = list
		}
	}, -1)
	x.vols[r] = nil
	x.free = append(x.free, r)
	x.n--
}

func makePosting(r Ref, v *geo.Volume) posting {
	c := v.Bound(0)
	p := c.Center()
	return posting{
		ref:    r,
		start:  secondsFloor(v.StartNano()),
		end:    secondsCeil(v.EndNano()),
		lo:     altUnitDown(float64(v.AltLo())),
		hi:     altUnitUp(float64(v.AltHi())),
		x:      float32(p.X),
		y:      float32(p.Y),
		z:      float32(p.Z),
		radius: float32Up(c.Radius().Radians() + capSlack),
	}
}

// capSlack covers the float32 rounding of a posting's centre (under 1e-7
// rad per coordinate) and of the query's; 1e-6 rad is about 6 m.
const capSlack = 1e-6

// eachTerm calls fn with every (cell, kind, bucket) of the stored volume v,
// and counts its covering levels and long bucket by delta.
func (x *Index) eachTerm(v *geo.Volume, fn func(s2.CellID, int, int64), delta int) {
	cells := x.covering(v.Bound(0))
	b0, b1, long := x.buckets(v.StartNano(), v.EndNano())
	if long {
		x.long += delta
	}
	post := func(c s2.CellID, kind int) {
		for b := b0; b <= b1; b++ {
			fn(c, kind, b)
		}
	}
	seen := x.seen[:0]
	for _, c := range cells {
		x.levelCount[c.Level()] += delta
		post(c, kindCovering)
		for l := c.Level() - x.cfg.LevelStep; l >= max(0, c.Level()-x.cfg.AncestorDepth); l -= x.cfg.LevelStep {
			a := c.Parent(l)
			if slices.Contains(seen, a) {
				break // its coarser ancestors are done too
			}
			seen = append(seen, a)
			post(a, kindAncestor)
		}
	}
	x.seen = seen[:0]
}

// covering returns the cells of cap's cheap covering at step levels,
// without duplicates, leaving out those the cap (widened by capSlack) does
// not reach: CellUnionBound's four cells are often twice the cap's width
// or more, and the cap meets only one or two of them. Widening keeps a cap
// that touches a cell boundary in the cells on both sides, so two caps
// that share a point always have cells on one line of descent.
func (x *Index) covering(cap s2.Cap) []s2.CellID {
	out := x.qcells[:0]
	wide := s2.CapFromCenterAngle(cap.Center(), cap.Radius()+capSlack)
	for _, c := range cap.CellUnionBound() {
		l := max(0, min(c.Level(), x.cfg.MaxLevel)-x.cfg.Coarsen)
		l -= l % x.cfg.LevelStep
		c = c.Parent(l)
		if slices.Contains(out, c) || !wide.IntersectsCell(s2.CellFromCellID(c)) {
			continue
		}
		out = append(out, c)
	}
	x.qcells = out
	return out
}

// longBucket is the bucket of volumes longer than MaxBuckets buckets. It
// sorts first.
const longBucket = math.MinInt64

// buckets returns the first and last bucket of the window [start, end), or
// long if it spans more than MaxBuckets (then b0 = b1 = longBucket).
func (x *Index) buckets(start, end int64) (b0, b1 int64, long bool) {
	b0, b1 = floorDiv(start, x.bucket), floorDiv(end-1, x.bucket)
	if b1-b0+1 > int64(x.cfg.MaxBuckets) {
		return longBucket, longBucket, true
	}
	return b0, b1, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
