package index

import (
	"runtime"
	"slices"
	"sync"

	"github.com/deconflict/deconflict/geo"
	"github.com/golang/geo/s2"
)

// Bulk fills an index with many volumes faster than Insert one by one: a
// restore. Inserting appends each posting to the tail of a list somewhere
// in memory, growing lists as it goes; Bulk notes each posting's list,
// counts them, and at Finish fills each list at its final size in one go.
// The index is the same as Insert would have built. Until Finish the index
// must not be used.
type Bulk struct {
	x     *Index
	empty bool // else Add just inserts

	byCell map[s2.CellID]*cellLists
	keys   []listKey
	counts []uint32
	// recs[i] is the list of the i-th posting, in insertion order, and
	// owner[i] the ref of its volume.
	recs  []uint32
	owner []Ref
}

type listKey struct {
	cell s2.CellID
	kind int
	b    int64
}

// cellLists are the lists of a cell: found by a map on the cell (a fast
// 64-bit key) then a scan of its few (kind, bucket) pairs.
type cellLists struct {
	kind []int
	b    []int64
	id   []uint32
}

// Bulk starts a bulk fill of x with about n volumes (a hint). If x is not
// empty, Add inserts at once.
func (x *Index) Bulk(n int) *Bulk {
	bk := &Bulk{x: x, empty: x.n == 0 && len(x.free) == 0, byCell: make(map[s2.CellID]*cellLists)}
	if bk.empty {
		// About 9 postings per volume on the shared workload.
		bk.recs, bk.owner = make([]uint32, 0, 10*n), make([]Ref, 0, 10*n)
		x.vols = slices.Grow(x.vols, n)
	}
	return bk
}

// Add stores v and returns its ref, as Insert.
func (bk *Bulk) Add(v *geo.Volume) Ref {
	x := bk.x
	if !bk.empty {
		return x.Insert(v)
	}
	r := Ref(len(x.vols))
	x.vols = append(x.vols, v)
	x.n++
	x.eachTerm(v, func(c s2.CellID, kind int, b int64) {
		cl := bk.byCell[c]
		if cl == nil {
			cl = &cellLists{}
			bk.byCell[c] = cl
		}
		j := len(cl.id) - 1
		for ; j >= 0 && (cl.b[j] != b || cl.kind[j] != kind); j-- {
		}
		if j < 0 {
			cl.kind, cl.b, cl.id = append(cl.kind, kind), append(cl.b, b), append(cl.id, uint32(len(bk.keys)))
			bk.keys = append(bk.keys, listKey{c, kind, b})
			bk.counts = append(bk.counts, 0)
			j = len(cl.id) - 1
		}
		id := cl.id[j]
		bk.counts[id]++
		bk.recs = append(bk.recs, id)
		bk.owner = append(bk.owner, r)
	}, +1)
	return r
}

// Finish fills the lists; the index is then ready.
func (bk *Bulk) Finish() {
	x := bk.x
	if !bk.empty {
		return
	}
	x.stamp = append(x.stamp, make([]uint32, len(x.vols)-len(x.stamp))...)
	postings := make([]posting, len(x.vols))
	for i, v := range x.vols {
		postings[i] = makePosting(Ref(i), v)
	}
	// Order the postings' volumes by list (a counting sort, stable, so
	// each list keeps insertion order), then fill each list in turn.
	start := make([]uint32, len(bk.keys)+1)
	for id, n := range bk.counts {
		start[id+1] = start[id] + n
	}
	next := slices.Clone(start[:len(bk.keys)])
	order := make([]Ref, len(bk.recs))
	for i, id := range bk.recs {
		order[next[id]] = bk.owner[i]
		next[id]++
	}
	// Filling touches every page of the lists for the first time: on
	// every core.
	lists := make([][]posting, len(bk.keys))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := w; id < len(lists); id += workers {
				list := make([]posting, start[id+1]-start[id])
				for j, r := range order[start[id]:start[id+1]] {
					list[j] = postings[r]
				}
				lists[id] = list
			}
		}()
	}
	wg.Wait()
	for id, k := range bk.keys {
		e := x.cells[k.cell]
		if e == nil {
			e = &cell{}
			x.cells[k.cell] = e
		}
		e.kinds[k.kind] = append(e.kinds[k.kind], bucket{b: k.b, postings: lists[id]})
	}
	for _, e := range x.cells {
		for kind := range e.kinds {
			slices.SortFunc(e.kinds[kind], func(a, b bucket) int { return cmpBucket(a, b.b) })
		}
	}
	*bk = Bulk{x: x}
}

// InsertAll stores vols as Insert would one after the other, and returns
// their refs; into an empty index, by a Bulk.
func (x *Index) InsertAll(vols []*geo.Volume) []Ref {
	bk := x.Bulk(len(vols))
	refs := make([]Ref, len(vols))
	for i, v := range vols {
		refs[i] = bk.Add(v)
	}
	bk.Finish()
	return refs
}
