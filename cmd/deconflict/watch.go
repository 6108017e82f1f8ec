package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/service"
)

func runWatch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "watch", "-as PARTY [-dir DIR] [-once] [-interval D] [-gossip DIR] [-witness-keys DIR]")
	cf := addClientFlags(e, fs)
	once := fs.Bool("once", false, "check the log once, cosign, and exit")
	interval := fs.Duration("interval", 2*time.Second, "how often to poll for a new checkpoint")
	chain := fs.String("chain", "", "the chain of accepted checkpoints (default DIR/witness/PARTY.chain.jsonl)")
	gossip := fs.String("gossip", "", "a directory shared with other parties' watchers: each writes its latest cosigned checkpoint there and checks the others'")
	wkeys := fs.String("witness-keys", "", "directory of the parties' public keys (NAME.pub), to check their cosignatures (default DIR/keys)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *interval < 100*time.Millisecond {
		return errors.New("-interval must be at least 100ms")
	}
	w, err := newWatcher(e, cf, fs, *chain, *gossip, *wkeys)
	if err != nil {
		return err
	}
	if err := w.start(ctx); err != nil {
		return err
	}
	for {
		if err := w.step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return w.keepEvidence(err)
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// watcher follows the log as one party: it keeps its own copy of the
// Merkle tree from the public leaves, checks each new checkpoint against
// it and against a consistency proof from the last one it accepted,
// checks the content of its own entries and that its receipts are in the
// log, cosigns, and records every accepted checkpoint in its chain file.
type watcher struct {
	out       io.Writer
	c         *client.Client
	party     string
	log       note.Verifier
	pub       ed25519.PublicKey // this party's
	cosigner  note.Signer
	witnesses []note.Verifier
	chain     string
	receipts  string
	gossip    string

	tree      ledger.Tree
	cc        *checkedChain
	linked    map[uint64]bool
	ownSigned bool // an entry in this party's name with its signed request was seen
}

func newWatcher(e *env, cf *clientFlags, fs *flag.FlagSet, chain, gossip, wkeys string) (*watcher, error) {
	c, err := cf.client(false)
	if err != nil {
		return nil, err
	}
	kp := *cf.key
	if kp == "" {
		kp = keyPath(*cf.dir, c.Party())
	}
	key, err := auth.ReadPrivateKey(kp)
	if err != nil {
		return nil, err
	}
	if chain == "" {
		chain = chainPath(*cf.dir, c.Party())
	}
	if wkeys == "" {
		wkeys = filepath.Join(*cf.dir, "keys")
	}
	receipts := *cf.receipts
	if receipts == "" {
		receipts = filepath.Join(*cf.dir, "receipts", c.Party()+".jsonl")
	}
	return makeWatcher(e.stdout, c, key, chain, receipts, gossip, wkeys)
}

func makeWatcher(out io.Writer, c *client.Client, key ed25519.PrivateKey, chain, receipts, gossip, wkeys string) (*watcher, error) {
	if c.LogVerifier() == nil {
		return nil, errors.New("watch needs the log's verifier key")
	}
	cosigner, err := ledger.NewCosigner(c.Party(), key, nil)
	if err != nil {
		return nil, err
	}
	w := &watcher{out: out, c: c, party: c.Party(), log: c.LogVerifier(), cosigner: cosigner, pub: key.Public().(ed25519.PublicKey),
		chain: chain, receipts: receipts, gossip: gossip, linked: map[uint64]bool{}}
	if w.witnesses, err = witnessKeys(wkeys); err != nil {
		return nil, err
	}
	return w, nil
}

// keepEvidence saves the two signed checkpoints of an inconsistency next
// to the chain file, so that the party can show them to others, and
// returns err with the file's name.
func (w *watcher) keepEvidence(err error) error {
	var ie *ledger.InconsistencyError
	if !errors.As(err, &ie) {
		return err
	}
	path := filepath.Join(filepath.Dir(w.chain), fmt.Sprintf("%s.evidence-%d.txt", w.party, time.Now().Unix()))
	text := fmt.Sprintf("%s\n\n# checkpoint 1 (size %d)\n%s\n# checkpoint 2 (size %d)\n%s", ie.Error(), ie.OldC.Size, ie.Old, ie.NewC.Size, ie.New)
	if werr := os.WriteFile(path, []byte(text), 0o600); werr != nil {
		return fmt.Errorf("%w (and saving the evidence failed: %v)", err, werr)
	}
	return fmt.Errorf("%w\nthe two signed checkpoints are saved in %s", err, path)
}

// witnessKeys reads the cosignature verifiers of the parties whose public
// keys (NAME.pub) are in dir; a missing dir means none.
func witnessKeys(dir string) ([]note.Verifier, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.pub"))
	if err != nil {
		return nil, err
	}
	var out []note.Verifier
	for _, n := range names {
		pub, err := auth.ReadPublicKey(n)
		if err != nil {
			return nil, err
		}
		v, err := ledger.NewCosignatureVerifier(strings.TrimSuffix(filepath.Base(n), ".pub"), pub)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// start checks the chain file and rebuilds the tree up to its last
// checkpoint from the leaves the log serves now: a history rewritten while
// the watcher was away is caught here.
func (w *watcher) start(ctx context.Context) error {
	links, err := readJSONLines[chainLink](w.chain)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if w.cc, err = checkChain(links, w.log); err != nil {
		return fmt.Errorf("your chain file %s: %w", w.chain, err)
	}
	for i := range w.cc.linked {
		w.linked[i] = true
	}
	last, _, ok := w.cc.last()
	if !ok {
		return nil
	}
	if err := w.fetchLeaves(ctx, last.Size); err != nil {
		return err
	}
	root, err := w.tree.Root(last.Size)
	if err != nil {
		return err
	}
	if root != last.Root {
		return fmt.Errorf("LOG REWRITTEN: the first %d entries the log serves now hash to %v, but the checkpoint of that size you accepted has root %v", last.Size, root, last.Root)
	}
	return nil
}

// fetchLeaves adds the public leaves up to size to the local tree,
// checking each, and the content of this party's own entries.
func (w *watcher) fetchLeaves(ctx context.Context, size uint64) error {
	for w.tree.Size() < size {
		from := w.tree.Size() + 1
		n := min(size-from+1, 1000)
		entries, err := w.c.LogEntries(ctx, from, int(n))
		if err != nil {
			return fmt.Errorf("reading entries from %d: %w", from, err)
		}
		if len(entries) == 0 {
			return fmt.Errorf("ENTRIES WITHHELD: the log has a checkpoint of %d entries but serves none from %d", size, from)
		}
		for _, pe := range entries {
			want := w.tree.Size() + 1
			if pe.Index != want {
				return fmt.Errorf("LOG INCONSISTENT: asked for entry %d, the log served entry %d", want, pe.Index)
			}
			leaf, err := ledger.ParseLeaf([]byte(pe.Leaf))
			if err != nil {
				return fmt.Errorf("LOG INCONSISTENT: entry %d: %w", pe.Index, err)
			}
			if leaf.Index != pe.Index {
				return fmt.Errorf("LOG INCONSISTENT: the leaf served as entry %d says it is entry %d (entries dropped or reordered)", pe.Index, leaf.Index)
			}
			if leaf.Party == w.party {
				if err := w.checkOwn(ctx, leaf); err != nil {
					return err
				}
			}
			if _, err := w.tree.Add(leaf.Hash()); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOwn checks the content of an entry made in this party's name
// against its commitment.
func (w *watcher) checkOwn(ctx context.Context, leaf ledger.Leaf) error {
	c, err := w.c.EntryContent(ctx, leaf.Index)
	if err != nil {
		return fmt.Errorf("reading the content of your entry %d: %w", leaf.Index, err)
	}
	if c.Leaf != string(leaf.Marshal()) {
		return fmt.Errorf("LOG INCONSISTENT: entry %d is served with two different leaves", leaf.Index)
	}
	if err := ledger.CheckContent(leaf, c.Salt, c.Content); err != nil {
		return fmt.Errorf("CONTENT TAMPERED: your entry %d: %w", leaf.Index, err)
	}
	r, err := service.DecodeRecord(c.Content)
	if err != nil {
		return fmt.Errorf("CONTENT TAMPERED: your entry %d: %w", leaf.Index, err)
	}
	if r.Entry.Index != leaf.Index || string(r.Entry.Party) != w.party || string(r.Entry.Kind) != leaf.Kind {
		return fmt.Errorf("CONTENT TAMPERED: your entry %d holds entry %d (%s by %s)", leaf.Index, r.Entry.Index, r.Entry.Kind, r.Entry.Party)
	}
	return w.checkSigned(ctx, leaf, r)
}

// checkSigned checks that an entry in this party's name holds a request
// this party signed (for the items of a batch, the entry holding the
// batch's request).
func (w *watcher) checkSigned(ctx context.Context, leaf ledger.Leaf, r *service.Record) error {
	req := r.Request
	if req == nil && r.RequestAt != 0 {
		if r.RequestAt >= leaf.Index {
			return fmt.Errorf("FORGED ENTRY: your entry %d refers to the request of entry %d, which is not before it", leaf.Index, r.RequestAt)
		}
		c, err := w.c.EntryContent(ctx, r.RequestAt)
		if err != nil {
			return fmt.Errorf("reading entry %d, which holds the request of your entry %d: %w", r.RequestAt, leaf.Index, err)
		}
		at, err := service.DecodeRecord(c.Content)
		if err != nil || at.Request == nil || string(at.Entry.Party) != w.party {
			return fmt.Errorf("FORGED ENTRY: your entry %d refers to entry %d for its request, which holds none of yours", leaf.Index, r.RequestAt)
		}
		req = at.Request
	}
	if req == nil {
		// deconflict init registers parties in the authority's name,
		// without requests, before anything else: accepted only before
		// this party's first signed entry.
		if (leaf.Kind == "add_party" || leaf.Kind == "revoke_party") && !w.ownSigned {
			fmt.Fprintf(w.out, "note: entry %d (%s) is in your name without a signed request: made by the operator at set-up (deconflict init)\n", leaf.Index, leaf.Kind)
			return nil
		}
		return fmt.Errorf("FORGED ENTRY: entry %d (%s) is in your name but holds no request you signed", leaf.Index, leaf.Kind)
	}
	if err := auth.CheckRecorded(req.Token, req.Body, w.party, w.c.Audience(), w.pub); err != nil {
		return fmt.Errorf("FORGED ENTRY: entry %d (%s) is in your name but its request was not signed by you: %w", leaf.Index, leaf.Kind, err)
	}
	w.ownSigned = true
	return nil
}

// step checks the log's latest checkpoint and, if it is new, accepts it:
// it must be signed by the log, match the tree this party rebuilt from the
// public leaves, extend the last accepted one (a consistency proof), and
// agree with the checkpoints other parties left in the gossip directory.
// Then it cosigns the checkpoint the log offers for cosigning (the latest
// as of at most a second ago, so that witnesses meet on one size) after
// checking it against its own tree, and again if the log lost its
// cosignature (the service keeps them in memory).
func (w *watcher) step(ctx context.Context) error {
	signed, err := w.c.Checkpoint(ctx, client.LatestCheckpoint)
	if err != nil {
		return fmt.Errorf("reading the checkpoint: %w", err)
	}
	cp, _, err := ledger.OpenCheckpoint(signed, w.log)
	if err != nil {
		return fmt.Errorf("BAD CHECKPOINT from the log: %w", err)
	}
	if err := w.checkReceiptSizes(cp, signed); err != nil {
		return err
	}
	last, lastSigned, have := w.cc.last()
	switch {
	case have && cp.Size < last.Size:
		return fmt.Errorf("LOG ROLLED BACK: the log's checkpoint has %d entries, you accepted one of %d", cp.Size, last.Size)
	case have && cp.Size == last.Size:
		if cp.Root != last.Root {
			return &ledger.InconsistencyError{Old: lastSigned, New: signed, OldC: last, NewC: cp, Reason: "same size, different roots: the log signed two histories"}
		}
	default:
		if err := w.accept(ctx, cp, signed); err != nil {
			return err
		}
	}
	last, lastSigned, _ = w.cc.last()
	if err := w.checkGossip(ctx, last, lastSigned); err != nil {
		return err
	}
	return w.cosignTarget(ctx, last, lastSigned)
}

// accept checks a new checkpoint against the local tree and the last
// accepted one, links the receipts it covers, and records it.
func (w *watcher) accept(ctx context.Context, cp ledger.Checkpoint, signed []byte) error {
	last, lastSigned, have := w.cc.last()
	if err := w.fetchLeaves(ctx, cp.Size); err != nil {
		return err
	}
	root, err := w.tree.Root(cp.Size)
	if err != nil {
		return err
	}
	if root != cp.Root {
		return fmt.Errorf("LOG INCONSISTENT: the checkpoint of %d entries has root %v, but the entries the log serves hash to %v", cp.Size, cp.Root, root)
	}
	link := chainLink{Checkpoint: string(signed)}
	if have {
		proof, err := w.c.ConsistencyProof(ctx, last.Size, cp.Size)
		if err != nil {
			return fmt.Errorf("reading the consistency proof %d -> %d: %w", last.Size, cp.Size, err)
		}
		if err := ledger.CheckConsistency(last, lastSigned, cp, signed, proof); err != nil {
			return err
		}
		link.Proof = proof
	}
	// Publish what this party was shown before comparing with the others,
	// so that a fork is seen from both sides.
	if w.gossip != "" {
		if err := os.MkdirAll(w.gossip, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(w.gossip, w.party+".checkpoint"), signed, 0o644); err != nil {
			return err
		}
	}
	if err := w.checkGossip(ctx, cp, signed); err != nil {
		return err
	}
	if link.Receipts, err = w.linkReceipts(cp, signed); err != nil {
		return err
	}
	if err := appendJSONLine(w.chain, link); err != nil {
		return err
	}
	w.cc.links = append(w.cc.links, link)
	w.cc.cps = append(w.cc.cps, cp)
	fmt.Fprintf(w.out, "checkpoint %d verified (root %v, %d of your receipts linked)\n", cp.Size, cp.Root, len(link.Receipts))
	return nil
}

// cosignTarget cosigns the checkpoint the log offers for cosigning, if
// this party's tree covers it and agrees, and it does not carry this
// party's cosignature yet.
func (w *watcher) cosignTarget(ctx context.Context, last ledger.Checkpoint, lastSigned []byte) error {
	signed, err := w.c.Checkpoint(ctx, client.CosignCheckpoint)
	if err != nil {
		return fmt.Errorf("reading the checkpoint to cosign: %w", err)
	}
	c, n, err := ledger.OpenCheckpoint(signed, w.log, w.witnesses...)
	if err != nil {
		return fmt.Errorf("BAD CHECKPOINT from the log: %w", err)
	}
	if c.Size > w.tree.Size() || signedBy(n, w.party) {
		return nil // newer than what was checked: next time
	}
	if root, err := w.tree.Root(c.Size); err != nil || root != c.Root {
		return &ledger.InconsistencyError{Old: lastSigned, New: signed, OldC: last, NewC: c,
			Reason: fmt.Sprintf("the checkpoint of %d entries offered for cosigning is not the one your tree has", c.Size)}
	}
	if _, err := w.cosign(ctx, n); err != nil {
		return err
	}
	var by []string
	for _, s := range n.Sigs {
		if s.Name != w.log.Name() && s.Name != w.party {
			by = append(by, s.Name)
		}
	}
	fmt.Fprintf(w.out, "checkpoint %d cosigned by %s", c.Size, w.party)
	if len(by) > 0 {
		fmt.Fprintf(w.out, "; also cosigned by %s", strings.Join(by, ", "))
	}
	fmt.Fprintln(w.out)
	return nil
}

// cosign adds this party's cosignature to the opened checkpoint n and
// sends it to the log.
func (w *watcher) cosign(ctx context.Context, n *note.Note) ([]byte, error) {
	n.Sigs = slices.DeleteFunc(n.Sigs, func(s note.Signature) bool { return s.Name == w.party })
	cosigned, err := note.Sign(n, w.cosigner)
	if err != nil {
		return nil, err
	}
	if _, err := w.c.Cosign(ctx, cosigned); err != nil {
		return nil, fmt.Errorf("sending the cosignature: %w", err)
	}
	return cosigned, nil
}

// signedBy reports whether n carries a verified signature named name.
func signedBy(n *note.Note, name string) bool {
	return slices.ContainsFunc(n.Sigs, func(s note.Signature) bool { return s.Name == name })
}

// checkReceiptSizes fails if a receipt this party holds carries a
// checkpoint larger than the log's latest: the log signed entries it no
// longer shows (a rollback, or entries withheld).
func (w *watcher) checkReceiptSizes(cp ledger.Checkpoint, signed []byte) error {
	rs, err := readJSONLines[ledger.Receipt](w.receipts)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, r := range rs {
		_, rc, err := r.Verify(w.log)
		if err != nil {
			return fmt.Errorf("your receipt file %s: %w", w.receipts, err)
		}
		if rc.Size > cp.Size {
			return &ledger.InconsistencyError{Old: signed, New: []byte(r.Checkpoint), OldC: cp, NewC: rc,
				Reason: fmt.Sprintf("LOG ROLLED BACK: your receipt for entry %d carries the log's checkpoint of %d entries, but the log now shows only %d", r.Index, rc.Size, cp.Size)}
		}
	}
	return nil
}

// linkReceipts checks this party's receipts not yet linked that the tree
// of size covers: each must verify, and its leaf must be the one in the
// tree. It returns their inclusion proofs.
func (w *watcher) linkReceipts(cp ledger.Checkpoint, signed []byte) ([]linkedRecord, error) {
	size := cp.Size
	rs, err := readJSONLines[ledger.Receipt](w.receipts)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []linkedRecord
	for _, r := range rs {
		if w.linked[r.Index] || r.Index > size {
			continue
		}
		_, rc, err := r.Verify(w.log)
		if err != nil {
			return nil, fmt.Errorf("your receipt file %s: %w", w.receipts, err)
		}
		h, err := w.tree.LeafHash(r.Index)
		if err != nil {
			return nil, err
		}
		if h != r.LeafHash {
			return nil, fmt.Errorf("ENTRY CHANGED: your receipt for entry %d has leaf hash %v, the log now has %v there", r.Index, r.LeafHash, h)
		}
		if rc.Size <= size {
			// The receipt's checkpoint is another signed statement of the
			// log about a prefix of this tree: it must agree.
			if root, err := w.tree.Root(rc.Size); err != nil || root != rc.Root {
				return nil, &ledger.InconsistencyError{Old: []byte(r.Checkpoint), New: signed, OldC: rc, NewC: cp,
					Reason: fmt.Sprintf("LOG REWRITTEN: your receipt for entry %d carries the log's checkpoint of %d entries with root %v, the log's entries now hash to %v", r.Index, rc.Size, rc.Root, root)}
			}
		}
		proof, err := w.tree.InclusionProof(r.Index, size)
		if err != nil {
			return nil, err
		}
		out = append(out, linkedRecord{Index: r.Index, LeafHash: h, Proof: proof})
		w.linked[r.Index] = true
	}
	return out, nil
}

// checkGossip checks the checkpoints other parties' watchers left in the
// gossip directory against this party's view of the log.
func (w *watcher) checkGossip(ctx context.Context, last ledger.Checkpoint, lastSigned []byte) error {
	if w.gossip == "" {
		return nil
	}
	names, err := filepath.Glob(filepath.Join(w.gossip, "*.checkpoint"))
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.TrimSuffix(filepath.Base(name), ".checkpoint") == w.party {
			continue
		}
		theirs, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		c, _, err := ledger.OpenCheckpoint(theirs, w.log, w.witnesses...)
		if err != nil {
			return fmt.Errorf("gossip %s: %w", name, err)
		}
		if c.Size <= w.tree.Size() {
			root, err := w.tree.Root(c.Size)
			if err != nil {
				return err
			}
			if root != c.Root {
				return &ledger.InconsistencyError{Old: lastSigned, New: theirs, OldC: last, NewC: c,
					Reason: fmt.Sprintf("FORK: %s was shown a log whose first %d entries differ from yours", filepath.Base(name), c.Size)}
			}
			continue
		}
		proof, err := w.c.ConsistencyProof(ctx, last.Size, c.Size)
		if err != nil {
			return &ledger.InconsistencyError{Old: lastSigned, New: theirs, OldC: last, NewC: c,
				Reason: fmt.Sprintf("FORK?: the log cannot prove that %s's checkpoint extends yours: %v", filepath.Base(name), err)}
		}
		if err := ledger.CheckConsistency(last, lastSigned, c, theirs, proof); err != nil {
			return err
		}
	}
	return nil
}
