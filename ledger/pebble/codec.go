package pebblestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Key layout and framing; see the package documentation.
const (
	recordPrefix = "r/"
	hashPrefix   = "h/" // Merkle tree hashes completed by a record
	versionKey   = "meta/version"

	formatVersion uint32 = 3
	// formatVersion2 kept snapshots in the database, under
	// legacySnapshotPrefix and legacySnapListPrefix; Open upgrades it.
	formatVersion2 uint32 = 2

	legacySnapshotPrefix = "s/" // format 2: a snapshot
	legacySnapListPrefix = "t/" // format 2: empty values listing the snapshots

	keyLen      = 2 + 8 // prefix || uint64 index
	checksumLen = 4
)

// Snapshot files; see the package documentation.
const (
	snapshotDir       = "snapshots" // in the store's directory
	snapshotSuffix    = ".snap"
	tmpSuffix         = ".tmp" // a snapshot file being written
	snapshotMagic     = "DCSNAP1\n"
	snapshotDigits    = 20 // the index in decimal, zero-padded: every uint64 fits
	snapshotHeaderLen = len(snapshotMagic) + 8 + checksumLen
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// indexKey returns prefix || index.
func indexKey(prefix string, index uint64) []byte {
	k := make([]byte, keyLen)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], index)
	return k
}

func recordKey(index uint64) []byte { return indexKey(recordPrefix, index) }
func hashKey(index uint64) []byte   { return indexKey(hashPrefix, index) }

// prefixEnd returns the smallest key greater than every key with prefix;
// prefixes here end in '/', which has a successor.
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	end[len(end)-1]++
	return end
}

// parseKey returns the index of a key prefix || index.
func parseKey(prefix string, key []byte) (uint64, bool) {
	if len(key) != keyLen || string(key[:len(prefix)]) != prefix {
		return 0, false
	}
	return binary.BigEndian.Uint64(key[len(prefix):]), true
}

// checksum is CRC-32C over the big-endian index followed by data (the
// concatenation of its parts).
func checksum(index uint64, data ...[]byte) uint32 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], index)
	sum := crc32.Checksum(b[:], castagnoli)
	for _, d := range data {
		sum = crc32.Update(sum, castagnoli, d)
	}
	return sum
}

// valueLen is the length of the value that frames data.
func valueLen(data []byte) int { return checksumLen + len(data) }

// putValue writes the framed value for (index, data) into dst, which must
// have length valueLen(data).
func putValue(dst []byte, index uint64, data []byte) {
	binary.BigEndian.PutUint32(dst, checksum(index, data))
	copy(dst[checksumLen:], data)
}

// encodeValue returns the framed value for (index, data).
func encodeValue(index uint64, data []byte) []byte {
	v := make([]byte, valueLen(data))
	putValue(v, index, data)
	return v
}

// decodeValue verifies a value stored under index and returns its data, which
// aliases value. The error says what is wrong, for a CorruptError's Reason.
func decodeValue(index uint64, value []byte) ([]byte, error) {
	if len(value) < checksumLen {
		return nil, fmt.Errorf("value of %d bytes is shorter than its checksum", len(value))
	}
	data := value[checksumLen:]
	stored := binary.BigEndian.Uint32(value)
	if got := checksum(index, data); got != stored {
		return nil, fmt.Errorf("checksum mismatch: stored %08x, computed %08x", stored, got)
	}
	return data, nil
}

// snapshotName is the name of the file holding the snapshot after record
// index.
func snapshotName(index uint64) string {
	return fmt.Sprintf("%0*d%s", snapshotDigits, index, snapshotSuffix)
}

// parseSnapshotName returns the index of a snapshot file's name. It rejects
// any other name, temporary files included.
func parseSnapshotName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, snapshotSuffix)
	if !ok || len(digits) != snapshotDigits || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	index, err := strconv.ParseUint(digits, 10, 64)
	return index, err == nil
}

// snapshotHeader returns the header of the file holding the concatenation
// of parts as the snapshot after record index; the parts follow it.
func snapshotHeader(index uint64, parts ...[]byte) []byte {
	h := make([]byte, 0, snapshotHeaderLen)
	h = append(h, snapshotMagic...)
	h = binary.BigEndian.AppendUint64(h, index)
	return binary.BigEndian.AppendUint32(h, checksum(index, parts...))
}

// decodeSnapshot verifies the contents of the file named for the snapshot
// after record index and returns its data, which aliases file. The error
// says what is wrong, for a CorruptError's Reason.
func decodeSnapshot(index uint64, file []byte) ([]byte, error) {
	if len(file) < snapshotHeaderLen {
		return nil, fmt.Errorf("file of %d bytes is shorter than its %d-byte header", len(file), snapshotHeaderLen)
	}
	if magic := file[:len(snapshotMagic)]; string(magic) != snapshotMagic {
		return nil, fmt.Errorf("bad magic %q", magic)
	}
	if got := binary.BigEndian.Uint64(file[len(snapshotMagic):]); got != index {
		return nil, fmt.Errorf("file holds the snapshot after record %d", got)
	}
	data := file[snapshotHeaderLen:]
	stored := binary.BigEndian.Uint32(file[snapshotHeaderLen-checksumLen:])
	if got := checksum(index, data); got != stored {
		return nil, fmt.Errorf("checksum mismatch: stored %08x, computed %08x", stored, got)
	}
	return data, nil
}
