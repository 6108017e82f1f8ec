package ledger

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// MemStore is a [Store] held in memory, for tests of other packages. Nothing
// survives Close, and there is nothing to corrupt, so it never returns
// [ErrCorrupt]. The zero value is not usable; call [NewMemStore]. It is safe
// for concurrent use.
type MemStore struct {
	// mu guards all fields below.
	mu     sync.Mutex
	closed bool
	recs   []Record  // recs[i].Index == i+1; elements are never modified once appended
	snaps  []memSnap // ascending by index, at most keptSnapshots
}

type memSnap struct {
	index uint64
	data  []byte
}

// keptSnapshots is how many snapshots a store keeps, as Store specifies.
const keptSnapshots = 2

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore { return &MemStore{} }

var _ Store = (*MemStore)(nil)

// Append implements [Store.Append].
func (m *MemStore) Append(ctx context.Context, recs []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := CheckAppend(uint64(len(m.recs)), recs); err != nil {
		return err
	}
	for _, r := range recs {
		m.recs = append(m.recs, Record{Index: r.Index, Data: bytes.Clone(r.Data), Hashes: slices.Clone(r.Hashes)})
	}
	return nil
}

// LastIndex implements [Store.LastIndex].
func (m *MemStore) LastIndex() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.recs))
}

// Read implements [Store.Read].
func (m *MemStore) Read(ctx context.Context, from uint64, fn func(Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if from == 0 {
		from = 1
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	var recs []Record // a view of records that Append never modifies
	if from <= uint64(len(m.recs)) {
		recs = m.recs[from-1:]
	}
	m.mu.Unlock()

	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(Record{Index: r.Index, Data: bytes.Clone(r.Data)}); err != nil {
			return err
		}
	}
	return nil
}

// ReadHashes implements [Store.ReadHashes].
func (m *MemStore) ReadHashes(ctx context.Context, fn func(uint64, []tlog.Hash) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	recs := m.recs
	m.mu.Unlock()
	for _, r := range recs {
		if len(r.Hashes) == 0 {
			continue
		}
		if err := fn(r.Index, slices.Clone(r.Hashes)); err != nil {
			return err
		}
	}
	return nil
}

// SaveSnapshot implements [Store.SaveSnapshot].
func (m *MemStore) SaveSnapshot(ctx context.Context, index uint64, parts ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := CheckSnapshot(uint64(len(m.recs)), index); err != nil {
		return err
	}
	m.snaps = slices.DeleteFunc(m.snaps, func(s memSnap) bool { return s.index == index })
	m.snaps = append(m.snaps, memSnap{index: index, data: slices.Concat(parts...)})
	slices.SortFunc(m.snaps, func(a, b memSnap) int { return cmp.Compare(a.index, b.index) })
	if n := len(m.snaps); n > keptSnapshots {
		m.snaps = slices.Delete(m.snaps, 0, n-keptSnapshots)
	}
	return nil
}

// LatestSnapshot implements [Store.LatestSnapshot].
func (m *MemStore) LatestSnapshot(ctx context.Context) (uint64, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, nil, ErrClosed
	}
	if len(m.snaps) == 0 {
		return 0, nil, ErrNoSnapshot
	}
	s := m.snaps[len(m.snaps)-1]
	return s.index, bytes.Clone(s.data), nil
}

// SnapshotIndexes returns the indexes of the stored snapshots, ascending.
func (m *MemStore) SnapshotIndexes(ctx context.Context) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	idx := make([]uint64, len(m.snaps))
	for i, s := range m.snaps {
		idx[i] = s.index
	}
	return idx, nil
}

// Close implements [Store.Close]. A second Close returns [ErrClosed].
func (m *MemStore) Close(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.recs, m.snaps = nil, nil
	return nil
}
