package main

import (
	"context"
	"slices"
	"sort"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/workload"
)

// bruteForceConflicts computes, for each intent, the earlier intents it
// conflicts with, by testing every pair of volumes whose windows overlap
// with geo.Conflict: no spatial index, only a sweep over start times. It is
// the oracle the engine is checked against.
func bruteForceConflicts(ctx context.Context, intents []workload.Intent, progress func(done, total int)) [][]string {
	type vol struct {
		v      *geo.Volume
		intent int
	}
	var vols []vol
	for i, it := range intents {
		for _, v := range it.Volumes {
			vols = append(vols, vol{v, i})
		}
	}
	sort.SliceStable(vols, func(a, b int) bool { return vols[a].v.StartNano() < vols[b].v.StartNano() })
	pairs := make([]map[int]bool, len(intents))
	var active []vol // volumes started earlier whose window may still overlap
	for k, q := range vols {
		if k%100_000 == 0 && progress != nil {
			if ctx.Err() != nil {
				return nil
			}
			progress(k, len(vols))
		}
		s := q.v.StartNano()
		keep := active[:0]
		for _, a := range active {
			if a.v.EndNano() > s {
				keep = append(keep, a)
			}
		}
		active = keep
		for _, a := range active {
			if a.intent == q.intent || !geo.Conflict(a.v, q.v, geo.Separation{}) {
				continue
			}
			lo, hi := min(a.intent, q.intent), max(a.intent, q.intent)
			if pairs[hi] == nil {
				pairs[hi] = map[int]bool{}
			}
			pairs[hi][lo] = true
		}
		active = append(active, q)
	}
	out := make([][]string, len(intents))
	for i, m := range pairs {
		for j := range m {
			out[i] = append(out[i], intents[j].ID)
		}
		slices.Sort(out[i])
	}
	return out
}
