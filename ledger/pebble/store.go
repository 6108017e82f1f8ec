package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
)

// ErrUnknownFormat is returned by Open for a database this package did not
// write or whose format version it does not know.
var ErrUnknownFormat = errors.New("pebblestore: unknown store format")

// Store is a [ledger.Store] in a Pebble database, with its snapshots in
// files. It is safe for concurrent use: appends are applied one at a time
// and made durable in that order (AppendAsync lets the next one start
// while the last is syncing), SaveSnapshot calls are serialized, and Read
// and LatestSnapshot run concurrently with both.
type Store struct {
	db      *pebble.DB
	fs      vfs.FS // the file system of db and of the snapshot files
	snapDir string // the directory of the snapshot files
	dropped int    // records deleted by Open; immutable after Open

	// writeMu serializes the start of appends, so each sees a stable
	// appended index; it guards appended and failed.
	writeMu sync.Mutex
	// appended is the index of the last record applied, durable or not:
	// the next append must follow it.
	appended uint64
	// failed is the first failed sync: every later append fails.
	failed error
	// last is the index of the last durable record. It is written only
	// after the batch that holds the record is synced, so a reader that
	// loads it can read every record up to it.
	last atomic.Uint64

	// snapMu serializes SaveSnapshot, so pruning sees a stable set.
	snapMu sync.Mutex
	// pruneMu keeps SaveSnapshot from removing snapshot files while
	// LatestSnapshot opens them: it holds it to remove, LatestSnapshot
	// holds it shared from listing the files until they are open.
	pruneMu sync.RWMutex

	// mu guards closed. Every call but LastIndex and Dropped registers in
	// ops while holding mu and !closed, so Close can wait for them before
	// closing db.
	mu     sync.Mutex
	closed bool
	ops    sync.WaitGroup
	done   chan struct{} // closed when Close starts; Reads then stop
}

var (
	_ ledger.Store         = (*Store)(nil)
	_ ledger.AsyncAppender = (*Store)(nil)
)

// Open opens the store in dir, creating the directory and an empty store if
// needed. See the package documentation for what Open checks.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // the DB holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:        cache,
		MemTableSize: uint64(opts.MemTableSize),
		Logger:       pebbleLogger{opts.Logger},
		FS:           opts.fs,
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, wrapPebble(err, 0))
	}
	s := &Store{db: db, fs: opts.fs, snapDir: opts.fs.PathJoin(dir, snapshotDir), done: make(chan struct{})}
	if err := s.load(opts.TruncateCorruptTail); err != nil {
		return nil, errors.Join(fmt.Errorf("pebblestore: open %s: %w", dir, err), db.Close())
	}
	return s, nil
}

// Dropped is the number of corrupt records Open deleted from the end of the
// log because Options.TruncateCorruptTail was set.
func (s *Store) Dropped() int { return s.dropped }

// LastIndex implements [ledger.Store.LastIndex].
func (s *Store) LastIndex() uint64 { return s.last.Load() }

// enter registers a call in flight, or returns ErrClosed.
func (s *Store) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ledger.ErrClosed
	}
	s.ops.Add(1)
	return nil
}

// Append implements [ledger.Store.Append].
func (s *Store) Append(ctx context.Context, recs []ledger.Record) error {
	wait, err := s.AppendAsync(ctx, recs)
	if err != nil {
		return err
	}
	return wait()
}

// AppendAsync implements [ledger.AsyncAppender]: the batch is applied to
// Pebble (written to its write-ahead log and memtable) at once, and wait
// waits for the log's sync, which Pebble shares among the batches written
// meanwhile. The records are read only once wait has returned.
func (s *Store) AppendAsync(ctx context.Context, recs []ledger.Record) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	b, err := s.apply(recs)
	if err != nil {
		s.ops.Done()
		return nil, err
	}
	first, last := recs[0].Index, recs[len(recs)-1].Index
	return func() error {
		defer s.ops.Done()
		defer b.Close()
		if err := b.SyncWait(); err != nil {
			err = fmt.Errorf("pebblestore: append %d..%d: %w", first, last, err)
			s.writeMu.Lock()
			if s.failed == nil {
				s.failed = err
			}
			s.writeMu.Unlock()
			return err
		}
		// A batch synced after an earlier one failed is not counted:
		// the log has a hole.
		s.writeMu.Lock()
		failed := s.failed
		s.writeMu.Unlock()
		if failed != nil {
			return fmt.Errorf("pebblestore: append %d..%d: an earlier append failed: %w", first, last, failed)
		}
		// Later appends are synced after this one: last only grows.
		for cur := s.last.Load(); cur < last && !s.last.CompareAndSwap(cur, last); cur = s.last.Load() {
		}
		return nil
	}, nil
}

