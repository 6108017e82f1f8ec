package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/deconflict/deconflict/ledger"
)

// testConcurrentReadDuringAppend runs readers while one writer appends. Each
// Read must see a contiguous prefix of the log, from 1, with the right bytes,
// at least as long as LastIndex was before the Read started.
func testConcurrentReadDuringAppend(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	const batches, batchSize, readers = 200, 5, 4
	ctx := t.Context()

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for range batches {
			recs := records(s.LastIndex()+1, batchSize)
			if err := s.Append(ctx, recs); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	})
	for range readers {
		wg.Go(func() {
			for rounds := 0; ; rounds++ {
				select {
				case <-done:
					if rounds > 0 {
						return
					}
				default:
				}
				before := s.LastIndex()
				next := uint64(1)
				err := s.Read(ctx, 1, func(r ledger.Record) error {
					if r.Index != next || !bytes.Equal(r.Data, payload(r.Index)) {
						t.Errorf("Read: got record %d (%d bytes), want record %d", r.Index, len(r.Data), next)
						return errors.New("bad record")
					}
					next++
					return nil
				})
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
				if next-1 < before {
					t.Errorf("Read saw %d records, but LastIndex was %d before it started", next-1, before)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := s.LastIndex(); got != batches*batchSize {
		t.Errorf("LastIndex() = %d, want %d", got, batches*batchSize)
	}
}

// testCloseStopsReaders closes a store while readers loop over it: Close
// must return, and the readers must then get ErrClosed.
func testCloseStopsReaders(t *testing.T, h *harness) {
	s, _ := h.newStore(t)
	for range 10 {
		appendRecords(t, s, 100)
	}
	const readers = 4
	started := make(chan struct{}, readers)
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := s.Read(context.Background(), 1, func(ledger.Record) error { return nil })
				if i == 0 {
					started <- struct{}{}
				}
				if errors.Is(err, ledger.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
			}
		})
	}
	for range readers {
		<-started
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close while reading: %v", err)
	}
	wg.Wait()
}
