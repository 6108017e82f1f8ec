package pebblestore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/deconflict/deconflict/ledger"
)

// Tampering with stored values through Pebble, bypassing the store.
type tamper func(db *pebble.DB, key []byte) error

func flipDataByte(db *pebble.DB, key []byte) error {
	return rewrite(db, key, func(v []byte) []byte { v[len(v)-1] ^= 0x01; return v })
}

func flipChecksumByte(db *pebble.DB, key []byte) error {
	return rewrite(db, key, func(v []byte) []byte { v[0] ^= 0x80; return v })
}

func truncateValue(db *pebble.DB, key []byte) error {
	return rewrite(db, key, func(v []byte) []byte { return v[:2] })
}

// copyNeighbour overwrites the value with another key's intact value of the
// same kind; the checksum covers the index, so this must not verify.
func copyNeighbour(db *pebble.DB, key []byte) error {
	prefix := string(key[:2])
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	if !it.SeekLT(key) && !(it.SeekGE(key) && it.Next()) {
		return errors.New("no other key to copy from")
	}
	return db.Set(key, append([]byte(nil), it.Value()...), pebble.Sync)
}

func deleteKey(db *pebble.DB, key []byte) error { return db.Delete(key, pebble.Sync) }

// rewrite replaces the value under key with f(copy of it).
func rewrite(db *pebble.DB, key []byte, f func([]byte) []byte) error {
	v, closer, err := db.Get(key)
	if err != nil {
		return err
	}
	c := append([]byte(nil), v...)
	closer.Close()
	return db.Set(key, f(c), pebble.Sync)
}

var corruptions = []struct {
	name string
	do   tamper
}{
	{"flipped data byte", flipDataByte},
	{"flipped checksum byte", flipChecksumByte},
	{"truncated value", truncateValue},
	{"value of another record", copyNeighbour},
}

// newLog creates a store in a fresh directory holding records 1..n, closes
// it and returns the directory.
func newLog(t *testing.T, n int, snapshots ...uint64) string {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	for i := 1; i <= n; i += 4 {
		appendRecords(t, s, uint64(i), min(4, n-i+1))
	}
	for _, i := range snapshots {
		if err := s.SaveSnapshot(t.Context(), i, payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	closeStore(t, s)
	return dir
}

// wantCorrupt checks that err is a *ledger.CorruptError about index.
func wantCorrupt(t *testing.T, err error, kind ledger.Kind, index uint64) {
	t.Helper()
	var ce *ledger.CorruptError
	if !errors.Is(err, ledger.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ledger.CorruptError", err)
	}
	if ce.Kind != kind || ce.Index != index {
		t.Errorf("CorruptError about %s %d, want %s %d (%v)", ce.Kind, ce.Index, kind, index, err)
	}
}

func TestCorruptMiddleRecord(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			dir := newLog(t, 10)
			withDB(t, dir, func(db *pebble.DB) error { return c.do(db, recordKey(5)) })
			s := openStore(t, dir, Options{}) // the tail is intact
			if s.Dropped() != 0 || s.LastIndex() != 10 {
				t.Fatalf("Dropped() = %d, LastIndex() = %d; want 0, 10", s.Dropped(), s.LastIndex())
			}
			seen, err := readLog(t, s, 1)
			wantCorrupt(t, err, ledger.KindRecord, 5)
			if diff := cmp.Diff(span(1, 4), seen); diff != "" {
				t.Errorf("records before the corrupt one (-want +got):\n%s", diff)
			}
			if seen, err := readLog(t, s, 6); err != nil || !cmp.Equal(seen, span(6, 10)) {
				t.Errorf("Read(6) = %v, %v; want 6..10", seen, err)
			}
		})
	}
}

