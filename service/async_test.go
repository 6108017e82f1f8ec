package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// asyncStore is an AsyncAppender over a MemStore whose wait of the
// failAt-th append fails, once the next append has been handed over: a
// sync that fails while a later batch is in flight.
type asyncStore struct {
	*ledger.MemStore
	n      atomic.Int32
	failAt int32
	next   chan struct{}
	once   sync.Once
}

func (s *asyncStore) AppendAsync(ctx context.Context, recs []ledger.Record) (func() error, error) {
	k := s.n.Add(1)
	if k == s.failAt+1 {
		s.once.Do(func() { close(s.next) })
	}
	if err := s.MemStore.Append(ctx, recs); err != nil {
		return nil, err
	}
	return func() error {
		if k == s.failAt {
			select {
			case <-s.next:
			case <-time.After(2 * time.Second):
			}
			return errors.New("sync failed")
		}
		return nil
	}, nil
}

// TestAsyncSyncFailure: once a batch fails to become durable, no later
// batch, even one written before the failure was known and whose own sync
// succeeded, is answered as a success. (Written by a reviewer, who saw the
// later batch answered success.)
func TestAsyncSyncFailure(t *testing.T) {
	st := &asyncStore{MemStore: ledger.NewMemStore(), failAt: 3, next: make(chan struct{})}
	svc, err := service.Open(context.Background(), service.Config{Store: st, Now: func() time.Time { return t0 }, SnapshotEvery: 1000, MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
	var wg sync.WaitGroup
	res := make([]error, 2)
	idx := make([]uint64, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			o, err := svc.Submit(context.Background(), fileAt("alpha", float64(i)))
			res[i], idx[i] = err, o.Entry.Index
		}()
	}
	wg.Wait()
	for i := range 2 {
		t.Logf("submit %d: entry %d err %v", i, idx[i], res[i])
	}
	if res[0] == nil {
		t.Fatalf("entry %d was answered success, but its sync failed", idx[0])
	}
	if res[1] == nil {
		t.Errorf("entry %d answered success although entry %d before it failed to become durable", idx[1], 3)
	}
}

// TestSubmitCloseRace: Submit racing Close answers ErrUnavailable or
// succeeds, and never panics (a reviewer saw a send on the closed input
// channel).
func TestSubmitCloseRace(t *testing.T) {
	for range 50 {
		svc, err := service.Open(context.Background(), service.Config{Store: ledger.NewMemStore(), Now: func() time.Time { return t0 }, SnapshotEvery: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for k := 0; k < 200; k++ {
					svc.Submit(context.Background(), party(string(rune('a'+i))+"x", registry.RoleAuthority))
				}
			})
		}
		time.Sleep(200 * time.Microsecond)
		svc.Close(context.Background())
		wg.Wait()
	}
}

// heldStore is an AsyncAppender over a MemStore whose waits block while
// the gate is held, and whose wait of the failAt-th append (if not 0)
// fails.
type heldStore struct {
	*ledger.MemStore
	n        atomic.Int32 // appends begun
	returned atomic.Int32 // appends handed back to the committer
	failAt   int32
	mu       sync.RWMutex // held: waits block
}

func (s *heldStore) AppendAsync(ctx context.Context, recs []ledger.Record) (func() error, error) {
	k := s.n.Add(1)
	if err := s.MemStore.Append(ctx, recs); err != nil {
		return nil, err
	}
	defer s.returned.Add(1)
	return func() error {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if k == s.failAt {
			return errors.New("sync failed")
		}
		return nil
	}, nil
}

// TestGroupedCheckpoint: batches written while an earlier one was syncing
// are answered under one checkpoint, with receipts that verify, and a
// batch that fails to become durable fails those after it in the group
// but not those before it.
func TestGroupedCheckpoint(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	vkey, err := ledger.VerifierKey("grouped", key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, failAt := range []int{0, 1, 2, 4} { // 0: none fails; else the failAt-th of the 4 filings
		t.Run(fmt.Sprintf("fail=%d", failAt), func(t *testing.T) {
			st := &heldStore{MemStore: ledger.NewMemStore()}
			svc, err := service.Open(context.Background(), service.Config{Store: st, Now: func() time.Time { return t0 },
				SnapshotEvery: 1000, MaxBatch: 1, LogKey: key, Origin: "grouped"})
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close(context.Background())
			submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
			setup := st.n.Load()
			if failAt > 0 {
				st.failAt = setup + int32(failAt)
			}
			// Filings 1..4 in this order, each its own batch (MaxBatch 1),
			// all written before the first one's sync is done.
			st.mu.Lock()
			outs := make([]service.Outcome, 4)
			errs := make([]error, 4)
			var wg sync.WaitGroup
			for i := range 4 {
				for st.n.Load() < setup+int32(i) {
					time.Sleep(time.Millisecond)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					outs[i], errs[i] = svc.Submit(context.Background(), fileAt("alpha", float64(i)))
				}()
			}
			for st.returned.Load() < setup+4 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // the committer sends the last one to the finisher
			st.mu.Unlock()
			wg.Wait()
			last := uint64(0) // the last entry answered success
			for i := range 4 {
				ok := failAt == 0 || i+1 < failAt
				if ok != (errs[i] == nil) {
					t.Fatalf("filing %d: err %v, want success %v", i+1, errs[i], ok)
				}
				if ok {
					last = outs[i].Entry.Index
				}
			}
			for i := range 4 {
				if errs[i] != nil {
					continue
				}
				r := outs[i].Receipt
				if r == nil {
					t.Fatalf("filing %d: no receipt", i+1)
				}
				leaf, cp, err := r.Verify(verifier)
				if err != nil {
					t.Fatalf("filing %d: %v", i+1, err)
				}
				if r.Index != outs[i].Entry.Index || leaf.Kind != "file" {
					t.Errorf("filing %d: receipt for entry %d (%s), want entry %d", i+1, r.Index, leaf.Kind, outs[i].Entry.Index)
				}
				if cp.Size != last {
					t.Errorf("filing %d: checkpoint of size %d, want one checkpoint for the group, of size %d", i+1, cp.Size, last)
				}
			}
		})
	}
}
