// Package pebblestore is the embedded [ledger.Store], kept in a Pebble
// database (github.com/cockroachdb/pebble/v2) in one directory. It is the
// default backend. The package lives at ledger/pebble but is named
// pebblestore, so that it can be imported next to Pebble itself without
// renaming.
//
// # Format
//
// Format version 2. All integers are big-endian. The database holds these
// kinds of keys:
//
//	key                          value
//	"meta/version"               uint32 format version (4 bytes), = 2
//	"r/" || uint64 index         uint32 CRC-32C || data     one log record
//	"s/" || uint64 index         uint32 CRC-32C || data     one snapshot: state after record index
//	"t/" || uint64 index         empty                      lists the snapshot, so listing reads no snapshot data
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
// Open refuses a database whose version is not 2 (version 1 had no tree
// hashes), and a non-empty database
// without a version key; it writes the version into an empty one.
//
// # Durability and recovery
//
// Append writes a whole batch of records as one Pebble batch committed with
// pebble.Sync, so the batch is durable when Append returns and a crash leaves
// either all of it or none of it. SaveSnapshot does the same for a snapshot
// and the deletion of pruned ones; the two snapshots with the highest indexes
// are kept.
//
// On Open the store reads the last record and verifies its checksum. If it
// does not verify, Open fails with a *ledger.CorruptError naming the index,
// unless Options.TruncateCorruptTail is set: then Open deletes records from
// the end until the last one verifies (and the tree hashes and any snapshot
// after the new last record), logs nothing, and reports the count through [Store.Dropped]. Read
// verifies the checksum of every record it returns and that the indexes are
// contiguous; a bad or missing record in the middle is reported, never
// skipped or repaired.
//
// Pebble also checksums its own blocks and write-ahead log; its corruption
// errors are reported as *ledger.CorruptError too.
package pebblestore
