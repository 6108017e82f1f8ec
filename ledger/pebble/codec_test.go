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
	if got, want := hex.EncodeToString(snapshotKey(0x0102)), "732f0000000000000102"; got != want {
		t.Errorf("snapshotKey(0x102) = %s, want %s", got, want)
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
		{"other prefix", snapshotKey(1)},
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
