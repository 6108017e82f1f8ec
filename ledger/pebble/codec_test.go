package pebblestore

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestWorkedExample checks the example in the package documentation.
func TestWorkedExample(t *testing.T) {
	if got, want := hex.EncodeToString(recordKey(1)), "722f0000000000000001"; got != want {
		t.Errorf("recordKey(1) = %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(encodeValue(1, []byte("hi"))), "4260cc056869"; got != want {
		t.Errorf("encodeValue(1, hi) = %s, want %s", got, want)
	}
	if got, want := snapshotName(2), "00000000000000000002.snap"; got != want {
		t.Errorf("snapshotName(2) = %s, want %s", got, want)
	}
	file := append(snapshotHeader(2, []byte("h"), nil, []byte("i")), "hi"...) // the checksum runs over every part
	if got, want := hex.EncodeToString(file), "4443534e4150310a"+"0000000000000002"+"a84e0c76"+"6869"; got != want {
		t.Errorf("snapshot file of 2, hi = %s, want %s", got, want)
	}
}

func TestSnapshotFileRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		index uint64
		data  []byte
	}{
		{"zero index, nil", 0, nil},
		{"empty", 2, []byte{}},
		{"text", 3, []byte("state")},
		{"binary", 1 << 40, []byte{0, 0xff, 0, 0xfe}},
		{"max index", ^uint64(0), bytes.Repeat([]byte{7}, 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := snapshotName(tt.index)
			if idx, ok := parseSnapshotName(name); !ok || idx != tt.index {
				t.Errorf("parseSnapshotName(%q) = %d, %v; want %d, true", name, idx, ok, tt.index)
			}
			file := append(snapshotHeader(tt.index, tt.data), tt.data...)
			got, err := decodeSnapshot(tt.index, file)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("decodeSnapshot = %x, %v; want %x", got, err, tt.data)
			}
			if len(tt.data) > 0 && &got[0] != &file[snapshotHeaderLen] {
				t.Error("decodeSnapshot copied the data, want it to alias the file")
			}
			if _, err := decodeSnapshot(tt.index+1, file); err == nil {
				t.Errorf("file verified as snapshot %d, want an index mismatch", tt.index+1)
			}
		})
	}
}

func TestDecodeSnapshotRejects(t *testing.T) {
	good := append(snapshotHeader(7, []byte("state")), "state"...)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"header only, cut", good[:snapshotHeaderLen-1]},
		{"data cut", good[:len(good)-1]},
		{"data extended", append(bytes.Clone(good), 0)},
		{"bad magic", edit(func(b []byte) []byte { b[6] = '2'; return b })},
		{"other index", edit(func(b []byte) []byte { b[len(snapshotMagic)+7] = 8; return b })},
		{"checksum flipped", edit(func(b []byte) []byte { b[snapshotHeaderLen-1] ^= 1; return b })},
		{"data flipped", edit(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if data, err := decodeSnapshot(7, tt.file); err == nil {
				t.Errorf("decodeSnapshot(%x) = %q, nil; want an error", tt.file, data)
			}
		})
	}
}

func TestParseSnapshotNameRejects(t *testing.T) {
	for _, name := range []string{
		"",
		".snap",
		"00000000000000000002.snap.tmp",
		"0000000000000000002.snap",   // 19 digits
		"000000000000000000002.snap", // 21 digits
		"+0000000000000000002.snap",
		"0000000000000000000x.snap",
		"99999999999999999999.snap", // past the largest uint64
		"00000000000000000002.SNAP",
		"00000000000000000002",
	} {
		if i, ok := parseSnapshotName(name); ok {
			t.Errorf("parseSnapshotName(%q) = %d, true; want false", name, i)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		index uint64
		data  []byte
	}{
		{"nil", 1, nil},
		{"empty", 2, []byte{}},
		{"text", 3, []byte("entry")},
		{"binary", 1 << 40, []byte{0, 0xff, 0, 0xfe}},
		{"max index", ^uint64(0), bytes.Repeat([]byte{7}, 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := encodeValue(tt.index, tt.data)
			got, err := decodeValue(tt.index, v)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("decodeValue(encodeValue) = %x, %v; want %x", got, err, tt.data)
			}
			if _, err := decodeValue(tt.index+1, v); err == nil {
				t.Errorf("value verified under index %d, want a mismatch", tt.index+1)
			}
			idx, ok := parseKey(recordPrefix, recordKey(tt.index))
			if !ok || idx != tt.index {
				t.Errorf("parseKey(recordKey(%d)) = %d, %v", tt.index, idx, ok)
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
	}{
		{"short", []byte("r/1234567")},
		{"long", []byte("r/123456789")},
		{"other prefix", hashKey(1)},
		{"version key", []byte(versionKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if i, ok := parseKey(recordPrefix, tt.key); ok {
				t.Errorf("parseKey(%q) = %d, true; want false", tt.key, i)
			}
		})
	}
}

// FuzzDecodeValue checks that decoding never panics, that every single-bit
// flip of a valid value is detected, and that what verifies re-encodes to
// the same bytes.
func FuzzDecodeValue(f *testing.F) {
	f.Add(uint64(1), []byte("hi"), 0)
	f.Add(uint64(0), []byte{}, 3)
	f.Add(uint64(1<<63), []byte{0xff, 0, 1}, 40)
	f.Fuzz(func(t *testing.T, index uint64, raw []byte, bit int) {
		if data, err := decodeValue(index, raw); err == nil {
			if !bytes.Equal(encodeValue(index, data), raw) {
				t.Fatalf("value %x verified but does not re-encode", raw)
			}
		}
		v := encodeValue(index, raw)
		if bit < 0 {
			bit = -bit
		}
		bit %= 8 * len(v)
		v[bit/8] ^= 1 << (bit % 8)
		if _, err := decodeValue(index, v); err == nil {
			t.Fatalf("bit %d flipped in value of record %d went undetected", bit, index)
		}
	})
}

// FuzzDecodeSnapshot checks that decoding a snapshot file never panics, that
// every single-bit flip of a valid file is detected, and that what verifies
// re-encodes to the same bytes.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(uint64(2), []byte("hi"), 0)
	f.Add(uint64(0), []byte{}, 70)
	f.Add(uint64(1<<63), append(snapshotHeader(1<<63, []byte{1}), 1), 130)
	f.Fuzz(func(t *testing.T, index uint64, raw []byte, bit int) {
		if data, err := decodeSnapshot(index, raw); err == nil {
			if !bytes.Equal(append(snapshotHeader(index, data), data...), raw) {
				t.Fatalf("file %x verified but does not re-encode", raw)
			}
		}
		file := append(snapshotHeader(index, raw), raw...)
		if bit < 0 {
			bit = -bit
		}
		bit %= 8 * len(file)
		file[bit/8] ^= 1 << (bit % 8)
		if _, err := decodeSnapshot(index, file); err == nil {
			t.Fatalf("bit %d flipped in the file of snapshot %d went undetected", bit, index)
		}
	})
}
