// Package index is a spatio-temporal candidate index over volumes: it finds
// every stored volume that may conflict with a query volume, and Search
// keeps those that do, by geo.Conflict. It never misses a conflict; the
// candidates it yields beyond the conflicts are removed by the exact test.
//
// # Terms
//
// A volume is indexed under terms made of an S2 cell and a time bucket.
// Its cells are the cheap covering of its bounding cap (s2.Cap.CellUnionBound:
// at most 4 cells, 6 for huge caps), coarsened to a level that is a
// multiple of Config.LevelStep. It is posted under each covering cell as a
// "covering" term, and under the ancestors of those cells at the step levels
// up to Config.AncestorDepth levels coarser as "ancestor" terms.
//
// A query is covered the same way. Two cells intersect only if one contains
// the other, so for each query cell q at level lq it reads, for every level
// l that holds stored covering cells:
//
//   - l <= lq: the covering term of q's ancestor at l (stored cells that
//     contain q);
//   - lq < l <= lq+AncestorDepth: the ancestor term of q (stored cells
//     inside q);
//   - l > lq+AncestorDepth: the ancestor terms of q's descendants at level
//     l-AncestorDepth. This costs 4^(l-AncestorDepth-lq) lookups, paid only
//     by a query far larger than the stored volumes; bounding the depth
//     keeps coarse terms from collecting every volume of a region. Where
//     that would be more than 64 lookups per cell, the query scans every
//     stored volume instead.
//
// Every stored volume whose covering meets the query's is thus found.
//
// Terms also carry a time bucket and an altitude slice. Buckets are
// Config.BucketSize long and slices Config.AltSlice thick; a volume is
// posted in each bucket its window touches and each slice its band touches,
// or in one "long" bucket (slice) when that would be more than
// Config.MaxBuckets (MaxSlices), which every query also reads.
//
// Each posting carries the volume's window and altitude band, rounded
// outward, so most candidates are dropped without touching the volume.
//
// An Index is not safe for concurrent use.
package index

import (
	"fmt"
	"math"
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
	// AltSlice is the thickness of an altitude slice (default
	// DefaultAltSlice); MaxSlices the most slices a volume is posted in
	// (default DefaultMaxSlices).
	AltSlice  geo.Meters
	MaxSlices int
	// MaxLevel is the finest cell level used (default DefaultMaxLevel).
	MaxLevel int
	// AncestorDepth is how many levels above its covering cells a volume is
	// also posted (default DefaultAncestorDepth; rounded down to a multiple
	// of LevelStep, at least LevelStep). Deeper means more postings per
	// volume; shallower means more lookups for queries much larger than
	// the stored volumes.
	AncestorDepth int
}

// Defaults for Config.
const (
	DefaultBucketSize = time.Hour
	DefaultMaxBuckets = 6
	DefaultLevelStep  = 2
	DefaultMaxLevel   = 24

	DefaultAncestorDepth = 6

	// One slice spans the whole altitude range by default: on the shared
	// workload, 3000 m slices cut postings scanned by half but added 40%
	// lookups, and lookups (cache misses) cost more.
	DefaultAltSlice  geo.Meters = geo.MaxAltitude - geo.MinAltitude
	DefaultMaxSlices            = 4
)

