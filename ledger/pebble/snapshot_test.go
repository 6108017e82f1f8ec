package pebblestore

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/deconflict/deconflict/ledger"
)

// stepFS calls step after each change it makes in the snapshot directory:
// creating, writing, syncing, closing, renaming or removing a file, and
// syncing the directory. A test takes crash clones there.
type stepFS struct {
	vfs.FS
	step func(op string)
}

func inSnapshotDir(name string) bool {
	return strings.Contains(name, "/"+snapshotDir+"/") || strings.HasSuffix(name, "/"+snapshotDir)
}

func (fs *stepFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !inSnapshotDir(name) {
		return f, err
	}
	fs.step("create " + name)
	return &stepFile{File: f, name: name, step: fs.step}, nil
}

func (fs *stepFS) OpenDir(name string) (vfs.File, error) {
	f, err := fs.FS.OpenDir(name)
	if err != nil || !inSnapshotDir(name) {
		return f, err
	}
	return &stepFile{File: f, name: name, step: fs.step}, nil
}

func (fs *stepFS) Rename(oldname, newname string) error {
	err := fs.FS.Rename(oldname, newname)
	if err == nil && inSnapshotDir(newname) {
		fs.step("rename " + oldname)
	}
	return err
}

func (fs *stepFS) Remove(name string) error {
	err := fs.FS.Remove(name)
	if err == nil && inSnapshotDir(name) {
		fs.step("remove " + name)
	}
	return err
}

type stepFile struct {
	vfs.File
	name string
	step func(op string)
}

func (f *stepFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.step(fmt.Sprintf("write %d bytes to %s", n, f.name))
	return n, err
}

func (f *stepFile) Sync() error {
	err := f.File.Sync()
	f.step("sync " + f.name)
	return err
}

func (f *stepFile) Close() error {
	err := f.File.Close()
	f.step("close " + f.name)
	return err
}

// bigSnapshot is a snapshot of several 4 KiB blocks, the unit in which a
// crash clone keeps or loses unsynced data; version tells apart two
// snapshots of the same index.
func bigSnapshot(index uint64, version int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "state after %d, version %d;", index, version), 1000)
}

// TestSaveSnapshotCrash crashes SaveSnapshot after each change it makes to
// the file system, keeping none, some or all of what was not synced, and
// checks that each crashed store opens with either the previous latest
// snapshot or the new one, intact; that every snapshot file it lists
// verifies; and that a crash after SaveSnapshot returned keeps the new one.
func TestSaveSnapshotCrash(t *testing.T) {
	type snap struct {
		index   uint64
		version int
	}
	tests := []struct {
		name   string
		before []snap // saved first
		save   snap
	}{
		{"first snapshot", nil, snap{5, 1}},
		{"second snapshot", []snap{{3, 1}}, snap{5, 1}},
		{"third snapshot prunes the first", []snap{{3, 1}, {5, 1}}, snap{8, 1}},
		{"same index again", []snap{{3, 1}, {5, 1}}, snap{5, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			fs := &stepFS{FS: mem, step: func(string) {}}
			s := openStore(t, "/ledger", Options{fs: fs})
			appendRecords(t, s, 1, 10)
			var old *snap // the latest snapshot before the crash; nil if none
			for _, b := range tt.before {
				if err := s.SaveSnapshot(t.Context(), b.index, bigSnapshot(b.index, b.version)); err != nil {
					t.Fatal(err)
				}
				old = &b
			}

			type crash struct {
				at string
				fs *vfs.MemFS
			}
			var crashes []crash
			rng := rand.New(rand.NewPCG(3, 4))
			clones := func(at string) {
				for _, pct := range []int{0, 30, 70, 100} {
					cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))}
					crashes = append(crashes, crash{fmt.Sprintf("%s (%d%% of unsynced kept)", at, pct), mem.CrashClone(cfg)})
				}
			}
			clones("before SaveSnapshot")
			fs.step = func(op string) { clones("after " + op) }
			if err := s.SaveSnapshot(t.Context(), tt.save.index, bigSnapshot(tt.save.index, tt.save.version)); err != nil {
				t.Fatal(err)
			}
			fs.step = func(string) {}
			if len(crashes) < 4*6 {
				t.Fatalf("SaveSnapshot made %d steps, want at least create, write, sync, close, rename and sync the directory", len(crashes)/4-1)
			}
			returned := mem.CrashClone(vfs.CrashCloneCfg{})

			for _, c := range crashes {
				idx, data := crashedSnapshot(t, c.at, c.fs)
				isOld := old == nil && idx == 0 ||
					old != nil && idx == old.index && bytes.Equal(data, bigSnapshot(old.index, old.version))
				isNew := idx == tt.save.index && bytes.Equal(data, bigSnapshot(tt.save.index, tt.save.version))
				if !isOld && !isNew {
					t.Errorf("crash %s: LatestSnapshot = %d, %d bytes; want the previous one or the new one, intact", c.at, idx, len(data))
				}
			}
			idx, data := crashedSnapshot(t, "after SaveSnapshot returned", returned)
			if idx != tt.save.index || !bytes.Equal(data, bigSnapshot(tt.save.index, tt.save.version)) {
				t.Errorf("crash after SaveSnapshot returned: LatestSnapshot = %d, %d bytes; want the new snapshot %d", idx, len(data), tt.save.index)
			}
		})
	}
}

