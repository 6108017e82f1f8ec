package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// flakyStore fails every Append after the first okAppends.
type flakyStore struct {
	ledger.Store
	okAppends int32
	n         atomic.Int32
}

var errDisk = errors.New("disk on fire")

func (f *flakyStore) Append(ctx context.Context, recs []ledger.Record) error {
	if f.n.Add(1) > f.okAppends {
		return errDisk
	}
	return f.Store.Append(ctx, recs)
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func party(id string, role registry.Role) service.Command {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte(id[:1]), 32)).Public().(ed25519.PublicKey)
	by := registry.PartyID("root")
	if role == registry.RoleAuthority {
		by = ""
	}
	return service.Command{Entry: registry.Entry{Party: by, Kind: registry.KindAddParty,
		AddParty: &registry.AddParty{Party: registry.Party{ID: registry.PartyID(id), Name: id, Role: role, PublicKey: pub}}}}
}

func fileAt(party string, lng float64) service.Command {
	v, err := geo.NewVolume(geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: 10, Lng: geo.Degrees(lng), RadiusM: 100},
		AltLoM: 0, AltHiM: 100, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)}, geo.Limits{})
	if err != nil {
		panic(err)
	}
	return service.Command{Entry: registry.Entry{Party: registry.PartyID(party), Kind: registry.KindFile,
		File: &registry.File{Volumes: []*geo.Volume{v}}}}
}

