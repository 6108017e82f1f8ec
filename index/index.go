// Package index is a spatio-temporal candidate index over volumes: it finds
// every stored volume that may conflict with a query volume, and Search
// keeps those that do, by geo.Conflict. It never misses a conflict; the
// candidates it yields beyond the conflicts are removed by the exact test.
//
// # Cells
//
// Volumes are posted in the cells of a grid on the faces of a cube around
// the sphere (see grid.go): at level L, each face is 2^L × 2^L square
// cells, about 10,000 km / 2^L wide. A volume's bounding cap is bounded on
// each face it reaches by a box (exact: the range of each face coordinate
// over the cap), and the volume is posted in every cell of its boxes at its
// level: Config.Level if its boxes hold at most Config.MaxCells cells
// there, else the first coarser level, Config.LevelStep at a time, where
// they do. On the shared workload (footprints of 2 to 30 km) every volume
// is at the default level 8 (cells of about 40 km) in one to a few cells.
//
// Two caps that share a point share the cell of that point at every level,
// so a query reads, at every level where volumes are stored, the cells of
// its own boxes at that level. At coarser levels than its own these are a
// few; at finer levels (a query far larger than the stored volumes) it
// reads only the cells that hold postings, found in a sorted directory of
// them when its boxes hold many cells.
//
// # Time
//
// Within a cell, postings are grouped in time buckets Config.BucketSize
// long: a volume is posted in each bucket its window touches, or in the
// cell's one "long" bucket when that would be more than Config.MaxBuckets,
// which queries also read. A list is the postings of one cell and bucket,
// found by one lookup in an open-addressing table that holds the lists'
// headers (see table.go).
//
// # Keys
//
// Each posting's key packs the volume's window, band and box, seen from
// its list, into 8 bytes that one subtraction compares with the query's
// (see key.go); the keys of a list are contiguous, so a search reads 8
// bytes per posting it rejects, about six postings in seven. The few that
// pass are tested against the volume's bounding cap, kept beside, before
// the caller's exact test.
//
// An Index is not safe for concurrent use (searches reuse scratch space).
package index

