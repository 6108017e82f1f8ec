package ledger

import (
	"errors"
	"fmt"
	"testing"
)

func TestCheckAppend(t *testing.T) {
	recs := func(idx ...uint64) []Record {
		var rs []Record
		for _, i := range idx {
			rs = append(rs, Record{Index: i})
		}
		return rs
	}
	tests := []struct {
		name string
		last uint64
		recs []Record
		ok   bool
	}{
		{"first record", 0, recs(1), true},
		{"batch after last", 7, recs(8, 9, 10), true},
		{"empty", 7, nil, false},
		{"starts at zero", 0, recs(0), false},
		{"duplicate", 7, recs(7), false},
		{"gap before", 7, recs(9), false},
		{"gap inside", 7, recs(8, 10), false},
		{"repeat inside", 7, recs(8, 8), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAppend(tt.last, tt.recs)
			if tt.ok && err != nil {
				t.Errorf("CheckAppend = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrOutOfOrder) {
				t.Errorf("CheckAppend = %v, want ErrOutOfOrder", err)
			}
		})
	}
}

func TestCheckSnapshot(t *testing.T) {
	if err := CheckSnapshot(5, 5); err != nil {
		t.Errorf("CheckSnapshot(5, 5) = %v", err)
	}
	if err := CheckSnapshot(5, 0); err != nil {
		t.Errorf("CheckSnapshot(5, 0) = %v", err)
	}
	if err := CheckSnapshot(5, 6); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("CheckSnapshot(5, 6) = %v, want ErrOutOfOrder", err)
	}
}

func TestCorruptError(t *testing.T) {
	cause := errors.New("disk says no")
	err := fmt.Errorf("reading: %w", &CorruptError{Kind: KindRecord, Index: 42, Reason: "checksum mismatch", Err: cause})
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, cause) {
		t.Errorf("errors.Is(ErrCorrupt, cause) = %v, %v; want true, true", errors.Is(err, ErrCorrupt), errors.Is(err, cause))
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Index != 42 {
		t.Fatalf("errors.As: %v", err)
	}
	if got, want := err.Error(), "reading: ledger: corrupt record 42: checksum mismatch: disk says no"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(err, ErrClosed) {
		t.Error("CorruptError matches ErrClosed")
	}
}
