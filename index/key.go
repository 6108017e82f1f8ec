package index

import (
	"math"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// Keys. A posting's key packs what the volume occupies, seen from its list
// (one cell, one time bucket), into eight 8-bit lanes, each a number in
// [0, laneMax]:
//
//	lane 0: start          lane 1: laneMax - end        (time)
//	lane 2: lo             lane 3: laneMax - hi         (altitude)
//	lane 4: s lo           lane 5: laneMax - s hi       (the cap's box on
//	lane 6: t lo           lane 7: laneMax - t hi        the cell's face)
//
// A query's key for that list packs the other ends: its end, laneMax -
// start, hi, laneMax - lo, and so on. The posting may conflict with the
// query only if every lane of the posting's key is at most the same lane
// of the query's: the windows, bands and boxes overlap. For lanes under
// 2^7, ((query | hiBits) - posting) & hiBits has the top bit of a lane set
// exactly when that holds for the lane, with no borrow from one lane into
// the next: one subtraction tests all eight.
//
// Times count units of a sixteenth of the bucket from laneBias units before
// the bucket's start; altitudes count altLaneUnit from altLaneBase; box
// coordinates count thirty-seconds of the cell from laneBias before the cell's
// corner. Starts and lows are rounded down, ends and highs up, and
// everything beyond a lane's range saturates: each keeps the order of what
// it rounds, so a pair that may conflict always passes, and the exact test
// decides.
const (
	laneMax  = 0x7f
	laneBias = 0x40
	hiBits   = 0x8080_8080_8080_8080

	// laneUnits is how many lane units a bucket is long, and cellUnits how
	// many a cell is wide.
	laneUnits = 16
	cellUnits = 32

	altLaneBase = -1000 // metres
	altLaneUnit = 125   // metres: lanes span -1,000 m to 14,875 m
)

// The long bucket's frame: volumes of many buckets, anywhere in time, in
// units of 30 days around mid-2026 (2021 to 2031; times beyond saturate).
var (
	longBase = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	longUnit = int64(30 * 24 * time.Hour)
)

func clampLane(u int64) uint64 {
	return uint64(max(0, min(laneMax, u)))
}

// frame returns the time origin and unit of bucket b's keys.
func (x *Index) frame(b int64) (base, unit int64) {
	if b == longBucket {
		return longBase, longUnit
	}
	return b * x.bucket, x.unit
}

// timeLane converts t (unix ns) to a lane of the frame (base, unit),
// rounded up or down.
func timeLane(t, base, unit int64, up bool) uint64 {
	d := satSub(t, base)
	var u int64
	switch {
	case d == math.MinInt64:
		return 0
	case up:
		u = -floorDiv(-d, unit)
	default:
		u = floorDiv(d, unit)
	}
	return clampLane(u + laneBias)
}

// altLane converts an altitude to a lane, rounded up or down.
func altLane(m float64, up bool) uint64 {
	u := (m - altLaneBase) / altLaneUnit
	if up {
		u = math.Ceil(u)
	} else {
		u = math.Floor(u)
	}
	return uint64(max(0, min(laneMax, u)))
}

// boxLane converts a face coordinate (s or t) to a lane of the cell whose
// first unit is at first (in cellUnits of a cell at the level with
// scale = 2^level · cellUnits cells per face), rounded up or down.
func boxLane(s, scale float64, first int64, up bool) uint64 {
	u := s * scale
	if up {
		u = math.Ceil(u)
	} else {
		u = math.Floor(u)
	}
	return clampLane(int64(u) - first + laneBias)
}

// span is what a posting or a query occupies: its window (unix ns), its
// band's lanes and its box on one face.
type span struct {
	start, end int64
	lo, hi     uint64 // altitude lanes
	box        *faceBox
}

func volumeSpan(v *geo.Volume) span {
	return span{start: v.StartNano(), end: v.EndNano(),
		lo: altLane(float64(v.AltLo()), false), hi: altLane(float64(v.AltHi()), true)}
}

// timeLanes are the time lanes of sp in bucket b: (start, laneMax - end)
// for a posting, (end, laneMax - start) for a query.
func (x *Index) timeLanes(sp *span, b int64, query bool) uint64 {
	base, unit := x.frame(b)
	start, end := timeLane(sp.start, base, unit, false), timeLane(sp.end, base, unit, true)
	if query {
		return end | (laneMax-start)<<8
	}
	return start | (laneMax-end)<<8
}

// altLanes are the altitude lanes of sp.
func altLanes(sp *span, query bool) uint64 {
	if query {
		return sp.hi<<16 | (laneMax-sp.lo)<<24
	}
	return sp.lo<<16 | (laneMax-sp.hi)<<24
}

// boxLanes are the box lanes of sp in cell (i, j) of level l.
func boxLanes(sp *span, l, i, j int, query bool) uint64 {
	scale := float64(int64(cellUnits) << l)
	fi, fj := int64(i)*cellUnits, int64(j)*cellUnits
	b := sp.box
	sLo, sHi := boxLane(b.sLo, scale, fi, false), boxLane(b.sHi, scale, fi, true)
	tLo, tHi := boxLane(b.tLo, scale, fj, false), boxLane(b.tHi, scale, fj, true)
	if query {
		return sHi<<32 | (laneMax-sLo)<<40 | tHi<<48 | (laneMax-tLo)<<56
	}
	return sLo<<32 | (laneMax-sHi)<<40 | tLo<<48 | (laneMax-tHi)<<56
}

// keyPasses reports whether a posting's key may conflict with a query's
// (which has hiBits set).
func keyPasses(query, posting uint64) bool {
	return (query-posting)&hiBits == hiBits
}

// keyFails is !keyPasses(query, posting), in a form the compiler keeps
// branch-free.
func keyFails(query, posting uint64) bool {
	return ^(query-posting)&hiBits != 0
}
