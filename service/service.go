// Package service runs deconflict's write path: one sequencer goroutine
// decides commands against the registry in order; a committer encodes each
// batch of entries, adds them to the Merkle tree and writes them to the
// ledger with one sync (with a store that allows it, the next batch is
// written while the last one syncs); a finisher, once a batch is durable,
// signs the checkpoint and answers its writes. A write is answered only
// after its entry is durable. The log is
// the truth: Open rebuilds the registry from the latest snapshot and the
// entries after it.
//
// If the ledger fails to make a batch durable, the in-memory state is ahead
// of the log: the service stops accepting writes (ErrUnavailable) and must
// be restarted, which rebuilds it from the log.
package service

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
)

// ErrUnavailable is returned for writes after the service stopped or failed.
var ErrUnavailable = errors.New("service unavailable")

// Config configures a Service.
type Config struct {
	Store    ledger.Store    // required
	Registry registry.Config // conflict rules
	// SnapshotEvery is how many entries pass between registry snapshots
	// (default DefaultSnapshotEvery), or half the intents the registry
	// holds if that is more: a snapshot costs in proportion to the
	// registry, so this bounds its cost per entry, and a restart after a
	// crash replays about that many entries besides loading the
	// snapshot (more if saving the last one failed or was put off because
	// an earlier one was still being saved). Fewer means faster restarts and more time spent writing
	// snapshots.
	SnapshotEvery int
	// MaxBatch is the most entries the sequencer decides into one batch,
	// made durable in one sync (default DefaultMaxBatch). A small bound
	// keeps the pipeline full: the sequencer decides the next batch while
	// the last one is encoded, synced and answered, instead of deciding
	// every waiting command before any is written; and it bounds how long
	// the registry's lock is held at a time.
	MaxBatch int
	Logger   *slog.Logger // default: discard
	// Now is the clock (default time.Now); entries never go back in time.
	Now func() time.Time
	// Progress, if set, is called during start-up replay.
	Progress func(replayed, total uint64)

	// LogKey signs a checkpoint of the log after every committed batch,
	// and each write's answer carries a receipt. Nil: no checkpoints and
	// no receipts (the Merkle tree is kept all the same).
	LogKey ed25519.PrivateKey
	// Origin names the log in its checkpoints (default "deconflict").
	Origin string
	// Witnesses is how many parties must cosign a checkpoint for it to be
	// witnessed (default 1).
	Witnesses int
	// OnAlerts, if set, is called by the finisher with the alerts of each
	// batch once it is durable (to wake up deliveries). It must not block.
	OnAlerts func([]registry.Alert)
}

// Defaults for Config.
const (
	DefaultSnapshotEvery = 10_000
	// 32 rather than 1024: in-process filing with 64 submitters, 4
	// alternating rounds, median 17,957 -> 20,669 intents/s (16: 20,885;
	// 64: 18,809); batches of 100 over HTTP unchanged within noise.
	DefaultMaxBatch = 32
)

// Command is one request to change the state: exactly one of the command
// fields of registry.Entry, with Party and Kind set; Index, Time and the
// ids and OVNs to assign are filled in by the sequencer. Request is the
// signed request it came from, kept in the log.
type Command struct {
	Entry   registry.Entry
	Request *Request
	Item    int // position in a batch request (commands of one batch share Request)
}

// Service is the running write path and the registry it owns. It is safe
// for concurrent use.
type Service struct {
	cfg   Config
	store ledger.Store

	// mu guards reg: the sequencer holds it while applying, readers while
	// reading (the index keeps search scratch space, so even reads are
	// exclusive).
	mu  sync.Mutex
	reg *registry.Registry

	in      chan *pending
	commits chan *batch
	done    chan struct{} // closed when the finisher has stopped

	stateMu sync.Mutex
	failed  error // set once: writes fail with it
	closing bool

	// inMu orders sends on in against Close closing it: senders hold it
	// shared and check inClosed.
	inMu     sync.RWMutex
	inClosed bool

	// reqAt remembers where a shared (batch) request was logged, so later
	// items refer to it instead of repeating it. Sequencer only.
	reqAt map[*Request]uint64

	log logState

	alertHook atomic.Pointer[func([]registry.Alert)]

	audit auditState

	// snapBase is the entry of the snapshot start-up restored (0: none).
	snapBase uint64

	// snapSaving is set by the sequencer when it hands a snapshot to the
	// finisher and cleared once that snapshot is saved (or failed).
	snapSaving atomic.Bool
}