func TestMissingRecord(t *testing.T) {
	tests := []struct {
		name     string
		deleted  []uint64
		from     uint64
		wantSeen []uint64
		wantGap  uint64
	}{
		{"middle", []uint64{5}, 1, span(1, 4), 5},
		{"several", []uint64{4, 5, 6}, 2, span(2, 3), 4},
		{"first", []uint64{1}, 1, nil, 1},
		{"read starts at the gap", []uint64{5}, 5, nil, 5},
		{"read starts after the gap", []uint64{5}, 6, span(6, 10), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newLog(t, 10)
			withDB(t, dir, func(db *pebble.DB) error {
				for _, i := range tt.deleted {
					if err := deleteKey(db, recordKey(i)); err != nil {
						return err
					}
				}
				return nil
			})
			s := openStore(t, dir, Options{})
			seen, err := readLog(t, s, tt.from)
			if tt.wantGap == 0 {
				if err != nil {
					t.Fatalf("Read(%d): %v", tt.from, err)
				}
			} else {
				wantCorrupt(t, err, ledger.KindRecord, tt.wantGap)
			}
			if diff := cmp.Diff(tt.wantSeen, seen); diff != "" {
				t.Errorf("records read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorruptTail(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			dir := newLog(t, 10)
			withDB(t, dir, func(db *pebble.DB) error { return c.do(db, recordKey(10)) })
			if s, err := Open(t.Context(), dir, Options{}); err == nil {
				closeStore(t, s)
				t.Fatal("Open succeeded on a corrupt tail")
			} else {
				wantCorrupt(t, err, ledger.KindRecord, 10)
			}
			s := openStore(t, dir, Options{TruncateCorruptTail: true})
			if s.Dropped() != 1 || s.LastIndex() != 9 {
				t.Fatalf("Dropped() = %d, LastIndex() = %d; want 1, 9", s.Dropped(), s.LastIndex())
			}
			if seen, err := readLog(t, s, 1); err != nil || !cmp.Equal(seen, span(1, 9)) {
				t.Fatalf("Read(1) = %v, %v; want 1..9", seen, err)
			}
			appendRecords(t, s, 10, 2) // the log goes on from the truncated tail
			closeStore(t, s)
			s = openStore(t, dir, Options{})
			if seen, err := readLog(t, s, 1); err != nil || !cmp.Equal(seen, span(1, 11)) {
				t.Errorf("after reopen: Read(1) = %v, %v; want 1..11", seen, err)
			}
		})
	}
}

func TestTruncateCorruptTail(t *testing.T) {
	tests := []struct {
		name        string
		corrupt     []uint64
		snapshots   []uint64
		wantDropped int
		wantLast    uint64
		wantSnap    uint64   // 0: none
		wantKept    []uint64 // the snapshot files left
	}{
		{"three at the end", []uint64{8, 9, 10}, nil, 3, 7, 0, nil},
		{"only the end is truncated", []uint64{3, 10}, nil, 1, 9, 0, nil},
		{"whole log", span(1, 10), nil, 10, 0, 0, nil},
		{"snapshot past the new end is deleted", []uint64{9, 10}, []uint64{5, 9}, 2, 8, 5, []uint64{5}},
		{"snapshots past the new end are deleted", []uint64{4, 5, 6, 7, 8, 9, 10}, []uint64{5, 9}, 7, 3, 0, nil},
		{"snapshot at the new end is kept", []uint64{10}, []uint64{4, 9}, 1, 9, 9, []uint64{4, 9}},
		{"snapshot before the new end is kept", []uint64{10}, []uint64{4, 8}, 1, 9, 8, []uint64{4, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newLog(t, 10, tt.snapshots...)
			withDB(t, dir, func(db *pebble.DB) error {
				for _, i := range tt.corrupt {
					if err := flipDataByte(db, recordKey(i)); err != nil {
						return err
					}
				}
				return nil
			})
			s := openStore(t, dir, Options{TruncateCorruptTail: true})
			if s.Dropped() != tt.wantDropped || s.LastIndex() != tt.wantLast {
				t.Errorf("Dropped() = %d, LastIndex() = %d; want %d, %d",
					s.Dropped(), s.LastIndex(), tt.wantDropped, tt.wantLast)
			}
			idx, _, err := s.LatestSnapshot(t.Context())
			switch {
			case tt.wantSnap == 0 && !errors.Is(err, ledger.ErrNoSnapshot):
				t.Errorf("LatestSnapshot = %d, %v; want ErrNoSnapshot", idx, err)
			case tt.wantSnap != 0 && (err != nil || idx != tt.wantSnap):
				t.Errorf("LatestSnapshot = %d, %v; want %d", idx, err, tt.wantSnap)
			}
			if kept, err := s.SnapshotIndexes(t.Context()); err != nil || !slices.Equal(kept, tt.wantKept) {
				t.Errorf("SnapshotIndexes = %v, %v; want %v", kept, err, tt.wantKept)
			}
			// Tail truncation never hides a corrupt record in the middle.
			for _, i := range tt.corrupt {
				if i <= tt.wantLast {
					_, err := readLog(t, s, 1)
					wantCorrupt(t, err, ledger.KindRecord, i)
					break
				}
			}
		})
	}
}

// Tampering with snapshot files, bypassing the store.
type tamperFile func(path string, index uint64) error

// rewriteFile replaces the file at path with f(its contents).
func rewriteFile(path string, f func([]byte) []byte) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, f(b), 0o644)
}

