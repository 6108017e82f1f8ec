package ledger

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Receipt proves that an entry is in the log: the entry's public leaf, its
// hash, a checkpoint signed by the log covering it, and the inclusion proof
// from the leaf to the checkpoint's root. A party keeps its receipts: with
// them it can show anyone holding the log's verifier key that the log
// recorded its entry, at that index and time.
type Receipt struct {
	Index      uint64      `json:"index"`
	Leaf       string      `json:"leaf"`       // Leaf.Marshal(), as text
	LeafHash   tlog.Hash   `json:"leaf_hash"`  // tlog.RecordHash(Leaf)
	Checkpoint string      `json:"checkpoint"` // signed note
	Proof      []tlog.Hash `json:"proof"`      // tlog.RecordProof for leaf Index-1
}

// ErrBadReceipt: a receipt that does not verify.
var ErrBadReceipt = errors.New("ledger: receipt does not verify")

// Verify checks the receipt against the log's verifier key: the checkpoint
// is signed by the log, the leaf is well formed, names Index and hashes to
// LeafHash, and the proof leads from it to the checkpoint's root. It
// returns the leaf and the checkpoint.
func (r *Receipt) Verify(log note.Verifier) (Leaf, Checkpoint, error) {
	bad := func(format string, args ...any) (Leaf, Checkpoint, error) {
		return Leaf{}, Checkpoint{}, fmt.Errorf("%w: entry %d: %s", ErrBadReceipt, r.Index, fmt.Sprintf(format, args...))
	}
	c, _, err := OpenCheckpoint([]byte(r.Checkpoint), log)
	if err != nil {
		return bad("%v", err)
	}
	l, err := ParseLeaf([]byte(r.Leaf))
	if err != nil {
		return bad("%v", err)
	}
	if l.Index != r.Index {
		return bad("the leaf is entry %d", l.Index)
	}
	if h := tlog.RecordHash([]byte(r.Leaf)); h != r.LeafHash {
		return bad("the leaf hashes to %v, the receipt says %v", h, r.LeafHash)
	}
	if r.Index == 0 || r.Index > c.Size {
		return bad("not covered by the checkpoint (size %d)", c.Size)
	}
	if err := tlog.CheckRecord(r.Proof, int64(c.Size), c.Root, int64(r.Index-1), r.LeafHash); err != nil {
		return bad("inclusion proof in the tree of %d: %v", c.Size, err)
	}
	return l, c, nil
}
