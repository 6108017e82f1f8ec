//go:build !unix

package main

import "time"

// processCPU returns the CPU time this process has used so far, in user
// and in system mode; ok is false if it is unknown (here: always).
func processCPU() (user, sys time.Duration, ok bool) { return 0, 0, false }
