package index

import (
	"math/rand/v2"
	"testing"
)

// TestTableMatchesMap: random adds and deletes, with keys crowded into few
// home slots so that probe runs are long and wrap around, leave the table
// holding exactly what a map holds.
func TestTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	type key struct {
		cell uint64
		b    int64
	}
	tab := newTable()
	want := map[key]int{}
	for step := range 200_000 {
		k := key{cellKey(r.IntN(3), r.IntN(6), r.IntN(40), r.IntN(40)), int64(r.IntN(30)) - 15}
		if r.IntN(3) == 0 {
			tab.delete(k.cell, k.b)
			delete(want, k)
		} else {
			l, created := tab.add(k.cell, k.b)
			if _, had := want[k]; created == had {
				t.Fatalf("step %d: add %v created %v, map had it: %v", step, k, created, had)
			}
			l.keys = append(l.keys, uint64(step))
			want[k] = step
		}
		if step%20_000 == 0 || step == 199_999 {
			if tab.n != len(want) {
				t.Fatalf("step %d: table holds %d, map %d", step, tab.n, len(want))
			}
			for k, v := range want {
				l := tab.get(k.cell, k.b)
				if l == nil || l.keys[len(l.keys)-1] != uint64(v) {
					t.Fatalf("step %d: %v lost or wrong", step, k)
				}
			}
		}
	}
	n := 0
	tab.each(func(cell uint64, b int64, l *list) {
		if _, ok := want[key{cell, b}]; !ok {
			t.Fatalf("table holds %x/%d, map does not", cell, b)
		}
		n++
	})
	if n != len(want) {
		t.Fatalf("each visited %d lists, want %d", n, len(want))
	}
}
