package service_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
