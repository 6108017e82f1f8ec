// Package storetest is the conformance suite for [ledger.Store] backends.
//
// Every backend runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string) ledger.Store {
//			s, err := pebblestore.Open(t.Context(), dir, pebblestore.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		}, storetest.Config{})
//	}
//
// open must return a store kept in dir; the suite creates the directories,
// closes every store it opens and, to test durability, opens a closed
// store's directory again.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deconflict/deconflict/ledger"
)

// Config adjusts the suite to what a backend can do. The zero Config runs
// every subtest.
type Config struct {
	// Ephemeral marks a backend whose data does not survive Close, such as
	// ledger.MemStore: subtests that reopen a directory are skipped.
	Ephemeral bool
}

// OpenFunc opens the store kept in dir, creating it if dir is empty. It
// reports failures with t.Fatal.
type OpenFunc func(t *testing.T, dir string) ledger.Store

// snapshotIndexer is implemented by stores that can list their snapshots;
// the suite uses it to check pruning.
type snapshotIndexer interface {
	SnapshotIndexes(ctx context.Context) ([]uint64, error)
}

// Run runs the conformance suite against the backend that open opens.
func Run(t *testing.T, open OpenFunc, cfg Config) {
	h := &harness{open: open, cfg: cfg}
	tests := []struct {
		name string
		run  func(*testing.T, *harness)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"OutOfOrder", testOutOfOrder},
		{"ReadFrom", testReadFrom},
		{"ReadStopsAtCallbackError", testReadStopsAtCallbackError},
		{"CancelledContext", testCancelledContext},
		{"CallerOwnsBuffers", testCallerOwnsBuffers},
		{"LargeBatch", testLargeBatch},
		{"Snapshots", testSnapshots},
		{"Reopen", testReopen},
		{"TreeHashes", testTreeHashes},
		{"ConcurrentReadDuringAppend", testConcurrentReadDuringAppend},
		{"Closed", testClosed},
		{"CloseStopsReaders", testCloseStopsReaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, h) })
	}
}

// harness opens stores for one subtest and closes them when it ends.
type harness struct {
	open OpenFunc
	cfg  Config
}

// newStore opens a store in a fresh directory.
func (h *harness) newStore(t *testing.T) (ledger.Store, string) {
	t.Helper()
	dir := t.TempDir()
	return h.openDir(t, dir), dir
}

// openDir opens the store in dir and closes it when the test ends, unless
// the test closed it already.
func (h *harness) openDir(t *testing.T, dir string) ledger.Store {
	t.Helper()
	s := h.open(t, dir)
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil && !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// reopen closes s and opens dir again.
func (h *harness) reopen(t *testing.T, s ledger.Store, dir string) ledger.Store {
	t.Helper()
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return h.openDir(t, dir)
}

// payload is the deterministic content of record i: lengths vary from 0 to
// 96 bytes and every byte value occurs.
func payload(i uint64) []byte {
	n := int(i*37) % 97
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*31 + uint64(j)*7)
	}
	return b
}

// records returns records first..first+n-1 with their payloads.
func records(first uint64, n int) []ledger.Record {
	recs := make([]ledger.Record, n)
	for i := range recs {
		idx := first + uint64(i)
		recs[i] = ledger.Record{Index: idx, Data: payload(idx)}
	}
	return recs
}

// appendRecords appends n records after the store's last index.
func appendRecords(t *testing.T, s ledger.Store, n int) []ledger.Record {
	t.Helper()
	recs := records(s.LastIndex()+1, n)
	if err := s.Append(t.Context(), recs); err != nil {
		t.Fatalf("Append(%d..%d): %v", recs[0].Index, recs[n-1].Index, err)
	}
	return recs
}

// readAll returns every record from index from on.
func readAll(t *testing.T, s ledger.Store, from uint64) []ledger.Record {
	t.Helper()
	var got []ledger.Record
	err := s.Read(t.Context(), from, func(r ledger.Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Read(%d): %v", from, err)
	}
	return got
}

// checkLog checks that s holds exactly want.
func checkLog(t *testing.T, s ledger.Store, want []ledger.Record) {
	t.Helper()
	var last uint64
	if len(want) > 0 {
		last = want[len(want)-1].Index
	}
	if got := s.LastIndex(); got != last {
		t.Errorf("LastIndex() = %d, want %d", got, last)
	}
	if diff := cmp.Diff(want, readAll(t, s, 1), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Read(1) mismatch (-want +got):\n%s", diff)
	}
}

// checkSnapshot checks that the latest snapshot is (index, data).
func checkSnapshot(t *testing.T, s ledger.Store, index uint64, data []byte) {
	t.Helper()
	gotIndex, gotData, err := s.LatestSnapshot(t.Context())
	if err != nil {
		t.Fatalf("LatestSnapshot: %v", err)
	}
	if gotIndex != index || string(gotData) != string(data) {
		t.Errorf("LatestSnapshot() = %d, %q; want %d, %q", gotIndex, gotData, index, data)
	}
}

// checkSnapshotIndexes checks the stored snapshots, if s can list them.
func checkSnapshotIndexes(t *testing.T, s ledger.Store, want []uint64) {
	t.Helper()
	lister, ok := s.(snapshotIndexer)
	if !ok {
		return
	}
	got, err := lister.SnapshotIndexes(t.Context())
	if err != nil {
		t.Fatalf("SnapshotIndexes: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("SnapshotIndexes mismatch (-want +got):\n%s", diff)
	}
}

func snapshotData(index uint64) []byte { return fmt.Appendf(nil, "state after %d", index) }
