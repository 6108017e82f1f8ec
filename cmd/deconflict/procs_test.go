package main

import (
	"runtime"
	"testing"
)

func TestProcsFor(t *testing.T) {
	for _, tc := range []struct {
		env           string
		current, want int
	}{
		{"", 1, 1 + spareProcs},
		{"", 2, 2 + spareProcs},
		{"", 64, 64 + spareProcs},
		{"1", 1, 1}, // GOMAXPROCS=1 deconflict bench: one core, as asked
		{"3", 3, 3},
	} {
		if got := procsFor(tc.env, tc.current); got != tc.want {
			t.Errorf("procsFor(%q, %d) = %d, want %d", tc.env, tc.current, got, tc.want)
		}
	}
}

// TestTuneProcsOnce: tuneProcs raises GOMAXPROCS once, however often it
// is called.
func TestTuneProcsOnce(t *testing.T) {
	tuneProcs()
	n := runtime.GOMAXPROCS(0)
	for range 3 {
		tuneProcs()
	}
	if got := runtime.GOMAXPROCS(0); got != n {
		t.Fatalf("GOMAXPROCS %d after more calls, %d after the first", got, n)
	}
}
