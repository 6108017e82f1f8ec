package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// randomCell returns a cell at a random level holding a random point,
// often one near a face's edge or corner.
func randomCell(r *rand.Rand) (s2.CellID, int) {
	p := s2.PointFromCoords(r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
	if r.IntN(3) == 0 { // near a cube edge or corner: two or three equal coordinates
		x, y, z := 1-r.Float64()*1e-6, 1-r.Float64()*1e-6, r.NormFloat64()
		if r.IntN(2) == 0 {
			z = 1
		}
		p = s2.PointFromCoords(math.Copysign(x, r.Float64()-0.5), math.Copysign(y, r.Float64()-0.5), math.Copysign(z, r.Float64()-0.5))
	}
	level := r.IntN(31)
	return s2.CellFromPoint(p).ID().Parent(level), level
}

// TestGridCellMatchesS2: a cell's (face, i, j) encodes back to its id, and
// gives s2's centre (to the bit) and edge neighbours, at every level and at
// face edges and corners; reach bounds the distance from the centre to
// each vertex, and is no larger than the bound s2.Cell.CapBound gives.
func TestGridCellMatchesS2(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	edges := 0
	for range 100_000 {
		id, level := randomCell(r)
		g := gridCellOf(id)
		if got := g.id(level); got != id {
			t.Fatalf("cell %v (level %d) = %+v, which encodes to %v", id, level, g, got)
		}
		center := g.center(level)
		if center != id.Point() {
			t.Fatalf("cell %v: centre %v, s2 %v", id, center, id.Point())
		}
		for k, n := range id.EdgeNeighbors() {
			if got := g.neighbour(k, level).id(level); got != n {
				t.Fatalf("cell %v (%+v): neighbour %d is %v, s2 %v", id, g, k, got, n)
			}
		}
		if size := 1 << level; g.i == 0 || g.j == 0 || g.i == size-1 || g.j == size-1 {
			edges++
		}
		cell := s2.CellFromCellID(id)
		reach := g.reach(center, level)
		for k := range 4 {
			if d := center.Distance(cell.Vertex(k)); d > reach {
				t.Fatalf("cell %v: vertex %d is %v from the centre, reach %v", id, k, d, reach)
			}
		}
		capReach := cell.CapBound().Radius() + center.Distance(cell.CapBound().Center())
		if reach > capReach+1e-13 {
			t.Fatalf("cell %v: reach %v, above s2's bound %v", id, reach, capReach)
		}
	}
	if edges < 20_000 {
		t.Fatalf("only %d cells at a face edge: the generator is broken", edges)
	}
}

// TestOverlapCellsMatchS2: the flood fill finds the cells the fill through
// s2.CellID.EdgeNeighbors finds, in the same order; and OverlapCells keeps
// a subset of what it kept with s2.Cell.CapBound's looser reach, at the
// same level, for circles and polygons of every size, anywhere (poles,
// antimeridian, face corners), touching or not, with separations.
// overlapCase is a random pair of volumes near each other, of 6 m to 600
// km, circles or polygons, anywhere (often at a face's edge or corner),
// with a separation, level and cell budget for OverlapCells; ok is false
// if a volume came out invalid.
func overlapCase(r *rand.Rand) (a, b *Volume, sep Meters, level, maxCells int, ok bool) {
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	vol := func(c s2.Point, size float64) *Volume {
		spec := VolumeSpec{AltLoM: 0, AltHiM: 100, Start: t0, End: t0.Add(time.Hour)}
		ll := LatLngFromPoint(c)
		if r.IntN(2) == 0 {
			spec.Circle = &CircleSpec{Lat: ll.Lat, Lng: ll.Lng, RadiusM: max(MinRadius, min(MaxRadius, Meters(size*float64(EarthRadius))))}
		} else {
			k := 3 + r.IntN(6)
			for i := range k {
				q := LatLngFromPoint(destinationPoint(c, 2*math.Pi*float64(i)/float64(k), size*(0.5+0.5*r.Float64())))
				spec.Polygon = append(spec.Polygon, [2]Degrees{q.Lat, q.Lng})
			}
		}
		v, err := NewVolume(spec, NoLimits)
		if err != nil {
			return nil
		}
		return v
	}
	c := s2.PointFromCoords(r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
	if r.IntN(3) == 0 {
		id, _ := randomCell(r)
		c = id.Point()
	}
	size := math.Pow(10, -6+4*r.Float64()) // radians: 6 m to 600 km
	a = vol(c, size)
	b = vol(destinationPoint(c, r.Float64()*2*math.Pi, size*2*r.Float64()), size*math.Pow(10, r.Float64()*2-1))
	sep = Meters([]float64{0, 0, 10, 1000}[r.IntN(4)])
	level, maxCells = 5+r.IntN(12), []int{16, 64, 256}[r.IntN(3)]
	return a, b, sep, level, maxCells, a != nil && b != nil
}

// eachOverlapCase calls check on random overlapCase cases; check returns
// how many cells its case kept. It fails if the generator gave too few
// cases or cells for the test to mean anything.
func eachOverlapCase(t *testing.T, seed uint64, check func(i int, a, b *Volume, sep Meters, level, maxCells int) int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	cases, cells := 0, 0
	for range 3000 {
		a, b, sep, level, maxCells, ok := overlapCase(r)
		if !ok {
			continue
		}
		cells += check(cases, a, b, sep, level, maxCells)
		cases++
	}
	if cases < 2000 || cells < 10_000 {
		t.Fatalf("%d cases with %d cells: the generator is broken", cases, cells)
	}
}

func TestOverlapCellsMatchS2(t *testing.T) {
	eachOverlapCase(t, 5, func(_ int, a, b *Volume, sep Meters, level, maxCells int) int {
		got, gotLevel := OverlapCells(a, b, sep, level, maxCells)
		want, wantLevel := overlapCellsS2(a, b, sep, level, maxCells)
		if gotLevel != wantLevel {
			t.Fatalf("level %d, s2 path %d", gotLevel, wantLevel)
		}
		for _, id := range got {
			if !slices.Contains(want, id) {
				t.Fatalf("cell %v kept, which the s2 path did not keep (%d vs %d cells)", id, len(got), len(want))
			}
		}
		// The fill itself, cell for cell.
		c1, c2 := a.Bound(sep), b.Bound(sep)
		start := c1.Center()
		if d := c1.Center().Distance(c2.Center()); d > 0 {
			start = s2.InterpolateAtDistance(d/2, c1.Center(), c2.Center())
		}
		fill, ok := lensCells(c1, c2, start, gotLevel, maxCells, nil)
		fillS2, okS2 := lensCellsS2(c1, c2, start, gotLevel, maxCells)
		if ok != okS2 || len(fill) != len(fillS2) {
			t.Fatalf("fill: %d cells (ok %v), s2 path %d (ok %v)", len(fill), ok, len(fillS2), okS2)
		}
		for i := range fill {
			if fill[i].id(gotLevel) != fillS2[i] {
				t.Fatalf("fill cell %d: %v, s2 path %v", i, fill[i].id(gotLevel), fillS2[i])
			}
		}
		return len(got)
	})
}

// TestOverlapCellsExactReach: OverlapCells, which computes a cell's reach
// only where its bounds do not decide, keeps exactly the cells that the
// exact reach and footprintWithin keep, in the same order.
func TestOverlapCellsExactReach(t *testing.T) {
	eachOverlapCase(t, 7, func(i int, a, b *Volume, sep Meters, level, maxCells int) int {
		got, gotLevel := OverlapCells(a, b, sep, level, maxCells)
		c1, c2 := a.Bound(sep), b.Bound(sep)
		var fill []lensCell
		if ln := lensOf(c1, c2); ln.meet { // as OverlapCells starts
			fill, _ = lensCells(c1, c2, ln.start, gotLevel, maxCells, nil)
		}
		var want []s2.CellID
		for _, c := range fill {
			reach := c.reach(c.p, gotLevel) + sep.Angle()
			if a.shape.footprintWithin(c.p, reach) && b.shape.footprintWithin(c.p, reach) {
				want = append(want, c.id(gotLevel))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: %d cells, with the exact reach %d:\n%v\n%v", i, len(got), len(want), got, want)
		}
		return len(got)
	})
}

// TestReachBounds: every cell's reach lies within the bounds of its level,
// at every level and at face edges and corners.
func TestReachBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 200_000 {
		id, level := randomCell(r)
		c := gridCellOf(id)
		b := reachBoundsAt(level, 0)
		if reach := c.reach(c.center(level), level); reach < b.lo || reach > b.hi {
			t.Fatalf("cell %v (level %d): reach %v outside [%v, %v]", id, level, reach, b.lo, b.hi)
		}
	}
}

// TestChordHelpersMatchS2: chordBetween and chordAdd give exactly s2's
// values, on random points (antipodal and equal ones too) and on chord
// angles from zero to straight.
func TestChordHelpersMatchS2(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pt := func() s2.Point { return s2.PointFromCoords(r.NormFloat64(), r.NormFloat64(), r.NormFloat64()) }
	chords := []s1.ChordAngle{0, 1e-300, 1e-20, 1e-12, 1, 2, 3.999999999, 4, s1.ChordAngle(math.Nextafter(4, 0))}
	for range 20000 {
		p, q := pt(), pt()
		switch r.IntN(4) {
		case 0:
			q = p
		case 1:
			q = s2.Point{Vector: p.Mul(-1)}
		}
		if got, want := chordBetween(p, q), s2.ChordAngleBetweenPoints(p, q); got != want {
			t.Fatalf("chordBetween(%v, %v) = %v, s2 says %v", p, q, got, want)
		}
		chords = append(chords, s2.ChordAngleBetweenPoints(p, q), s1.ChordAngle(4*r.Float64()))
	}
	for i, a := range chords {
		for _, b := range chords[max(0, i-50) : i+1] {
			for _, ab := range [][2]s1.ChordAngle{{a, b}, {b, a}} {
				if got, want := chordAdd(ab[0], ab[1]), ab[0].Add(ab[1]); got != want {
					t.Fatalf("chordAdd(%v, %v) = %v, s1 says %v", ab[0], ab[1], got, want)
				}
			}
		}
	}
}