// apply checks recs against the records appended so far and applies them
// as one batch that will be synced; the caller must SyncWait and Close it.
func (s *Store) apply(recs []ledger.Record) (*pebble.Batch, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.failed != nil {
		return nil, fmt.Errorf("pebblestore: an earlier append failed: %w", s.failed)
	}
	if err := ledger.CheckAppend(s.appended, recs); err != nil {
		return nil, err
	}
	size := 0
	for _, r := range recs {
		size += keyLen + valueLen(r.Data) + 16 // 16: batch entry overhead, roughly
		if len(r.Hashes) > 0 {
			size += keyLen + checksumLen + len(r.Hashes)*tlog.HashSize + 16
		}
	}
	b := s.db.NewBatchWithSize(size)
	for _, r := range recs {
		op := b.SetDeferred(keyLen, valueLen(r.Data))
		copy(op.Key, recordKey(r.Index))
		putValue(op.Value, r.Index, r.Data)
		if err := op.Finish(); err != nil {
			b.Close()
			return nil, fmt.Errorf("pebblestore: append: %w", err)
		}
		if len(r.Hashes) == 0 {
			continue
		}
		op = b.SetDeferred(keyLen, checksumLen+len(r.Hashes)*tlog.HashSize)
		copy(op.Key, hashKey(r.Index))
		data := op.Value[checksumLen:]
		for i, h := range r.Hashes {
			copy(data[i*tlog.HashSize:], h[:])
		}
		putValue(op.Value, r.Index, data)
		if err := op.Finish(); err != nil {
			b.Close()
			return nil, fmt.Errorf("pebblestore: append: %w", err)
		}
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		b.Close()
		return nil, fmt.Errorf("pebblestore: append %d..%d: %w", recs[0].Index, recs[len(recs)-1].Index, err)
	}
	s.appended = recs[len(recs)-1].Index
	return b, nil
}

// Read implements [ledger.Store.Read]. It reads from a consistent view of
// the database taken when it starts, and stops with an error matching
// ledger.ErrClosed if the store is closed meanwhile.
func (s *Store) Read(ctx context.Context, from uint64, fn func(ledger.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.ops.Done()
	from = max(from, 1)
	last := s.last.Load()
	if from > last {
		return nil
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: recordKey(from),
		UpperBound: recordKey(last + 1),
	})
	if err != nil {
		return fmt.Errorf("pebblestore: read: %w", wrapPebble(err, from))
	}
	err = s.readIter(ctx, it, from, last, fn)
	return closeIter(it, err)
}

// readIter calls fn for records from..last, which it must find in order.
func (s *Store) readIter(ctx context.Context, it *pebble.Iterator, from, last uint64, fn func(ledger.Record) error) error {
	next := from // index of the record expected next
	for ok := it.First(); ok; ok = it.Next() {
		if err := s.interrupted(ctx); err != nil {
			return err
		}
		idx, ok := parseKey(recordPrefix, it.Key())
		if !ok {
			return corruptRecord(next, fmt.Sprintf("malformed key %x", it.Key()), nil)
		}
		if idx != next {
			return corruptRecord(next, fmt.Sprintf("missing (the next record present is %d)", idx), nil)
		}
		value, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebblestore: read record %d: %w", idx, wrapPebble(err, idx))
		}
		data, err := decodeValue(idx, value)
		if err != nil {
			return corruptRecord(idx, err.Error(), nil)
		}
		if err := fn(ledger.Record{Index: idx, Data: bytes.Clone(data)}); err != nil {
			return err
		}
		next++
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestore: read record %d: %w", next, wrapPebble(err, next))
	}
	if next <= last {
		return corruptRecord(next, fmt.Sprintf("missing (the log should end at %d)", last), nil)
	}
	return nil
}

// ReadHashes implements [ledger.Store.ReadHashes].
func (s *Store) ReadHashes(ctx context.Context, fn func(uint64, []tlog.Hash) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.ops.Done()
	last := s.last.Load()
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: hashKey(1),
		UpperBound: hashKey(last + 1),
	})
	if err != nil {
		return fmt.Errorf("pebblestore: read hashes: %w", wrapPebble(err, 0))
	}
	err = func() error {
		for ok := it.First(); ok; ok = it.Next() {
			if err := s.interrupted(ctx); err != nil {
				return err
			}
			idx, ok := parseKey(hashPrefix, it.Key())
			if !ok {
				return corruptRecord(0, fmt.Sprintf("malformed tree hash key %x", it.Key()), nil)
			}
			value, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("pebblestore: read hashes of %d: %w", idx, wrapPebble(err, idx))
			}
			data, err := decodeValue(idx, value)
			if err == nil && len(data)%tlog.HashSize != 0 {
				err = fmt.Errorf("%d bytes of tree hashes", len(data))
			}
			if err != nil {
				return corruptRecord(idx, "tree hashes: "+err.Error(), nil)
			}
			hs := make([]tlog.Hash, len(data)/tlog.HashSize)
			for i := range hs {
				copy(hs[i][:], data[i*tlog.HashSize:])
			}
			if err := fn(idx, hs); err != nil {
				return err
			}
		}
		return wrapPebble(it.Error(), 0)
	}()
	return closeIter(it, err)
}

// interrupted returns why a long call should stop early, if it should.
func (s *Store) interrupted(ctx context.Context) error {
	select {
	case <-s.done:
		return ledger.ErrClosed
	default:
		return ctx.Err()
	}
}

// Close implements [ledger.Store.Close]. A second Close returns
// ledger.ErrClosed.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ledger.ErrClosed
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()

	idle := make(chan struct{})
	go func() {
		s.ops.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-ctx.Done():
		// Calls in flight still use db; close it when they finish.
		go func() {
			<-idle
			s.db.Close()
		}()
		return fmt.Errorf("pebblestore: close: waiting for calls in flight: %w", ctx.Err())
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebblestore: close: %w", err)
	}
	return nil
}

func corruptRecord(index uint64, reason string, err error) error {
	return &ledger.CorruptError{Kind: ledger.KindRecord, Index: index, Reason: reason, Err: err}
}

// wrapPebble turns Pebble's corruption errors into a *ledger.CorruptError
// about the record at index (0 if unknown); other errors pass through.
func wrapPebble(err error, index uint64) error {
	if err != nil && pebble.IsCorruptionError(err) {
		return corruptRecord(index, "pebble reports corruption", err)
	}
	return err
}

// closeIter closes it and returns err, or the error from closing if err is
// nil.
func closeIter(it *pebble.Iterator, err error) error {
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}