// mustEqualReplay fails with what if svc's state differs from a replay of
// every entry of st.
func mustEqualReplay(t *testing.T, svc *service.Service, st ledger.Store, what string) {
	t.Helper()
	scratch, err := service.ReplayAll(context.Background(), st, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := scratch.Snapshot()
	var have []byte
	svc.View(func(r *registry.Registry) { have, _ = r.Snapshot() })
	if !bytes.Equal(want, have) {
		t.Fatal(what)
	}
}

// submitAll submits cmds in turn; each must be accepted.
func submitAll(t *testing.T, svc *service.Service, cmds ...service.Command) {
	t.Helper()
	for _, c := range cmds {
		if _, err := svc.Submit(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

func open(t *testing.T, st ledger.Store) *service.Service {
	t.Helper()
	svc, err := service.Open(context.Background(), service.Config{Store: st, Now: func() time.Time { return t0 }, SnapshotEvery: 25})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestStoreFailureStopsWrites: once the store fails to make a batch
// durable, the service refuses every write (its state is ahead of the
// log), no write answered with success is missing after a restart, and the
// restarted state equals a replay of the log.
func TestStoreFailureStopsWrites(t *testing.T) {
	ctx := context.Background()
	mem := ledger.NewMemStore()
	flaky := &flakyStore{Store: mem, okAppends: 40}
	svc := open(t, flaky)
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember), party("bravo", registry.RoleMember))
	var mu sync.Mutex
	acked := map[registry.IntentID]registry.OVN{}
	var failed atomic.Int32
	var wg sync.WaitGroup
	for w, p := range []string{"alpha", "bravo", "alpha", "bravo"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				o, err := svc.Submit(ctx, fileAt(p, float64(w*100+i)*0.01))
				if err != nil {
					if !errors.Is(err, service.ErrUnavailable) {
						t.Errorf("write failed with %v, want ErrUnavailable", err)
					}
					failed.Add(1)
					continue
				}
				mu.Lock()
				acked[o.Result.Intent.ID] = o.Result.Intent.OVN
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed.Load() == 0 || len(acked) == 0 {
		t.Fatalf("%d writes acknowledged, %d failed: the store failure was not exercised", len(acked), failed.Load())
	}
	if _, err := svc.Submit(ctx, fileAt("alpha", 170)); !errors.Is(err, service.ErrUnavailable) {
		t.Fatalf("a write after the failure: %v, want ErrUnavailable", err)
	}
	svc.Close(ctx)

	again := open(t, mem)
	defer again.Close(ctx)
	again.View(func(r *registry.Registry) {
		for id, ovn := range acked {
			it := r.Intent(id)
			if it == nil || it.OVN != ovn {
				t.Errorf("acknowledged intent %s is missing or changed after restart", id)
			}
		}
	})
	mustEqualReplay(t, again, mem, "restarted state differs from a replay of the log")
	t.Logf("%d acknowledged before the store failed, %d refused; all acknowledged present after restart", len(acked), failed.Load())
}

// TestSubmitAllSharesRequest: the items of one batch request are logged
// with the request once, the others referring to it.
func TestSubmitAllSharesRequest(t *testing.T) {
	ctx := context.Background()
	mem := ledger.NewMemStore()
	svc := open(t, mem)
	defer svc.Close(ctx)
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
	req := &service.Request{Method: "POST", Path: "/v1/intents/batch", Token: "t", Body: []byte(`{"intents":[]}`)}
	var cmds []service.Command
	for i := range 5 {
		c := fileAt("alpha", float64(i))
		c.Request, c.Item = req, i
		cmds = append(cmds, c)
	}
	for i, o := range svc.SubmitAll(ctx, cmds) {
		if o.Err != nil {
			t.Fatalf("item %d: %v", i, o.Err)
		}
	}
	var full, refs int
	var first uint64
	err := mem.Read(ctx, 1, func(rec ledger.Record) error {
		r, _, err := service.DecodeStored(rec.Index, rec.Data)
		if err != nil {
			return err
		}
		switch {
		case r.Request != nil:
			full++
			first = rec.Index
		case r.RequestAt != 0:
			if r.RequestAt != first {
				return fmt.Errorf("entry %d refers to %d, want %d", rec.Index, r.RequestAt, first)
			}
			refs++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if full != 1 || refs != 4 {
		t.Fatalf("batch logged with %d full requests and %d references, want 1 and 4", full, refs)
	}
}

// TestCloseSavesSnapshot: a clean Close leaves a snapshot at the last
// entry, so the next start replays nothing, and the state it restores is
// the state a replay of the whole log gives. A periodic snapshot is taken
// on the way (SnapshotEvery 25).
func TestCloseSavesSnapshot(t *testing.T) {
	ctx := context.Background()
	mem := ledger.NewMemStore()
	svc := open(t, mem)
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
	for i := range 40 {
		if _, err := svc.Submit(ctx, fileAt("alpha", float64(i)*0.01)); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	idx, _, err := mem.LatestSnapshot(ctx)
	if err != nil || idx != mem.LastIndex() {
		t.Fatalf("after Close: latest snapshot %d (%v), last entry %d; want a snapshot at the last entry", idx, err, mem.LastIndex())
	}
	if idxs, _ := mem.SnapshotIndexes(ctx); len(idxs) < 2 {
		t.Fatalf("snapshots %v: want the periodic one too", idxs)
	}
	again := open(t, mem)
	defer again.Close(ctx)
	mustEqualReplay(t, again, mem, "state restored from the closing snapshot differs from a replay of the log")
}

// snapshotLog is a store that notes the index of every snapshot saved.
type snapshotLog struct {
	ledger.Store
	mu    sync.Mutex
	saved []uint64 // once saved
}

func (s *snapshotLog) SaveSnapshot(ctx context.Context, index uint64, parts ...[]byte) error {
	err := s.Store.SaveSnapshot(ctx, index, parts...)
	s.mu.Lock()
	s.saved = append(s.saved, index)
	s.mu.Unlock()
	return err
}

func (s *snapshotLog) list() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.saved)
}

// TestSnapshotIntervalGrows: snapshots come every SnapshotEvery entries
// while the registry is small, and every half its intents once that is
// more, so that their cost per entry stays bounded as it grows. After
// each filing that makes one due, the test waits for its save (a second
// of waiting lets a slow save end; one that came due while another was
// still being saved is put off, and then comes due again after the next
// filing).
func TestSnapshotIntervalGrows(t *testing.T) {
	ctx := context.Background()
	st := &snapshotLog{Store: ledger.NewMemStore()}
	const every, parties = 10, 2
	svc, err := service.Open(ctx, service.Config{Store: st, Now: func() time.Time { return t0 }, SnapshotEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
	interval := func(idx uint64) uint64 { return uint64(max(every, int(idx-parties)/2)) } // after entry idx
	for i := range 300 {
		if _, err := svc.Submit(ctx, fileAt("alpha", float64(i)*0.01)); err != nil {
			t.Fatal(err)
		}
		idx, last := uint64(parties+i+1), uint64(0)
		if saved := st.list(); len(saved) > 0 {
			last = saved[len(saved)-1]
		}
		if idx-last < interval(idx) {
			continue
		}
		for deadline := time.Now().Add(time.Second); !slices.Contains(st.list(), idx) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Microsecond)
		}
	}
	periodic := st.list()
	prev := uint64(0)
	for _, idx := range periodic {
		if idx-prev < interval(idx) {
			t.Errorf("snapshots at %v: %d after %d, want at least %d entries apart", periodic, idx, prev, interval(idx))
		}
		prev = idx
	}
	if len(periodic) < 5 || periodic[len(periodic)-1] < 200 {
		t.Errorf("snapshots at %v: want at least 5 periodic ones, the last past entry 200", periodic)
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := st.list(); got[len(got)-1] != parties+300 {
		t.Errorf("after Close: snapshots at %v, want one at the last entry, %d", got, parties+300)
	}
}

// tamperedStore changes one byte of record k whenever it is read, as an
// operator editing the log on disk would.
type tamperedStore struct {
	ledger.Store
	k uint64
}

func (s *tamperedStore) Read(ctx context.Context, from uint64, fn func(ledger.Record) error) error {
	return s.Store.Read(ctx, from, func(r ledger.Record) error {
		if r.Index == s.k {
			r.Data = bytes.Clone(r.Data)
			i := bytes.Index(r.Data, []byte(`"lat"`))
			if i < 0 {
				return fmt.Errorf("test: record %d has no lat to change", r.Index)
			}
			r.Data[i+7]++ // the first digit of the latitude
		}
		return fn(r)
	})
}

// TestAuditAfterSnapshot: entries a start-up does not replay (the closing
// snapshot covers them all) are audited in the background; a changed one
// stops writes and is reported on Audit, an intact log reports nil.
func TestAuditAfterSnapshot(t *testing.T) {
	ctx := context.Background()
	mem := ledger.NewMemStore()
	svc := open(t, mem)
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
	for i := range 10 {
		if _, err := svc.Submit(ctx, fileAt("alpha", float64(i)*0.01)); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close(ctx)

	intact := open(t, mem)
	if err := <-intact.Audit(); err != nil {
		t.Fatalf("audit of an intact log: %v", err)
	}
	if _, err := intact.Submit(ctx, fileAt("alpha", 1)); err != nil {
		t.Fatalf("a write after a clean audit: %v", err)
	}
	intact.Close(ctx)

	bad := open(t, &tamperedStore{Store: mem, k: 7})
	defer bad.Close(ctx)
	err := <-bad.Audit()
	if err == nil || !strings.Contains(err.Error(), "entry 7") {
		t.Fatalf("audit of a log whose entry 7 was changed: %v", err)
	}
	if _, err := bad.Submit(ctx, fileAt("alpha", 2)); !errors.Is(err, service.ErrUnavailable) {
		t.Fatalf("a write after a failed audit: %v, want ErrUnavailable", err)
	}
}

// TestCloseAfterReplaySavesSnapshot: entries replayed at start-up (a crash
// left no snapshot of them) are covered by the snapshot a clean Close
// takes, even if nothing was written since.
func TestCloseAfterReplaySavesSnapshot(t *testing.T) {
	ctx := context.Background()
	mem := ledger.NewMemStore()
	svc, err := service.Open(ctx, service.Config{Store: mem, Now: func() time.Time { return t0 }, SnapshotEvery: 1000})
	if err != nil {
		t.Fatal(err)
	}
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember), fileAt("alpha", 1))
	// A crash: the service is never closed; its store is reopened as is.
	if idxs, _ := mem.SnapshotIndexes(ctx); len(idxs) != 0 {
		t.Fatalf("snapshots %v before any Close", idxs)
	}
	again := open(t, mem) // replays the 3 entries
	if err := again.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if idx, _, err := mem.LatestSnapshot(ctx); err != nil || idx != mem.LastIndex() {
		t.Fatalf("after replay and Close: latest snapshot %d (%v), want %d", idx, err, mem.LastIndex())
	}
}

// gatedStore blocks Append while gated, signalling entered.
type gatedStore struct {
	ledger.Store
	gated   atomic.Bool
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedStore) Append(ctx context.Context, recs []ledger.Record) error {
	if g.gated.Load() {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Store.Append(ctx, recs)
}

func newGated() *gatedStore {
	return &gatedStore{Store: ledger.NewMemStore(), gate: make(chan struct{}), entered: make(chan struct{}, 1)}
}

// TestCloseWithAlertHookUnderLoad: Close while batches that raise alerts
// wait to be committed, with an alert hook that reads the registry (as the
// server's webhook hook does), returns: the closing snapshot is not handed
// to the committer while the registry is locked. (Found by review: it
// deadlocked.)
func TestCloseWithAlertHookUnderLoad(t *testing.T) {
	ctx := context.Background()
	st := newGated()
	svc, err := service.Open(ctx, service.Config{Store: st, Now: func() time.Time { return t0 }, MaxBatch: 1, SnapshotEvery: 1000})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetAlertHook(func([]registry.Alert) { svc.View(func(*registry.Registry) {}) })
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember), party("bravo", registry.RoleMember), fileAt("alpha", 0))
	st.gated.Store(true)
	contingent := fileAt("bravo", 0) // over alpha's intent: an alert to alpha
	contingent.Entry.File.State = registry.StateContingent
	go svc.Submit(ctx, contingent)
	<-st.entered // the committer is in Append of that batch
	go svc.Submit(ctx, fileAt("alpha", 1))
	time.Sleep(50 * time.Millisecond)
	go svc.Submit(ctx, fileAt("alpha", 2))
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		closed <- svc.Close(cctx)
	}()
	time.Sleep(200 * time.Millisecond) // the sequencer reaches the closing snapshot
	st.gated.Store(false)
	close(st.gate)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestCloseWritesDecidedEntries: entries decided before Close are made
// durable (and answered with success) by Close, and the closing snapshot
// is at the last of them; none answered with success is missing.
func TestCloseWritesDecidedEntries(t *testing.T) {
	ctx := context.Background()
	st := newGated()
	svc, err := service.Open(ctx, service.Config{Store: st, Now: func() time.Time { return t0 }, MaxBatch: 1, SnapshotEvery: 1000})
	if err != nil {
		t.Fatal(err)
	}
	submitAll(t, svc, party("root", registry.RoleAuthority), party("alpha", registry.RoleMember))
	st.gated.Store(true)
	type answer struct {
		o   service.Outcome
		err error
	}
	answers := make(chan answer, 2)
	go func() { o, err := svc.Submit(ctx, fileAt("alpha", 0)); answers <- answer{o, err} }()
	<-st.entered
	go func() { o, err := svc.Submit(ctx, fileAt("alpha", 1)); answers <- answer{o, err} }()
	time.Sleep(50 * time.Millisecond) // decided, waiting behind the first batch
	closed := make(chan error, 1)
	go func() { closed <- svc.Close(ctx) }()
	time.Sleep(100 * time.Millisecond)
	st.gated.Store(false)
	close(st.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	ok := 0
	for range 2 {
		a := <-answers
		switch {
		case a.err == nil:
			ok++
			if a.o.Entry.Index > st.LastIndex() {
				t.Errorf("entry %d answered with success but the log ends at %d", a.o.Entry.Index, st.LastIndex())
			}
		case !errors.Is(a.err, service.ErrUnavailable):
			t.Errorf("a write at Close: %v", a.err)
		}
	}
	if ok == 0 {
		t.Fatal("no write in flight at Close was made durable")
	}
	if idx, _, err := st.LatestSnapshot(ctx); err != nil || idx != st.LastIndex() {
		t.Fatalf("closing snapshot at %d (%v), log ends at %d", idx, err, st.LastIndex())
	}
}
