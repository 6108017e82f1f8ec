// Package ledger defines the durable, append-only log that is the service's
// truth, and the contract every storage backend meets.
//
// # Model
//
// The log is a sequence of records numbered 1, 2, 3, ... with no gaps. A
// record's Data is opaque to this package: the registry encodes entries, the
// ledger keeps their bytes. Records are only ever appended; a record, once
// acknowledged, is never changed.
//
// A committer appends records in batches: [Store.Append] writes a whole batch
// with a single sync, or nothing at all, and returns only when the batch is
// durable. A write may be acknowledged to a client only after the Append that
// holds it has returned nil.
//
// Next to the records a store keeps snapshots: opaque bytes holding the state
// after some record index. Recovery is: load [Store.LatestSnapshot] (or start
// from the empty state on [ErrNoSnapshot]), then [Store.Read] from the
// snapshot's index + 1 and apply each record in order.
//
// # The verifiable log
//
// On top of the store the log is a Merkle tree with RFC 6962 hashing
// ([Tree], built on golang.org/x/mod/sumdb/tlog): entry i is leaf i-1. A
// leaf is public and holds only an entry's metadata and a salted
// commitment to its content ([Leaf], [Commit]); the stored record is an
// [Entry] (leaf, salt, readers, content). The tree hashes an entry
// completes are stored with it, in the same durable batch ([Record].Hashes,
// [Store.ReadHashes]). Checkpoints are C2SP tlog-checkpoint signed notes
// ([Checkpoint], [NewSigner], [SignCheckpoint], [OpenCheckpoint]); parties
// cosign them as witnesses (C2SP tlog-cosignature: [NewCosigner],
// [NewCosignatureVerifier]). A [Receipt] proves one entry in one
// checkpoint; a [Witness] or [CheckConsistency] catches a log that signed
// two histories ([InconsistencyError]).
//
// # Integrity
//
// Backends checksum every record and snapshot. A record whose checksum does
// not verify, or a missing record (a gap), is reported as a *[CorruptError]
// (matching [ErrCorrupt] with errors.Is) naming the index; it is never handed
// to the caller as if it were valid. What a backend does about a corrupt tail
// when it opens is up to its options (see ledger/pebble).
//
// # Errors
//
// Callers branch on the sentinels [ErrOutOfOrder], [ErrCorrupt],
// [ErrNoSnapshot] and [ErrClosed] with errors.Is; [CorruptError] carries the
// index of the bad record or snapshot.
//
// # Backends
//
//   - [MemStore] (this package): in memory, for tests of other packages.
//   - ledger/pebble (package pebblestore): embedded, on Pebble; the default.
//
// Every backend runs the conformance suite in ledger/storetest.
package ledger
