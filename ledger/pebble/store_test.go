package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/ledger/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) ledger.Store {
		return openStore(t, dir, Options{})
	}, storetest.Config{})
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"zero", Options{}, false},
		{"set", Options{CacheSize: 1 << 20, MemTableSize: 8 << 20, TruncateCorruptTail: true}, false},
		{"negative cache", Options{CacheSize: -1}, true},
		{"negative memtable", Options{MemTableSize: -1}, true},
		{"huge memtable", Options{MemTableSize: 4 << 30}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if _, err := Open(t.Context(), t.TempDir(), Options{CacheSize: -1}); err == nil {
		t.Error("Open with invalid options succeeded")
	}
}

func TestFormatVersion(t *testing.T) {
	version := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	tests := []struct {
		name  string
		setup func(db *pebble.DB) error
	}{
		{"newer version", func(db *pebble.DB) error { return db.Set([]byte(versionKey), version(formatVersion+1), pebble.Sync) }},
		{"version 1 (no tree hashes)", func(db *pebble.DB) error { return db.Set([]byte(versionKey), version(1), pebble.Sync) }},
		{"version zero", func(db *pebble.DB) error { return db.Set([]byte(versionKey), version(0), pebble.Sync) }},
		{"malformed version", func(db *pebble.DB) error { return db.Set([]byte(versionKey), []byte{1}, pebble.Sync) }},
		{"foreign data", func(db *pebble.DB) error { return db.Set([]byte("hello"), []byte("world"), pebble.Sync) }},
		{"records without version", func(db *pebble.DB) error {
			return db.Set(recordKey(1), encodeValue(1, nil), pebble.Sync)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			withDB(t, dir, tt.setup)
			s, err := Open(t.Context(), dir, Options{})
			if !errors.Is(err, ErrUnknownFormat) {
				if err == nil {
					s.Close(t.Context())
				}
				t.Fatalf("Open: err = %v, want ErrUnknownFormat", err)
			}
		})
	}
	t.Run("written on create", func(t *testing.T) {
		dir := t.TempDir()
		closeStore(t, openStore(t, dir, Options{}))
		withDB(t, dir, func(db *pebble.DB) error {
			v, closer, err := db.Get([]byte(versionKey))
			if err != nil {
				return err
			}
			defer closer.Close()
			if !bytes.Equal(v, version(formatVersion)) {
				return fmt.Errorf("version = %x, want %x", v, version(formatVersion))
			}
			return nil
		})
	})
}

// TestCloseTimeout: a Read blocked in its callback keeps Close from
// finishing; Close returns the context's error, and the database is closed
// once the Read returns.
func TestCloseTimeout(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	appendRecords(t, s, 1, 3)
	inside, release := make(chan struct{}), make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		readErr <- s.Read(context.Background(), 1, func(ledger.Record) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with a Read in flight: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-readErr; !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Read interrupted by Close: err = %v, want ErrClosed", err)
	}
}

// openStore opens a store and closes it at the end of the test unless the
// test did.
func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil && !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func closeStore(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// withDB opens the database in dir with Pebble directly, bypassing the
// store, and runs fn on it.
func withDB(t *testing.T, dir string, fn func(db *pebble.DB) error) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{Options{}.withDefaults().Logger}})
	if err != nil {
		t.Fatalf("pebble.Open: %v", err)
	}
	fnErr := fn(db)
	if err := db.Close(); err != nil {
		t.Fatalf("pebble Close: %v", err)
	}
	if fnErr != nil {
		t.Fatal(fnErr)
	}
}

// payload is the deterministic content of record i.
func payload(i uint64) []byte {
	return fmt.Appendf(nil, "record %d %s", i, bytes.Repeat([]byte{byte(i)}, int(i%64)))
}

// appendRecords appends records first..first+n-1 with their payloads.
func appendRecords(t testing.TB, s *Store, first uint64, n int) {
	t.Helper()
	recs := make([]ledger.Record, n)
	for i := range recs {
		recs[i] = ledger.Record{Index: first + uint64(i), Data: payload(first + uint64(i))}
	}
	if err := s.Append(context.Background(), recs); err != nil {
		t.Fatalf("Append(%d..): %v", first, err)
	}
}

// readLog reads from index from and returns the indexes seen and the error,
// checking each record's payload.
func readLog(t *testing.T, s *Store, from uint64) ([]uint64, error) {
	t.Helper()
	var seen []uint64
	err := s.Read(t.Context(), from, func(r ledger.Record) error {
		if !bytes.Equal(r.Data, payload(r.Index)) {
			t.Errorf("record %d: data %q, want %q", r.Index, r.Data, payload(r.Index))
		}
		seen = append(seen, r.Index)
		return nil
	})
	return seen, err
}

// span returns first..last.
func span(first, last uint64) []uint64 {
	var s []uint64
	for i := first; i <= last; i++ {
		s = append(s, i)
	}
	return s
}

// TestAppendAsync: records appended with AppendAsync count for the order
// of later appends at once, but LastIndex and Read see them only once
// their wait has returned; several can be in flight; a failed check writes
// nothing.
func TestAppendAsync(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	defer closeStore(t, s)
	ctx := t.Context()
	recs := func(from, n uint64) []ledger.Record {
		out := make([]ledger.Record, n)
		for i := range out {
			out[i] = ledger.Record{Index: from + uint64(i), Data: payload(from + uint64(i))}
		}
		return out
	}
	w1, err := s.AppendAsync(ctx, recs(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAsync(ctx, recs(1, 1)); !errors.Is(err, ledger.ErrOutOfOrder) {
		t.Fatalf("appending index 1 again while 1..3 is in flight: %v, want ErrOutOfOrder", err)
	}
	w2, err := s.AppendAsync(ctx, recs(4, 2))
	if err != nil {
		t.Fatal(err)
	}
	// Before the waits nothing may be read (the sync may or may not be
	// done, but the store must not count on it).
	if n := s.LastIndex(); n != 0 {
		t.Fatalf("LastIndex() = %d before any wait", n)
	}
	if seen, err := readLog(t, s, 1); err != nil || len(seen) != 0 {
		t.Fatalf("Read before any wait: %d records, %v", len(seen), err)
	}
	if err := w1(); err != nil {
		t.Fatal(err)
	}
	if n := s.LastIndex(); n != 3 {
		t.Fatalf("LastIndex() = %d after the first wait, want 3", n)
	}
	if err := w2(); err != nil {
		t.Fatal(err)
	}
	seen, err := readLog(t, s, 1)
	if err != nil || len(seen) != 5 || s.LastIndex() != 5 {
		t.Fatalf("after both waits: Read %d records, %v, LastIndex %d; want 5", len(seen), err, s.LastIndex())
	}
	if err := s.Append(ctx, recs(6, 1)); err != nil {
		t.Fatalf("Append after AppendAsync: %v", err)
	}
}
