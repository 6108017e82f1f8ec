package pebblestore

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/deconflict/deconflict/ledger"
)

// BenchmarkAppend appends batches of 100 records of 600 bytes, one synced
// Pebble batch each, as the committer does.
func BenchmarkAppend(b *testing.B) {
	const batch, size = 100, 600
	s := openStore(b, b.TempDir(), Options{})
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	recs := make([]ledger.Record, batch)
	ctx := context.Background()
	b.SetBytes(batch * size)
	for b.Loop() {
		first := s.LastIndex() + 1
		for i := range recs {
			recs[i] = ledger.Record{Index: first + uint64(i), Data: data}
		}
		if err := s.Append(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
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
