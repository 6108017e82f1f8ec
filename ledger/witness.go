package ledger

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrInconsistent: two checkpoints signed by the log that cannot both be
// true — the log rewrote or forked its history. See [InconsistencyError].
var ErrInconsistent = errors.New("ledger: the log's history is inconsistent")

// InconsistencyError is the evidence of a rewritten or forked log: two
// checkpoints signed by the log, and why they cannot both hold. If they
// have the same size and different roots, the pair alone proves it to
// anyone; otherwise the log failed to prove that the older is a prefix of
// the newer (and never will, if it forked).
type InconsistencyError struct {
	Old, New   []byte // signed checkpoints
	OldC, NewC Checkpoint
	Reason     string
}

func (e *InconsistencyError) Error() string {
	return fmt.Sprintf("ledger: INCONSISTENT LOG %s: checkpoint of size %d (root %v) and checkpoint of size %d (root %v): %s",
		e.NewC.Origin, e.OldC.Size, e.OldC.Root, e.NewC.Size, e.NewC.Root, e.Reason)
}

// Is reports whether target is ErrInconsistent.
func (e *InconsistencyError) Is(target error) bool { return target == ErrInconsistent }

// CheckConsistency verifies proof that checkpoint old is a prefix of
// checkpoint new (in either order of sizes: the smaller is the prefix).
// oldSigned and newSigned are kept in the error as evidence.
func CheckConsistency(oldC Checkpoint, oldSigned []byte, newC Checkpoint, newSigned []byte, proof tlog.TreeProof) error {
	if oldC.Size > newC.Size {
		return CheckConsistency(newC, newSigned, oldC, oldSigned, proof)
	}
	fail := func(why string) error {
		return &InconsistencyError{Old: oldSigned, New: newSigned, OldC: oldC, NewC: newC, Reason: why}
	}
	if oldC.Origin != newC.Origin {
		return fmt.Errorf("ledger: checkpoints of two logs, %q and %q", oldC.Origin, newC.Origin)
	}
	switch {
	case oldC.Size == 0:
		if oldC.Root != (tlog.Hash{}) && oldC.Root != emptyRoot {
			return fail("the empty tree has a root")
		}
		return nil
	case oldC.Size == newC.Size:
		if oldC.Root != newC.Root {
			return fail("same size, different roots: the log signed two histories")
		}
		return nil
	}
	if err := tlog.CheckTree(proof, int64(newC.Size), newC.Root, int64(oldC.Size), oldC.Root); err != nil {
		return fail("the consistency proof does not verify: " + err.Error())
	}
	return nil
}

// emptyRoot is the RFC 6962 hash of the empty tree, SHA-256 of nothing.
var emptyRoot, _ = tlog.TreeHash(0, tlog.HashReaderFunc(func([]int64) ([]tlog.Hash, error) { return nil, nil }))

// Witness follows one log's checkpoints as a party sees them, accepting a
// new one only if the log proves it consistent with the last accepted.
// The zero Witness (with Log set) has seen nothing and accepts any
// correctly signed first checkpoint.
type Witness struct {
	Log  note.Verifier
	last []byte
	lc   Checkpoint
}

// Last returns the last accepted signed checkpoint (nil if none).
func (w *Witness) Last() ([]byte, Checkpoint) { return w.last, w.lc }

// Resume sets the last accepted checkpoint, e.g. from a file, after
// checking its signature.
func (w *Witness) Resume(signed []byte) error {
	c, _, err := OpenCheckpoint(signed, w.Log)
	if err != nil {
		return err
	}
	w.last, w.lc = signed, c
	return nil
}

// Advance verifies signed (by the log) and the consistency proof from the
// last accepted checkpoint to it, then accepts it. A checkpoint smaller
// than the last accepted is checked the same way (with the proof from it
// to the last) but not accepted. On an inconsistency the error is an
// *InconsistencyError.
func (w *Witness) Advance(signed []byte, proof tlog.TreeProof) (Checkpoint, error) {
	c, _, err := OpenCheckpoint(signed, w.Log)
	if err != nil {
		return Checkpoint{}, err
	}
	if w.last == nil {
		w.last, w.lc = signed, c
		return c, nil
	}
	if err := CheckConsistency(w.lc, w.last, c, signed, proof); err != nil {
		return Checkpoint{}, err
	}
	if c.Size > w.lc.Size {
		w.last, w.lc = signed, c
	}
	return c, nil
}
