package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/service"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", "[-dir DIR] -as PARTY | -receipts FILE -chain FILE | -store")
	dir := fs.String("dir", envOr("DECONFLICT_DIR", defaultDir), "data directory ($DECONFLICT_DIR)")
	as := fs.String("as", os.Getenv("DECONFLICT_PARTY"), "check this party's receipts and chain (DIR/receipts/PARTY.jsonl, DIR/witness/PARTY.chain.jsonl)")
	receipts := fs.String("receipts", "", "receipts file (JSON lines)")
	chain := fs.String("chain", "", "chain file written by deconflict watch")
	lkFlag := fs.String("log-key", os.Getenv("DECONFLICT_LOG_KEY"), "file holding the log's verifier key (default DIR/log.vkey)")
	store := fs.Bool("store", false, "audit the whole log in DIR (the server must be stopped): every entry against its commitment and the Merkle tree; with -as/-chain, also against that chain")
	if err := parse(fs, args); err != nil {
		return err
	}
	optional := map[string]bool{} // defaulted files that need not exist yet
	if *as != "" {
		if *receipts == "" {
			optional["receipts"] = true
			*receipts = filepath.Join(*dir, "receipts", *as+".jsonl")
		}
		if *chain == "" {
			optional["chain"] = true
			*chain = chainPath(*dir, *as)
		}
	}
	if *receipts == "" && *chain == "" && !*store {
		return errors.New("say what to verify: -as PARTY, -receipts FILE and/or -chain FILE, or -store")
	}
	lk, err := logKey(*dir, *lkFlag)
	if err != nil {
		return err
	}
	log, err := note.NewVerifier(lk)
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	v := &verification{e: e, log: log, optional: optional}
	var cc *checkedChain
	if *chain != "" {
		cc = v.chain(*chain)
	}
	var rs []ledger.Receipt
	if *receipts != "" {
		rs = v.receipts(*receipts, cc)
	}
	if *store {
		v.store(ctx, *dir, cc, rs)
	}
	if len(v.problems) > 0 {
		for _, p := range v.problems {
			fmt.Fprintln(e.stdout, "FAIL", p)
		}
		return fmt.Errorf("verification FAILED: %d problem(s), first: %s", len(v.problems), v.problems[0])
	}
	fmt.Fprintln(e.stdout, "verified: no problems found")
	return nil
}

type verification struct {
	e        *env
	log      note.Verifier
	problems []string
	optional map[string]bool
}

func (v *verification) fail(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *verification) chain(path string) *checkedChain {
	links, err := readJSONLines[chainLink](path)
	if errors.Is(err, os.ErrNotExist) && v.optional["chain"] {
		fmt.Fprintf(v.e.stdout, "chain %s: none yet (deconflict watch writes it)\n", path)
		return nil
	}
	if err != nil {
		v.fail("chain: %v", err)
		return nil
	}
	cc, err := checkChain(links, v.log)
	if err != nil {
		v.fail("chain %s: %v", path, err)
		return nil
	}
	last, _, ok := cc.last()
	if !ok {
		fmt.Fprintf(v.e.stdout, "chain %s: empty\n", path)
		return cc
	}
	fmt.Fprintf(v.e.stdout, "chain %s: %s up to %d entries (root %v), each signed by %s and consistent with the one before; %s linked\n",
		path, plural(len(cc.links), "checkpoint"), last.Size, last.Root, v.log.Name(), plural(len(cc.linked), "receipt"))
	return cc
}

