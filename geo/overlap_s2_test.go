package geo

import (
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// The overlap cells as computed before the flood fill moved to (face, i,
// j) coordinates (cellgrid.go), through s2.CellID.EdgeNeighbors and
// s2.Cell.CapBound: the oracle of TestOverlapCellsMatchS2.

func overlapCellsS2(a, b *Volume, sep Meters, level, maxCells int) ([]s2.CellID, int) {
	// Where the footprints come within sep of each other lies in both
	// bounding caps widened by sep: a lens (connected, as any intersection
	// of two caps), so the cells near it are edge-connected and a flood
	// fill from a point inside finds them all. It is often much smaller
	// than either cap.
	c1, c2 := a.Bound(sep), b.Bound(sep)
	r1, r2 := c1.Radius(), c2.Radius()
	d := c1.Center().Distance(c2.Center())
	lo, hi := max(0, d-r2), min(r1, d+r2) // the lens along the line of centres, from c1
	if lo > hi {
		return nil, level
	}
	start := c1.Center()
	if d > 0 {
		start = s2.InterpolateAtDistance((lo+hi)/2, c1.Center(), c2.Center())
	}
	// Start at the finest level whose cells, counted roughly (the lens's
	// area grown by most of a cell's width, over a cell's average area),
	// number at most maxCells: one flood fill instead of a failed one per
	// finer level.
	r := lensRadius(float64(r1), float64(r2), float64(d), float64(hi-lo))
	for ; level > 1; level-- {
		w := math.Sqrt(s2.AvgAreaMetric.Value(level))
		if n := math.Pi * (r + 0.75*w) * (r + 0.75*w) / (w * w); n <= float64(maxCells) {
			break
		}
	}
	for ; level > 0; level-- {
		cov, ok := lensCellsS2(c1, c2, start, level, maxCells)
		if !ok {
			continue
		}
		out := cov[:0]
		for _, id := range cov {
			// The cell lies within reach of its centre: its bounding cap
			// is centred elsewhere (found by review: corners were missed).
			c := s2.CellFromCellID(id)
			center, bound := c.Center(), c.CapBound()
			reach := bound.Radius() + center.Distance(bound.Center()) + sep.Angle()
			if a.shape.footprintWithin(center, reach) && b.shape.footprintWithin(center, reach) {
				out = append(out, id)
			}
		}
		return out, level
	}
	return nil, 0
}

func lensCellsS2(c1, c2 s2.Cap, start s2.Point, level, max int) (cells []s2.CellID, ok bool) {
	// A cap that reaches round the sphere (a polygon whose vertices are
	// not all within 90° of their centroid has the full cap as its bound)
	// constrains nothing.
	half := s1.Angle(s2.MaxDiagMetric.Value(level) / 2)
	near1 := s1.ChordAngleFromAngle(min(math.Pi, c1.Radius()+half))
	near2 := s1.ChordAngleFromAngle(min(math.Pi, c2.Radius()+half))
	p1, p2 := c1.Center(), c2.Center()
	cells = make([]s2.CellID, 1, max+1)
	cells[0] = s2.CellFromPoint(start).ID().Parent(level)
	seen := map[s2.CellID]bool{cells[0]: true}
	for i := 0; i < len(cells); i++ {
		for _, n := range cells[i].EdgeNeighbors() {
			if seen[n] {
				continue
			}
			seen[n] = true
			q := n.Point()
			if s2.ChordAngleBetweenPoints(p1, q) > near1 || s2.ChordAngleBetweenPoints(p2, q) > near2 {
				continue
			}
			if len(cells) == max {
				return nil, false
			}
			cells = append(cells, n)
		}
	}
	return cells, true
}
