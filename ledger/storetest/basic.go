package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
)

func testEmpty(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	checkLog(t, s, nil)
	if _, _, err := s.LatestSnapshot(t.Context()); !errors.Is(err, ledger.ErrNoSnapshot) {
		t.Errorf("LatestSnapshot on empty store: err = %v, want ErrNoSnapshot", err)
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	var want []ledger.Record
	for _, n := range []int{1, 3, 10, 1, 50} {
		want = append(want, appendRecords(t, s, n)...)
		if got, last := s.LastIndex(), want[len(want)-1].Index; got != last {
			t.Fatalf("LastIndex() = %d after appending up to %d", got, last)
		}
	}
	checkLog(t, s, want)
}

func testOutOfOrder(t *testing.T, h *harness) {
	rec := func(i uint64) ledger.Record { return ledger.Record{Index: i, Data: payload(i)} }
	tests := []struct {
		name string
		recs []ledger.Record
	}{
		{"nil", nil},
		{"empty", []ledger.Record{}},
		{"zero index", []ledger.Record{rec(0)}},
		{"duplicate of last", []ledger.Record{rec(3), rec(4)}},
		{"rewrite from start", []ledger.Record{rec(1)}},
		{"gap before batch", []ledger.Record{rec(5)}},
		{"gap inside batch", []ledger.Record{rec(4), rec(6)}},
		{"duplicate inside batch", []ledger.Record{rec(4), rec(4)}},
		{"descending", []ledger.Record{rec(4), rec(5), rec(4)}},
	}
	s, _ := h.newStore(t)
	if err := s.Append(t.Context(), []ledger.Record{rec(2)}); !errors.Is(err, ledger.ErrOutOfOrder) {
		t.Errorf("first Append starting at 2: err = %v, want ErrOutOfOrder", err)
	}
	want := appendRecords(t, s, 3)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Append(t.Context(), tt.recs); !errors.Is(err, ledger.ErrOutOfOrder) {
				t.Errorf("Append: err = %v, want ErrOutOfOrder", err)
			}
			checkLog(t, s, want)
		})
	}
	// The store still accepts the right next batch.
	want = append(want, appendRecords(t, s, 2)...)
	checkLog(t, s, want)
}

