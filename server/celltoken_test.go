package server

import (
	"math/rand/v2"
	"testing"

	"github.com/golang/geo/s2"
)

func TestCellTokenMatchesS2(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	for i := range 100_000 {
		c := s2.CellIDFromFacePosLevel(r.IntN(6), r.Uint64(), r.IntN(31))
		if i == 0 {
			c = 0
		}
		if got, want := cellToken(c), c.ToToken(); got != want {
			t.Fatalf("cellToken(%d) = %q, ToToken %q", uint64(c), got, want)
		}
	}
}