// Validate reports whether c is usable.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.BucketSize < time.Second {
		return fmt.Errorf("index: bucket size %v is under a second", c.BucketSize)
	}
	if c.MaxBuckets < 1 || c.MaxBuckets > 10_000 {
		return fmt.Errorf("index: max buckets %d must be in [1, 10000]", c.MaxBuckets)
	}
	if !(c.AltSlice >= 1 && c.AltSlice <= geo.MaxAltitude-geo.MinAltitude) {
		return fmt.Errorf("index: altitude slice %v must be in [1, %v] metres", c.AltSlice, geo.MaxAltitude-geo.MinAltitude)
	}
	if c.MaxSlices < 1 || c.MaxSlices > 10_000 {
		return fmt.Errorf("index: max slices %d must be in [1, 10000]", c.MaxSlices)
	}
	if c.LevelStep < 1 || c.LevelStep > s2.MaxLevel {
		return fmt.Errorf("index: level step %d must be in [1, %d]", c.LevelStep, s2.MaxLevel)
	}
	if c.MaxLevel < 0 || c.MaxLevel > s2.MaxLevel {
		return fmt.Errorf("index: max level %d must be in [0, %d]", c.MaxLevel, s2.MaxLevel)
	}
	if c.AncestorDepth < 0 || c.AncestorDepth > s2.MaxLevel {
		return fmt.Errorf("index: ancestor depth %d must be in [0, %d]", c.AncestorDepth, s2.MaxLevel)
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
	if c.AltSlice == 0 {
		c.AltSlice = DefaultAltSlice
	}
	if c.MaxSlices == 0 {
		c.MaxSlices = DefaultMaxSlices
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

// posting is one volume under one term, with its window (unix seconds,
// floor and ceiling), band (float32, rounded outward) and bounding cap
// (centre as float32, radius rounded up past float32 error) for filtering
// without touching the volume.
type posting struct {
	ref        Ref
	start, end int32
	lo, hi     float32
	x, y, z    float32
	radius     float32
}

// Index is the candidate index. See the package doc.
type Index struct {
	cfg    Config
	bucket int64 // cfg.BucketSize in nanoseconds

	vols []*geo.Volume // by Ref; nil for a free slot
	free []Ref
	n    int

	terms map[uint64][]posting

	levelCount [s2.MaxLevel + 1]int // covering cells stored per level
	longTime   int                  // volumes in the long bucket
	longAlt    int                  // volumes in the long slice

	// Search state, reused between calls.
	stamp             []uint32 // by Ref: the search that last saw it
	gen               uint32
	keys              []uint64
	qterms            []term
	qbuckets, qslices []int64
	cells             []s2.CellID
}

// New returns an empty index.
func New(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Index{cfg: cfg, bucket: int64(cfg.BucketSize), terms: make(map[uint64][]posting)}, nil
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
	x.eachTerm(v, func(key uint64) {
		x.terms[key] = append(x.terms[key], p)
	}, +1)
	return r
}

// Remove deletes the volume stored under r; removing a free ref is a no-op.
func (x *Index) Remove(r Ref) {
	v := x.Volume(r)
	if v == nil {
		return
	}
	x.eachTerm(v, func(key uint64) {
		list := x.terms[key]
		for i := range list {
			if list[i].ref == r {
				last := len(list) - 1
				list[i] = list[last]
				list = list[:last]
				break
			}
		}
		if len(list) == 0 {
			delete(x.terms, key)
		} else {
			x.terms[key] = list
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
		lo:     float32Down(float64(v.AltLo())),
		hi:     float32Up(float64(v.AltHi())),
		x:      float32(p.X),
		y:      float32(p.Y),
		z:      float32(p.Z),
		radius: float32Up(c.Radius().Radians() + capSlack),
	}
}

// capSlack covers the float32 rounding of a posting's centre (under 1e-7
// rad per coordinate) and of the query's; 1e-6 rad is about 6 m.
const capSlack = 1e-6

// eachTerm calls fn with every term key of the stored volume v, and counts
// its covering levels and long bucket by delta.
func (x *Index) eachTerm(v *geo.Volume, fn func(uint64), delta int) {
	cells := x.covering(v.Bound(0))
	b0, b1, longT := x.buckets(v.StartNano(), v.EndNano())
	if longT {
		x.longTime += delta
	}
	s0, s1, longA := x.slices(float64(v.AltLo()), float64(v.AltHi()))
	if longA {
		x.longAlt += delta
	}
	post := func(c s2.CellID, kind uint64) {
		for b := b0; b <= b1; b++ {
			for s := s0; s <= s1; s++ {
				fn(termKey(c, kind, b, s))
			}
		}
	}
	seen := x.keys[:0]
	for _, c := range cells {
		x.levelCount[c.Level()] += delta
		post(c, kindCovering)
		for l := c.Level() - x.cfg.LevelStep; l >= max(0, c.Level()-x.cfg.AncestorDepth); l -= x.cfg.LevelStep {
			a := c.Parent(l)
			if containsKey(seen, uint64(a)) {
				break // its coarser ancestors are done too
			}
			seen = append(seen, uint64(a))
			post(a, kindAncestor)
		}
	}
	x.keys = seen[:0]
}

// covering returns the cells of cap's cheap covering at step levels,
// without duplicates.
func (x *Index) covering(cap s2.Cap) []s2.CellID {
	out := x.cells[:0]
	for _, c := range cap.CellUnionBound() {
		l := min(c.Level(), x.cfg.MaxLevel)
		l -= l % x.cfg.LevelStep
		c = c.Parent(l)
		dup := false
		for _, o := range out {
			if o == c {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	x.cells = out
	return out
}

// longBucket is the bucket of volumes longer than MaxBuckets buckets.
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

// longSlice is the slice of volumes thicker than MaxSlices slices.
const longSlice = math.MinInt64

// slices returns the first and last altitude slice of the band [lo, hi],
// or long if it spans more than MaxSlices.
func (x *Index) slices(lo, hi float64) (s0, s1 int64, long bool) {
	t := float64(x.cfg.AltSlice)
	s0, s1 = int64(math.Floor(lo/t)), int64(math.Floor(hi/t))
	if s1-s0+1 > int64(x.cfg.MaxSlices) {
		return longSlice, longSlice, true
	}
	return s0, s1, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

const (
	kindCovering = 1
	kindAncestor = 2
)

// termKey hashes a term to a map key. A collision only merges two posting
// lists, which adds candidates and never loses one.
func termKey(c s2.CellID, kind uint64, bucket, slice int64) uint64 {
	h := uint64(c) ^ kind*0x9e3779b97f4a7c15 ^ uint64(bucket)*0xbf58476d1ce4e5b9 ^ uint64(slice)*0xd6e8feb86659fd93
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	h ^= h >> 29
	return h
}

func containsKey(s []uint64, k uint64) bool {
	for _, v := range s {
		if v == k {
			return true
		}
	}
	return false
}