import (
	"fmt"
	"math"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// Ref names a stored volume. Refs of removed volumes are reused.
type Ref uint32

// Config tunes the index. The zero value means the defaults.
type Config struct {
	// BucketSize is the length of a time bucket (default DefaultBucketSize).
	// Shorter buckets give fewer candidates for short volumes but more
	// postings per volume and more lists per search.
	BucketSize time.Duration
	// MaxBuckets is the most buckets a volume is posted in; longer volumes
	// go in the long bucket of each of their cells, which every query of
	// the cell reads (default DefaultMaxBuckets).
	MaxBuckets int
	// Level is the finest grid level, where every volume whose boxes hold
	// at most MaxCells cells is posted (default DefaultLevel, cells of
	// about 40 km). Finer levels suit smaller volumes: a cell one to three
	// times as wide as the typical footprint measured best.
	Level int
	// LevelStep is how many levels coarser a volume too large for its
	// level goes (default DefaultLevelStep).
	LevelStep int
	// MaxCells is the most cells a volume is posted in at its level
	// (default DefaultMaxCells).
	MaxCells int
}

// maxMaxBuckets bounds Config.MaxBuckets.
const maxMaxBuckets = 64

// Defaults for Config.
const (
	DefaultBucketSize = 2 * time.Hour
	DefaultMaxBuckets = 3
	DefaultLevel      = 8
	DefaultLevelStep  = 2
	DefaultMaxCells   = 16
)

// Validate reports whether c is usable.
func (c Config) Validate() error {
	if c.BucketSize < 0 || c.MaxBuckets < 0 || c.Level < 0 || c.LevelStep < 0 || c.MaxCells < 0 {
		return fmt.Errorf("index: negative setting in %+v", c)
	}
	c = c.withDefaults()
	if c.BucketSize < time.Second || c.BucketSize%laneUnits != 0 {
		return fmt.Errorf("index: bucket size %v must be at least a second and a multiple of %d ns", c.BucketSize, laneUnits)
	}
	if c.MaxBuckets > maxMaxBuckets {
		return fmt.Errorf("index: max buckets %d must be in [1, %d]", c.MaxBuckets, maxMaxBuckets)
	}
	if c.Level > MaxGridLevel || c.LevelStep > MaxGridLevel {
		return fmt.Errorf("index: level and level step must be at most %d", MaxGridLevel)
	}
	if c.MaxCells < 6 {
		return fmt.Errorf("index: max cells %d must be at least 6 (a face each)", c.MaxCells)
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
	if c.Level == 0 {
		c.Level = DefaultLevel
	}
	if c.LevelStep == 0 {
		c.LevelStep = DefaultLevelStep
	}
	if c.MaxCells == 0 {
		c.MaxCells = DefaultMaxCells
	}
	return c
}

// entry is what a search reads of a posting whose key passed: the volume's
// bounding cap (centre as float32, radius rounded up past float32 error)
// and its ref.
type entry struct {
	x, y, z, radius float32
	ref             Ref
}

// list is the postings of one cell and bucket: keys[i] and ents[i] are one
// posting.
type list struct {
	keys []uint64
	ents []entry
}

// Index is the candidate index. See the package doc.
type Index struct {
	cfg    Config
	bucket int64 // cfg.BucketSize in nanoseconds
	unit   int64 // time unit of keys in buckets (see frame)

	vols []*geo.Volume // by Ref; nil for a free slot
	free []Ref
	n    int

	lists table     // by cell and bucket
	dir   directory // the cells that hold lists

	levelCount [MaxGridLevel + 1]int // volumes stored per level
	longCount  [MaxGridLevel + 1]int // of which in long buckets

	// Search state, reused between calls.
	stamp   []uint32 // by Ref: the search that last saw it
	gen     uint32
	covs    [coverings]covering // the last volumes covered (see cover)
	next    int                 // the one of covs to reuse next
	s       search
	one     [1]*geo.Volume
	qboxes  []faceBox
	touched int64 // keeps Search's loads
}

// New returns an empty index.
func New(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	bucket := int64(cfg.BucketSize)
	return &Index{cfg: cfg, bucket: bucket, unit: max(1, bucket/laneUnits),
		lists: newTable(), dir: newDirectory()}, nil
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
	e := makeEntry(r, v)
	x.eachPosting(v, +1, func(cell uint64, b int64, key uint64) {
		l, created := x.lists.add(cell, b)
		if created {
			x.dir.addList(cell)
		}
		l.add(key, e)
	})
	return r
}

// add appends a posting, doubling the capacity when full: append grows
// large slices by only a quarter.
func (l *list) add(k uint64, e entry) {
	if len(l.keys) == cap(l.keys) {
		n := max(4, 2*cap(l.keys))
		keys, ents := make([]uint64, len(l.keys), n), make([]entry, len(l.ents), n)
		copy(keys, l.keys)
		copy(ents, l.ents)
		l.keys, l.ents = keys, ents
	}
	l.keys = append(l.keys, k)
	l.ents = append(l.ents, e)
}

// Remove deletes the volume stored under r; removing a free ref is a no-op.
func (x *Index) Remove(r Ref) {
	v := x.Volume(r)
	if v == nil {
		return
	}
	x.eachPosting(v, -1, func(cell uint64, b int64, _ uint64) {
		l := x.lists.get(cell, b)
		if l == nil {
			return
		}
		for j := range l.ents {
			if l.ents[j].ref == r {
				last := len(l.ents) - 1
				l.keys[j], l.ents[j] = l.keys[last], l.ents[last]
				l.keys, l.ents = l.keys[:last], l.ents[:last]
				break
			}
		}
		if len(l.ents) == 0 {
			x.lists.delete(cell, b)
			x.dir.removeList(cell)
		}
	})
	x.vols[r] = nil
	x.free = append(x.free, r)
	x.n--
}

func makeEntry(r Ref, v *geo.Volume) entry {
	c := v.Bound(0)
	p := c.Center()
	return entry{
		ref:    r,
		x:      float32(p.X),
		y:      float32(p.Y),
		z:      float32(p.Z),
		radius: float32Up(c.Radius().Radians() + capSlack),
	}
}

// capSlack widens caps for coverings, boxes and the float32 cap test: it
// covers the float32 rounding of a posting's centre (under 1e-7 rad per
// coordinate) and of the query's, and rounding in boxes; 1e-6 rad is about
// 6 m.
const capSlack = 1e-6

// eachPosting calls fn with the list and key of every posting of the
// stored volume v, and counts its level and long bucket by delta.
func (x *Index) eachPosting(v *geo.Volume, delta int, fn func(cell uint64, b int64, key uint64)) {
	cov := x.cover(v, 0)
	sp := volumeSpan(v)
	b0, b1, long := x.buckets(sp.start, sp.end)
	x.levelCount[cov.level] += delta
	if long {
		x.longCount[cov.level] += delta
	}
	alt := altLanes(&sp, false)
	var times [maxMaxBuckets]uint64
	for b := b0; b <= b1; b++ {
		times[b-b0] = x.timeLanes(&sp, b, false)
	}
	for bi := range cov.boxes {
		box := &cov.boxes[bi]
		sp.box = box
		for i := box.i0; i <= box.i1; i++ {
			for j := box.j0; j <= box.j1; j++ {
				cell := cellKey(cov.level, box.face, i, j)
				k := alt | boxLanes(&sp, cov.level, i, j, false)
				for b := b0; b <= b1; b++ {
					fn(cell, b, k|times[b-b0])
				}
			}
		}
	}
}

// covering is a volume's cap, widened by a margin, with its boxes at the
// level it is posted at.
type covering struct {
	vol    *geo.Volume
	margin geo.Meters
	level  int
	boxes  []faceBox
}

// coverings is how many of the last coverings the index keeps: a search
// then insert of an intent's volumes (up to this many) covers each once
// when the search's horizontal separation is zero (coverings are kept by
// volume and margin).
const coverings = 8

// cover returns the covering of v's cap widened by margin. It is valid
// until the next call but coverings-1.
func (x *Index) cover(v *geo.Volume, margin geo.Meters) *covering {
	for i := range x.covs {
		if c := &x.covs[i]; c.vol == v && c.margin == margin {
			return c
		}
	}
	c := &x.covs[x.next]
	x.next = (x.next + 1) % coverings
	cap := v.Bound(margin)
	c.vol, c.margin = v, margin
	c.boxes = capBoxes(cap.Center(), cap.Radius().Radians()+capSlack, c.boxes[:0])
	l := x.cfg.Level
	for {
		for i := range c.boxes {
			c.boxes[i].atLevel(l)
		}
		if l == 0 || cellCount(c.boxes) <= x.cfg.MaxCells {
			break
		}
		l = max(0, l-x.cfg.LevelStep)
	}
	c.level = l
	return c
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

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
