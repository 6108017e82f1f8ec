package geo_test

import (
	"os"
	"testing"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/workload"
)

// BenchmarkOverlapCells computes the overlap cells of conflicting volume
// pairs of the first 2,000 intents of the shared workload (if present at
// $DECONFLICT_WORKLOAD), as the server does for every conflict it shows.
func BenchmarkOverlapCells(b *testing.B) {
	path := os.Getenv("DECONFLICT_WORKLOAD")
	if path == "" {
		b.Skip("set DECONFLICT_WORKLOAD to a shared workload file")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	its, err := workload.Read(f, geo.Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var vols []*geo.Volume
	for _, it := range its[:min(len(its), 3000)] {
		vols = append(vols, it.Volumes...)
	}
	var pairs [][2]*geo.Volume
	for i, a := range vols {
		for _, c := range vols[:i] {
			if geo.Conflict(a, c, geo.Separation{}) {
				pairs = append(pairs, [2]*geo.Volume{a, c})
			}
		}
	}
	if len(pairs) == 0 {
		b.Fatal("no conflicting pairs")
	}
	cells := 0
	for i := 0; b.Loop(); i++ {
		p := pairs[i%len(pairs)]
		out, _ := geo.OverlapCells(p[0], p[1], 0, 13, 64)
		cells += len(out)
	}
	b.ReportMetric(float64(cells)/float64(b.N), "cells/op")
}
