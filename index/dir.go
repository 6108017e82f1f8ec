package index

import (
	"slices"
)

// directory is the set of cells that hold lists, sorted by key, so that a
// query whose boxes hold many cells of a finer level than its own visits
// only those that hold postings.
type directory struct {
	count  map[uint64]int32 // lists per cell
	sorted []uint64         // sorted; may hold cells emptied since
	recent []uint64         // cells added since the last merge, unsorted
}

func newDirectory() directory { return directory{count: make(map[uint64]int32)} }

// addList notes a new list of cell.
func (d *directory) addList(cell uint64) {
	n := d.count[cell]
	d.count[cell] = n + 1
	if n > 0 {
		return
	}
	d.recent = append(d.recent, cell)
	if len(d.recent) > 64+len(d.sorted)/8 {
		d.merge()
	}
}

// removeList notes that a list of cell is gone.
func (d *directory) removeList(cell uint64) {
	if n := d.count[cell] - 1; n > 0 {
		d.count[cell] = n
	} else {
		delete(d.count, cell)
	}
}

// merge sorts the recent cells into the sorted ones and drops the cells
// that hold no list any more: amortized, a constant per cell added.
func (d *directory) merge() {
	all := append(d.sorted, d.recent...)
	slices.Sort(all)
	all = slices.Compact(all)
	d.sorted = slices.DeleteFunc(all, func(c uint64) bool { return d.count[c] == 0 })
	d.recent = d.recent[:0]
}

// each calls fn with every cell of the boxes (at level l) that holds lists,
// with the index of its box; a cell may come more than once.
func (d *directory) each(l int, boxes []faceBox, fn func(box, i, j int)) {
	for bi := range boxes {
		b := &boxes[bi]
		// The cells of rows i0..i1 are contiguous: scan them all if there
		// are not many more than the rows, else look each row up.
		lo, _ := slices.BinarySearch(d.sorted, cellKey(l, b.face, b.i0, b.j0))
		hi, _ := slices.BinarySearch(d.sorted, cellKey(l, b.face, b.i1, b.j1)+1)
		if rows := b.i1 - b.i0 + 1; hi-lo <= 8*rows {
			for _, c := range d.sorted[lo:hi] {
				if i, j := cellIJ(c); j >= b.j0 && j <= b.j1 {
					fn(bi, i, j)
				}
			}
		} else {
			for i := b.i0; i <= b.i1; i++ {
				lo, hi := cellKey(l, b.face, i, b.j0), cellKey(l, b.face, i, b.j1)
				k, _ := slices.BinarySearch(d.sorted, lo)
				for ; k < len(d.sorted) && d.sorted[k] <= hi; k++ {
					fn(bi, i, int(d.sorted[k]&(1<<27-1)))
				}
			}
		}
		for _, c := range d.recent {
			i, j := cellIJ(c)
			if c>>55 == uint64(l)<<3|uint64(b.face) && i >= b.i0 && i <= b.i1 && j >= b.j0 && j <= b.j1 {
				fn(bi, i, j)
			}
		}
	}
}

// cellIJ returns the i and j of a cellKey.
func cellIJ(c uint64) (i, j int) { return int(c >> 27 & (1<<28 - 1)), int(c & (1<<27 - 1)) }
