package service

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
)

// The verifiable log: every entry is a leaf of a Merkle tree (ledger.Tree)
// whose hashes are stored with the entry; after every committed batch the
// service signs a checkpoint, and each write's answer carries a receipt.
// Parties cosign checkpoints they have checked (witnesses).

// DefaultOrigin names the log when Config.Origin is empty.
const DefaultOrigin = "deconflict"

// maxCosigned is how many checkpoint sizes keep their cosignatures.
const maxCosigned = 1024

type logState struct {
	tree     ledger.Tree
	signer   note.Signer   // nil: no checkpoints
	verifier note.Verifier // the log's key

	mu       sync.RWMutex
	target   uint64    // the size offered to witnesses to cosign
	targetAt time.Time // when target last moved
	size     uint64    // size of the latest checkpoint
	signed   []byte    // the latest checkpoint, signed by the log only
	cosigs   map[uint64]map[registry.PartyID][]byte
}

// openLog loads the tree hashes from the store.
func (s *Service) openLog(ctx context.Context) error {
	if s.cfg.Origin == "" {
		s.cfg.Origin = DefaultOrigin
	}
	if s.cfg.Witnesses <= 0 {
		s.cfg.Witnesses = 1
	}
	s.log.cosigs = make(map[uint64]map[registry.PartyID][]byte)
	if s.cfg.LogKey != nil {
		var err error
		if s.log.signer, err = ledger.NewSigner(s.cfg.Origin, s.cfg.LogKey); err != nil {
			return fmt.Errorf("service: log key: %w", err)
		}
		vkey, err := ledger.VerifierKey(s.cfg.Origin, s.cfg.LogKey.Public().(ed25519.PublicKey))
		if err != nil {
			return fmt.Errorf("service: log key: %w", err)
		}
		if s.log.verifier, err = note.NewVerifier(vkey); err != nil {
			return fmt.Errorf("service: log key: %w", err)
		}
	}
	return nil
}

// loadTree reads the Merkle tree's stored hashes from the store.
func (s *Service) loadTree(ctx context.Context) error {
	err := s.store.ReadHashes(ctx, func(i uint64, hs []tlog.Hash) error { return s.log.tree.Load(i, hs) })
	if err != nil {
		return fmt.Errorf("service: loading the Merkle tree: %w", err)
	}
	if n, last := s.log.tree.Size(), s.store.LastIndex(); n != last {
		return fmt.Errorf("service: the log has %d entries but tree hashes for %d: %w", last, n, ledger.ErrCorrupt)
	}
	return nil
}

// checkLeaf reports whether a replayed entry's leaf is the one in the tree.
func (s *Service) checkLeaf(index uint64, leaf ledger.Leaf) error {
	h, err := s.log.tree.LeafHash(index)
	if err != nil {
		return err
	}
	if leaf.Hash() != h {
		return &ledger.CorruptError{Kind: ledger.KindRecord, Index: index, Reason: "its leaf does not match the Merkle tree"}
	}
	return nil
}

// logEntry makes the stored form of rec: the public leaf, the salted
// content, the readers (alerted parties who may read the content, see
// contentReaders) and the tree hashes; and returns the leaf too. Committer
// only: it adds the leaf to the tree.
func (s *Service) logEntry(rec *Record, readers []string) (ledger.Record, []byte, error) {
	content, err := encodeRecord(rec)
	if err != nil {
		return ledger.Record{}, nil, err
	}
	salt := make([]byte, ledger.SaltSize)
	rand.Read(salt)
	e := rec.Entry
	leaf := ledger.Leaf{Index: e.Index, Time: e.Time, Kind: string(e.Kind), Party: string(e.Party), Commitment: ledger.Commit(salt, content)}
	le := ledger.Entry{Leaf: leaf.Marshal(), Salt: salt, Readers: readers, Content: content}
	hs, err := s.log.tree.Add(tlog.RecordHash(le.Leaf))
	if err != nil {
		return ledger.Record{}, nil, err
	}
	return ledger.Record{Index: e.Index, Data: le.Marshal(), Hashes: hs}, le.Leaf, nil
}

// signCheckpoint signs the checkpoint for the tree of size entries and
// makes it the latest.
func (s *Service) signCheckpoint(size uint64) error {
	_, err := s.checkpointAfter(size)
	return err
}

