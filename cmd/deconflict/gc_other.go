//go:build !linux

package main

// totalMemory is the machine's memory in bytes, or 0 if unknown (here: no
// memory limit is set).
func totalMemory() uint64 { return 0 }