func testReadFrom(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	all := appendRecords(t, s, 10)
	tests := []struct {
		name string
		from uint64
		want []ledger.Record
	}{
		{"zero reads from one", 0, all},
		{"first", 1, all},
		{"middle", 5, all[4:]},
		{"last", 10, all[9:]},
		{"past end", 11, nil},
		{"far past end", 1 << 40, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, s, tt.from)
			if len(got) != len(tt.want) {
				t.Fatalf("Read(%d) returned %d records, want %d", tt.from, len(got), len(tt.want))
			}
			for i := range got {
				if got[i].Index != tt.want[i].Index || !bytes.Equal(got[i].Data, tt.want[i].Data) {
					t.Errorf("Read(%d) record %d = %v, want %v", tt.from, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func testReadStopsAtCallbackError(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	appendRecords(t, s, 10)
	stop := errors.New("stop here")
	var seen []uint64
	err := s.Read(t.Context(), 2, func(r ledger.Record) error {
		seen = append(seen, r.Index)
		if r.Index == 4 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("Read returned %v, want the callback's error as is", err)
	}
	if len(seen) != 3 || seen[0] != 2 || seen[2] != 4 {
		t.Errorf("callback saw %v, want [2 3 4]", seen)
	}
}

func testCancelledContext(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	want := appendRecords(t, s, 3)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Append(ctx, records(4, 2)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with cancelled context: err = %v, want context.Canceled", err)
	}
	called := false
	err := s.Read(ctx, 1, func(ledger.Record) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Read with cancelled context: err = %v, called = %v; want context.Canceled, no call", err, called)
	}
	if err := s.SaveSnapshot(ctx, 3, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveSnapshot with cancelled context: err = %v, want context.Canceled", err)
	}
	checkLog(t, s, want)
	if _, _, err := s.LatestSnapshot(t.Context()); !errors.Is(err, ledger.ErrNoSnapshot) {
		t.Errorf("LatestSnapshot after cancelled save: err = %v, want ErrNoSnapshot", err)
	}
}

func testCallerOwnsBuffers(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	recs := records(1, 3)
	want := records(1, 3)
	if err := s.Append(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for i := range r.Data {
			r.Data[i] ^= 0xff // the caller reuses its buffers
		}
	}
	kept := readAll(t, s, 1)
	for _, r := range kept {
		for i := range r.Data {
			r.Data[i] = 0 // the reader scribbles on what it was given
		}
	}
	checkLog(t, s, want)

	snap := []byte("snapshot")
	if err := s.SaveSnapshot(t.Context(), 3, snap); err != nil {
		t.Fatal(err)
	}
	copy(snap, "XXXXXXXX")
	_, got, err := s.LatestSnapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	copy(got, "YYYYYYYY")
	checkSnapshot(t, s, 3, []byte("snapshot"))
}

func testLargeBatch(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	const n, size = 10_000, 1 << 10
	recs := make([]ledger.Record, n)
	for i := range recs {
		data := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, size/2)
		recs[i] = ledger.Record{Index: uint64(i + 1), Data: data}
	}
	if err := s.Append(t.Context(), recs); err != nil {
		t.Fatalf("Append of %d records of %d bytes: %v", n, size, err)
	}
	if got := s.LastIndex(); got != n {
		t.Fatalf("LastIndex() = %d, want %d", got, n)
	}
	var count int
	err := s.Read(t.Context(), 1, func(r ledger.Record) error {
		if !bytes.Equal(r.Data, recs[r.Index-1].Data) {
			t.Fatalf("record %d differs", r.Index)
		}
		count++
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("Read: %d records, err %v; want %d, nil", count, err, n)
	}
}

func testSnapshots(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	appendRecords(t, s, 10)
	ctx := t.Context()
	if err := s.SaveSnapshot(ctx, 11, []byte("future")); !errors.Is(err, ledger.ErrOutOfOrder) {
		t.Errorf("SaveSnapshot past the end: err = %v, want ErrOutOfOrder", err)
	}
	if _, _, err := s.LatestSnapshot(ctx); !errors.Is(err, ledger.ErrNoSnapshot) {
		t.Fatalf("LatestSnapshot: err = %v, want ErrNoSnapshot", err)
	}
	steps := []struct {
		name      string
		index     uint64
		data      []byte
		wantIndex uint64
		wantData  []byte
		wantKept  []uint64
	}{
		{"first", 2, snapshotData(2), 2, snapshotData(2), []uint64{2}},
		{"newer wins", 5, snapshotData(5), 5, snapshotData(5), []uint64{2, 5}},
		{"oldest pruned", 8, snapshotData(8), 8, snapshotData(8), []uint64{5, 8}},
		{"same index replaces", 8, []byte("again"), 8, []byte("again"), []uint64{5, 8}},
		{"older than kept is pruned", 3, snapshotData(3), 8, []byte("again"), []uint64{5, 8}},
		{"empty data at last index", 10, nil, 10, nil, []uint64{8, 10}},
	}
	for _, st := range steps {
		if err := s.SaveSnapshot(ctx, st.index, st.data); err != nil {
			t.Fatalf("%s: SaveSnapshot(%d): %v", st.name, st.index, err)
		}
		t.Run(st.name, func(t *testing.T) {
			checkSnapshot(t, s, st.wantIndex, st.wantData)
			checkSnapshotIndexes(t, s, st.wantKept)
		})
	}
	// Saved in parts, it is their concatenation.
	if err := s.SaveSnapshot(ctx, 10, []byte("snap"), nil, []byte("shot in "), []byte("parts")); err != nil {
		t.Fatalf("SaveSnapshot in parts: %v", err)
	}
	checkSnapshot(t, s, 10, []byte("snapshot in parts"))
	checkSnapshotIndexes(t, s, []uint64{8, 10})
}

func testReopen(t *testing.T, h *harness) {
	if h.cfg.Ephemeral {
		t.Skip("backend is ephemeral")
	}
	s, dir := h.newStore(t)
	var want []ledger.Record
	for _, n := range []int{1, 7, 100} {
		want = append(want, appendRecords(t, s, n)...)
	}
	ctx := t.Context()
	for _, i := range []uint64{3, 8} {
		if err := s.SaveSnapshot(ctx, i, snapshotData(i)); err != nil {
			t.Fatal(err)
		}
	}
	s = h.reopen(t, s, dir)
	checkLog(t, s, want)
	checkSnapshot(t, s, 8, snapshotData(8))
	checkSnapshotIndexes(t, s, []uint64{3, 8})

	// The reopened store continues where it stopped.
	want = append(want, appendRecords(t, s, 5)...)
	if err := s.SaveSnapshot(ctx, 110, snapshotData(110)); err != nil {
		t.Fatal(err)
	}
	s = h.reopen(t, s, dir)
	checkLog(t, s, want)
	checkSnapshot(t, s, 110, snapshotData(110))
	checkSnapshotIndexes(t, s, []uint64{8, 110})
}

func testClosed(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	appendRecords(t, s, 3)
	if err := s.SaveSnapshot(t.Context(), 3, []byte("s")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { return s.Append(ctx, records(4, 1)) }},
		{"Read", func() error { return s.Read(ctx, 1, func(ledger.Record) error { return nil }) }},
		{"ReadHashes", func() error { return s.ReadHashes(ctx, func(uint64, []tlog.Hash) error { return nil }) }},
		{"SaveSnapshot", func() error { return s.SaveSnapshot(ctx, 3, []byte("s")) }},
		{"LatestSnapshot", func() error { _, _, err := s.LatestSnapshot(ctx); return err }},
		{"Close", func() error { return s.Close(ctx) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", c.name, err)
		}
	}
	_ = s.LastIndex() // must not panic
}