// checkpointAfter signs and publishes the checkpoint of size entries, once
// they are durable; nil if the log signs none.
func (s *Service) checkpointAfter(size uint64) ([]byte, error) {
	if s.log.signer == nil {
		return nil, nil
	}
	signed, err := s.sign(size)
	if err != nil {
		s.fail(err)
		return nil, err
	}
	s.log.mu.Lock()
	s.log.size, s.log.signed = size, signed
	if s.log.targetAt.IsZero() { // at start-up: offer the current checkpoint
		s.log.target, s.log.targetAt = size, time.Now()
	}
	s.log.mu.Unlock()
	return signed, nil
}

func (s *Service) sign(size uint64) ([]byte, error) {
	root, err := s.log.tree.Root(size)
	if err != nil {
		return nil, err
	}
	return ledger.SignCheckpoint(ledger.Checkpoint{Origin: s.cfg.Origin, Size: size, Root: root}, s.log.signer)
}

// receipt proves entry index, whose leaf is leaf, in the checkpoint cp.
func (s *Service) receipt(index uint64, leaf []byte, cp []byte, size uint64) (*ledger.Receipt, error) {
	proof, err := s.log.tree.InclusionProof(index, size)
	if err != nil {
		s.fail(err)
		return nil, err
	}
	return &ledger.Receipt{Index: index, Leaf: string(leaf), LeafHash: tlog.RecordHash(leaf), Checkpoint: string(cp), Proof: proof}, nil
}

// ErrNoCheckpoints: the service runs without a log key.
var ErrNoCheckpoints = errors.New("service: this log signs no checkpoints")

// Origin returns the log's name.
func (s *Service) Origin() string { return s.cfg.Origin }

// Checkpoint returns the latest checkpoint with the cosignatures collected
// for it, and its size.
func (s *Service) Checkpoint() ([]byte, uint64, error) {
	if s.log.signer == nil {
		return nil, 0, ErrNoCheckpoints
	}
	s.log.mu.RLock()
	defer s.log.mu.RUnlock()
	return s.withCosigs(s.log.size, s.log.signed), s.log.size, nil
}

// CosignInterval is how often the checkpoint offered to witnesses moves
// to the latest: witnesses polling within one interval cosign the same
// checkpoint, so that k of them meet on one size.
const CosignInterval = time.Second

// CosignTarget returns the checkpoint witnesses should check and cosign
// now, with the cosignatures collected for it: the latest checkpoint, held
// for up to CosignInterval once a witness has cosigned it and until enough
// have.
func (s *Service) CosignTarget() ([]byte, uint64, error) {
	if s.log.signer == nil {
		return nil, 0, ErrNoCheckpoints
	}
	now := time.Now()
	s.log.mu.Lock()
	// Move on to the latest when nobody cosigned the target yet (nobody to
	// meet), when enough parties did, or after CosignInterval.
	if c := len(s.log.cosigs[s.log.target]); s.log.target != s.log.size &&
		(c == 0 || c >= s.cfg.Witnesses || now.Sub(s.log.targetAt) >= CosignInterval) {
		s.log.target, s.log.targetAt = s.log.size, now
	}
	target := s.log.target
	s.log.mu.Unlock()
	signed, err := s.sign(target)
	if err != nil {
		return nil, 0, err
	}
	s.log.mu.RLock()
	defer s.log.mu.RUnlock()
	return s.withCosigs(target, signed), target, nil
}

// WitnessedCheckpoint returns the largest checkpoint cosigned by at least
// Config.Witnesses parties, with their cosignatures; ok is false if there
// is none yet.
func (s *Service) WitnessedCheckpoint() (signed []byte, size uint64, ok bool, err error) {
	if s.log.signer == nil {
		return nil, 0, false, ErrNoCheckpoints
	}
	s.log.mu.RLock()
	best, found := uint64(0), false
	for n, c := range s.log.cosigs {
		if len(c) >= s.cfg.Witnesses && (!found || n > best) {
			best, found = n, true
		}
	}
	s.log.mu.RUnlock()
	if !found {
		return nil, 0, false, nil
	}
	signed, err = s.sign(best)
	if err != nil {
		return nil, 0, false, err
	}
	s.log.mu.RLock()
	defer s.log.mu.RUnlock()
	return s.withCosigs(best, signed), best, true, nil
}

// withCosigs appends the cosignature lines kept for size to signed (log.mu
// held).
func (s *Service) withCosigs(size uint64, signed []byte) []byte {
	c := s.log.cosigs[size]
	if len(c) == 0 {
		return signed
	}
	out := slices.Clone(signed)
	ids := make([]registry.PartyID, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, c[id]...)
	}
	return out
}

// ErrBadCosignature: a cosignature that does not verify, or a checkpoint
// this log did not sign.
var ErrBadCosignature = errors.New("service: bad cosignature")

