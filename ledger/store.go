package ledger

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Record is one log entry: its index and its bytes.
type Record struct {
	// Index is the record's position in the log, starting at 1.
	Index uint64
	// Data is the entry, opaque to the store. It may be empty.
	Data []byte
	// Hashes are the Merkle tree hashes this record completes, as
	// [Tree.Add] returns them; stored in the same durable batch as Data.
	// Empty for stores used without a tree.
	Hashes []tlog.Hash
}

// Store is durable storage for the log and its snapshots.
//
// Implementations are safe for concurrent use. Appends are serialized; Read
// and LatestSnapshot may run concurrently with Append and SaveSnapshot. After
// Close every method except LastIndex returns an error matching [ErrClosed].
type Store interface {
	// Append writes recs durably (one sync for the whole call) or not at
	// all. recs must be non-empty and their indexes contiguous, starting at
	// LastIndex()+1; otherwise Append returns an error matching
	// [ErrOutOfOrder] and writes nothing. The store keeps no reference to
	// recs or their Data.
	Append(ctx context.Context, recs []Record) error

	// LastIndex is the index of the last record, 0 if there is none.
	LastIndex() uint64

	// Read calls fn for each record with index >= from (from 0 is read as
	// 1), in order, up to the last record appended when Read started. It
	// stops at the first error fn returns and returns that error as is. A
	// record whose checksum does not verify, or a gap in the indexes, stops
	// Read with a *[CorruptError] naming the index; fn is never called with
	// it. fn may keep the Data it is given.
	Read(ctx context.Context, from uint64, fn func(Record) error) error

	// ReadHashes calls fn, in index order, for each record appended with
	// Hashes, up to the last record appended when it started, with those
	// hashes. It stops at the first error fn returns and returns it as is.
	// Stored hashes that fail their checksum are a *[CorruptError].
	ReadHashes(ctx context.Context, fn func(index uint64, hashes []tlog.Hash) error) error

	// SaveSnapshot durably stores data, the concatenation of parts, as the
	// state after record index.
	// index must not exceed LastIndex() (a snapshot of state that is not
	// yet in the log could not be recovered from); otherwise it returns an
	// error matching [ErrOutOfOrder]. Saving an index again replaces that
	// snapshot. Only the two snapshots with the highest indexes are kept.
	SaveSnapshot(ctx context.Context, index uint64, parts ...[]byte) error

	// LatestSnapshot returns the snapshot with the highest index whose
	// checksum verifies, falling back to an older one if the newest is
	// corrupt. It returns [ErrNoSnapshot] if there is none, and a
	// *[CorruptError] if there are snapshots but none verifies.
	LatestSnapshot(ctx context.Context) (index uint64, data []byte, err error)

	// Close waits for calls in flight (Reads stop early with [ErrClosed])
	// and releases the store. If ctx ends first, Close returns its error
	// and the store is released once the calls in flight finish.
	Close(ctx context.Context) error
}

// Sentinel errors, matched with errors.Is.
// AsyncAppender is implemented by stores whose appends can overlap their
// syncs, so that a writer can hand over the next batch while the last one
// is still being made durable (the syncs of overlapping appends may be
// shared).
type AsyncAppender interface {
	// AppendAsync checks and orders recs as Append does, after every
	// earlier append, and returns before they are durable; wait blocks
	// until they are and returns what Append would have. Until wait has
	// returned nil they count for the order of later appends only:
	// LastIndex, Read, ReadHashes and SaveSnapshot do not see them. wait
	// must be called exactly once, in the order of the appends. After an
	// append fails to become durable, every later one fails.
	AppendAsync(ctx context.Context, recs []Record) (wait func() error, err error)
}

var (
	// ErrOutOfOrder: an Append or SaveSnapshot that would break the log's
	// numbering (empty batch, gap, duplicate, snapshot past the end).
	ErrOutOfOrder = errors.New("ledger: out of order")
	// ErrCorrupt: stored data failed verification; see [CorruptError].
	ErrCorrupt = errors.New("ledger: corrupt")
	// ErrNoSnapshot: the store holds no snapshot.
	ErrNoSnapshot = errors.New("ledger: no snapshot")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("ledger: store closed")
)

// Kind names what a [CorruptError] is about.
type Kind string

// Kinds of stored objects.
const (
	KindRecord   Kind = "record"
	KindSnapshot Kind = "snapshot"
)

// CorruptError reports a record or snapshot that failed verification or is
// missing. It matches [ErrCorrupt] with errors.Is and unwraps to its cause,
// if any.
type CorruptError struct {
	Kind   Kind   // record or snapshot
	Index  uint64 // index of the bad or missing object; 0 if unknown
	Reason string // what is wrong, e.g. "checksum mismatch"
	Err    error  // underlying cause, may be nil
}

func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("ledger: corrupt %s %d: %s", e.Kind, e.Index, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is [ErrCorrupt].
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the underlying cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// CheckAppend reports whether recs may be appended to a log whose last index
// is last: recs must be non-empty and numbered last+1, last+2, ... The error
// matches [ErrOutOfOrder]. Backends call it before writing anything.
func CheckAppend(last uint64, recs []Record) error {
	if len(recs) == 0 {
		return fmt.Errorf("%w: empty append", ErrOutOfOrder)
	}
	want := last + 1
	for i, r := range recs {
		if r.Index != want {
			return fmt.Errorf("%w: record %d of batch has index %d, want %d", ErrOutOfOrder, i, r.Index, want)
		}
		want++
	}
	return nil
}

// CheckSnapshot reports whether a snapshot after record index may be saved
// in a log whose last index is last. The error matches [ErrOutOfOrder].
func CheckSnapshot(last, index uint64) error {
	if index > last {
		return fmt.Errorf("%w: snapshot after record %d, but the log ends at %d", ErrOutOfOrder, index, last)
	}
	return nil
}
