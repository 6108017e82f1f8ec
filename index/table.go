package index

// table maps list keys to lists: an open-addressing hash table with linear
// probing whose slots hold the lists' headers inline, one cache line each,
// so that finding a list costs one memory access where a map of pointers
// to lists costs three or four.
type table struct {
	slots []slot // len a power of two; at most half full
	n     int
}

// slot is one list and its key; 64 bytes.
type slot struct {
	cell uint64 // cellKey | used, or 0 for an empty slot
	b    int64
	list
}

// used marks a slot's cell as taken (cellKey never sets bit 63).
const used = 1 << 63

func newTable() table { return table{slots: make([]slot, 1024)} }

func (t *table) home(cell uint64, b int64) int {
	h := cell ^ uint64(b)*0x9e3779b97f4a7c15
	h *= 0xff51afd7ed558ccd
	h ^= h >> 32
	return int(h & uint64(len(t.slots)-1))
}

// get returns the list of (cell, b), or nil.
func (t *table) get(cell uint64, b int64) *list {
	c := cell | used
	mask := len(t.slots) - 1
	for i := t.home(cell, b); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.cell == c && s.b == b {
			return &s.list
		}
		if s.cell == 0 {
			return nil
		}
	}
}

// add returns the list of (cell, b), making an empty one if there is none
// (then created is true). The list is valid until the next add or delete.
func (t *table) add(cell uint64, b int64) (l *list, created bool) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	c := cell | used
	mask := len(t.slots) - 1
	for i := t.home(cell, b); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.cell == c && s.b == b {
			return &s.list, false
		}
		if s.cell == 0 {
			s.cell, s.b = c, b
			t.n++
			return &s.list, true
		}
	}
}

// delete removes the list of (cell, b), if any, moving later slots of its
// probe run back so that no lookup stops short of them.
func (t *table) delete(cell uint64, b int64) {
	c := cell | used
	mask := len(t.slots) - 1
	i := t.home(cell, b)
	for ; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.cell == 0 {
			return
		}
		if s.cell == c && s.b == b {
			break
		}
	}
	t.n--
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := &t.slots[j]
		if s.cell == 0 {
			break
		}
		// s may move to i if its home is not in (i, j] (cyclically).
		h := t.home(s.cell&^used, s.b)
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = *s
			i = j
		}
	}
	t.slots[i] = slot{}
}

func (t *table) grow() {
	old := t.slots
	t.slots = make([]slot, 2*len(old))
	mask := len(t.slots) - 1
	for k := range old {
		s := &old[k]
		if s.cell == 0 {
			continue
		}
		i := t.home(s.cell&^used, s.b)
		for t.slots[i].cell != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = *s
	}
}

// each calls fn with every list and its key.
func (t *table) each(fn func(cell uint64, b int64, l *list)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.cell != 0 {
			fn(s.cell&^used, s.b, &s.list)
		}
	}
}
