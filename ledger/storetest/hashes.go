package storetest

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
)

// testTreeHashes: the tree hashes appended with records come back from
// ReadHashes, in order, also after a reopen, and rebuild the same tree.
func testTreeHashes(t *testing.T, h *harness) {
	s, dir := h.newStore(t)
	ctx := t.Context()
	var tree ledger.Tree
	next := uint64(1)
	for _, n := range []int{1, 2, 5, 64, 3} {
		recs := make([]ledger.Record, n)
		for i := range recs {
			data := fmt.Appendf(nil, "leaf %d", next)
			hs, err := tree.Add(tlog.RecordHash(data))
			if err != nil {
				t.Fatal(err)
			}
			recs[i] = ledger.Record{Index: next, Data: data, Hashes: hs}
			next++
		}
		if err := s.Append(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s ledger.Store) {
		t.Helper()
		var got ledger.Tree
		err := s.ReadHashes(ctx, func(i uint64, hs []tlog.Hash) error { return got.Load(i, hs) })
		if err != nil {
			t.Fatalf("ReadHashes: %v", err)
		}
		if got.Size() != tree.Size() {
			t.Fatalf("reloaded tree has %d leaves, want %d", got.Size(), tree.Size())
		}
		for size := uint64(1); size <= tree.Size(); size++ {
			a, _ := got.Root(size)
			b, _ := tree.Root(size)
			if a != b {
				t.Fatalf("root of %d differs after reload", size)
			}
		}
	}
	check(s)
	if !h.cfg.Ephemeral {
		s = h.reopen(t, s, dir)
		check(s)
	}
}