// SetAlertHook sets a function the finisher calls with the alerts of each
// batch once it is durable (after Config.OnAlerts). It must not block.
func (s *Service) SetAlertHook(fn func([]registry.Alert)) { s.alertHook.Store(&fn) }

type pending struct {
	cmd     Command
	volumes []byte // the JSON of the command's volumes, made by the submitter
	reply   chan outcome
	shared  bool // submitted with others (SubmitAll): its request holds them too
}

// newPending makes the pending form of cmd, encoding its volumes on the
// caller's goroutine rather than the sequencer's.
func newPending(cmd Command) *pending {
	p := &pending{cmd: cmd, reply: make(chan outcome, 1)}
	switch e := &cmd.Entry; {
	case e.File != nil:
		p.volumes = appendVolumes(nil, e.File.Volumes)
	case e.Update != nil:
		p.volumes = appendVolumes(nil, e.Update.Volumes)
	}
	return p
}

type outcome struct {
	res     registry.Result
	entry   registry.Entry
	receipt *ledger.Receipt
	err     error
}

type batch struct {
	// logged are the batch's entries as the sequencer decided them; the
	// committer encodes them into recs (and their leaves), adding them to
	// the Merkle tree in order.
	logged   []loggedRec
	recs     []ledger.Record
	leaves   [][]byte
	waiters  []*pending
	results  []outcome
	snapshot func() ([][]byte, error) // encodes the registry snapshot after the batch, if due (in parts)
	snapAt   uint64
	final    bool // the closing snapshot: saved before Close returns
}

// Open rebuilds the registry from cfg.Store and starts the sequencer and
// the committer.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("service: no store")
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = DefaultSnapshotEvery
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.SnapshotEvery < 0 || cfg.MaxBatch < 0 {
		return nil, errors.New("service: snapshot interval and batch size must be positive")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	reg, err := registry.New(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, store: cfg.Store, reg: reg,
		in:      make(chan *pending, 4096),
		commits: make(chan *batch, 2),
		done:    make(chan struct{}),
		reqAt:   make(map[*Request]uint64),
	}
	if err := s.openLog(ctx); err != nil {
		return nil, err
	}
	// The tree loads while the registry restores its snapshot; replaying
	// later entries waits for it (it checks their leaves).
	tree := make(chan error, 1)
	go func() { tree <- s.loadTree(ctx) }()
	covered, err := s.recover(ctx, tree)
	if err != nil {
		return nil, err
	}
	s.snapBase = covered
	if err := s.signCheckpoint(s.log.tree.Size()); err != nil {
		return nil, err
	}
	s.startAudit(covered)
	go s.sequence()
	go s.commit()
	return s, nil
}

