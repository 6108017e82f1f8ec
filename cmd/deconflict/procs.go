package main

import (
	"os"
	"runtime"
	"sync"
)

// Processors for the long-running commands (serve, bench). The log's
// writes and syncs (write, fdatasync) are blocking system calls: the
// goroutine in one keeps its P (Go's processor) until the runtime notices
// and hands the P on, and meanwhile goroutines that are ready to run wait
// for it. On a machine with few cores that idles a core on every sync.
// So, unless the environment sets GOMAXPROCS, the service runs with two Ps
// more than the runtime's default (the usable cores), and the OS shares
// the cores among the threads. Measured on 2 cores, over HTTP, one intent
// per request, 8 clients, in alternating runs: 100,000 intents, 2 Ps
// 2,380-2,551/s, 4 Ps 2,764-2,875/s (3 pairs, each faster with 4); 20,000
// intents, 2 Ps 2,959-3,054/s and 90% of ready goroutines waiting at most
// 390-460 µs for a P, 4 Ps 3,363-3,460/s and 230-330 µs; 6 or 8 Ps no
// better than 4. In-process with 64 writers, 25,449-25,840/s became
// 26,938-27,756/s; batches over HTTP, which keep both cores busy, stayed
// at 12,715-13,203/s.
const spareProcs = 2

// procsFor is GOMAXPROCS for the environment's setting env and the
// runtime's current value.
func procsFor(env string, current int) int {
	if env != "" {
		return current
	}
	return current + spareProcs
}

// tuneProcs applies procsFor, once per process however often serve and
// bench run in it (as in the tests). The count is then fixed: Go follows a
// change of a container's CPU limit only while neither GOMAXPROCS nor the
// program sets the count.
func tuneProcs() {
	procsOnce.Do(func() {
		runtime.GOMAXPROCS(procsFor(os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)))
	})
}

var procsOnce sync.Once
