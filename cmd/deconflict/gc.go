package main

import (
	"os"
	"runtime/debug"
)

// Garbage collection for the long-running commands (serve, bench). The
// registry is a large, long-lived heap that a write changes little: with
// Go's default GOGC=100 the collector marks it over and over. So, unless
// the environment says otherwise, the heap may grow to five times what is
// live (GOGC=400: over HTTP, 40,000 intents, alternating runs, 854-975 ->
// 963-1,054 intents/s and p99 25.7-26.9 -> 22.3-22.7 ms), and the
// collector works harder near a soft limit of half the machine's memory
// (GOMEMLIMIT), so the headroom never runs the machine out.
const (
	defaultGCPercent   = 400
	memoryLimitPercent = 50
)

// tuneGC applies the defaults above where GOGC and GOMEMLIMIT are unset.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if total := totalMemory(); os.Getenv("GOMEMLIMIT") == "" && total > 0 {
		debug.SetMemoryLimit(int64(total / 100 * memoryLimitPercent))
	}
}