// recover loads the latest snapshot and replays the entries after it,
// checking each against the Merkle tree. It returns the index of the
// snapshot: the entries up to it are left to the audit.
func (s *Service) recover(ctx context.Context, tree <-chan error) (uint64, error) {
	treeErr := func() error { // waits for the tree, once
		if tree != nil {
			err := <-tree
			tree = nil
			return err
		}
		return nil
	}
	defer treeErr()
	from := uint64(1)
	idx, snap, err := s.store.LatestSnapshot(ctx)
	switch {
	case errors.Is(err, ledger.ErrNoSnapshot):
	case err != nil:
		return 0, fmt.Errorf("service: loading snapshot: %w", err)
	default:
		if err := s.reg.Restore(snap); err != nil {
			return 0, fmt.Errorf("service: snapshot at entry %d: %w", idx, err)
		}
		if s.reg.LastIndex() != idx {
			return 0, fmt.Errorf("service: snapshot at entry %d holds state after entry %d", idx, s.reg.LastIndex())
		}
		from = idx + 1
	}
	if err := treeErr(); err != nil {
		return 0, err
	}
	last := s.store.LastIndex()
	if last+1 < from {
		return 0, fmt.Errorf("service: snapshot at entry %d is past the end of the log (%d): the log lost entries", from-1, last)
	}
	total := last - from + 1
	n := uint64(0)
	// Records are read and decoded on one goroutine while this one checks
	// and applies them, in order.
	type decoded struct {
		index uint64
		rec   *Record
		leaf  ledger.Leaf
		err   error
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan decoded, 256)
	readErr := make(chan error, 1)
	go func() {
		defer close(recs)
		readErr <- s.store.Read(rctx, from, func(rec ledger.Record) error {
			r, leaf, err := DecodeStored(rec.Index, rec.Data)
			if err != nil {
				err = fmt.Errorf("entry %d: %w", rec.Index, err)
			}
			select {
			case recs <- decoded{rec.Index, r, leaf, err}:
			case <-rctx.Done():
				return rctx.Err()
			}
			return err
		})
	}()
	apply := func(d decoded) error {
		if d.err != nil {
			return d.err
		}
		if err := s.checkLeaf(d.index, d.leaf); err != nil {
			return err
		}
		if _, err := s.reg.Apply(d.rec.Entry); err != nil {
			return fmt.Errorf("entry %d does not apply: %w", d.index, err)
		}
		n++
		if s.cfg.Progress != nil && n%10_000 == 0 {
			s.cfg.Progress(n, total)
		}
		return nil
	}
	err = nil
	for d := range recs {
		if err = apply(d); err != nil {
			break
		}
	}
	cancel()
	for range recs { // let the reader finish
	}
	if rerr := <-readErr; err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return 0, fmt.Errorf("service: replaying the log: %w", err)
	}
	s.cfg.Logger.Info("registry rebuilt", "snapshot", from-1, "replayed", n, "last", s.reg.LastIndex())
	return from - 1, nil
}

// Submit sequences cmd, waits until its entry is durable, and returns what
// the registry decided, the entry, and its receipt (if the log signs
// checkpoints). A refused command returns the registry's error and leaves
// no entry, except a refusal that shows the filer other parties' intents
// (a *registry.RefusalError, for a command with a signed request): that
// is recorded as a disclose entry, returned in the Outcome with the error.
// The returned Outcome's Err is always nil.
func (s *Service) Submit(ctx context.Context, cmd Command) (Outcome, error) {
	if err := s.writable(); err != nil {
		return Outcome{}, err
	}
	p := newPending(cmd)
	if err := s.send(ctx, p); err != nil {
		return Outcome{}, err
	}
	var o outcome
	select {
	case o = <-p.reply:
	case <-s.done:
		// The finisher stopped; our reply may still be there.
		select {
		case o = <-p.reply:
		default:
			return Outcome{}, ErrUnavailable
		}
	}
	// A refusal that was logged as a disclosure comes with its entry.
	return Outcome{Result: o.res, Entry: o.entry, Receipt: o.receipt}, o.err
}

