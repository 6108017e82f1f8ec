package pebblestore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/deconflict/deconflict/ledger"
)

// crashDirEnv, when set, makes TestCrashChild the writer process of
// TestCrash, appending to the store in that directory.
const crashDirEnv = "PEBBLESTORE_CRASH_DIR"

// TestCrash kills a writer process with SIGKILL while it appends, then
// checks that every batch it acknowledged survived and that the log reads
// back contiguously. It repeats on the same directory, so each round also
// recovers from the previous crash.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs child processes for a few seconds")
	}
	dir := t.TempDir()
	var acked uint64
	for round := range 3 {
		got := runCrashChild(t, dir, time.Second)
		if got < acked {
			t.Fatalf("round %d: child acknowledged up to %d, below the previous round's %d", round, got, acked)
		}
		acked = got

		s := openStore(t, dir, Options{})
		last := s.LastIndex()
		if last < acked {
			t.Fatalf("round %d: LastIndex() = %d after crash, but %d was acknowledged", round, last, acked)
		}
		seen, err := readLog(t, s, 1)
		if err != nil || uint64(len(seen)) != last {
			t.Fatalf("round %d: Read(1) returned %d records, err %v; want %d, nil", round, len(seen), err, last)
		}
		if idx, data, err := s.LatestSnapshot(t.Context()); err != nil || idx > last || !bytes.Equal(data, payload(idx)) {
			t.Errorf("round %d: LatestSnapshot = %d, %q, %v", round, idx, data, err)
		}
		closeStore(t, s)
		t.Logf("round %d: %d acknowledged, %d recovered", round, acked, last)
	}
}

// runCrashChild starts the writer on dir, kills it with SIGKILL after it has
// run for d, and returns the highest index it acknowledged.
func runCrashChild(t *testing.T, dir string, d time.Duration) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var acked atomic.Uint64
	first := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		var once sync.Once
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				continue
			}
			i, err := strconv.ParseUint(n, 10, 64)
			if err != nil {
				continue // a line cut short by the kill is never complete with its newline
			}
			acked.Store(i)
			once.Do(func() { close(first) })
		}
	}()

	select {
	case <-first:
	case <-scanned:
		cmd.Wait()
		t.Fatalf("child exited before acknowledging anything: %s", stderr.Bytes())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child acknowledged nothing in 60s: %s", stderr.Bytes())
	}
	time.Sleep(d)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	<-scanned
	err = cmd.Wait()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("child did not die by the signal: %v; stderr: %s", err, stderr.Bytes())
	}
	return acked.Load()
}

// TestCrashChild is the writer process of TestCrash: it appends batches of
// 1 to 50 records forever, printing "ack N" after each Append returns, and
// saves a snapshot every 20 batches.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process of TestCrash")
	}
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for batch := 0; ; batch++ {
		first := s.LastIndex() + 1
		recs := make([]ledger.Record, 1+batch%50)
		for i := range recs {
			recs[i] = ledger.Record{Index: first + uint64(i), Data: payload(first + uint64(i))}
		}
		if err := s.Append(ctx, recs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		last := s.LastIndex()
		fmt.Fprintf(os.Stdout, "ack %d\n", last) // os.Stdout is unbuffered
		if batch%20 == 0 {
			if err := s.SaveSnapshot(ctx, last, payload(last)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
	}
}

// TestPowerLoss simulates losing power: while a writer appends, it takes
// copies of an in-memory file system holding only what was synced plus a
// random half of what was not, and checks that each copy opens with every
// record acknowledged before the copy was taken, contiguous and intact.
// Unlike TestCrash, where the kernel keeps unsynced writes, this fails if
// Append does not sync.
func TestPowerLoss(t *testing.T) {
	powerLoss(t, func(ctx context.Context, s *Store, next func() []ledger.Record) error {
		return s.Append(ctx, next())
	}, nil)
}

// TestPowerLossAsync is TestPowerLoss for a writer that keeps up to four
// appends in flight with AppendAsync, waiting for the oldest before it
// starts a fifth: a crash must still leave every record whose wait
// returned, and a contiguous log.
func TestPowerLossAsync(t *testing.T) {
	var waits []func() error
	drain := func() error { // every wait is called, even after an error
		var first error
		for _, w := range waits {
			if err := w(); err != nil && first == nil {
				first = err
			}
		}
		waits = waits[:0]
		return first
	}
	powerLoss(t, func(ctx context.Context, s *Store, next func() []ledger.Record) error {
		wait, err := s.AppendAsync(ctx, next())
		if err != nil {
			return err
		}
		waits = append(waits, wait)
		if len(waits) == 4 {
			return drain()
		}
		return nil
	}, drain)
}

// powerLoss runs TestPowerLoss with a writer that appends one batch per
// call of write (next makes the batch after the last one it made), and
// calls finish, if not nil, when it stops: every append must be waited
// for, or the store cannot close.
func powerLoss(t *testing.T, write func(ctx context.Context, s *Store, next func() []ledger.Record) error, finish func() error) {
	fs := vfs.NewCrashableMem()
	s := openStore(t, "/ledger", Options{fs: fs})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		first := s.LastIndex() + 1
		batch := 0
		next := func() []ledger.Record {
			recs := make([]ledger.Record, 1+batch%30)
			for i := range recs {
				recs[i] = ledger.Record{Index: first + uint64(i), Data: payload(first + uint64(i))}
			}
			first += uint64(len(recs))
			batch++
			return recs
		}
		for ctx.Err() == nil {
			if err := write(ctx, s, next); err != nil && ctx.Err() == nil {
				t.Errorf("append: %v", err)
				break
			}
		}
		if finish != nil {
			if err := finish(); err != nil {
				t.Errorf("waiting for the last appends: %v", err)
			}
		}
	})

	type crash struct {
		fs    *vfs.MemFS
		acked uint64
	}
	var crashes []crash
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		time.Sleep(time.Duration(10+rng.IntN(40)) * time.Millisecond)
		acked := s.LastIndex() // every append that set this has synced
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
		crashes = append(crashes, crash{clone, acked})
	}
	cancel()
	wg.Wait()

	for i, c := range crashes {
		s := openStore(t, "/ledger", Options{fs: c.fs})
		if s.LastIndex() < c.acked {
			t.Errorf("crash %d: LastIndex() = %d, but %d was acknowledged", i, s.LastIndex(), c.acked)
		}
		if seen, err := readLog(t, s, 1); err != nil || uint64(len(seen)) != s.LastIndex() {
			t.Errorf("crash %d: Read(1) returned %d records, err %v; want %d", i, len(seen), err, s.LastIndex())
		}
		closeStore(t, s)
		t.Logf("crash %d: %d acknowledged, %d recovered", i, c.acked, s.LastIndex())
	}
}
