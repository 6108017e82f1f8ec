package pebblestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/deconflict/deconflict/ledger"
)

// keptSnapshots is how many snapshots SaveSnapshot keeps.
const keptSnapshots = 2

// SaveSnapshot implements [ledger.Store.SaveSnapshot]. It writes the
// snapshot to a temporary file, syncs it and renames it into place, syncs
// the directory, and then removes the pruned snapshots.
func (s *Store) SaveSnapshot(ctx context.Context, index uint64, parts ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.ops.Done()
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := ledger.CheckSnapshot(s.last.Load(), index); err != nil {
		return err
	}
	stored, err := s.snapshotIndexes()
	if err != nil {
		return err
	}
	all := append(slices.Clone(stored), index)
	slices.Sort(all)
	all = slices.Compact(all)
	pruned := all[:max(len(all)-keptSnapshots, 0)]
	if !slices.Contains(pruned, index) {
		if err := s.writeSnapshot(index, parts); err != nil {
			return fmt.Errorf("pebblestore: save snapshot %d: %w", index, err)
		}
	}
	// The new snapshot is durable, so the pruned ones are no longer needed.
	// Their removal need not be: one that comes back after a crash is
	// pruned by the next SaveSnapshot.
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	var errs []error
	for _, i := range pruned {
		if slices.Contains(stored, i) {
			errs = append(errs, s.fs.Remove(s.snapshotPath(i)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pebblestore: save snapshot %d: removing pruned snapshots: %w", index, err)
	}
	return nil
}

// writeSnapshot writes the file of the snapshot after record index (the
// concatenation of parts), durably, replacing any file of that index only
// once the new one is complete.
func (s *Store) writeSnapshot(index uint64, parts [][]byte) error {
	path := s.snapshotPath(index)
	tmp := path + tmpSuffix
	f, err := s.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	err = writeSync(f, snapshotHeader(index, parts...), parts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.fs.Rename(tmp, path)
	}
	if err != nil {
		if rerr := s.fs.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		return err
	}
	return syncDir(s.fs, s.snapDir)
}

// writeSync writes header and then each of parts to f, through a buffer
// (a snapshot has a part per intent), then syncs f.
func writeSync(f vfs.File, header []byte, parts [][]byte) error {
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(header)
	for _, b := range parts {
		w.Write(b) // a write error sticks: Flush returns it
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir syncs directory dir, making the creation, renaming and removal of
// its entries durable.
func syncDir(fsys vfs.FS, dir string) error {
	d, err := fsys.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// LatestSnapshot implements [ledger.Store.LatestSnapshot]. The data it
// returns is the buffer the file was read into, past the header.
func (s *Store) LatestSnapshot(ctx context.Context) (uint64, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if err := s.enter(); err != nil {
		return 0, nil, err
	}
	defer s.ops.Done()
	files, err := s.openSnapshots()
	if err != nil {
		return 0, nil, err
	}
	defer func() {
		for _, f := range files {
			f.f.Close()
		}
	}()
	var newestBad *ledger.CorruptError
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		data, err := readSnapshot(f.index, f.f)
		if ce := (*ledger.CorruptError)(nil); errors.As(err, &ce) {
			if newestBad == nil {
				newestBad = ce
			}
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("pebblestore: read snapshot %d: %w", f.index, err)
		}
		return f.index, data, nil
	}
	if newestBad != nil {
		newestBad.Reason += " (and no older snapshot verifies)"
		return 0, nil, newestBad
	}
	return 0, nil, ledger.ErrNoSnapshot
}

// openSnapshot is a snapshot file opened for reading.
type openSnapshot struct {
	index uint64
	f     vfs.File
}

// openSnapshots opens the snapshot files, newest first. Holding pruneMu
// while it opens them keeps a concurrent SaveSnapshot from removing one
// between listing and opening; once open, a file stays readable even if it
// is removed.
func (s *Store) openSnapshots() ([]openSnapshot, error) {
	s.pruneMu.RLock()
	defer s.pruneMu.RUnlock()
	idxs, err := s.snapshotIndexes()
	if err != nil {
		return nil, err
	}
	files := make([]openSnapshot, 0, len(idxs))
	for _, idx := range slices.Backward(idxs) {
		f, err := s.fs.Open(s.snapshotPath(idx), vfs.SequentialReadsOption)
		if err != nil {
			for _, o := range files {
				o.f.Close()
			}
			return nil, fmt.Errorf("pebblestore: open snapshot %d: %w", idx, err)
		}
		files = append(files, openSnapshot{idx, f})
	}
	return files, nil
}

// readSnapshot reads the whole file of the snapshot after record index into
// one buffer and returns its verified data. A file that does not verify is a
// *ledger.CorruptError.
func readSnapshot(index uint64, f vfs.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, info.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: index, Reason: "file shrank while being read", Err: err}
		}
		return nil, err
	}
	data, err := decodeSnapshot(index, buf)
	if err != nil {
		return nil, &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: index, Reason: err.Error()}
	}
	return data, nil
}

// SnapshotIndexes returns the indexes of the stored snapshots, ascending,
// whether or not they verify.
func (s *Store) SnapshotIndexes(ctx context.Context) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.ops.Done()
	return s.snapshotIndexes()
}

// snapshotIndexes lists the snapshot files, ascending by index.
func (s *Store) snapshotIndexes() ([]uint64, error) {
	names, err := s.fs.List(s.snapDir)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: list snapshots: %w", err)
	}
	var idxs []uint64
	for _, name := range names {
		if i, ok := parseSnapshotName(name); ok {
			idxs = append(idxs, i)
		}
	}
	slices.Sort(idxs)
	return idxs, nil
}

func (s *Store) snapshotPath(index uint64) string {
	return s.fs.PathJoin(s.snapDir, snapshotName(index))
}

// openSnapshotDir creates the snapshot directory if needed, making it
// durable, and removes temporary files a crash left in it.
func (s *Store) openSnapshotDir() error {
	if err := s.fs.MkdirAll(s.snapDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", s.snapDir, err)
	}
	// Synced even if it existed: a process that died after creating it
	// may not have synced it.
	if err := syncDir(s.fs, s.fs.PathDir(s.snapDir)); err != nil {
		return err
	}
	names, err := s.fs.List(s.snapDir)
	if err != nil {
		return fmt.Errorf("list %s: %w", s.snapDir, err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, tmpSuffix) {
			if err := s.fs.Remove(s.fs.PathJoin(s.snapDir, name)); err != nil {
				return fmt.Errorf("remove leftover %s: %w", name, err)
			}
		}
	}
	return nil
}

// removeSnapshotsAfter removes, durably, the snapshots after record last:
// they hold state the log no longer has. It returns how many it removed.
func (s *Store) removeSnapshotsAfter(last uint64) (int, error) {
	idxs, err := s.snapshotIndexes()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, i := range idxs {
		if i > last {
			if err := s.fs.Remove(s.snapshotPath(i)); err != nil {
				return n, fmt.Errorf("remove snapshot %d after the end of the log (%d): %w", i, last, err)
			}
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, syncDir(s.fs, s.snapDir)
}
