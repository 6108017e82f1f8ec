package ledger

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// Tree is the log's Merkle tree (RFC 6962 hashing, as in
// golang.org/x/mod/sumdb/tlog), held in memory as the stored hashes tlog
// defines: about two hashes (64 bytes) per entry. Entries are numbered from
// 1 here and from 0 in tlog. It is safe for concurrent use: one writer
// adds leaves while readers make proofs for sizes already added.
type Tree struct {
	mu     sync.RWMutex
	hashes []tlog.Hash // tlog stored hashes, in stored-index order
	size   int64       // leaves
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return uint64(t.size)
}

// readHashes implements tlog.HashReader; t.mu must be held.
func (t *Tree) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("ledger: tree hash %d not stored (tree of %d leaves)", x, t.size)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

// Add appends the leaf with hash h and returns the stored hashes it
// completes (what a store keeps for this entry, see [Record]).
func (t *Tree) Add(h tlog.Hash) ([]tlog.Hash, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stored, err := tlog.StoredHashesForRecordHash(t.size, h, tlog.HashReaderFunc(t.readHashes))
	if err != nil {
		return nil, err
	}
	t.hashes = append(t.hashes, stored...)
	t.size++
	return stored, nil
}

// Load appends an entry's stored hashes as read from a store, checking
// that their number is right for entry index (which must be Size()+1).
func (t *Tree) Load(index uint64, stored []tlog.Hash) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if index != uint64(t.size)+1 {
		return fmt.Errorf("ledger: tree hashes for entry %d, want entry %d", index, t.size+1)
	}
	if want := tlog.StoredHashCount(t.size+1) - tlog.StoredHashCount(t.size); int64(len(stored)) != want {
		return fmt.Errorf("ledger: entry %d has %d tree hashes, want %d", index, len(stored), want)
	}
	t.hashes = append(t.hashes, stored...)
	t.size++
	return nil
}

// LeafHash returns the hash of leaf index.
func (t *Tree) LeafHash(index uint64) (tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if index == 0 || index > uint64(t.size) {
		return tlog.Hash{}, fmt.Errorf("ledger: no entry %d (tree of %d)", index, t.size)
	}
	h, err := t.readHashes([]int64{tlog.StoredHashIndex(0, int64(index-1))})
	if err != nil {
		return tlog.Hash{}, err
	}
	return h[0], nil
}

// Root returns the root hash of the tree of the first size leaves.
func (t *Tree) Root(size uint64) (tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > uint64(t.size) {
		return tlog.Hash{}, fmt.Errorf("%w: tree of %d leaves asked for, %d stored", ErrTooLarge, size, t.size)
	}
	return tlog.TreeHash(int64(size), tlog.HashReaderFunc(t.readHashes))
}

// ErrTooLarge: a proof or root asked for a tree larger than the log.
var ErrTooLarge = errors.New("ledger: beyond the end of the log")

// InclusionProof proves that entry index is leaf index-1 of the tree of
// size leaves.
func (t *Tree) InclusionProof(index, size uint64) (tlog.RecordProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > uint64(t.size) {
		return nil, fmt.Errorf("%w: tree of %d leaves asked for, %d stored", ErrTooLarge, size, t.size)
	}
	if index == 0 || index > size {
		return nil, fmt.Errorf("ledger: entry %d is not in a tree of %d entries", index, size)
	}
	return tlog.ProveRecord(int64(size), int64(index-1), tlog.HashReaderFunc(t.readHashes))
}

// ConsistencyProof proves that the tree of old leaves is a prefix of the
// tree of size leaves.
func (t *Tree) ConsistencyProof(old, size uint64) (tlog.TreeProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > uint64(t.size) {
		return nil, fmt.Errorf("%w: tree of %d leaves asked for, %d stored", ErrTooLarge, size, t.size)
	}
	if old > size {
		return nil, fmt.Errorf("ledger: no consistency proof from %d to the smaller %d", old, size)
	}
	if old == 0 {
		return tlog.TreeProof{}, nil // every tree extends the empty one
	}
	return tlog.ProveTree(int64(size), int64(old), tlog.HashReaderFunc(t.readHashes))
}
