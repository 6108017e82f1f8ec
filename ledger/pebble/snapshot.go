package pebblestore

import (
	"bytes"
	"context"
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
	}
	for _, i := range pruned {
		if err := b.Delete(snapshotKey(i), nil); err != nil {
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
	it, err := s.db.NewIterWithContext(ctx, snapshotBounds())
	if err != nil {
		return 0, nil, fmt.Errorf("pebblestore: latest snapshot: %w", err)
	}
	index, data, err := latestValid(it)
	if err = closeIter(it, err); err != nil {
		return 0, nil, err
	}
	return index, data, nil
}

// latestValid returns the snapshot with the highest index that verifies.
func latestValid(it *pebble.Iterator) (uint64, []byte, error) {
	var newestBad *ledger.CorruptError
	for ok := it.Last(); ok; ok = it.Prev() {
		idx, ok := parseKey(snapshotPrefix, it.Key())
		var reason string
		if !ok {
			reason = fmt.Sprintf("malformed key %x", it.Key())
		} else if value, err := it.ValueAndErr(); err != nil {
			// The iterator cannot go on after this error.
			if pebble.IsCorruptionError(err) {
				err = &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: idx, Reason: "pebble reports corruption", Err: err}
			}
			return 0, nil, fmt.Errorf("pebblestore: read snapshot %d: %w", idx, err)
		} else if data, err := decodeValue(idx, value); err != nil {
			reason = err.Error()
		} else {
			return idx, bytes.Clone(data), nil
		}
		if newestBad == nil {
			newestBad = &ledger.CorruptError{Kind: ledger.KindSnapshot, Index: idx, Reason: reason}
		}
	}
	if err := it.Error(); err != nil {
		return 0, nil, fmt.Errorf("pebblestore: latest snapshot: %w", err)
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
	it, err := s.db.NewIterWithContext(ctx, snapshotBounds())
	if err != nil {
		return nil, fmt.Errorf("pebblestore: list snapshots: %w", err)
	}
	var idx []uint64
	for ok := it.First(); ok; ok = it.Next() {
		if i, ok := parseKey(snapshotPrefix, it.Key()); ok {
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