// AddCosignature records party's cosignature on a checkpoint of this log.
// signed must be a checkpoint this log signed (of a size it has reached)
// carrying a valid cosignature/v1 signature by party's key pub.
func (s *Service) AddCosignature(party registry.PartyID, pub ed25519.PublicKey, signed []byte) (uint64, error) {
	if s.log.signer == nil {
		return 0, ErrNoCheckpoints
	}
	cv, err := ledger.NewCosignatureVerifier(string(party), pub)
	if err != nil {
		return 0, err
	}
	c, n, err := ledger.OpenCheckpoint(signed, s.log.verifier, cv)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadCosignature, err)
	}
	var line []byte
	for _, sig := range n.Sigs {
		if sig.Name == cv.Name() && sig.Hash == cv.KeyHash() {
			line = fmt.Appendf(nil, "— %s %s\n", sig.Name, sig.Base64)
		}
	}
	if line == nil {
		return 0, fmt.Errorf("%w: no valid cosignature by %s", ErrBadCosignature, party)
	}
	s.log.mu.RLock()
	latest := s.log.size
	s.log.mu.RUnlock()
	if c.Size > latest {
		return 0, fmt.Errorf("%w: checkpoint of size %d, but the log has %d entries", ErrBadCosignature, c.Size, latest)
	}
	root, err := s.log.tree.Root(c.Size)
	if err != nil {
		return 0, err
	}
	if root != c.Root {
		return 0, fmt.Errorf("%w: the checkpoint of size %d has a root this log never had", ErrBadCosignature, c.Size)
	}
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	m := s.log.cosigs[c.Size]
	if m == nil {
		if len(s.log.cosigs) >= maxCosigned {
			s.pruneCosigs()
		}
		m = make(map[registry.PartyID][]byte)
		s.log.cosigs[c.Size] = m
	}
	m[party] = line
	return c.Size, nil
}

// pruneCosigs drops the cosignatures of the oldest half of the sizes,
// keeping the largest witnessed one (log.mu held).
func (s *Service) pruneCosigs() {
	sizes := make([]uint64, 0, len(s.log.cosigs))
	witnessed := uint64(0)
	for n, c := range s.log.cosigs {
		sizes = append(sizes, n)
		if len(c) >= s.cfg.Witnesses {
			witnessed = max(witnessed, n)
		}
	}
	slices.Sort(sizes)
	for _, n := range sizes[:len(sizes)/2] {
		if n != witnessed {
			delete(s.log.cosigs, n)
		}
	}
}

// checkSize reports whether size is covered by the latest checkpoint.
func (s *Service) checkSize(size uint64) error {
	s.log.mu.RLock()
	latest := s.log.size
	s.log.mu.RUnlock()
	if s.log.signer == nil {
		latest = s.store.LastIndex()
	}
	if size > latest {
		return fmt.Errorf("%w: size %d, the latest checkpoint has %d", ledger.ErrTooLarge, size, latest)
	}
	return nil
}

// InclusionProof proves entry index in the tree of size entries.
func (s *Service) InclusionProof(index, size uint64) (tlog.RecordProof, tlog.Hash, error) {
	if err := s.checkSize(size); err != nil {
		return nil, tlog.Hash{}, err
	}
	p, err := s.log.tree.InclusionProof(index, size)
	if err != nil {
		return nil, tlog.Hash{}, err
	}
	h, err := s.log.tree.LeafHash(index)
	return p, h, err
}

// ConsistencyProof proves that the tree of old entries is a prefix of the
// tree of size entries.
func (s *Service) ConsistencyProof(old, size uint64) (tlog.TreeProof, error) {
	if err := s.checkSize(size); err != nil {
		return nil, err
	}
	return s.log.tree.ConsistencyProof(old, size)
}

// PublicEntry is what every party may see of an entry: its leaf.
type PublicEntry struct {
	Index uint64 `json:"index"`
	Leaf  string `json:"leaf"`
}

// Leaves returns the leaves of entries from..from+count-1 that the latest
// checkpoint covers.
func (s *Service) Leaves(ctx context.Context, from uint64, count int) ([]PublicEntry, error) {
	var out []PublicEntry
	err := s.readEntries(ctx, from, count, func(index uint64, e *ledger.Entry) error {
		out = append(out, PublicEntry{Index: index, Leaf: string(e.Leaf)})
		return nil
	})
	return out, err
}

// Content is an entry's content, for a party entitled to it: with the salt
// it can check it against the leaf's commitment.
type Content struct {
	Index   uint64 `json:"index"`
	Leaf    string `json:"leaf"`
	Salt    []byte `json:"salt"`
	Content []byte `json:"content"` // the Record (JSON)
}

