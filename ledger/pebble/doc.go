// Package pebblestore is the embedded [ledger.Store]: the log in a Pebble
// database (github.com/cockroachdb/pebble/v2) and the snapshots in plain
// files, both in one directory. It is the default backend. The package
// lives at ledger/pebble but is named pebblestore, so that it can be
// imported next to Pebble itself without renaming.
//
// # Format
//
// Format version 3. All integers are big-endian. The store's directory holds
// the Pebble database and, in the subdirectory "snapshots", one file per
// snapshot. The database holds these kinds of keys:
//
//	key                          value
//	"meta/version"               uint32 format version (4 bytes), = 3
//	"r/" || uint64 index         uint32 CRC-32C || data     one log record
//	"h/" || uint64 index         uint32 CRC-32C || hashes   the Merkle tree hashes record index completes (32 bytes each)
//
// CRC-32C is CRC-32 with the Castagnoli polynomial, computed over the 8-byte
// index followed by the data, so a value copied under the wrong key fails
// verification too. Because the index is big-endian, keys sort in index order
// and the last record is the last key under "r/".
//
// Worked example: record 1 with data "hi" is stored as
//
//	key   72 2f 00 00 00 00 00 00 00 01                  "r/" || 1
//	value 42 60 cc 05 68 69                              crc || "hi"
//
// where 0x4260cc05 is CRC-32C(00 00 00 00 00 00 00 01 68 69).
//
// The snapshot holding the state after record index is the file
// snapshots/<index>.snap, its name the index in decimal padded with zeros to
// 20 digits. Its contents are
//
//	"DCSNAP1\n" || uint64 index || uint32 CRC-32C || data
//
// with the CRC-32C computed as for values. A snapshot verifies if its magic
// is right, its index is the one in its name and its checksum matches. The
// snapshot after record 2 with data "hi" is the file
// 00000000000000000002.snap holding
//
//	44 43 53 4e 41 50 31 0a  00 00 00 00 00 00 00 02  a8 4e 0c 76  68 69
//
// where 0xa84e0c76 is CRC-32C(00 00 00 00 00 00 00 02 68 69).
//
// Other files in that directory are ignored, except that Open removes
// those ending in ".tmp" (snapshots whose writing a crash interrupted).
// Snapshots are files rather than values because they are large (about
// 100 MB for 100,000 intents): reading one is a single read, and Pebble's
// compactions do not rewrite them.
//
// Open refuses a database whose version is neither 3 nor 2 (version 1 had
// no tree hashes), and a non-empty database without a version key; it
// writes the version into an empty one. Format 2 kept snapshots in the
// database, under "s/" || uint64 index (CRC-32C || data) and "t/" || uint64
// index (empty, listing them). Open upgrades a format-2 database in place:
// in one synced batch it deletes those keys and writes version 3. The
// upgraded store has no snapshot until the next one is saved, so the log is
// replayed from its start once.
//
// # Durability and recovery
//
// Append writes a whole batch of records as one Pebble batch committed with
// pebble.Sync, so the batch is durable when Append returns and a crash leaves
// either all of it or none of it. AppendAsync applies the batch the same way
// but returns before the sync, with a function that waits for it; Pebble's
// write-ahead log is synced in order (one sync may cover several batches),
// so a crash leaves a prefix of the batches applied, and no record is read
// before its sync is done. SaveSnapshot writes <name>.tmp, syncs it,
// renames it to <name> and syncs the directory, so a crash leaves either the
// complete new file or the files as they were (saving an index again
// replaces its file in the rename); then it removes the snapshots beyond
// the two with the highest indexes.
//
// On Open the store reads the last record and verifies its checksum. If it
// does not verify, Open fails with a *ledger.CorruptError naming the index,
// unless Options.TruncateCorruptTail is set: then Open deletes records from
// the end until the last one verifies (and the tree hashes after the new last
// record), logs nothing, and reports the count through [Store.Dropped]. Open
// then removes any snapshot after the last record: it holds state the log
// lost. Read verifies the checksum of every record it returns and that the
// indexes are contiguous; a bad or missing record in the middle is reported,
// never skipped or repaired. LatestSnapshot verifies the snapshot it returns.
//
// Pebble also checksums its own blocks and write-ahead log; its corruption
// errors are reported as *ledger.CorruptError too.
package pebblestore
