package geo

import (
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// footprintDistance is the distance from p to the footprint (0 inside).
func (s *shape) footprintDistance(p s2.Point) s1.Angle {
	if s.verts == nil {
		return max(0, s.center.Distance(p)-s.outer)
	}
	return s.pointDistance(p)
}

// OverlapCells returns S2 cells that cover where the footprints of a and
// b come within sep of each other: the coarse picture of a conflict that
// can be shown to a party without showing either footprint. Cells are at
// level (or coarser, down to level 0, so that there are at most maxCells)
// and the level used is returned. A cell is kept if it comes within sep of
// both footprints; the result covers the overlap, and may reach a cell
// beyond it.
func OverlapCells(a, b *Volume, sep Meters, level, maxCells int) ([]s2.CellID, int) {
	small := a
	if b.shape.outer < a.shape.outer {
		small = b
	}
	region := small.Bound(sep)
	// Start at the finest level whose average cell is no smaller than the
	// region's area shared among maxCells/4 cells (coverings need a few
	// more cells than that): far fewer tries than from level down.
	if est := s2.AvgAreaMetric.MinLevel(region.Area() / float64(max(1, maxCells/4))); est < level {
		level = max(est, 1)
	}
	for ; level > 0; level-- {
		// A flood fill at one level: much cheaper than a RegionCoverer.
		cov := s2.SimpleRegionCovering(region, region.Center(), level)
		if len(cov) > maxCells {
			continue
		}
		var out []s2.CellID
		for _, id := range cov {
			if id.Level() != level {
				continue
			}
			c := s2.CellFromCellID(id)
			center, radius := c.Center(), c.CapBound().Radius()
			if a.shape.footprintDistance(center) <= radius+sep.Angle() && b.shape.footprintDistance(center) <= radius+sep.Angle() {
				out = append(out, id)
			}
		}
		return out, level
	}
	return nil, 0
}
