//go:build unix

package pebblestore

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAppendWhileSnapshotting appends as BenchmarkAppend does while a
// 100 MB snapshot is saved in the background after every 20,000 records
// (skipped if the previous one is still being saved), as the service does.
// It reports the append rate and the CPU time of the whole process per
// record, which includes what the snapshots cost in the background.
func BenchmarkAppendWhileSnapshotting(b *testing.B) {
	const every = 20_000
	s := openStore(b, b.TempDir(), Options{})
	app := newAppender(s)
	snap := snapshotData(snapshotSize)
	ctx := context.Background()
	var saving sync.WaitGroup
	var saved atomic.Int64
	busy := new(atomic.Bool)
	cpu0 := cpuTime(b)
	b.SetBytes(appendBatch * appendSize)
	for b.Loop() {
		app.append(b)
		if last := s.LastIndex(); last%every == 0 && busy.CompareAndSwap(false, true) {
			saving.Go(func() {
				defer busy.Store(false)
				if err := s.SaveSnapshot(ctx, last, snap); err != nil {
					b.Error(err)
				}
				saved.Add(1)
			})
		}
	}
	saving.Wait()
	b.ReportMetric(float64(b.N*appendBatch)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(saved.Load()), "snapshots")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N*appendBatch), "cpu-µs/record")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
