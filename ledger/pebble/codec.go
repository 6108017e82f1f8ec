package pebblestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Key layout and framing; see the package documentation.
const (
	recordPrefix   = "r/"
	snapshotPrefix = "s/"
	snapListPrefix = "t/" // empty values, one per snapshot: listing them reads no snapshot data
	hashPrefix     = "h/" // Merkle tree hashes completed by a record
	versionKey     = "meta/version"

	formatVersion uint32 = 2

	keyLen      = 2 + 8 // prefix || uint64 index
	checksumLen = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// indexKey returns prefix || index.
func indexKey(prefix string, index uint64) []byte {
	k := make([]byte, keyLen)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], index)
	return k
}

func recordKey(index uint64) []byte   { return indexKey(recordPrefix, index) }
func snapshotKey(index uint64) []byte { return indexKey(snapshotPrefix, index) }
func snapListKey(index uint64) []byte { return indexKey(snapListPrefix, index) }
func hashKey(index uint64) []byte     { return indexKey(hashPrefix, index) }

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

// checksum is CRC-32C over the big-endian index followed by data.
func checksum(index uint64, data []byte) uint32 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], index)
	return crc32.Update(crc32.Checksum(b[:], castagnoli), castagnoli, data)
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
