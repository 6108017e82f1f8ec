package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
)

// A chain file is what a party's watch accepted, one JSON line per
// checkpoint: the checkpoint as served (signed by the log, with the
// cosignatures it carried and this party's), the consistency proof from the
// line before, and the inclusion proofs of the party's receipts that this
// checkpoint first covered. verify checks it offline.
type chainLink struct {
	Checkpoint string         `json:"checkpoint"`
	Proof      []tlog.Hash    `json:"proof"` // consistency from the previous link's checkpoint
	Receipts   []linkedRecord `json:"receipts,omitempty"`
}

// linkedRecord proves a receipt's leaf in the link's checkpoint.
type linkedRecord struct {
	Index    uint64      `json:"index"`
	LeafHash tlog.Hash   `json:"leaf_hash"`
	Proof    []tlog.Hash `json:"proof"`
}

func chainPath(dir, party string) string { return filepath.Join(dir, "witness", party+".chain.jsonl") }

// readJSONLines decodes every line of path into a new T.
func readJSONLines[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

func appendJSONLine(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Sync()
}

// checkedChain is a chain file that verified.
type checkedChain struct {
	links  []chainLink
	cps    []ledger.Checkpoint
	linked map[uint64]tlog.Hash // receipt index -> leaf hash proven in some link
}

// checkChain verifies a chain offline: every checkpoint signed by the log,
// each consistent with the one before, every linked receipt included.
func checkChain(links []chainLink, log note.Verifier) (*checkedChain, error) {
	cc := &checkedChain{links: links, linked: map[uint64]tlog.Hash{}}
	var w ledger.Witness
	w.Log = log
	for i, l := range links {
		c, err := w.Advance([]byte(l.Checkpoint), l.Proof)
		if err != nil {
			return nil, fmt.Errorf("chain link %d: %w", i+1, err)
		}
		if i > 0 && c.Size < cc.cps[i-1].Size {
			return nil, fmt.Errorf("chain link %d: the log went back from %d to %d entries", i+1, cc.cps[i-1].Size, c.Size)
		}
		cc.cps = append(cc.cps, c)
		for _, r := range l.Receipts {
			if r.Index == 0 || r.Index > c.Size {
				return nil, fmt.Errorf("chain link %d: receipt of entry %d is not in a checkpoint of %d", i+1, r.Index, c.Size)
			}
			if err := tlog.CheckRecord(r.Proof, int64(c.Size), c.Root, int64(r.Index-1), r.LeafHash); err != nil {
				return nil, fmt.Errorf("chain link %d: entry %d is not in the checkpoint of %d entries: %w", i+1, r.Index, c.Size, err)
			}
			cc.linked[r.Index] = r.LeafHash
		}
	}
	return cc, nil
}

// last returns the last accepted checkpoint, if any.
func (cc *checkedChain) last() (ledger.Checkpoint, []byte, bool) {
	if len(cc.links) == 0 {
		return ledger.Checkpoint{}, nil, false
	}
	return cc.cps[len(cc.cps)-1], []byte(cc.links[len(cc.links)-1].Checkpoint), true
}

// errNoChain: no chain file yet.
var errNoChain = errors.New("no chain file yet")
