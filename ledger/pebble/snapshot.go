package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/deconflict/deconflict/ledger"
)

// keptSnapshots is how many snapshots SaveSnapshot keeps.
const keptSnapshots = 2

// SaveSnapshot implements [ledger.Store.SaveSnapshot]. It writes the
// snapshot and deletes the pruned ones in one synced batch.
func (s *Store) SaveSnapshot(ctx context.Context, index uint64, data []byte) error {
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
	stored, err := s.snapshotIndexes(ctx)
	if err != nil {
		return err
	}
	all := append(stored, index)
	slices.Sort(all)
	all = slices.Compact(all)
	pruned := all[:max(len(all)-keptSnapshots, 0)]

	b := s.db.NewBatchWithSize(keyLen + valueLen(data) + 16*len(all))
	defer b.Close()
	if !slices.Contains(pruned, index) {
		if err := b.Set(snapshotKey(index), encodeValue(index, data), nil); err != nil {
			return fmt.Errorf("pebblestore: save snapshot %d: %w", index, err)
		}
		if err := b.Set(snapListKey(index), nil, nil); err != nil {
			return fmt.Errorf("pebblestore: save snapshot %d: %w", index, err)
		}
	}
	for _, i := range pruned {
		if err := errors.Join(b.Delete(snapshotKey(i), nil), b.Delete(snapListKey(i), nil)); err != nil {
			return fmt.Errorf("pebblestore: save snapshot %d: %w", index, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: save snapshot %d: %w", index, err)
	}
	return nil
}

// LatestSnapshot implements [ledger.Store.LatestSnapshot].
func (s *Store) LatestSnapshot(ctx context.Context) (uint64, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if err := s.enter(); err != nil {
		return 0, nil, err
	}
	defer s.ops.Done()
	// List the indexes, then read values with Get: reading a large value
	// through an iterator was about 4 times slower (51 MB: 1.3 s against
	// 0.34 s).
	idxs, err := s.snapshotIndexes(ctx)
	if err != nil {
		return 0, nil, err
	}
	var newestBad *ledger.CorruptError
	for k := len(idxs) - 1; k >= 0; k-- {
		idx := idxs[k]
		value, closer, err := s.db.Get(snapshotKey(idx))
		if errors.Is(err, pebble.ErrNotFound) {
			if newestBad == nil {
				newestBad = &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: idx, Reason: "listed but missing"}
			}
			continue
		}
		if err != nil {
			if pebble.IsCorruptionError(err) {
				err = &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: idx, Reason: "pebble reports corruption", Err: err}
			}
			return 0, nil, fmt.Errorf("pebblestore: read snapshot %d: %w", idx, err)
		}
		data, derr := decodeValue(idx, value)
		if derr == nil {
			data = bytes.Clone(data)
		}
		closer.Close()
		if derr == nil {
			return idx, data, nil
		}
		if newestBad == nil {
			newestBad = &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: idx, Reason: derr.Error()}
		}
	}
	if newestBad != nil {
		newestBad.Reason += " (and no older snapshot verifies)"
		return 0, nil, newestBad
	}
	return 0, nil, ledger.ErrNoSnapshot
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
	return s.snapshotIndexes(ctx)
}

func (s *Store) snapshotIndexes(ctx context.Context) ([]uint64, error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte(snapListPrefix), UpperBound: prefixEnd(snapListPrefix)})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: list snapshots: %w", err)
	}
	var idx []uint64
	for ok := it.First(); ok; ok = it.Next() {
		if i, ok := parseKey(snapListPrefix, it.Key()); ok {
			idx = append(idx, i)
		}
	}
	if err := closeIter(it, it.Error()); err != nil {
		return nil, fmt.Errorf("pebblestore: list snapshots: %w", err)
	}
	return idx, nil
}

func snapshotBounds() *pebble.IterOptions {
	return &pebble.IterOptions{LowerBound: []byte(snapshotPrefix), UpperBound: prefixEnd(snapshotPrefix)}
}
