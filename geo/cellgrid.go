package geo

import (
	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// S2 cells of one level as (face, i, j): the cell's column and row among
// the 2^level × 2^level cells of its cube face. The overlap flood fill
// steps between neighbours in these coordinates, and turns a cell into its
// s2.CellID (along the Hilbert curve) only for the cells it keeps:
// s2.CellID.EdgeNeighbors, which decodes and encodes the curve for every
// step, took half the time of a filing's overlaps.

// gridCell is a cell of the fill's level.
type gridCell struct {
	face, i, j int
}

// The Hilbert curve of S2 (see the S2 documentation): within a square of
// orientation o, the curve visits its four quadrants, numbered (i<<1)|j,
// in the order hilbertIJ[o]; entering the quadrant at position pos flips
// the orientation by hilbertFlip[pos]. Orientation bit 1 swaps i and j,
// bit 2 inverts both. Each face starts with orientation face&1.
var (
	hilbertIJ   = [4][4]int{{0, 1, 3, 2}, {0, 2, 3, 1}, {3, 2, 0, 1}, {3, 1, 0, 2}}
	hilbertPos  [4][4]int // the inverse: hilbertPos[o][ij] = pos
	hilbertFlip = [4]int{1, 0, 0, 3}
)

func init() {
	for o, order := range hilbertIJ {
		for pos, ij := range order {
			hilbertPos[o][ij] = pos
		}
	}
}

// gridCellOf returns id's face, i and j at its level.
func gridCellOf(id s2.CellID) gridCell {
	face := id.Face()
	o := face & 1
	i, j := 0, 0
	for k := range id.Level() {
		pos := int(uint64(id)>>(59-2*k)) & 3
		ij := hilbertIJ[o][pos]
		i, j = i<<1|ij>>1, j<<1|ij&1
		o ^= hilbertFlip[pos]
	}
	return gridCell{face, i, j}
}

// hilbertPos4[o<<8|i<<4|j] is, for 4-bit i and j within a square of
// orientation o, the 8 bits of Hilbert positions of the four levels they
// span, and the orientation after them (in the low 2 bits): id's steps,
// four levels at a time.
var hilbertPos4 [4 << 8]uint16

func init() {
	for o := range 4 {
		for ij := range 256 {
			i, j := ij>>4, ij&15
			pos, oo := 0, o
			for b := 3; b >= 0; b-- {
				p := hilbertPos[oo][(i>>b&1)<<1|j>>b&1]
				pos = pos<<2 | p
				oo ^= hilbertFlip[p]
			}
			hilbertPos4[o<<8|ij] = uint16(pos<<2 | oo)
		}
	}
}

// id returns the cell's s2.CellID at level.
func (c gridCell) id(level int) s2.CellID {
	id := uint64(c.face) << 61
	o := c.face & 1
	k := 0
	for ; k < level%4; k++ {
		b := level - 1 - k
		pos := hilbertPos[o][(c.i>>b&1)<<1|c.j>>b&1]
		id |= uint64(pos) << (59 - 2*k)
		o ^= hilbertFlip[pos]
	}
	for ; k < level; k += 4 {
		b := level - 4 - k
		x := hilbertPos4[o<<8|(c.i>>b&15)<<4|c.j>>b&15]
		id |= uint64(x>>2) << (53 - 2*k)
		o = int(x & 3)
	}
	return s2.CellID(id | 1<<(60-2*level))
}

// neighbour returns the cell's k-th edge neighbour in the order of
// s2.CellID.EdgeNeighbors (j-1, i+1, j+1, i-1), across a face edge by s2.
func (c gridCell) neighbour(k, level int) gridCell {
	n := c
	switch k {
	case 0:
		n.j--
	case 1:
		n.i++
	case 2:
		n.j++
	default:
		n.i--
	}
	if size := 1 << level; n.i < 0 || n.j < 0 || n.i >= size || n.j >= size {
		return gridCellOf(c.id(level).EdgeNeighbors()[k])
	}
	return n
}

// key is a non-zero number for the cell, for the fill's visited set.
func (c gridCell) key() uint64 { return uint64(c.face)<<61 | uint64(c.i)<<31 | uint64(c.j)<<1 | 1 }

// center returns the cell's centre, as s2.CellID.Point does.
func (c gridCell) center(level int) s2.Point {
	const scale = 0.5 / (1 << 30) // s2's si/ti units to s, t
	shift := 30 - level
	s := scale * float64((2*c.i+1)<<shift)
	t := scale * float64((2*c.j+1)<<shift)
	return s2.Point{Vector: faceUV(c.face, stToUV(s), stToUV(t)).Normalize()}
}

// reach returns the largest distance from the cell's centre to a point of
// the cell: to one of its vertices, the cell being convex.
func (c gridCell) reach(center s2.Point, level int) s1.Angle {
	return c.reachChord(center, level).Angle() + reachRounding
}

// reachRounding bounds the rounding of a cell's reach: the chord is exact
// to about 1e-15, a nanometre.
const reachRounding s1.Angle = 1e-14

// reachChord is the chord angle of reach, before its rounding margin.
func (c gridCell) reachChord(center s2.Point, level int) s1.ChordAngle {
	const scale = 1.0 / (1 << 30)
	shift := 30 - level
	u0, u1 := stToUV(scale*float64(c.i<<shift)), stToUV(scale*float64((c.i+1)<<shift))
	v0, v1 := stToUV(scale*float64(c.j<<shift)), stToUV(scale*float64((c.j+1)<<shift))
	var far s1.ChordAngle
	for _, uv := range [4][2]float64{{u0, v0}, {u1, v0}, {u1, v1}, {u0, v1}} {
		p := s2.Point{Vector: faceUV(c.face, uv[0], uv[1]).Normalize()}
		far = max(far, chordBetween(center, p))
	}
	return far
}

// stToUV is S2's quadratic projection from cell coordinates to the cube
// face.
func stToUV(s float64) float64 {
	if s >= 0.5 {
		return (1 / 3.) * (4*s*s - 1)
	}
	return (1 / 3.) * (1 - 4*(1-s)*(1-s))
}

// faceUV is the point (u, v) of a cube face (not normalised), with S2's
// axes.
func faceUV(face int, u, v float64) r3.Vector {
	switch face {
	case 0:
		return r3.Vector{X: 1, Y: u, Z: v}
	case 1:
		return r3.Vector{X: -u, Y: 1, Z: v}
	case 2:
		return r3.Vector{X: -u, Y: -v, Z: 1}
	case 3:
		return r3.Vector{X: -1, Y: -v, Z: -u}
	case 4:
		return r3.Vector{X: v, Y: -1, Z: -u}
	default:
		return r3.Vector{X: v, Y: u, Z: -1}
	}
}
