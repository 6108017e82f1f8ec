package pebblestore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
)

// newTreeLog creates a store in a fresh directory holding records 1..n with
// the tree hashes each completes, closes it, and returns the directory and
// the tree.
func newTreeLog(t *testing.T, n int) (string, *ledger.Tree) {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	tree := new(ledger.Tree)
	for first := 1; first <= n; first += 4 {
		recs := make([]ledger.Record, min(4, n-first+1))
		for i := range recs {
			idx := uint64(first + i)
			hs, err := tree.Add(tlog.RecordHash(payload(idx)))
			if err != nil {
				t.Fatal(err)
			}
			recs[i] = ledger.Record{Index: idx, Data: payload(idx), Hashes: hs}
		}
		if err := s.Append(t.Context(), recs); err != nil {
			t.Fatalf("Append(%d..): %v", first, err)
		}
	}
	closeStore(t, s)
	return dir, tree
}

// readHashes reads the stored hashes into a new tree, returning it, the
// indexes seen and the error.
func readHashes(t *testing.T, s *Store) (*ledger.Tree, []uint64, error) {
	t.Helper()
	tree := new(ledger.Tree)
	var seen []uint64
	err := s.ReadHashes(t.Context(), func(i uint64, hs []tlog.Hash) error {
		seen = append(seen, i)
		return tree.Load(i, hs)
	})
	return tree, seen, err
}

func TestReadHashesIntact(t *testing.T) {
	dir, want := newTreeLog(t, 10)
	s := openStore(t, dir, Options{})
	got, seen, err := readHashes(t, s)
	if err != nil {
		t.Fatalf("ReadHashes: %v", err)
	}
	if fmt.Sprint(seen) != fmt.Sprint(span(1, 10)) {
		t.Errorf("ReadHashes saw %v, want 1..10", seen)
	}
	for size := uint64(1); size <= want.Size(); size++ {
		a, errA := got.Root(size)
		b, errB := want.Root(size)
		if errA != nil || errB != nil || a != b {
			t.Fatalf("root of %d after reading the hashes: %x, %v; want %x, %v", size, a, errA, b, errB)
		}
	}
}

// TestCorruptTreeHashes: a damaged tree-hash value (key prefix "h/") makes
// ReadHashes fail with a *ledger.CorruptError about its record, after
// handing over only the intact hashes before it.
func TestCorruptTreeHashes(t *testing.T) {
	for _, c := range corruptions {
		for _, idx := range []uint64{1, 5, 9, 10} {
			t.Run(fmt.Sprintf("%s/record %d", c.name, idx), func(t *testing.T) {
				dir, _ := newTreeLog(t, 10)
				withDB(t, dir, func(db *pebble.DB) error { return c.do(db, hashKey(idx)) })
				s := openStore(t, dir, Options{})
				_, seen, err := readHashes(t, s)
				var ce *ledger.CorruptError
				if !errors.Is(err, ledger.ErrCorrupt) || !errors.As(err, &ce) {
					t.Fatalf("ReadHashes = %v, want a *ledger.CorruptError", err)
				}
				if ce.Index != idx {
					t.Errorf("CorruptError about %s %d, want index %d (%v)", ce.Kind, ce.Index, idx, err)
				}
				for k, i := range seen {
					if i >= idx || i != uint64(k+1) {
						t.Fatalf("ReadHashes handed over %v with the hashes of %d corrupt", seen, idx)
					}
				}
			})
		}
	}

	// The flip alone, as simple as it gets: one byte of the value.
	t.Run("one byte flipped in the middle", func(t *testing.T) {
		dir, _ := newTreeLog(t, 10)
		withDB(t, dir, func(db *pebble.DB) error {
			return rewrite(db, hashKey(6), func(v []byte) []byte { v[len(v)/2] ^= 0xff; return v })
		})
		s := openStore(t, dir, Options{})
		if _, _, err := readHashes(t, s); !errors.Is(err, ledger.ErrCorrupt) {
			t.Errorf("ReadHashes = %v, want ErrCorrupt", err)
		}
	})
}