var fileCorruptions = []struct {
	name string
	do   tamperFile
}{
	{"flipped data byte", func(path string, _ uint64) error {
		return rewriteFile(path, func(b []byte) []byte { b[len(b)-1] ^= 0x01; return b })
	}},
	{"flipped checksum byte", func(path string, _ uint64) error {
		return rewriteFile(path, func(b []byte) []byte { b[snapshotHeaderLen-checksumLen] ^= 0x80; return b })
	}},
	{"last byte cut off", func(path string, _ uint64) error {
		return rewriteFile(path, func(b []byte) []byte { return b[:len(b)-1] })
	}},
	{"truncated inside the header", func(path string, _ uint64) error {
		return rewriteFile(path, func(b []byte) []byte { return b[:snapshotHeaderLen-1] })
	}},
	{"empty", func(path string, _ uint64) error {
		return rewriteFile(path, func([]byte) []byte { return nil })
	}},
	{"wrong magic", func(path string, _ uint64) error {
		return rewriteFile(path, func(b []byte) []byte { copy(b, "DCSNAP2\n"); return b })
	}},
	// The intact file of another snapshot under this one's name: the
	// header names the other index and the checksum covers it.
	{"file of another snapshot", func(path string, index uint64) error {
		data := payload(index + 1)
		return os.WriteFile(path, append(snapshotHeader(index+1, data), data...), 0o644)
	}},
}

// snapshotFile is the path of the file of snapshot index in the store in dir.
func snapshotFile(dir string, index uint64) string {
	return filepath.Join(dir, snapshotDir, snapshotName(index))
}

func TestCorruptSnapshot(t *testing.T) {
	for _, c := range fileCorruptions {
		t.Run(c.name+"/newest falls back to older", func(t *testing.T) {
			dir := newLog(t, 10, 3, 6)
			if err := c.do(snapshotFile(dir, 6), 6); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir, Options{})
			idx, data, err := s.LatestSnapshot(t.Context())
			if err != nil || idx != 3 || string(data) != string(payload(3)) {
				t.Errorf("LatestSnapshot = %d, %q, %v; want the older snapshot 3", idx, data, err)
			}
		})
		t.Run(c.name+"/older is not read", func(t *testing.T) {
			dir := newLog(t, 10, 3, 6)
			if err := c.do(snapshotFile(dir, 3), 3); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir, Options{})
			idx, data, err := s.LatestSnapshot(t.Context())
			if err != nil || idx != 6 || string(data) != string(payload(6)) {
				t.Errorf("LatestSnapshot = %d, %q, %v; want the newest snapshot 6", idx, data, err)
			}
		})
		t.Run(c.name+"/all corrupt", func(t *testing.T) {
			dir := newLog(t, 10, 3, 6)
			if err := errors.Join(c.do(snapshotFile(dir, 3), 3), c.do(snapshotFile(dir, 6), 6)); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir, Options{})
			_, _, err := s.LatestSnapshot(t.Context())
			wantCorrupt(t, err, ledger.KindSnapshot, 6)
			if !strings.HasSuffix(err.Error(), "(and no older snapshot verifies)") {
				t.Errorf("err = %v, want it to say no older snapshot verifies", err)
			}
		})
	}
}
