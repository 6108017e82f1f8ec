package geo

import (
	"fmt"
	"math"
	"time"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Separation is the minimum spacing two volumes must keep. The zero value
// means the volumes conflict only if they share a point and an instant.
type Separation struct {
	Horizontal Meters        // great-circle distance between footprints
	Vertical   Meters        // gap between altitude bands
	Time       time.Duration // gap between time windows
}

// Validate reports whether every minimum is finite and not negative.
func (s Separation) Validate() error {
	if !finite(float64(s.Horizontal)) || s.Horizontal < 0 || s.Horizontal > MaxRadius {
		return fmt.Errorf("geo: horizontal separation %v must be in [0, %v] metres", s.Horizontal, MaxRadius)
	}
	if !finite(float64(s.Vertical)) || s.Vertical < 0 || s.Vertical > MaxAltitude-MinAltitude {
		return fmt.Errorf("geo: vertical separation %v must be in [0, %v] metres", s.Vertical, MaxAltitude-MinAltitude)
	}
	if s.Time < 0 || s.Time > DefaultMaxDuration {
		return fmt.Errorf("geo: time separation %v must be in [0, %v]", s.Time, DefaultMaxDuration)
	}
	return nil
}

// Conflict reports whether a and b conflict under sep (see the package doc).
func Conflict(a, b *Volume, sep Separation) bool {
	return TimeAltOverlap(a, b, sep) && Within(a, b, sep.Horizontal)
}

// TimeAltOverlap reports whether the time windows and altitude bands of a
// and b overlap after widening by sep.
func TimeAltOverlap(a, b *Volume, sep Separation) bool {
	t := int64(sep.Time)
	return a.start < satAdd(b.end, t) && b.start < satAdd(a.end, t) &&
		a.lo <= b.hi+sep.Vertical && b.lo <= a.hi+sep.Vertical
}

func satAdd(x, d int64) int64 {
	if x > math.MaxInt64-d {
		return math.MaxInt64
	}
	return x + d
}

// Within reports whether the footprints of a and b are at most d apart.
func Within(a, b *Volume, d Meters) bool {
	return within(&a.shape, &b.shape, d.Angle())
}

// Distance is the great-circle distance between the footprints of a and b:
// zero if they touch or overlap.
func Distance(a, b *Volume) Meters {
	return metersFromAngle(distance(&a.shape, &b.shape))
}

// within is the fast form of distance(a, b) <= d: bounding caps first,
// then the exact test only for pairs the caps cannot decide.
func within(a, b *shape, d s1.Angle) bool {
	cd := a.center.Distance(b.center)
	if cd > a.outer+b.outer+d+boundSlack {
		return false
	}
	if a.hasInner && b.hasInner && cd+boundSlack <= a.inner+b.inner+d {
		return true
	}
	switch {
	case a.verts == nil && b.verts == nil:
		return cd <= a.outer+b.outer+d
	case a.verts == nil:
		return b.pointWithin(a.center, a.outer+d)
	case b.verts == nil:
		return a.pointWithin(b.center, b.outer+d)
	}
	return polygonsWithin(a, b, d)
}

// pointWithin reports whether p is within r of the polygon s.
func (s *shape) pointWithin(p s2.Point, r s1.Angle) bool {
	return s.contains(p) || s.edgeWithin(p, r)
}

// edgeWithin reports whether an edge of the polygon s is within r of p.
func (s *shape) edgeWithin(p s2.Point, r s1.Angle) bool {
	return s.edgeWithinChord(p, chord(r).Successor())
}

// edgeWithinChord reports whether an edge of the polygon is less than limit
// from p.
func (s *shape) edgeWithinChord(p s2.Point, limit s1.ChordAngle) bool {
	for i := range s.verts {
		if s2.IsDistanceLess(p, s.verts[i], s.vertex(i+1), limit) {
			return true
		}
	}
	return false
}

// polygonsWithin reports whether polygons a and b are at most d apart.
func polygonsWithin(a, b *shape, d s1.Angle) bool {
	if a.contains(b.verts[0]) || b.contains(a.verts[0]) {
		return true
	}
	// Only edges that come within d of the other's bounding cap can cross
	// it or come within d of it.
	var bufA, bufB [16]int
	nearA := a.edgesNear(b.center, b.outer+d, bufA[:0])
	if len(nearA) == 0 {
		return false
	}
	nearB := b.edgesNear(a.center, a.outer+d, bufB[:0])
	if len(nearB) == 0 {
		return false
	}
	for _, i := range nearA {
		a0, a1 := a.verts[i], a.vertex(i+1)
		for _, j := range nearB {
			if crossingSign(a0, a1, b.verts[j], b.vertex(j+1)) != s2.DoNotCross {
				return true
			}
		}
	}
	// The boundaries do not cross and neither polygon holds the other, so
	// the distance is attained between a vertex of one and an edge of the
	// other.
	limit := chord(d).Successor()
	return edgesWithin(a, nearA, b, nearB, limit) || edgesWithin(b, nearB, a, nearA, limit)
}

// edgesNear appends the indexes of the edges of s within r of p.
func (s *shape) edgesNear(p s2.Point, r s1.Angle, out []int) []int {
	limit := chord(r).Successor()
	for i := range s.verts {
		if s2.IsDistanceLess(p, s.verts[i], s.vertex(i+1), limit) {
			out = append(out, i)
		}
	}
	return out
}

// edgesWithin reports whether a vertex of a's edges in ea is within limit
// of one of b's edges in eb.
func edgesWithin(a *shape, ea []int, b *shape, eb []int, limit s1.ChordAngle) bool {
	for _, i := range ea {
		x := a.verts[i]
		for _, j := range eb {
			if s2.IsDistanceLess(x, b.verts[j], b.vertex(j+1), limit) {
				return true
			}
		}
		x = a.vertex(i + 1)
		for _, j := range eb {
			if s2.IsDistanceLess(x, b.verts[j], b.vertex(j+1), limit) {
				return true
			}
		}
	}
	return false
}

// distance computes the distance between two footprints the plain way,
// with no bounds: the reference that within is tested against.
func distance(a, b *shape) s1.Angle {
	switch {
	case a.verts == nil && b.verts == nil:
		return max(0, a.center.Distance(b.center)-a.outer-b.outer)
	case a.verts == nil:
		return max(0, b.pointDistance(a.center)-a.outer)
	case b.verts == nil:
		return max(0, a.pointDistance(b.center)-b.outer)
	}
	if a.contains(b.verts[0]) || b.contains(a.verts[0]) {
		return 0
	}
	best := s1.StraightChordAngle
	for i := range a.verts {
		for j := range b.verts {
			if s2.CrossingSign(a.verts[i], a.vertex(i+1), b.verts[j], b.vertex(j+1)) != s2.DoNotCross {
				return 0
			}
			best, _ = s2.UpdateMinDistance(a.verts[i], b.verts[j], b.vertex(j+1), best)
			best, _ = s2.UpdateMinDistance(b.verts[j], a.verts[i], a.vertex(i+1), best)
		}
	}
	return best.Angle()
}

// pointDistance is the distance from p to the polygon (0 inside).
func (s *shape) pointDistance(p s2.Point) s1.Angle {
	if s.contains(p) {
		return 0
	}
	best := s1.StraightChordAngle
	for i := range s.verts {
		best, _ = s2.UpdateMinDistance(p, s.verts[i], s.vertex(i+1), best)
	}
	return best.Angle()
}