// crashedSnapshot opens the store in fs, checks that it left no temporary
// file and that every snapshot it lists verifies, and returns its latest
// snapshot (0, nil if none).
func crashedSnapshot(t *testing.T, at string, fs *vfs.MemFS) (uint64, []byte) {
	t.Helper()
	s := openStore(t, "/ledger", Options{fs: fs})
	defer closeStore(t, s)
	names, err := fs.List("/ledger/" + snapshotDir)
	if err != nil {
		t.Fatalf("crash %s: %v", at, err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, tmpSuffix) {
			t.Errorf("crash %s: Open left %s", at, name)
		}
	}
	idxs, err := s.SnapshotIndexes(t.Context())
	if err != nil {
		t.Fatalf("crash %s: SnapshotIndexes: %v", at, err)
	}
	for _, i := range idxs {
		if err := verifySnapshotFile(fs, "/ledger", i); err != nil {
			t.Errorf("crash %s: snapshot %d is listed but does not verify: %v", at, i, err)
		}
	}
	idx, data, err := s.LatestSnapshot(t.Context())
	if errors.Is(err, ledger.ErrNoSnapshot) {
		return 0, nil
	}
	if err != nil {
		t.Fatalf("crash %s: LatestSnapshot: %v", at, err)
	}
	return idx, data
}

// verifySnapshotFile reads the file of snapshot index in the store in dir
// and verifies it.
func verifySnapshotFile(fs vfs.FS, dir string, index uint64) error {
	f, err := fs.Open(fs.PathJoin(dir, snapshotDir, snapshotName(index)))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = readSnapshot(index, f)
	return err
}

// TestPowerLossSnapshots takes crash clones while snapshots are saved in
// a loop; each must open with its latest snapshot intact and at least as
// new as the last one saved before the clone was taken.
func TestPowerLossSnapshots(t *testing.T) {
	mem := vfs.NewCrashableMem()
	s := openStore(t, "/ledger", Options{fs: mem})
	appendRecords(t, s, 1, 100)
	var mu sync.Mutex
	saved := uint64(0) // the last snapshot SaveSnapshot returned for
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := uint64(1); i <= 100; i++ {
			if err := s.SaveSnapshot(t.Context(), i, bigSnapshot(i, 1)); err != nil {
				t.Errorf("SaveSnapshot(%d): %v", i, err)
				return
			}
			mu.Lock()
			saved = i
			mu.Unlock()
		}
	})
	type crash struct {
		fs    *vfs.MemFS
		saved uint64
	}
	var crashes []crash
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Microsecond)
		mu.Lock()
		c := crash{saved: saved}
		mu.Unlock()
		c.fs = mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
		crashes = append(crashes, c)
	}
	wg.Wait()
	for i, c := range crashes {
		idx, data := crashedSnapshot(t, fmt.Sprint(i), c.fs)
		if idx < c.saved || (idx != 0 && !bytes.Equal(data, bigSnapshot(idx, 1))) {
			t.Errorf("crash %d: LatestSnapshot = %d, %d bytes; want snapshot %d or newer, intact", i, idx, len(data), c.saved)
		}
	}
}

