package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults for [Options].
const (
	// DefaultCacheSize is the block cache size: 64 MiB.
	DefaultCacheSize int64 = 64 << 20
	// DefaultMemTableSize is the memtable size: 32 MiB.
	DefaultMemTableSize int64 = 32 << 20
)

// maxMemTableSize is Pebble's limit (exclusive).
const maxMemTableSize = 4 << 30

// Options configure [Open]. The zero value is valid and means the defaults.
type Options struct {
	// CacheSize is the size in bytes of Pebble's block cache, which serves
	// reads (replay, catch-up) from memory. Larger uses more RAM; smaller
	// reads more from disk. 0 means DefaultCacheSize.
	CacheSize int64

	// MemTableSize is the size in bytes of one Pebble memtable. Appends go
	// to the write-ahead log and a memtable; a full memtable is flushed to
	// disk in the background. Larger absorbs bigger bursts between flushes
	// but holds more memory (Pebble keeps up to a few memtables). 0 means
	// DefaultMemTableSize; it must be below 4 GiB.
	MemTableSize int64

	// TruncateCorruptTail makes Open delete records from the end of the log
	// until the last one's checksum verifies, instead of failing with
	// ledger.ErrCorrupt. Records it deletes were acknowledged once and are
	// lost; Store.Dropped says how many. Off by default: a corrupt tail
	// stops the service until an operator decides.
	TruncateCorruptTail bool

	// Logger receives Pebble's own messages (background errors, notices),
	// tagged component=pebble. nil discards them. The store itself does
	// not log.
	Logger *slog.Logger

	// fs replaces the file system, for crash tests; nil is the OS's
	// (vfs.Default). It holds the snapshot files as well as Pebble's.
	fs vfs.FS
}

// Validate reports whether o is usable.
func (o Options) Validate() error {
	var errs []error
	if o.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("cache size %d is negative", o.CacheSize))
	}
	if o.MemTableSize < 0 || o.MemTableSize >= maxMemTableSize {
		errs = append(errs, fmt.Errorf("memtable size %d is not in [0, 4 GiB)", o.MemTableSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pebblestore: invalid options: %w", err)
	}
	return nil
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.fs == nil {
		o.fs = vfs.Default
	}
	return o
}

// pebbleLogger adapts slog to pebble.Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) log(level slog.Level, format string, args []any) string {
	msg := fmt.Sprintf(format, args...)
	p.l.Log(context.Background(), level, msg, "component", "pebble")
	return msg
}

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelInfo) {
		p.log(slog.LevelInfo, format, args)
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) { p.log(slog.LevelError, format, args) }

// Fatalf must not return; Pebble calls it when it cannot continue safely.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	panic("pebblestore: pebble: " + p.log(slog.LevelError, format, args))
}
