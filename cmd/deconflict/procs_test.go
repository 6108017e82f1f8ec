package main

import "testing"

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
