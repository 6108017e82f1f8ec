package pebblestore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/deconflict/deconflict/ledger"
)

// BenchmarkAppend appends batches of 100 records of 600 bytes, one synced
// Pebble batch each, as the committer does.
func BenchmarkAppend(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	app := newAppender(s)
	b.SetBytes(appendBatch * appendSize)
	for b.Loop() {
		app.append(b)
	}
	b.ReportMetric(float64(b.N*appendBatch)/b.Elapsed().Seconds(), "records/s")
}

// The append benchmarks' batches: 100 records of 600 random bytes.
const appendBatch, appendSize = 100, 600

// appender appends the benchmarks' batches to s.
type appender struct {
	s    *Store
	data []byte
	recs []ledger.Record
}

func newAppender(s *Store) *appender {
	a := &appender{s: s, data: make([]byte, appendSize), recs: make([]ledger.Record, appendBatch)}
	for i := range a.data {
		a.data[i] = byte(rand.N(256))
	}
	return a
}

// append appends the next batch.
func (a *appender) append(b *testing.B) {
	first := a.s.LastIndex() + 1
	for i := range a.recs {
		a.recs[i] = ledger.Record{Index: first + uint64(i), Data: a.data}
	}
	if err := a.s.Append(context.Background(), a.recs); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRead replays a log of 100,000 records of 600 bytes, as recovery
// does.
func BenchmarkRead(b *testing.B) {
	const n, batch, size = 100_000, 1000, 600
	s := openStore(b, b.TempDir(), Options{})
	data := make([]byte, size)
	recs := make([]ledger.Record, batch)
	ctx := context.Background()
	for first := uint64(1); first <= n; first += batch {
		for i := range recs {
			recs[i] = ledger.Record{Index: first + uint64(i), Data: data}
		}
		if err := s.Append(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n * size)
	for b.Loop() {
		if err := s.Read(ctx, 1, func(ledger.Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

// snapshotSize is the size of a registry snapshot of 100,000 intents.
const snapshotSize = 100 << 20

// snapshotData returns size bytes that compress about as well as a
// registry snapshot does: JSON-like lines with random numbers.
func snapshotData(size int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 0, size+200)
	for i := 0; len(data) < size; i++ {
		data = fmt.Appendf(data, `{"id":"%016x","party":"p%d","lo":%d,"hi":%d,"cells":[%d,%d,%d]}`+"\n",
			rng.Uint64(), rng.IntN(20), rng.IntN(1e6), rng.IntN(1e6), rng.Uint32(), rng.Uint32(), rng.Uint32())
	}
	return data[:size]
}

// BenchmarkSaveSnapshot saves a 100 MB snapshot, durably.
func BenchmarkSaveSnapshot(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	appendRecords(b, s, 1, 1)
	data := snapshotData(snapshotSize)
	ctx := context.Background()
	b.SetBytes(snapshotSize)
	for b.Loop() {
		if err := s.SaveSnapshot(ctx, 1, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLatestSnapshot reads a 100 MB snapshot from a store just opened,
// as start-up does.
func BenchmarkLatestSnapshot(b *testing.B) {
	dir := b.TempDir()
	s := openStore(b, dir, Options{})
	appendRecords(b, s, 1, 2)
	data := snapshotData(snapshotSize)
	ctx := context.Background()
	for i := uint64(1); i <= 2; i++ {
		if err := s.SaveSnapshot(ctx, i, data); err != nil {
			b.Fatal(err)
		}
	}
	closeStore(b, s)
	s = openStore(b, dir, Options{})
	b.SetBytes(snapshotSize)
	for b.Loop() {
		idx, got, err := s.LatestSnapshot(ctx)
		if err != nil || idx != 2 || len(got) != snapshotSize {
			b.Fatalf("LatestSnapshot = %d, %d bytes, %v", idx, len(got), err)
		}
	}
}