// receipts checks a receipts file, against the chain if there is one, and
// returns the receipts that verify.
func (v *verification) receipts(path string, cc *checkedChain) []ledger.Receipt {
	rs, err := readJSONLines[ledger.Receipt](path)
	if errors.Is(err, os.ErrNotExist) && v.optional["receipts"] {
		fmt.Fprintf(v.e.stdout, "receipts %s: none yet\n", path)
		return nil
	}
	if err != nil {
		v.fail("receipts: %v", err)
		return nil
	}
	var good []ledger.Receipt
	ok, linked, unlinked := 0, 0, 0
	for _, r := range rs {
		leaf, c, err := r.Verify(v.log)
		if err != nil {
			v.fail("%v", err)
			continue
		}
		ok++
		good = append(good, r)
		if cc == nil {
			continue
		}
		same := false
		for _, cp := range cc.cps {
			if cp.Size == c.Size {
				same = true
				if cp.Root != c.Root {
					v.fail("FORK: the receipt for entry %d carries a checkpoint of %d entries with root %v, the chain has root %v for that size", r.Index, c.Size, c.Root, cp.Root)
				}
			}
		}
		h, in := cc.linked[r.Index]
		switch {
		case in && h != r.LeafHash:
			v.fail("ENTRY CHANGED: receipt for entry %d (%s by %s at %s) has leaf hash %v, the chain proves %v there", r.Index, leaf.Kind, leaf.Party, leaf.Time.Format("2006-01-02T15:04:05Z"), r.LeafHash, h)
		case in || same:
			linked++
		default:
			unlinked++
		}
	}
	fmt.Fprintf(v.e.stdout, "receipts %s: %d verified (signed checkpoint, inclusion proof)", path, ok)
	if cc != nil {
		fmt.Fprintf(v.e.stdout, ", %d linked to the chain, %d not yet (run deconflict watch to link them)", linked, unlinked)
	}
	fmt.Fprintln(v.e.stdout)
	return good
}

// store audits a data directory's log: every stored entry opens (leaf
// names its index, content matches the commitment and the leaf), the
// stored tree hashes are the ones the leaves give, and the chain's
// checkpoints are roots of this log.
func (v *verification) store(ctx context.Context, dir string, cc *checkedChain, rs []ledger.Receipt) {
	st, err := openStore(ctx, dir)
	if err != nil {
		v.fail("%v", err)
		return
	}
	defer st.Close(context.Background())
	var stored ledger.Tree
	if err := st.ReadHashes(ctx, func(i uint64, hs []tlog.Hash) error { return stored.Load(i, hs) }); err != nil {
		v.fail("stored tree hashes: %v", err)
		return
	}
	var tree ledger.Tree
	bad := 0
	err = st.Read(ctx, 1, func(rec ledger.Record) error {
		_, leaf, err := service.DecodeStored(rec.Index, rec.Data)
		if err != nil {
			bad++
			v.fail("entry %d: %v", rec.Index, err)
			e, uerr := ledger.UnmarshalEntry(rec.Data)
			if uerr != nil {
				return nil
			}
			_, err = tree.Add(tlog.RecordHash(e.Leaf))
			return err
		}
		h := leaf.Hash()
		if sh, err := stored.LeafHash(rec.Index); err != nil || sh != h {
			v.fail("entry %d: its leaf does not match the stored Merkle tree", rec.Index)
		}
		_, err = tree.Add(h)
		return err
	})
	if err != nil {
		v.fail("reading the log: %v", err)
		return
	}
	size := tree.Size()
	root, _ := tree.Root(size)
	fmt.Fprintf(v.e.stdout, "store %s: %d entries, root %v\n", filepath.Join(dir, "log"), size, root)
	for _, r := range rs {
		c, _ := ledger.ParseCheckpoint([]byte(r.Checkpoint)) // verified already
		switch lh, err := tree.LeafHash(r.Index); {
		case c.Size > size || err != nil:
			v.fail("ENTRIES MISSING: your receipt for entry %d carries a checkpoint of %d entries, the store holds %d", r.Index, c.Size, size)
		case lh != r.LeafHash:
			v.fail("ENTRY CHANGED: your receipt for entry %d has leaf hash %v, the store has %v", r.Index, r.LeafHash, lh)
		default:
			if root, _ := tree.Root(c.Size); root != c.Root {
				v.fail("LOG REWRITTEN: your receipt for entry %d carries a checkpoint of %d entries with root %v, the store's first %d entries hash to %v", r.Index, c.Size, c.Root, c.Size, root)
			}
		}
	}
	if cc == nil {
		return
	}
	for i, cp := range cc.cps {
		if cp.Size > size {
			v.fail("ENTRIES MISSING: chain link %d has a checkpoint of %d entries, the store holds %d", i+1, cp.Size, size)
			continue
		}
		if r, _ := tree.Root(cp.Size); r != cp.Root {
			v.fail("LOG REWRITTEN: chain link %d: the first %d stored entries hash to %v, the checkpoint says %v", i+1, cp.Size, r, cp.Root)
		}
	}
	for idx, h := range cc.linked {
		if lh, err := tree.LeafHash(idx); err != nil || lh != h {
			v.fail("ENTRY CHANGED: entry %d of your receipts is %s in the store", idx, strings.TrimSpace(fmt.Sprint(lh)))
		}
	}
}
