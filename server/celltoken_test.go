package server

import (
	"math/rand/v2"
	"testing"

	"github.com/golang/geo/s2"
)

func TestCellTokenMatchesS2(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	for i := range 20_000 {
		cells := make([]s2.CellID, r.IntN(70))
		for k := range cells {
			cells[k] = s2.CellIDFromFacePosLevel(r.IntN(6), r.Uint64(), r.IntN(31))
			if r.IntN(100) == 0 {
				cells[k] = 0
			}
		}
		got := cellTokens(cells)
		if len(got) != len(cells) {
			t.Fatalf("case %d: %d tokens for %d cells", i, len(got), len(cells))
		}
		for k, c := range cells {
			if want := c.ToToken(); got[k] != want {
				t.Fatalf("case %d: token %d of cell %d = %q, ToToken %q", i, k, uint64(c), got[k], want)
			}
		}
	}
}
