package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// load checks the format version (upgrading format 2), prepares the
// snapshot directory, checks the tail of the log and sets last.
func (s *Store) load(truncate bool) error {
	if err := s.checkVersion(); err != nil {
		return err
	}
	if err := s.openSnapshotDir(); err != nil {
		return err
	}
	last, dropped, err := s.checkTail(truncate)
	if err != nil {
		return err
	}
	// A snapshot after the last record holds state the log lost: the tail
	// was just truncated, or was truncated by an Open that crashed before
	// it removed the snapshot.
	if _, err := s.removeSnapshotsAfter(last); err != nil {
		return err
	}
	s.last.Store(last)
	s.appended = last
	s.dropped = dropped
	return nil
}

// checkVersion verifies the format version, writing it into an empty
// database and upgrading a format-2 one.
func (s *Store) checkVersion() error {
	v, closer, err := s.db.Get([]byte(versionKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return s.initVersion()
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", versionKey, wrapPebble(err, 0))
	}
	n := len(v)
	var got uint32
	if n == 4 {
		got = binary.BigEndian.Uint32(v)
	}
	closer.Close()
	switch {
	case n != 4:
		return fmt.Errorf("%w: %s is %d bytes, want 4", ErrUnknownFormat, versionKey, n)
	case got == formatVersion2:
		return s.upgradeFrom2()
	case got != formatVersion:
		return fmt.Errorf("%w: version %d, this build reads versions %d and %d", ErrUnknownFormat, got, formatVersion2, formatVersion)
	}
	return nil
}

// upgradeFrom2 turns a format-2 database into format 3 in one synced batch:
// it deletes the snapshots format 2 kept in the database, which format 3
// keeps in files, and writes the new version. The store then has no
// snapshot until the next one is saved.
func (s *Store) upgradeFrom2() error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, prefix := range []string{legacySnapshotPrefix, legacySnapListPrefix} {
		if err := b.DeleteRange([]byte(prefix), prefixEnd(prefix), nil); err != nil {
			return fmt.Errorf("upgrade from format 2: %w", err)
		}
	}
	if err := b.Set([]byte(versionKey), binary.BigEndian.AppendUint32(nil, formatVersion), nil); err != nil {
		return fmt.Errorf("upgrade from format 2: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("upgrade from format 2: %w", err)
	}
	return nil
}

// initVersion writes the format version into an empty database, and refuses
// a non-empty one that has none.
func (s *Store) initVersion() error {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return wrapPebble(err, 0)
	}
	nonEmpty := it.First()
	if err := closeIter(it, it.Error()); err != nil {
		return wrapPebble(err, 0)
	}
	if nonEmpty {
		return fmt.Errorf("%w: database has data but no %s key", ErrUnknownFormat, versionKey)
	}
	v := binary.BigEndian.AppendUint32(nil, formatVersion)
	if err := s.db.Set([]byte(versionKey), v, pebble.Sync); err != nil {
		return fmt.Errorf("write %s: %w", versionKey, err)
	}
	return nil
}

// checkTail finds the last record and verifies it. If it does not verify,
// checkTail fails, or with truncate deletes records from the end until one
// verifies, along with their tree hashes; it returns the last index and the
// number of records deleted.
func (s *Store) checkTail(truncate bool) (last uint64, dropped int, err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte(recordPrefix),
		UpperBound: prefixEnd(recordPrefix),
	})
	if err != nil {
		return 0, 0, wrapPebble(err, 0)
	}
	b := s.db.NewBatch()
	defer b.Close()
	last, err = findValidTail(it, b, truncate)
	if err = closeIter(it, err); err != nil {
		return 0, 0, err
	}
	if b.Empty() {
		return last, 0, nil
	}
	dropped = int(b.Count())
	if err := b.DeleteRange(hashKey(last+1), prefixEnd(hashPrefix), nil); err != nil {
		return 0, 0, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, 0, fmt.Errorf("delete %d corrupt records at the end of the log: %w", dropped, err)
	}
	return last, dropped, nil
}

// findValidTail walks back from the last record to the first that verifies
// and returns its index (0 if none). Without truncate it fails at the first
// bad record; with it, it adds a deletion of each bad record to b.
func findValidTail(it *pebble.Iterator, b *pebble.Batch, truncate bool) (uint64, error) {
	for ok := it.Last(); ok; ok = it.Prev() {
		idx, ok := parseKey(recordPrefix, it.Key())
		var reason string
		if !ok {
			reason = fmt.Sprintf("malformed key %x at the end of the log", it.Key())
		} else if value, err := it.ValueAndErr(); err != nil {
			return 0, wrapPebble(err, idx)
		} else if _, err := decodeValue(idx, value); err != nil {
			reason = "last record: " + err.Error()
		} else {
			return idx, nil
		}
		if !truncate {
			return 0, corruptRecord(idx, reason, nil)
		}
		if err := b.Delete(it.Key(), nil); err != nil {
			return 0, err
		}
	}
	return 0, wrapPebble(it.Error(), 0)
}