// SubmitAll submits cmds together (so they share syncs) and waits for all;
// each succeeds or fails on its own. Once a command is sent, SubmitAll
// waits for its answer even if ctx ends: the caller must learn whether its
// entry was made.
func (s *Service) SubmitAll(ctx context.Context, cmds []Command) []Outcome {
	out := make([]Outcome, len(cmds))
	ps := make([]*pending, 0, len(cmds))
	for i, c := range cmds {
		if err := s.writable(); err != nil {
			out[i].Err = err
			continue
		}
		p := newPending(c)
		p.shared = true
		if err := s.send(ctx, p); err != nil {
			out[i].Err = err
			continue
		}
		ps = append(ps, p)
	}
	k := 0
	for i := range cmds {
		if out[i].Err != nil {
			continue
		}
		p := ps[k]
		k++
		var o outcome
		select {
		case o = <-p.reply:
		case <-s.done:
			select {
			case o = <-p.reply:
			default:
				o.err = ErrUnavailable
			}
		}
		out[i] = Outcome{Result: o.res, Entry: o.entry, Receipt: o.receipt, Err: o.err}
	}
	return out
}

// Outcome is the answer to one command.
type Outcome struct {
	Result  registry.Result
	Entry   registry.Entry
	Receipt *ledger.Receipt // nil if the log signs no checkpoints
	Err     error           // SubmitAll only
}

func (s *Service) writable() error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.failed != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, s.failed)
	}
	if s.closing {
		return ErrUnavailable
	}
	return nil
}

// logFailed returns the store failure that stopped writes, if any.
func (s *Service) logFailed() error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.failed
}

// View calls fn with the registry, which fn must only read and not keep.
func (s *Service) View(fn func(r *registry.Registry)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.reg)
}

// Alerts returns the alerts sent to party by entries after index after,
// oldest first.
func (s *Service) Alerts(party registry.PartyID, after uint64) []registry.Alert {
	var out []registry.Alert
	s.View(func(r *registry.Registry) { out = r.Alerts(party, after) })
	return out
}

