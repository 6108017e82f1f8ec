package index

import "github.com/deconflict/deconflict/geo"

// Bulk fills an index with many volumes: a restore.
type Bulk struct {
	x *Index
}

// Bulk starts a bulk fill of x with about n volumes (a hint).
func (x *Index) Bulk(n int) *Bulk {
	if x.n == 0 {
		x.vols = make([]*geo.Volume, 0, n)
		x.stamp = make([]uint32, 0, n)
	}
	return &Bulk{x: x}
}

// Add stores v and returns its ref, as Insert.
func (bk *Bulk) Add(v *geo.Volume) Ref { return bk.x.Insert(v) }

// Finish ends the fill; the index is then ready.
func (bk *Bulk) Finish() {}

// InsertAll stores vols as Insert would one after the other, and returns
// their refs.
func (x *Index) InsertAll(vols []*geo.Volume) []Ref {
	bk := x.Bulk(len(vols))
	refs := make([]Ref, len(vols))
	for i, v := range vols {
		refs[i] = bk.Add(v)
	}
	bk.Finish()
	return refs
}
