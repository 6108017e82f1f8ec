package index

import (
	"slices"

	"github.com/deconflict/deconflict/geo"
)

// Bulk is a fill of an index with many volumes (a restore): it reserves
// room for them once, then each Add is an Insert.
type Bulk struct {
	x *Index
}

// Bulk starts a fill of x with about n more volumes (a hint).
func (x *Index) Bulk(n int) *Bulk {
	x.vols = slices.Grow(x.vols, n)
	x.stamp = slices.Grow(x.stamp, n)
	return &Bulk{x: x}
}

// Add stores v and returns its ref, as Insert.
func (bk *Bulk) Add(v *geo.Volume) Ref { return bk.x.Insert(v) }

// Finish ends the fill.
func (bk *Bulk) Finish() {}

// InsertAll stores vols as Insert would one after the other, and returns
// their refs.
func (x *Index) InsertAll(vols []*geo.Volume) []Ref {
	bk := x.Bulk(len(vols))
	refs := make([]Ref, len(vols))
	for i, v := range vols {
		refs[i] = bk.Add(v)
	}
	return refs
}
