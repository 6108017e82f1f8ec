package index

import (
	"math"

	"github.com/golang/geo/s2"
)

// The grid. The sphere is projected from its centre onto the six faces of
// the cube [-1, 1]³ (gnomonic projection). On face f the axis a = f mod 3
// points out of the face (w = p[a], or -p[a] for f >= 3) and the other two
// give the face coordinates u = p[(a+1) mod 3] / w and v = p[(a+2) mod 3] /
// w, both in [-1, 1] on the face. These are mapped to s and t in [0, 1] by
// S2's quadratic transform, which makes cells of one level closer in size,
// and a cell of level L is a square of side 2^-L in (s, t): on each face,
// 2^L × 2^L cells, about 10,000 km / 2^L wide.
//
// A cap's box on a face is the rectangle of (s, t) that holds the part of
// the cap on that face: its u-range is exactly the set of u for which the
// great circle u·w = p[(a+1) mod 3] meets the cap, and the same for v.
// Every point of a cap lies in its box on every face whose closed region
// holds that point, so two caps that share a point share a cell of every
// level (the cell of that point on such a face), whatever else their boxes
// hold.

// faceBox is the box of a cap on one face.
type faceBox struct {
	face           int
	sLo, sHi       float64
	tLo, tHi       float64
	i0, i1, j0, j1 int // cells at the box's level (set by atLevel)
}

// faceRadius is the angle from a face's centre to its corners: every point
// of the face's region lies within it.
var faceRadius = math.Acos(1 / math.Sqrt(3))

// capBoxes appends the boxes of the cap (centre c, radius r radians) on
// every face it reaches.
func capBoxes(c s2.Point, r float64, out []faceBox) []faceBox {
	comp := [3]float64{c.X, c.Y, c.Z}
	reach := math.Cos(min(math.Pi, r+faceRadius+1e-9))
	sr := math.Sin(min(r, math.Pi/2))
	for f := range 6 {
		a, sign := f%3, 1.0
		if f >= 3 {
			sign = -1
		}
		cw := sign * comp[a]
		if cw < reach {
			continue // the face's region is farther than r
		}
		cu, cv := comp[(a+1)%3], comp[(a+2)%3]
		uLo, uHi, vLo, vHi := -1.0, 1.0, -1.0, 1.0
		if d := cw*cw - sr*sr; r < math.Pi/2 && cw > sr && d > minHorizonGap {
			// The cap lies in the half-space w > 0: its u-range ends where
			// the great circle u·w = p[u] is at distance r from c, the roots
			// of (cu - u·cw)² = sin²r·(1 + u²). Nearer the horizon than
			// minHorizonGap, the whole face bounds it.
			uLo, uHi = rootsAround(cu, cw, sr, d)
			vLo, vHi = rootsAround(cv, cw, sr, d)
		}
		if uLo > 1 || uHi < -1 || vLo > 1 || vHi < -1 {
			continue
		}
		out = append(out, faceBox{
			face: f,
			sLo:  uvToST(max(-1, uLo)), sHi: uvToST(min(1, uHi)),
			tLo: uvToST(max(-1, vLo)), tHi: uvToST(min(1, vHi)),
		})
	}
	return out
}

// rootsAround solves (cx - u·cw)² = s²·(1 + u²) for u, given d = cw² - s²
// > minHorizonGap, and widens the interval by a hair for rounding. The
// quadratic d·u² - 2·cx·cw·u + cx² - s² = 0 is solved without
// cancellation: the root away from zero from the sum of like signs, the
// other from the product of the roots (near the horizon the textbook
// formula loses all precision in the root near the face).
func rootsAround(cx, cw, s, d float64) (lo, hi float64) {
	b := cx * cw
	q := b + math.Copysign(s*math.Sqrt(max(0, cx*cx+d)), b)
	lo, hi = q/d, (cx*cx-s*s)/q
	if lo > hi {
		lo, hi = hi, lo
	}
	const hair = 1e-12
	return lo - hair*(1+math.Abs(lo)), hi + hair*(1+math.Abs(hi))
}

// minHorizonGap is the least cw² - sin²r for which a cap's box on a face is
// computed (else it is the whole face): the computed gap is then far above
// its rounding error (about 1e-16), so the cap surely lies in the face's
// half-space and the box's ends keep their precision.
const minHorizonGap = 1e-9

// uvToST is S2's quadratic transform from face coordinate u in [-1, 1] to
// s in [0, 1]; it is increasing.
func uvToST(u float64) float64 {
	if u >= 0 {
		return 0.5 * math.Sqrt(1+3*u)
	}
	return 1 - 0.5*math.Sqrt(1-3*u)
}

// atLevel sets the box's cell ranges at level l.
func (b *faceBox) atLevel(l int) {
	n := float64(int(1) << l)
	last := int(1)<<l - 1
	b.i0, b.i1 = min(last, int(b.sLo*n)), min(last, int(b.sHi*n))
	b.j0, b.j1 = min(last, int(b.tLo*n)), min(last, int(b.tHi*n))
}

// cellCount is how many cells the boxes hold at their level.
func cellCount(boxes []faceBox) int {
	n := 0
	for i := range boxes {
		b := &boxes[i]
		n += (b.i1 - b.i0 + 1) * (b.j1 - b.j0 + 1)
	}
	return n
}

// cellKey names the cell (i, j) of level l on face f; keys of one level and
// face sort by i, then j.
func cellKey(l, f, i, j int) uint64 {
	return uint64(l)<<58 | uint64(f)<<55 | uint64(i)<<27 | uint64(j)
}

// MaxGridLevel is the finest level of the grid (cells of about 15 cm).
const MaxGridLevel = 26