// RecentRequests calls fn with the signed requests of the entries made at
// or after since, as the log recorded them: a restarted server uses them to
// refuse replays of tokens that are still valid.
func (s *Service) RecentRequests(ctx context.Context, since time.Time, fn func(*Request)) error {
	errStop := errors.New("stop")
	timeAt := func(i uint64) (time.Time, error) {
		var t time.Time
		err := s.store.Read(ctx, i, func(rec ledger.Record) error {
			r, _, err := DecodeStored(rec.Index, rec.Data)
			if err != nil {
				return err
			}
			t = r.Entry.Time
			return errStop
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		return t, err
	}
	// Entry times never decrease: find the first entry at or after since.
	lo, hi := uint64(1), s.store.LastIndex()+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		t, err := timeAt(mid)
		if err != nil {
			return err
		}
		if t.Before(since) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo > s.store.LastIndex() {
		return nil
	}
	return s.store.Read(ctx, lo, func(rec ledger.Record) error {
		r, _, err := DecodeStored(rec.Index, rec.Data)
		if err != nil {
			return err
		}
		if r.Request != nil {
			fn(r.Request)
		}
		return nil
	})
}

// Close stops accepting writes, waits for the entries in flight to become
// durable, and closes nothing else: the caller closes the store.
// send hands p to the sequencer, or returns why not: ErrUnavailable once
// Close has begun.
func (s *Service) send(ctx context.Context, p *pending) error {
	s.inMu.RLock()
	defer s.inMu.RUnlock()
	if s.inClosed {
		return ErrUnavailable
	}
	select {
	case s.in <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrUnavailable
	}
}

func (s *Service) Close(ctx context.Context) error {
	s.stateMu.Lock()
	first := !s.closing
	s.closing = true
	s.stateMu.Unlock()
	if first {
		// Sends in flight finish first: the sequencer drains in until it
		// is closed.
		s.inMu.Lock()
		s.inClosed = true
		close(s.in)
		s.inMu.Unlock()
	}
	s.stopAudit()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sequence is the sequencer goroutine.
func (s *Service) sequence() {
	defer close(s.commits)
	// Where the last snapshot was taken: the entries replayed at start-up
	// count towards the next one (and a clean Close saves one if any were).
	snapAt := s.snapBase
	for p := range s.in {
		b := &batch{}
		s.mu.Lock()
		s.decide(b, p)
		for len(b.waiters) < s.cfg.MaxBatch {
			select {
			case q, ok := <-s.in:
				if !ok {
					goto flush
				}
				s.decide(b, q)
				continue
			default:
			}
			break
		}
	flush:
		// A snapshot is taken only when none is being saved. Only what it
		// holds is taken here; it is encoded as it is saved, in the
		// background.
		if len(b.logged) > 0 && s.reg.LastIndex()-snapAt >= s.snapshotInterval() && !s.snapSaving.Load() {
			s.snapshotInto(b)
			snapAt = s.reg.LastIndex()
		}
		s.mu.Unlock()
		if len(b.waiters) > 0 || b.snapshot != nil {
			s.commits <- b
		}
	}
	// Closing: a last snapshot, so that a clean restart replays nothing.
	// It is sent without s.mu held: the committer may need it (alert
	// hooks read the registry) before it takes the batch.
	b := &batch{final: true}
	s.mu.Lock()
	if s.reg.LastIndex() > snapAt && s.logFailed() == nil {
		s.snapshotInto(b)
	}
	s.mu.Unlock()
	if b.snapshot != nil {
		s.commits <- b
	}
}

// snapshotInterval is how many entries pass between snapshots (see
// Config.SnapshotEvery; under s.mu).
func (s *Service) snapshotInterval() uint64 {
	return uint64(max(s.cfg.SnapshotEvery, s.reg.NumIntents()/2))
}

// snapshotInto takes the registry's snapshot into b (under s.mu).
func (s *Service) snapshotInto(b *batch) {
	snap, err := s.reg.SnapshotLater()
	if err != nil {
		s.cfg.Logger.Error("snapshot failed", "err", err)
		return
	}
	b.snapshot, b.snapAt = snap, s.reg.LastIndex()
	s.snapSaving.Store(true)
}

// decide applies one command (under s.mu). A refusal is answered at once;
// an accepted command joins the batch and is answered after the commit.
func (s *Service) decide(b *batch, p *pending) {
	if err := s.writable(); err != nil {
		p.reply <- outcome{err: err}
		return
	}
	e := p.cmd.Entry
	e.Index = s.reg.LastIndex() + 1
	e.Time = s.cfg.Now().UTC()
	if last := s.reg.LastTime(); e.Time.Before(last) {
		e.Time = last
	}
	assign(&e)
	res, err := s.reg.Apply(e)
	if err != nil {
		var ref *registry.RefusalError
		if errors.As(err, &ref) && len(ref.Intents) > 0 && p.cmd.Request != nil {
			s.logDisclosure(b, p, e, ref)
			return
		}
		p.reply <- outcome{err: err}
		return
	}
	s.enqueue(b, p, e, res, nil)
}

// logDisclosure records what a refused filing showed its filer: a
// disclose entry (in the filer's name, with its signed request) that
// alerts every owner shown. The refusal is answered once it is durable.
func (s *Service) logDisclosure(b *batch, p *pending, refused registry.Entry, ref *registry.RefusalError) {
	reason := "conflict"
	if errors.Is(ref.Reason, registry.ErrMissingKey) {
		reason = "missing-key"
	}
	if len(ref.Intents) > registry.MaxKeyLength {
		// One entry records at most this many; the filer is shown no more
		// than is recorded.
		ref.Intents = ref.Intents[:registry.MaxKeyLength]
	}
	d := &registry.Disclose{Reason: reason}
	for _, c := range ref.Intents {
		d.Intents = append(d.Intents, registry.DisclosedIntent{Intent: c.Intent.ID, Owner: c.Intent.Owner, OVN: c.Intent.OVN,
			Level: s.reg.Grant(c.Intent.Owner, refused.Party)})
	}
	e := registry.Entry{Index: refused.Index, Time: refused.Time, Party: refused.Party, Kind: registry.KindDisclose, Disclose: d}
	res, err := s.reg.Apply(e)
	if err != nil {
		// Nothing is shown that is not on the record.
		s.cfg.Logger.Error("recording a disclosure failed; the refusal shows no intents", "party", refused.Party, "err", err)
		p.reply <- outcome{err: &registry.RefusalError{Reason: ref.Reason}}
		return
	}
	s.enqueue(b, p, e, res, ref)
}

// enqueue adds applied entry e to the batch; p is answered with res (and
// refusal, if the entry records a refused command's disclosure) once the
// batch is durable.
func (s *Service) enqueue(b *batch, p *pending, e registry.Entry, res registry.Result, refusal error) {
	rec := &Record{Entry: e, Request: p.cmd.Request, Item: p.cmd.Item, volumes: p.volumes}
	if req := p.cmd.Request; req != nil {
		if at, ok := s.reqAt[req]; ok {
			rec.Request, rec.RequestAt = nil, at
		} else {
			if len(s.reqAt) > 1024 {
				clear(s.reqAt)
			}
			s.reqAt[req] = e.Index
		}
	}
	b.logged = append(b.logged, loggedRec{rec, contentReaders(e, res, p.cmd, rec.RequestAt, p.shared)})
	b.waiters = append(b.waiters, p)
	b.results = append(b.results, outcome{res: res, entry: e, err: refusal})
}

// contentReaders returns the parties alerted by e who may read its content
// besides its author and authorities (given, at read time, a full grant
// from the author): only those the content tells nothing of any third
// party. So e must name (as a conflict, a disclosed intent, or an OVN in
// the key of the command) intents of the author and that party alone, and
// must not hold or refer to a batch request (whose body holds other
// items): shared (submitted with others), or whose path, query aside, is
// the batch route's.
func contentReaders(e registry.Entry, res registry.Result, cmd Command, requestAt uint64, shared bool) []string {
	if len(res.Alerts) == 0 || requestAt != 0 || shared {
		return nil
	}
	if cmd.Request != nil {
		if path, _, _ := strings.Cut(cmd.Request.Path, "?"); path == "/v1/intents/batch" {
			return nil
		}
	}
	ovns := map[registry.OVN]registry.PartyID{} // OVNs named, by owner
	owners := map[registry.PartyID]bool{}
	for _, c := range res.Conflicts {
		ovns[c.Intent.OVN], owners[c.Intent.Owner] = c.Intent.Owner, true
	}
	if e.Disclose != nil {
		for _, d := range e.Disclose.Intents {
			ovns[d.OVN], owners[d.Owner] = d.Owner, true
		}
	}
	var key []registry.OVN
	switch {
	case cmd.Entry.File != nil:
		key = cmd.Entry.File.Key
	case cmd.Entry.Update != nil:
		key = cmd.Entry.Update.Key
	}
	var readers []string
	for _, a := range res.Alerts {
		p := a.To
		if p == e.Party || slices.Contains(readers, string(p)) {
			continue
		}
		ok := true
		for o := range owners {
			ok = ok && (o == p || o == e.Party)
		}
		for _, k := range key {
			ok = ok && ovns[k] == p
		}
		if ok {
			readers = append(readers, string(p))
		}
	}
	return readers
}

// assign fills in what the sequencer fixes: new intent ids (unless the
// filer proposed one) and new OVNs.
func assign(e *registry.Entry) {
	switch {
	case e.File != nil:
		if e.File.Intent == "" {
			e.File.Intent = registry.IntentID(NewUUID())
		}
		e.File.NewOVN = newOVN()
	case e.Update != nil:
		e.Update.NewOVN = newOVN()
	case e.SetState != nil:
		e.SetState.NewOVN = newOVN()
	case e.End != nil:
		e.End.NewOVN = newOVN()
	}
}

// newOVN is 128 random bits: an OVN must not be guessable, or a party could
// present a key for an intent it was never shown.
func newOVN() registry.OVN {
	var b [16]byte
	rand.Read(b[:])
	return registry.OVN(base64.RawURLEncoding.EncodeToString(b[:]))
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// loggedRec is an entry to log, and the parties besides its author who
// may read its content (see contentReaders).
type loggedRec struct {
	rec     *Record
	readers []string
}

// encodeBatch makes the stored form of the batch's entries and adds them
// to the Merkle tree (committer only: the tree grows in entry order).
func (s *Service) encodeBatch(b *batch) error {
	b.recs, b.leaves = make([]ledger.Record, 0, len(b.logged)), make([][]byte, 0, len(b.logged))
	for _, l := range b.logged {
		rec, leaf, err := s.logEntry(l.rec, l.readers)
		if err != nil {
			return err
		}
		b.recs, b.leaves = append(b.recs, rec), append(b.leaves, leaf)
	}
	return nil
}

// written is a batch the committer has written (or failed to), handed to
// the finisher.
type written struct {
	b    *batch
	wait func() error // if not nil: waits until the records are durable
	err  error        // the write failed; the finisher sets it to why the batch is not durable
}

// commit is the committer goroutine: it writes each batch's records, in
// order, and hands the batch to the finisher. With a store whose appends
// can overlap their syncs (ledger.AsyncAppender) it writes the next batch
// while the last one is syncing: the finisher waits for the sync.
func (s *Service) commit() {
	fin := make(chan written, 4)
	go s.finish(fin)
	defer close(fin)
	async, _ := s.store.(ledger.AsyncAppender)
	for b := range s.commits {
		w := written{b: b}
		if len(b.logged) > 0 {
			// Decided entries are written even while closing: Close
			// waits for them. Only a failed store refuses them.
			w.err = s.logFailed()
			if w.err == nil {
				w.err = s.encodeBatch(b)
			}
			if w.err == nil {
				if async != nil {
					w.wait, w.err = async.AppendAsync(context.Background(), b.recs)
				} else {
					w.err = s.store.Append(context.Background(), b.recs)
				}
			}
			if w.err != nil {
				s.fail(w.err)
			}
		}
		fin <- w
	}
}

// finish is the finisher goroutine: once a batch is durable it signs the
// checkpoint, sends the alerts, answers each write with its receipt, and
// saves the batch's snapshot if it carries one. The batches the committer
// has already handed on when one is taken are finished with it, under one
// checkpoint: with writers that each wait for their answer, batches are
// small, and one signature (and one verification by each client) per
// entry would cost more than the entry's decision.
func (s *Service) finish(fin <-chan written) {
	f := finisher{s: s}
	defer close(s.done)
	defer f.snapWG.Wait() // runs before done is closed: Close waits for it
	var group []written
	for w := range fin {
		w.err = f.durable(w)
		group = append(group[:0], w)
		// Those handed on meanwhile (at most cap(fin): the committer
		// waits while fin is full).
	more:
		for {
			select {
			case w, ok := <-fin:
				if !ok {
					break more
				}
				w.err = f.durable(w)
				group = append(group, w)
			default:
				break more
			}
		}
		f.finish(group)
		clear(group)
	}
}

// finisher is the finisher goroutine's state.
type finisher struct {
	s      *Service
	failed error // the first batch that failed to become durable
	snapWG sync.WaitGroup
}

// durable waits until w's records are durable, and returns why not if
// they are not (w.err, if its write failed; nil for a batch without
// records).
func (f *finisher) durable(w written) error {
	if len(w.b.logged) == 0 {
		return nil
	}
	err := w.err
	if w.wait != nil { // waited for even after a failure: the store counts it
		if werr := w.wait(); werr != nil && err == nil {
			err = werr
			f.s.fail(err)
		}
	}
	// After a batch failed to become durable, no later one is answered
	// as durable, even if it was written before the failure was known and
	// its own sync reports success.
	if err == nil && f.failed != nil {
		err = f.failed
	}
	if err != nil && f.failed == nil {
		f.failed = err
	}
	return err
}

// finish finishes the batches of group, in order; each one's err is what
// durable returned for it.
func (f *finisher) finish(group []written) {
	s := f.s
	var size uint64 // the last durable entry of the group
	for _, w := range group {
		if len(w.b.logged) > 0 && w.err == nil {
			size = w.b.logged[len(w.b.logged)-1].rec.Entry.Index
		}
	}
	var cp []byte
	var cpErr error
	if size > 0 {
		cp, cpErr = s.checkpointAfter(size)
	}
	for _, w := range group {
		b := w.b
		if len(b.logged) > 0 {
			err := w.err
			if err == nil {
				err = cpErr
			}
			hook := s.alertHook.Load()
			if err == nil && (s.cfg.OnAlerts != nil || hook != nil) {
				var alerts []registry.Alert
				for _, o := range b.results {
					alerts = append(alerts, o.res.Alerts...)
				}
				if len(alerts) > 0 && s.cfg.OnAlerts != nil {
					s.cfg.OnAlerts(alerts)
				}
				if len(alerts) > 0 && hook != nil {
					(*hook)(alerts)
				}
			}
			for j, p := range b.waiters {
				o := b.results[j]
				if err == nil && cp != nil {
					o.receipt, err = s.receipt(b.recs[j].Index, b.leaves[j], cp, size)
				}
				if err != nil {
					o = outcome{err: fmt.Errorf("%w: making the entry durable: %v", ErrUnavailable, err)}
				}
				p.reply <- o
			}
			if err != nil {
				if b.snapshot != nil {
					s.snapSaving.Store(false) // its entries are not durable: dropped
				}
				continue
			}
		}
		if b.snapshot != nil {
			f.saveSnapshot(b)
		}
	}
}

// saveSnapshot saves b's snapshot, whose entries are durable. It is saved
// in the background so that commits go on meanwhile (the sequencer takes
// no other until this one is saved); the closing one is saved before
// Close returns.
func (f *finisher) saveSnapshot(b *batch) {
	s := f.s
	save := func(at uint64, encode func() ([][]byte, error)) {
		defer f.snapWG.Done()
		defer s.snapSaving.Store(false)
		parts, err := encode()
		if err == nil {
			err = s.store.SaveSnapshot(context.Background(), at, parts...)
		}
		if err != nil {
			s.cfg.Logger.Error("saving snapshot", "index", at, "err", err)
		} else {
			size := 0
			for _, p := range parts {
				size += len(p)
			}
			s.cfg.Logger.Info("snapshot saved", "index", at, "bytes", size)
		}
	}
	switch {
	case b.final && s.logFailed() != nil:
		s.snapSaving.Store(false) // a failed log takes no snapshot
	case b.final:
		f.snapWG.Wait() // the last periodic one first
		f.snapWG.Add(1)
		save(b.snapAt, b.snapshot)
	default:
		f.snapWG.Add(1)
		go save(b.snapAt, b.snapshot)
	}
}

func (s *Service) fail(err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.failed == nil {
		s.failed = err
		s.cfg.Logger.Error("service failed: writes stopped until restart", "err", err)
	}
}

// ReplayAll rebuilds a registry from every entry of store, ignoring
// snapshots: the reference that a start-up from a snapshot must equal.
func ReplayAll(ctx context.Context, store ledger.Store, cfg registry.Config) (*registry.Registry, error) {
	reg, err := registry.New(cfg)
	if err != nil {
		return nil, err
	}
	err = store.Read(ctx, 1, func(rec ledger.Record) error {
		r, _, err := DecodeStored(rec.Index, rec.Data)
		if err != nil {
			return fmt.Errorf("entry %d: %w", rec.Index, err)
		}
		if _, err := reg.Apply(r.Entry); err != nil {
			return fmt.Errorf("entry %d does not apply: %w", rec.Index, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("service: replaying the log: %w", err)
	}
	return reg, nil
}