// ErrNotEntitled: the party may not read an entry's content.
var ErrNotEntitled = errors.New("service: not entitled to this entry's content")

// EntryContent returns entry index's content if party may read it: its
// author, authorities, and the parties its alerts went to if
// alertedMayRead(author) allows (nil: always).
func (s *Service) EntryContent(ctx context.Context, index uint64, party registry.PartyID, authority bool, alertedMayRead func(author registry.PartyID) bool) (*Content, error) {
	var out *Content
	err := s.readEntries(ctx, index, 1, func(i uint64, e *ledger.Entry) error {
		l, err := ledger.ParseLeaf(e.Leaf)
		if err != nil {
			return err
		}
		alerted := slices.Contains(e.Readers, string(party)) && (alertedMayRead == nil || alertedMayRead(registry.PartyID(l.Party)))
		if !authority && l.Party != string(party) && !alerted {
			return ErrNotEntitled
		}
		out = &Content{Index: i, Leaf: string(e.Leaf), Salt: e.Salt, Content: e.Content}
		return nil
	})
	if err == nil && out == nil {
		err = fmt.Errorf("%w: no entry %d", ledger.ErrTooLarge, index)
	}
	return out, err
}

// readEntries reads up to count stored entries from index from, within the
// latest checkpoint.
func (s *Service) readEntries(ctx context.Context, from uint64, count int, fn func(uint64, *ledger.Entry) error) error {
	if from == 0 {
		return errors.New("service: entries are numbered from 1")
	}
	s.log.mu.RLock()
	latest := s.log.size
	s.log.mu.RUnlock()
	if s.log.signer == nil {
		latest = s.store.LastIndex()
	}
	errStop := errors.New("stop")
	n := 0
	err := s.store.Read(ctx, from, func(rec ledger.Record) error {
		if n >= count || rec.Index > latest {
			return errStop
		}
		n++
		e, err := ledger.UnmarshalEntry(rec.Data)
		if err != nil {
			return &ledger.CorruptError{Kind: ledger.KindRecord, Index: rec.Index, Reason: err.Error()}
		}
		return fn(rec.Index, e)
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return err
}

// startAudit checks, in the background, the entries 1..upto that start-up
// did not replay (the latest snapshot holds their effect): each entry's
// content must match its leaf's commitment, and its leaf must be the one
// in the Merkle tree. Replayed entries were checked on replay. A failure
// stops writes (as a store failure does) and is reported on Audit.
func (s *Service) startAudit(upto uint64) {
	s.audit.done = make(chan error, 1)
	if upto == 0 {
		s.audit.done <- nil
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.audit.cancel = cancel
	s.audit.wg.Add(1)
	go func() {
		defer s.audit.wg.Done()
		start := time.Now()
		err := s.store.Read(ctx, 1, func(rec ledger.Record) error {
			if rec.Index > upto {
				return errAuditDone
			}
			// The content must match the leaf's commitment and the leaf
			// the tree: what an edit of the stored log cannot keep both
			// of. (Decoding the content too would take most of the time.)
			e, err := ledger.UnmarshalEntry(rec.Data)
			if err != nil {
				return fmt.Errorf("entry %d: %w", rec.Index, err)
			}
			leaf, err := e.Open(rec.Index)
			if err != nil {
				return fmt.Errorf("entry %d: %w", rec.Index, err)
			}
			return s.checkLeaf(rec.Index, leaf)
		})
		switch {
		case err == nil || errors.Is(err, errAuditDone):
			s.cfg.Logger.Info("log audited", "entries", upto, "took", time.Since(start).Round(time.Millisecond))
			err = nil
		case ctx.Err() != nil:
			err = nil // closed before the audit ended: nothing found
		default:
			err = fmt.Errorf("service: the log failed its audit: %w", err)
			s.fail(err)
		}
		s.audit.done <- err
	}()
}

var errAuditDone = errors.New("audit done")

// Audit yields, once, the result of the start-up audit of the entries the
// latest snapshot covers: nil if they all check out (or the service closed
// before the audit ended), else what is wrong (writes are refused then).
func (s *Service) Audit() <-chan error { return s.audit.done }

// auditState is the start-up audit's.
type auditState struct {
	done   chan error
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// stopAudit cancels the audit and waits for it.
func (s *Service) stopAudit() {
	if s.audit.cancel != nil {
		s.audit.cancel()
	}
	s.audit.wg.Wait()
}