// TestLeftoverTmpRemoved: Open removes the temporary files of snapshots
// whose writing was interrupted, even complete ones, and leaves other
// files alone.
func TestLeftoverTmpRemoved(t *testing.T) {
	dir := newLog(t, 10, 3)
	snaps := filepath.Join(dir, snapshotDir)
	complete := append(snapshotHeader(7, payload(7)), payload(7)...)
	files := map[string][]byte{
		snapshotName(7) + tmpSuffix: complete,
		snapshotName(8) + tmpSuffix: []byte("DCSNAP1\n"),
		"notes.txt":                 []byte("kept"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(snaps, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, dir, Options{})
	entries, err := os.ReadDir(snaps)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{snapshotName(3), "notes.txt"}; !cmp.Equal(names, want) {
		t.Errorf("snapshot directory after Open holds %q, want %q", names, want)
	}
	if idx, data, err := s.LatestSnapshot(t.Context()); err != nil || idx != 3 || !bytes.Equal(data, payload(3)) {
		t.Errorf("LatestSnapshot = %d, %q, %v; want snapshot 3", idx, data, err)
	}
}

// TestSnapshotPastTheEnd: a snapshot after the last record, as an Open that
// truncated the tail leaves if it crashes before removing it, is removed by
// the next Open.
func TestSnapshotPastTheEnd(t *testing.T) {
	dir := newLog(t, 10, 5, 9)
	withDB(t, dir, func(db *pebble.DB) error {
		return errors.Join(deleteKey(db, recordKey(10)), deleteKey(db, recordKey(9)))
	})
	s := openStore(t, dir, Options{})
	if s.LastIndex() != 8 || s.Dropped() != 0 {
		t.Fatalf("LastIndex() = %d, Dropped() = %d; want 8, 0", s.LastIndex(), s.Dropped())
	}
	if idxs, err := s.SnapshotIndexes(t.Context()); err != nil || !slices.Equal(idxs, []uint64{5}) {
		t.Errorf("SnapshotIndexes = %v, %v; want [5]", idxs, err)
	}
	if _, err := os.Stat(snapshotFile(dir, 9)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file of snapshot 9: Stat = %v, want it removed", err)
	}
	if idx, _, err := s.LatestSnapshot(t.Context()); err != nil || idx != 5 {
		t.Errorf("LatestSnapshot = %d, %v; want 5", idx, err)
	}
}

// TestUpgradeFormat2: a format-2 store, with snapshots in the database,
// opens; its snapshot keys are deleted, it has no snapshot until the next
// is saved, its records read back, and it is format 3 from then on.
func TestUpgradeFormat2(t *testing.T) {
	dir := t.TempDir()
	withDB(t, dir, func(db *pebble.DB) error {
		b := db.NewBatch()
		defer b.Close()
		errs := []error{b.Set([]byte(versionKey), []byte{0, 0, 0, 2}, nil)}
		for i := uint64(1); i <= 10; i++ {
			errs = append(errs, b.Set(recordKey(i), encodeValue(i, payload(i)), nil))
		}
		for _, i := range []uint64{4, 8} {
			errs = append(errs,
				b.Set(indexKey(legacySnapshotPrefix, i), encodeValue(i, payload(i)), nil),
				b.Set(indexKey(legacySnapListPrefix, i), nil, nil))
		}
		errs = append(errs, b.Commit(pebble.Sync))
		return errors.Join(errs...)
	})

	s := openStore(t, dir, Options{})
	if s.LastIndex() != 10 {
		t.Errorf("LastIndex() = %d, want 10", s.LastIndex())
	}
	if seen, err := readLog(t, s, 1); err != nil || !slices.Equal(seen, span(1, 10)) {
		t.Errorf("Read(1) = %v, %v; want 1..10", seen, err)
	}
	if idx, _, err := s.LatestSnapshot(t.Context()); !errors.Is(err, ledger.ErrNoSnapshot) {
		t.Errorf("LatestSnapshot = %d, %v; want ErrNoSnapshot", idx, err)
	}
	if idxs, err := s.SnapshotIndexes(t.Context()); err != nil || len(idxs) != 0 {
		t.Errorf("SnapshotIndexes = %v, %v; want none", idxs, err)
	}
	if err := s.SaveSnapshot(t.Context(), 9, payload(9)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)

	withDB(t, dir, func(db *pebble.DB) error {
		v, closer, err := db.Get([]byte(versionKey))
		if err != nil {
			return err
		}
		version := bytes.Clone(v)
		closer.Close()
		if !bytes.Equal(version, []byte{0, 0, 0, 3}) {
			return fmt.Errorf("version after upgrade = %x, want 00000003", version)
		}
		for _, prefix := range []string{legacySnapshotPrefix, legacySnapListPrefix} {
			it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: prefixEnd(prefix)})
			if err != nil {
				return err
			}
			if it.First() {
				err = fmt.Errorf("key %x left after upgrade", it.Key())
			}
			if err := errors.Join(err, it.Close()); err != nil {
				return err
			}
		}
		return nil
	})
	s = openStore(t, dir, Options{})
	if idx, data, err := s.LatestSnapshot(t.Context()); err != nil || idx != 9 || !bytes.Equal(data, payload(9)) {
		t.Errorf("after reopening: LatestSnapshot = %d, %q, %v; want snapshot 9", idx, data, err)
	}
}

// TestConcurrentSnapshots reads the latest snapshot while snapshots are
// saved and pruned: every read must find one of them intact, never a file
// removed between listing and opening it, and never go back in time.
func TestConcurrentSnapshots(t *testing.T) {
	const n = 1000
	s := openStore(t, "/ledger", Options{fs: vfs.NewMem()})
	appendRecords(t, s, 1, n)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := uint64(1); i <= n; i++ {
			if err := s.SaveSnapshot(t.Context(), i, payload(i)); err != nil {
				t.Errorf("SaveSnapshot(%d): %v", i, err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			prev := uint64(0)
			for {
				select {
				case <-done:
					return
				default:
				}
				idx, data, err := s.LatestSnapshot(t.Context())
				if errors.Is(err, ledger.ErrNoSnapshot) && prev == 0 {
					continue
				}
				if err != nil || idx < prev || !bytes.Equal(data, payload(idx)) {
					t.Errorf("LatestSnapshot = %d, %q, %v; want an intact snapshot, %d or newer", idx, data, err, prev)
					return
				}
				prev = idx
			}
		})
	}
	wg.Wait()
}
