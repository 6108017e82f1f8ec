package ledger_test

// Interoperability tests: the ledger's Merkle tree, checkpoints,
// cosignatures, receipts and witness are checked against implementations
// that share no code with it — github.com/transparency-dev/merkle (RFC 6962
// proofs), github.com/transparency-dev/formats (C2SP checkpoints and
// cosignature/v1), and, where it is short enough to write here, the
// definitions themselves (RFC 6962 §2.1, C2SP signed-note, tlog-cosignature).
//
// Every positive check has negative companions (a flipped bit, another key,
// a forked tree) so that a verifier that accepts everything would fail them.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	flog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
)

// ---------------------------------------------------------------------------
// Independent reference code, written from the specifications.

// rfcLeafHash is RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0)).
func rfcLeafHash(d []byte) []byte {
	h := sha256.Sum256(append([]byte{0x00}, d...))
	return h[:]
}

// rfcMTH is RFC 6962 §2.1, the Merkle Tree Hash of a list of leaves given by
// their leaf hashes: for n > 1, with k the largest power of two smaller than
// n, MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
func rfcMTH(leafHashes [][]byte) []byte {
	switch n := len(leafHashes); n {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return leafHashes[0]
	default:
		k := 1
		for k<<1 < n {
			k <<= 1
		}
		b := append([]byte{0x01}, rfcMTH(leafHashes[:k])...)
		h := sha256.Sum256(append(b, rfcMTH(leafHashes[k:])...))
		return h[:]
	}
}

// noteKeyHash is the key hash of C2SP signed-note: the first four bytes of
// SHA-256(name || "\n" || key), key being the algorithm byte and public key.
func noteKeyHash(name string, key []byte) uint32 {
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	return binary.BigEndian.Uint32(h[:4])
}

const (
	algEd25519       = 0x01 // C2SP signed-note
	algCosignatureV1 = 0x04 // C2SP tlog-cosignature, Ed25519
)

// handVKey formats a verifier key "<name>+<hash>+<base64(alg || pub)>".
func handVKey(name string, alg byte, pub ed25519.PublicKey) string {
	k := append([]byte{alg}, pub...)
	return fmt.Sprintf("%s+%08x+%s", name, noteKeyHash(name, k), base64.StdEncoding.EncodeToString(k))
}

// handSKey formats a signer key "PRIVATE+KEY+<name>+<hash>+<base64(alg || seed)>".
func handSKey(name string, alg byte, priv ed25519.PrivateKey) string {
	k := append([]byte{alg}, priv.Public().(ed25519.PublicKey)...)
	return fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, noteKeyHash(name, k),
		base64.StdEncoding.EncodeToString(append([]byte{alg}, priv.Seed()...)))
}

// handSig is one signature line of a signed note, decoded by hand.
type handSig struct {
	name    string
	keyHash uint32
	sig     []byte // after the key hash
}

// splitNote splits a signed note as C2SP signed-note defines it (text ending
// in a newline, a blank line, then lines "— <name> <base64(keyhash||sig)>"),
// without golang.org/x/mod/sumdb/note.
func splitNote(t *testing.T, signed []byte) (string, []handSig) {
	t.Helper()
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		t.Fatalf("note without a blank line:\n%s", signed)
	}
	text, rest := string(signed[:i+1]), string(signed[i+2:])
	if !strings.HasSuffix(rest, "\n") {
		t.Fatalf("signature block does not end in a newline: %q", rest)
	}
	var sigs []handSig
	for _, line := range strings.Split(strings.TrimSuffix(rest, "\n"), "\n") {
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "\u2014 "), " ")
		if !ok || !strings.HasPrefix(line, "\u2014 ") {
			t.Fatalf("malformed signature line %q", line)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) < 5 {
			t.Fatalf("signature line %q: bad base64 (%v)", line, err)
		}
		sigs = append(sigs, handSig{name, binary.BigEndian.Uint32(raw), raw[4:]})
	}
	return text, sigs
}

// handSignNote signs text with an Ed25519 note key without
// golang.org/x/mod/sumdb/note.
func handSignNote(name string, priv ed25519.PrivateKey, text string) []byte {
	kh := noteKeyHash(name, append([]byte{algEd25519}, priv.Public().(ed25519.PublicKey)...))
	sig := binary.BigEndian.AppendUint32(nil, kh)
	sig = append(sig, ed25519.Sign(priv, []byte(text))...)
	return fmt.Appendf(nil, "%s\n\u2014 %s %s\n", text, name, base64.StdEncoding.EncodeToString(sig))
}

// ---------------------------------------------------------------------------
// Test fixtures.

func testKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("deconflict interop test key: " + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// testLog is a log's identity: origin, key, signer and verifier.
type testLog struct {
	origin string
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
	vkey   string
	signer note.Signer
	v      note.Verifier // golang.org/x/mod/sumdb/note, from vkey
}

func newTestLog(t *testing.T, origin, keyLabel string) *testLog {
	t.Helper()
	priv := testKey(keyLabel)
	signer, err := ledger.NewSigner(origin, priv)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	vkey, err := ledger.VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("VerifierKey: %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier(%q): %v", vkey, err)
	}
	return &testLog{origin, priv, priv.Public().(ed25519.PublicKey), vkey, signer, v}
}

// sign signs the checkpoint of the first size leaves of tree.
func (l *testLog) sign(t *testing.T, tree *ledger.Tree, size uint64) (ledger.Checkpoint, []byte) {
	t.Helper()
	root, err := tree.Root(size)
	if err != nil {
		t.Fatalf("Root(%d): %v", size, err)
	}
	c := ledger.Checkpoint{Origin: l.origin, Size: size, Root: root}
	signed, err := ledger.SignCheckpoint(c, l.signer)
	if err != nil {
		t.Fatalf("SignCheckpoint: %v", err)
	}
	return c, signed
}

// randTree is a tree of random leaves with their independently computed
// leaf hashes.
type randTree struct {
	tree       *ledger.Tree
	leaves     [][]byte
	leafHashes [][]byte // rfcLeafHash(leaves[i])
}

// newRandTree builds a tree whose first len(prefix) leaves are prefix and
// whose n-len(prefix) others are random bytes from seed.
func newRandTree(t *testing.T, seed uint64, n int, prefix ...[]byte) *randTree {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rt := &randTree{tree: new(ledger.Tree)}
	for i := range n {
		var leaf []byte
		if i < len(prefix) {
			leaf = prefix[i]
		} else {
			leaf = make([]byte, rng.IntN(120))
			for j := range leaf {
				leaf[j] = byte(rng.Uint32())
			}
		}
		rt.add(t, leaf)
	}
	return rt
}

func (rt *randTree) add(t *testing.T, leaf []byte) {
	t.Helper()
	lh := rfcLeafHash(leaf)
	if _, err := rt.tree.Add(tlog.Hash(lh)); err != nil {
		t.Fatalf("Add leaf %d: %v", len(rt.leaves)+1, err)
	}
	rt.leaves = append(rt.leaves, leaf)
	rt.leafHashes = append(rt.leafHashes, lh)
}

func hashSlices(p []tlog.Hash) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// flipBit returns a copy of b with one bit of byte i flipped.
func flipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i%len(c)] ^= 0x10
	return c
}

func flipProof(p [][]byte, i int) [][]byte {
	c := make([][]byte, len(p))
	copy(c, p)
	c[i] = flipBit(p[i], 7)
	return c
}

// sample returns the values 1..n if n <= all, else k random ones plus 1 and n.
func sample(rng *rand.Rand, n uint64, all, k int) []uint64 {
	var out []uint64
	if n <= uint64(all) {
		for i := uint64(1); i <= n; i++ {
			out = append(out, i)
		}
		return out
	}
	out = append(out, 1, n)
	for range k {
		out = append(out, 1+rng.Uint64N(n))
	}
	return out
}

// ---------------------------------------------------------------------------
// 1. Merkle tree.

func TestInteropTreeHashes(t *testing.T) {
	hasher := rfc6962.DefaultHasher
	for _, seed := range []uint64{1, 2, 3, 4} {
		n := 300
		if seed == 4 {
			n = 257 // just past a power of two
		}
		t.Run(fmt.Sprintf("seed=%d/n=%d", seed, n), func(t *testing.T) {
			rt := newRandTree(t, seed, n)
			tree := rt.tree
			if got := tree.Size(); got != uint64(n) {
				t.Fatalf("Size() = %d, want %d", got, n)
			}
			rng := rand.New(rand.NewPCG(seed, 42))

			// Leaf hashes: the tree's, tlog's, the RFC's and transparency-dev's agree.
			for i, leaf := range rt.leaves {
				want := rt.leafHashes[i]
				if got := hasher.HashLeaf(leaf); !bytes.Equal(got, want) {
					t.Fatalf("rfc6962.HashLeaf(leaf %d) = %x, want %x", i+1, got, want)
				}
				if got := tlog.RecordHash(leaf); !bytes.Equal(got[:], want) {
					t.Fatalf("tlog.RecordHash(leaf %d) = %x, want %x", i+1, got, want)
				}
				got, err := tree.LeafHash(uint64(i + 1))
				if err != nil || !bytes.Equal(got[:], want) {
					t.Fatalf("LeafHash(%d) = %x, %v; want %x", i+1, got, err, want)
				}
			}

			// Roots of every size equal the RFC 6962 MTH.
			roots := make([][]byte, n+1)
			for size := 1; size <= n; size++ {
				got, err := tree.Root(uint64(size))
				if err != nil {
					t.Fatalf("Root(%d): %v", size, err)
				}
				want := rfcMTH(rt.leafHashes[:size])
				if !bytes.Equal(got[:], want) {
					t.Fatalf("Root(%d) = %x, RFC 6962 MTH = %x", size, got, want)
				}
				roots[size] = want
			}

			// Inclusion proofs verify with transparency-dev/merkle.
			checked := 0
			for size := uint64(1); size <= uint64(n); size++ {
				for _, index := range sample(rng, size, 100, 12) {
					p, err := tree.InclusionProof(index, size)
					if err != nil {
						t.Fatalf("InclusionProof(%d, %d): %v", index, size, err)
					}
					if err := proof.VerifyInclusion(hasher, index-1, size, rt.leafHashes[index-1], hashSlices(p), roots[size]); err != nil {
						t.Fatalf("InclusionProof(%d, %d) does not verify: %v", index, size, err)
					}
					checked++
				}
			}

			// Consistency proofs verify with transparency-dev/merkle.
			for size := uint64(1); size <= uint64(n); size++ {
				for _, old := range sample(rng, size, 64, 8) {
					p, err := tree.ConsistencyProof(old, size)
					if err != nil {
						t.Fatalf("ConsistencyProof(%d, %d): %v", old, size, err)
					}
					if err := proof.VerifyConsistency(hasher, old, size, hashSlices(p), roots[old], roots[size]); err != nil {
						t.Fatalf("ConsistencyProof(%d, %d) does not verify: %v", old, size, err)
					}
					checked++
				}
			}
			t.Logf("%d proofs checked", checked)
		})
	}
}

// TestInteropTreeRejects: the independent verifier rejects the tree's proofs
// once a bit is flipped, so the positive checks above can fail; and the tree
// refuses proofs it cannot make.
func TestInteropTreeRejects(t *testing.T) {
	hasher := rfc6962.DefaultHasher
	rt := newRandTree(t, 99, 77)
	tree := rt.tree
	root := func(size uint64) []byte { r, _ := tree.Root(size); return r[:] }

	for _, tc := range []struct{ index, size uint64 }{{1, 2}, {5, 8}, {13, 77}, {77, 77}, {64, 65}, {1, 77}} {
		t.Run(fmt.Sprintf("inclusion %d in %d", tc.index, tc.size), func(t *testing.T) {
			p, err := tree.InclusionProof(tc.index, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			ps, lh, r := hashSlices(p), rt.leafHashes[tc.index-1], root(tc.size)
			if err := proof.VerifyInclusion(hasher, tc.index-1, tc.size, lh, ps, r); err != nil {
				t.Fatalf("genuine proof rejected: %v", err)
			}
			if len(ps) == 0 {
				t.Fatal("expected a non-empty proof")
			}
			for i := range ps {
				if proof.VerifyInclusion(hasher, tc.index-1, tc.size, lh, flipProof(ps, i), r) == nil {
					t.Errorf("proof with hash %d flipped accepted", i)
				}
			}
			if proof.VerifyInclusion(hasher, tc.index-1, tc.size, lh, ps, flipBit(r, 3)) == nil {
				t.Error("flipped root accepted")
			}
			if proof.VerifyInclusion(hasher, tc.index-1, tc.size, flipBit(lh, 0), ps, r) == nil {
				t.Error("flipped leaf hash accepted")
			}
			other := tc.index%tc.size + 1 // another leaf of the tree
			if proof.VerifyInclusion(hasher, other-1, tc.size, lh, ps, r) == nil {
				t.Errorf("proof for index %d accepted as index %d", tc.index, other)
			}
			if proof.VerifyInclusion(hasher, tc.index-1, tc.size, lh, ps[:len(ps)-1], r) == nil {
				t.Error("truncated proof accepted")
			}
		})
	}

	for _, tc := range []struct{ old, size uint64 }{{1, 2}, {3, 8}, {7, 77}, {64, 77}, {33, 65}, {76, 77}} {
		t.Run(fmt.Sprintf("consistency %d to %d", tc.old, tc.size), func(t *testing.T) {
			p, err := tree.ConsistencyProof(tc.old, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			ps, r1, r2 := hashSlices(p), root(tc.old), root(tc.size)
			if err := proof.VerifyConsistency(hasher, tc.old, tc.size, ps, r1, r2); err != nil {
				t.Fatalf("genuine proof rejected: %v", err)
			}
			if len(ps) == 0 {
				t.Fatal("expected a non-empty proof")
			}
			for i := range ps {
				if proof.VerifyConsistency(hasher, tc.old, tc.size, flipProof(ps, i), r1, r2) == nil {
					t.Errorf("proof with hash %d flipped accepted", i)
				}
			}
			if proof.VerifyConsistency(hasher, tc.old, tc.size, ps, flipBit(r1, 1), r2) == nil {
				t.Error("flipped old root accepted")
			}
			if proof.VerifyConsistency(hasher, tc.old, tc.size, ps, r1, flipBit(r2, 30)) == nil {
				t.Error("flipped new root accepted")
			}
		})
	}

	n := tree.Size()
	for _, tc := range []struct {
		name     string
		call     func() error
		tooLarge bool
	}{
		{"Root past the end", func() error { _, err := tree.Root(n + 1); return err }, true},
		{"InclusionProof for a tree past the end", func() error { _, err := tree.InclusionProof(1, n+1); return err }, true},
		{"ConsistencyProof to a tree past the end", func() error { _, err := tree.ConsistencyProof(1, n+1); return err }, true},
		{"LeafHash past the end", func() error { _, err := tree.LeafHash(n + 1); return err }, false},
		{"InclusionProof index 0", func() error { _, err := tree.InclusionProof(0, n); return err }, false},
		{"InclusionProof index past size", func() error { _, err := tree.InclusionProof(11, 10); return err }, false},
		{"ConsistencyProof old > new", func() error { _, err := tree.ConsistencyProof(11, 10); return err }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			if tc.tooLarge && !errors.Is(err, ledger.ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

// TestInteropTreeConcurrent: readers prove sizes already added while a writer
// adds leaves; every proof verifies independently (run with -race).
func TestInteropTreeConcurrent(t *testing.T) {
	const n = 400
	ref := newRandTree(t, 7, n) // leaves and their RFC hashes, computed up front
	roots := make([][]byte, n+1)
	for size := 1; size <= n; size++ {
		roots[size] = rfcMTH(ref.leafHashes[:size])
	}
	tree := new(ledger.Tree)
	ctx := t.Context()
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for {
				select {
				case <-done:
					return
				case <-ctx.Done():
					return
				default:
				}
				size := tree.Size()
				if size == 0 {
					continue
				}
				index := 1 + rng.Uint64N(size)
				p, err := tree.InclusionProof(index, size)
				if err == nil {
					err = proof.VerifyInclusion(rfc6962.DefaultHasher, index-1, size, ref.leafHashes[index-1], hashSlices(p), roots[size])
				}
				if err == nil {
					old := 1 + rng.Uint64N(size)
					var cp tlog.TreeProof
					if cp, err = tree.ConsistencyProof(old, size); err == nil {
						err = proof.VerifyConsistency(rfc6962.DefaultHasher, old, size, hashSlices(cp), roots[old], roots[size])
					}
				}
				if err != nil {
					errs <- fmt.Errorf("size %d, index %d: %w", size, index, err)
					return
				}
			}
		})
	}
	for i := range n {
		if _, err := tree.Add(tlog.Hash(ref.leafHashes[i])); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// ---------------------------------------------------------------------------
// 2. Checkpoints.

const testOrigin = "example.com/deconflict/interop"

func TestInteropCheckpoint(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	rt := newRandTree(t, 5, 40)
	c, signed := lg.sign(t, rt.tree, 37)

	// The verifier key is the C2SP signed-note Ed25519 key.
	if want := handVKey(testOrigin, algEd25519, lg.pub); lg.vkey != want {
		t.Errorf("VerifierKey = %q, want %q", lg.vkey, want)
	}
	if want, _ := note.NewEd25519VerifierKey(testOrigin, lg.pub); lg.vkey != want {
		t.Errorf("VerifierKey = %q, x/mod note says %q", lg.vkey, want)
	}

	// The body is the C2SP tlog-checkpoint body.
	fc := flog.Checkpoint{Origin: testOrigin, Size: 37, Hash: rfcMTH(rt.leafHashes[:37])}
	if got, want := c.Marshal(), fc.Marshal(); !bytes.Equal(got, want) {
		t.Errorf("Marshal = %q, formats says %q", got, want)
	}

	// transparency-dev/formats parses it, with x/mod's and with formats' verifier.
	fv, err := fnote.NewVerifier(lg.vkey)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]note.Verifier{"x/mod verifier": lg.v, "formats verifier": fv} {
		got, rest, _, err := flog.ParseCheckpoint(signed, testOrigin, v)
		if err != nil {
			t.Fatalf("formats ParseCheckpoint (%s): %v\n%s", name, err, signed)
		}
		if got.Origin != testOrigin || got.Size != 37 || !bytes.Equal(got.Hash, fc.Hash) || len(rest) != 0 {
			t.Errorf("formats ParseCheckpoint (%s) = %+v, rest %q; want %+v", name, got, rest, fc)
		}
	}

	// By hand: the note is text, blank line, one Ed25519 signature by the origin.
	text, sigs := splitNote(t, signed)
	if text != string(fc.Marshal()) {
		t.Errorf("note text = %q, want %q", text, fc.Marshal())
	}
	if len(sigs) != 1 {
		t.Fatalf("%d signatures, want 1", len(sigs))
	}
	s := sigs[0]
	if s.name != testOrigin || s.keyHash != noteKeyHash(testOrigin, append([]byte{algEd25519}, lg.pub...)) {
		t.Errorf("signature by %s+%08x, want the origin's key", s.name, s.keyHash)
	}
	if !ed25519.Verify(lg.pub, []byte(text), s.sig) {
		t.Error("Ed25519 signature does not verify over the note text")
	}

	// Our reader opens it.
	got, n, err := ledger.OpenCheckpoint(signed, lg.v)
	if err != nil || got != c {
		t.Fatalf("OpenCheckpoint = %+v, %v; want %+v", got, err, c)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != testOrigin {
		t.Errorf("OpenCheckpoint note signatures = %+v", n.Sigs)
	}
}

// TestInteropCheckpointForeign: checkpoints signed by other implementations
// (formats' signer; a signature made by hand from the spec) open with
// OpenCheckpoint, including extension lines.
func TestInteropCheckpointForeign(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	rt := newRandTree(t, 6, 20)
	root := rfcMTH(rt.leafHashes)
	body := flog.Checkpoint{Origin: testOrigin, Size: 20, Hash: root}.Marshal()
	want := ledger.Checkpoint{Origin: testOrigin, Size: 20, Root: tlog.Hash(root)}

	fs, _, err := fnote.NewEd25519SignerVerifier(handSKey(testOrigin, algEd25519, lg.priv))
	if err != nil {
		t.Fatal(err)
	}
	bySigner, err := note.Sign(&note.Note{Text: string(body)}, fs)
	if err != nil {
		t.Fatal(err)
	}
	ext := append(bytes.Clone(body), "extension line one\nanother\n"...)
	for _, tc := range []struct {
		name   string
		signed []byte
	}{
		{"formats signer", bySigner},
		{"signed by hand", handSignNote(testOrigin, lg.priv, string(body))},
		{"extension lines", handSignNote(testOrigin, lg.priv, string(ext))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ledger.OpenCheckpoint(tc.signed, lg.v)
			if err != nil || got != want {
				t.Fatalf("OpenCheckpoint = %+v, %v; want %+v\n%s", got, err, want, tc.signed)
			}
			if _, _, _, err := flog.ParseCheckpoint(tc.signed, testOrigin, lg.v); err != nil {
				t.Errorf("formats rejects it too: %v", err)
			}
		})
	}
	if got, err := ledger.ParseCheckpoint(ext); err != nil || got != want {
		t.Errorf("ParseCheckpoint(with extensions) = %+v, %v; want %+v", got, err, want)
	}
}

// TestInteropCheckpointRejects: tampered or wrongly signed checkpoints are
// rejected by formats' parser and by OpenCheckpoint.
func TestInteropCheckpointRejects(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	other := newTestLog(t, testOrigin, "another key") // same origin, another key
	rt := newRandTree(t, 8, 30)
	c, signed := lg.sign(t, rt.tree, 30)
	_, signed29 := lg.sign(t, rt.tree, 29)

	otherName, err := ledger.NewSigner("other.example/log", lg.priv) // the log's key under another name
	if err != nil {
		t.Fatal(err)
	}
	byOtherName, err := ledger.SignCheckpoint(c, otherName)
	if err != nil {
		t.Fatal(err)
	}
	_, byOtherKey := other.sign(t, rt.tree, 30)

	// The signature of the size-29 checkpoint on the body of size 30.
	_, sigs29 := splitNote(t, signed29)
	graft := append(c.Marshal(), '\n')
	graft = fmt.Appendf(graft, "\u2014 %s %s\n", testOrigin, base64.StdEncoding.EncodeToString(
		append(binary.BigEndian.AppendUint32(nil, sigs29[0].keyHash), sigs29[0].sig...)))

	text, sigs := splitNote(t, signed)
	badSig := fmt.Appendf([]byte(text), "\n\u2014 %s %s\n", testOrigin, base64.StdEncoding.EncodeToString(
		append(binary.BigEndian.AppendUint32(nil, sigs[0].keyHash), flipBit(sigs[0].sig, 10)...)))

	size := "\n" + strconv.FormatUint(c.Size, 10) + "\n"
	tests := []struct {
		name   string
		signed []byte
		v      note.Verifier
	}{
		{"size changed", bytes.Replace(signed, []byte(size), []byte("\n31\n"), 1), lg.v},
		{"root changed", bytes.Replace(signed, []byte(base64.StdEncoding.EncodeToString(c.Root[:])),
			[]byte(base64.StdEncoding.EncodeToString(flipBit(c.Root[:], 0))), 1), lg.v},
		{"origin changed", bytes.Replace(signed, []byte(testOrigin+"\n"), []byte(testOrigin+"x\n"), 1), lg.v},
		{"extension line added", bytes.Replace(signed, []byte("\n\n"), []byte("\nextra\n\n"), 1), lg.v},
		{"signature bit flipped", badSig, lg.v},
		{"signature of another checkpoint", graft, lg.v},
		{"signed by another key", byOtherKey, lg.v},
		{"checked with another key", signed, other.v},
		{"no signature", append(c.Marshal(), '\n'), lg.v},
		{"body only", c.Marshal(), lg.v},
		{"empty", nil, lg.v},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := flog.ParseCheckpoint(tt.signed, testOrigin, tt.v); err == nil {
				t.Errorf("formats ParseCheckpoint accepted it:\n%s", tt.signed)
			}
			if got, _, err := ledger.OpenCheckpoint(tt.signed, tt.v); !errors.Is(err, ledger.ErrBadCheckpoint) {
				t.Errorf("OpenCheckpoint = %+v, %v; want ErrBadCheckpoint", got, err)
			}
		})
	}

	// A checkpoint signed under a key name other than its origin: formats,
	// told the origin, rejects it; the ledger requires the name to be the
	// origin.
	otherV, err := note.NewVerifier(mustVKey(t, "other.example/log", lg.pub))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := flog.ParseCheckpoint(byOtherName, "other.example/log", otherV); err == nil {
		t.Error("formats ParseCheckpoint accepted a checkpoint of another origin")
	}
	if got, _, err := ledger.OpenCheckpoint(byOtherName, otherV); !errors.Is(err, ledger.ErrBadCheckpoint) {
		t.Errorf("OpenCheckpoint(signed as %q, origin %q) = %+v, %v; want ErrBadCheckpoint", otherName.Name(), testOrigin, got, err)
	}
}

func mustVKey(t *testing.T, name string, pub ed25519.PublicKey) string {
	t.Helper()
	vkey, err := ledger.VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// ---------------------------------------------------------------------------
// 3. Cosignatures.

const testWitness = "witness.example/w1"

// cosigVKey is the cosignature/v1 verifier key as C2SP tlog-cosignature and
// transparency-dev/formats define it: algorithm byte 0x04, the key hash
// computed over it.
func cosigVKey(t *testing.T, name string, pub ed25519.PublicKey) string {
	t.Helper()
	vkey := handVKey(name, algCosignatureV1, pub)
	std, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	if conv, err := fnote.VKeyToCosignatureV1(std); err != nil || conv != vkey {
		t.Fatalf("cosignature vkey %q, formats converts to %q, %v", vkey, conv, err)
	}
	return vkey
}

// findSig returns the signature in sigs by name with key hash h.
func findSig(sigs []note.Signature, name string, h uint32) (note.Signature, bool) {
	for _, s := range sigs {
		if s.Name == name && s.Hash == h {
			return s, true
		}
	}
	return note.Signature{}, false
}

func TestInteropCosignature(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	wpriv := testKey("witness")
	wpub := wpriv.Public().(ed25519.PublicKey)
	clock := time.Date(2026, 11, 25, 13, 51, 32, 987654321, time.UTC)
	cosigner, err := ledger.NewCosigner(testWitness, wpriv, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	fv, err := fnote.NewVerifierForCosignatureV1(cosigVKey(t, testWitness, wpub))
	if err != nil {
		t.Fatal(err)
	}
	if cosigner.Name() != fv.Name() || cosigner.KeyHash() != fv.KeyHash() {
		t.Fatalf("cosigner %s+%08x, formats verifier %s+%08x", cosigner.Name(), cosigner.KeyHash(), fv.Name(), fv.KeyHash())
	}
	lv, err := ledger.NewCosignatureVerifier(testWitness, wpub)
	if err != nil {
		t.Fatal(err)
	}
	if lv.Name() != fv.Name() || lv.KeyHash() != fv.KeyHash() {
		t.Fatalf("NewCosignatureVerifier %s+%08x, formats verifier %s+%08x", lv.Name(), lv.KeyHash(), fv.Name(), fv.KeyHash())
	}

	rt := newRandTree(t, 11, 25)
	c, signed := lg.sign(t, rt.tree, 25)
	_, opened, err := ledger.OpenCheckpoint(signed, lg.v)
	if err != nil {
		t.Fatal(err)
	}

	// Two ways to cosign: signing the opened note, and cosigning the text
	// alone then merging the signature line.
	onNote, err := note.Sign(opened, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := note.Sign(&note.Note{Text: string(c.Marshal())}, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ledger.SignatureLines(alone)
	if err != nil || len(lines) != 1 {
		t.Fatalf("SignatureLines = %q, %v; want one line", lines, err)
	}
	merged := append(bytes.Clone(signed), lines[0]...)

	for name, cosigned := range map[string][]byte{"note.Sign on the opened note": onNote, "merged signature line": merged} {
		t.Run(name, func(t *testing.T) {
			// formats verifies the log's signature and the cosignature.
			fc, _, n, err := flog.ParseCheckpoint(cosigned, testOrigin, lg.v, fv)
			if err != nil {
				t.Fatalf("formats ParseCheckpoint: %v\n%s", err, cosigned)
			}
			if fc.Size != c.Size || !bytes.Equal(fc.Hash, c.Root[:]) {
				t.Errorf("formats parsed %+v, want %+v", fc, c)
			}
			sig, ok := findSig(n.Sigs, testWitness, fv.KeyHash())
			if !ok {
				t.Fatalf("formats did not verify the cosignature: sigs %+v, unverified %+v", n.Sigs, n.UnverifiedSigs)
			}
			ts, err := fnote.CoSigV1Timestamp(sig)
			if err != nil || !ts.Equal(clock.Truncate(time.Second)) {
				t.Errorf("formats CoSigV1Timestamp = %v, %v; want %v", ts, err, clock.Truncate(time.Second))
			}
			lt, err := ledger.CosignatureTime(sig)
			if err != nil || !lt.Equal(clock.Truncate(time.Second)) {
				t.Errorf("CosignatureTime = %v, %v; want %v", lt, err, clock.Truncate(time.Second))
			}

			// By hand, from C2SP tlog-cosignature: timestamp || Ed25519 over
			// "cosignature/v1\ntime <t>\n" || text.
			text, hs := splitNote(t, cosigned)
			var found bool
			for _, s := range hs {
				if s.name != testWitness {
					continue
				}
				found = true
				if s.keyHash != noteKeyHash(testWitness, append([]byte{algCosignatureV1}, wpub...)) || len(s.sig) != 8+ed25519.SignatureSize {
					t.Fatalf("cosignature key hash %08x, length %d", s.keyHash, len(s.sig))
				}
				ts := binary.BigEndian.Uint64(s.sig)
				if ts != uint64(clock.Unix()) {
					t.Errorf("cosignature timestamp %d, want %d", ts, clock.Unix())
				}
				msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
				if !ed25519.Verify(wpub, []byte(msg), s.sig[8:]) {
					t.Error("cosignature does not verify by hand")
				}
			}
			if !found {
				t.Fatal("no cosignature line")
			}

			// Our reader returns it.
			_, ln, err := ledger.OpenCheckpoint(cosigned, lg.v, lv)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := findSig(ln.Sigs, testWitness, lv.KeyHash()); !ok {
				t.Errorf("OpenCheckpoint did not return the cosignature: %+v", ln.Sigs)
			}
		})
	}

	// CosignatureTime refuses what is not a cosignature.
	logSig := opened.Sigs[0]
	for name, s := range map[string]note.Signature{
		"plain Ed25519 signature": logSig,
		"bad base64":              {Name: testWitness, Hash: lv.KeyHash(), Base64: "!!!"},
		"too short":               {Name: testWitness, Hash: lv.KeyHash(), Base64: base64.StdEncoding.EncodeToString(make([]byte, 12))},
	} {
		if tm, err := ledger.CosignatureTime(s); err == nil {
			t.Errorf("CosignatureTime(%s) = %v, want an error", name, tm)
		}
	}
}

// TestInteropCosignatureForeign: a cosignature made by formats' signer
// verifies with NewCosignatureVerifier, and both verifiers reject altered
// messages and signatures.
func TestInteropCosignatureForeign(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	wpriv := testKey("witness")
	wpub := wpriv.Public().(ed25519.PublicKey)
	fs, err := fnote.NewSignerForCosignatureV1(handSKey(testWitness, algCosignatureV1, wpriv))
	if err != nil {
		t.Fatal(err)
	}
	lv, err := ledger.NewCosignatureVerifier(testWitness, wpub)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Name() != lv.Name() || fs.KeyHash() != lv.KeyHash() {
		t.Fatalf("formats signer %s+%08x, NewCosignatureVerifier %s+%08x", fs.Name(), fs.KeyHash(), lv.Name(), lv.KeyHash())
	}
	fv, err := fnote.NewVerifierForCosignatureV1(cosigVKey(t, testWitness, wpub))
	if err != nil {
		t.Fatal(err)
	}

	rt := newRandTree(t, 12, 9)
	c, signed := lg.sign(t, rt.tree, 9)
	_, opened, err := ledger.OpenCheckpoint(signed, lg.v)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Truncate(time.Second)
	cosigned, err := note.Sign(opened, fs)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()

	got, n, err := ledger.OpenCheckpoint(cosigned, lg.v, lv)
	if err != nil || got != c {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	sig, ok := findSig(n.Sigs, testWitness, lv.KeyHash())
	if !ok {
		t.Fatalf("OpenCheckpoint did not verify formats' cosignature: sigs %+v", n.Sigs)
	}
	lt, err := ledger.CosignatureTime(sig)
	if err != nil || lt.Before(before) || lt.After(after) {
		t.Errorf("CosignatureTime = %v, %v; want within [%v, %v]", lt, err, before, after)
	}
	if ft, _ := fnote.CoSigV1Timestamp(sig); !ft.Equal(lt) {
		t.Errorf("CosignatureTime = %v, formats says %v", lt, ft)
	}

	// Raw signatures, both directions, and their negatives.
	clock := time.Unix(1_800_000_000, 0)
	cosigner, err := ledger.NewCosigner(testWitness, wpriv, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	msg := c.Marshal()
	fromFormats, err := fs.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	fromLedger, err := cosigner.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	otherWitness, err := ledger.NewCosignatureVerifier(testWitness, testKey("other witness").Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	tsPlusOne := bytes.Clone(fromLedger)
	binary.BigEndian.PutUint64(tsPlusOne, binary.BigEndian.Uint64(tsPlusOne)+1)
	plain := ed25519.Sign(wpriv, msg)
	framedNoDomain := append(binary.BigEndian.AppendUint64(nil, uint64(clock.Unix())), ed25519.Sign(wpriv, msg)...)
	otherMsg := ledger.Checkpoint{Origin: testOrigin, Size: 10, Root: c.Root}.Marshal()

	tests := []struct {
		name     string
		v        note.Verifier
		msg, sig []byte
		ok       bool
	}{
		{"formats signature, our verifier", lv, msg, fromFormats, true},
		{"our signature, formats verifier", fv, msg, fromLedger, true},
		{"our signature, our verifier", lv, msg, fromLedger, true},
		{"formats signature, other message, our verifier", lv, otherMsg, fromFormats, false},
		{"our signature, other message, formats verifier", fv, otherMsg, fromLedger, false},
		{"formats signature bit flipped, our verifier", lv, msg, flipBit(fromFormats, 20), false},
		{"our signature bit flipped, formats verifier", fv, msg, flipBit(fromLedger, 40), false},
		{"timestamp changed, our verifier", lv, msg, tsPlusOne, false},
		{"timestamp changed, formats verifier", fv, msg, tsPlusOne, false},
		{"plain Ed25519 signature, our verifier", lv, msg, plain, false},
		{"timestamp without the cosignature/v1 header, our verifier", lv, msg, framedNoDomain, false},
		{"timestamp without the cosignature/v1 header, formats verifier", fv, msg, framedNoDomain, false},
		{"another witness's key", otherWitness, msg, fromFormats, false},
		{"truncated", lv, msg, fromFormats[:len(fromFormats)-1], false},
		{"empty", lv, msg, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Verify(tt.msg, tt.sig); got != tt.ok {
				t.Errorf("Verify = %v, want %v", got, tt.ok)
			}
		})
	}

	// A cosignature of another checkpoint grafted onto this one is not
	// returned as valid, by formats or by OpenCheckpoint.
	_, signed10 := lg.sign(t, newRandTree(t, 12, 10).tree, 10)
	_, opened10, err := ledger.OpenCheckpoint(signed10, lg.v)
	if err != nil {
		t.Fatal(err)
	}
	cosigned10, err := note.Sign(opened10, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ledger.SignatureLines(cosigned10)
	if err != nil {
		t.Fatal(err)
	}
	var grafted []byte
	for _, l := range lines {
		if bytes.Contains(l, []byte(" "+testWitness+" ")) {
			grafted = append(bytes.Clone(signed), l...)
		}
	}
	if grafted == nil {
		t.Fatalf("no cosignature line in %q", lines)
	}
	if _, _, n, err := flog.ParseCheckpoint(grafted, testOrigin, lg.v, fv); err == nil {
		if _, ok := findSig(n.Sigs, testWitness, fv.KeyHash()); ok {
			t.Error("formats accepted a grafted cosignature")
		}
	}
	if _, n, err := ledger.OpenCheckpoint(grafted, lg.v, lv); err == nil {
		if _, ok := findSig(n.Sigs, testWitness, lv.KeyHash()); ok {
			t.Error("OpenCheckpoint returned a grafted cosignature as valid")
		}
	}
}

// ---------------------------------------------------------------------------
// 4. Receipts.

// receiptFixture is a log of ledger leaves with a checkpoint.
type receiptFixture struct {
	lg     *testLog
	tree   *ledger.Tree
	leaves []ledger.Leaf
	size   uint64
	signed []byte
}

func newReceiptFixture(t *testing.T, n int) *receiptFixture {
	t.Helper()
	f := &receiptFixture{lg: newTestLog(t, testOrigin, "log"), tree: new(ledger.Tree)}
	rng := rand.New(rand.NewPCG(17, 17))
	kinds := []string{"file", "update", "withdraw"}
	parties := []string{"", "france", "de-bund", "operator.example"}
	start := time.Date(2026, 11, 25, 13, 51, 32, 123456789, time.UTC)
	for i := 1; i <= n; i++ {
		salt := make([]byte, ledger.SaltSize)
		for j := range salt {
			salt[j] = byte(rng.Uint32())
		}
		l := ledger.Leaf{
			Index:      uint64(i),
			Time:       start.Add(time.Duration(i) * 1_234_567 * time.Microsecond),
			Kind:       kinds[rng.IntN(len(kinds))],
			Party:      parties[rng.IntN(len(parties))],
			Commitment: ledger.Commit(salt, fmt.Appendf(nil, "content of %d", i)),
		}
		b := l.Marshal()
		lh := rfc6962.DefaultHasher.HashLeaf(b) // independent leaf hash
		if h := l.Hash(); !bytes.Equal(h[:], lh) {
			t.Fatalf("Leaf.Hash() = %x, RFC 6962 leaf hash %x", h, lh)
		}
		if _, err := f.tree.Add(tlog.Hash(lh)); err != nil {
			t.Fatal(err)
		}
		f.leaves = append(f.leaves, l)
	}
	f.size = uint64(n)
	_, f.signed = f.lg.sign(t, f.tree, f.size)
	return f
}

func (f *receiptFixture) receipt(t *testing.T, index uint64) *ledger.Receipt {
	t.Helper()
	p, err := f.tree.InclusionProof(index, f.size)
	if err != nil {
		t.Fatal(err)
	}
	b := f.leaves[index-1].Marshal()
	return &ledger.Receipt{Index: index, Leaf: string(b), LeafHash: tlog.RecordHash(b), Checkpoint: string(f.signed), Proof: p}
}

// verifyReceiptIndependently checks a receipt with transparency-dev only:
// formats parses and verifies the checkpoint, merkle verifies the proof from
// the RFC 6962 hash of the leaf text.
func verifyReceiptIndependently(r *ledger.Receipt, origin string, v note.Verifier) error {
	c, _, _, err := flog.ParseCheckpoint([]byte(r.Checkpoint), origin, v)
	if err != nil {
		return err
	}
	if r.Index < 1 || r.Index > c.Size {
		return fmt.Errorf("index %d not in a tree of %d", r.Index, c.Size)
	}
	lh := rfc6962.DefaultHasher.HashLeaf([]byte(r.Leaf))
	if !bytes.Equal(lh, r.LeafHash[:]) {
		return errors.New("leaf hash mismatch")
	}
	// The leaf names its index on its second line: "index N".
	if !strings.Contains(r.Leaf, fmt.Sprintf("\nindex %d\n", r.Index)) {
		return errors.New("leaf does not name the index")
	}
	return proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index-1, c.Size, lh, hashSlices(r.Proof), c.Hash)
}

func TestInteropReceipt(t *testing.T) {
	f := newReceiptFixture(t, 45)
	fv, err := fnote.NewVerifier(f.lg.vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, index := range []uint64{1, 2, 17, 32, 33, 44, 45} {
		r := f.receipt(t, index)
		// Through JSON, as a party keeps it.
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back ledger.Receipt
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]*ledger.Receipt{"receipt": r, "after JSON": &back} {
			l, c, err := r.Verify(f.lg.v)
			if err != nil {
				t.Fatalf("receipt %d (%s): Verify: %v", index, name, err)
			}
			want := f.leaves[index-1]
			if !l.Time.Equal(want.Time) || l.Index != want.Index || l.Kind != want.Kind || l.Party != want.Party || l.Commitment != want.Commitment {
				t.Errorf("receipt %d (%s): leaf %+v, want %+v", index, name, l, want)
			}
			if c.Size != f.size || c.Origin != testOrigin {
				t.Errorf("receipt %d (%s): checkpoint %+v", index, name, c)
			}
			if err := verifyReceiptIndependently(r, testOrigin, fv); err != nil {
				t.Errorf("receipt %d (%s) does not verify independently: %v", index, name, err)
			}
		}
	}
}

func TestInteropReceiptRejects(t *testing.T) {
	f := newReceiptFixture(t, 45)
	const index = 23
	other := newTestLog(t, testOrigin, "another key")
	_, byOtherKey := other.sign(t, f.tree, f.size)
	_, smaller := f.lg.sign(t, f.tree, 22)   // does not cover the entry
	_, notProven := f.lg.sign(t, f.tree, 40) // covers it, but the proof is for 45

	type mutation struct {
		name        string
		mutate      func(r *ledger.Receipt)
		independent bool // the independent check must reject it too
	}
	tests := []mutation{
		{"wrong index (next)", func(r *ledger.Receipt) { r.Index++ }, true},
		{"wrong index (previous)", func(r *ledger.Receipt) { r.Index-- }, true},
		{"index 0", func(r *ledger.Receipt) { r.Index = 0 }, true},
		{"index past the checkpoint", func(r *ledger.Receipt) { r.Index = f.size + 1 }, true},
		{"leaf hash altered", func(r *ledger.Receipt) { r.LeafHash[5] ^= 1 }, true},
		{"leaf hash and proof of another entry", func(r *ledger.Receipt) {
			o := f.receipt(t, index+1)
			r.LeafHash, r.Proof = o.LeafHash, o.Proof
		}, true},
		{"another entry's leaf under this index", func(r *ledger.Receipt) {
			o := f.receipt(t, index+1)
			r.Leaf, r.LeafHash = o.Leaf, o.LeafHash
		}, true},
		{"checkpoint signed by another key", func(r *ledger.Receipt) { r.Checkpoint = string(byOtherKey) }, true},
		{"checkpoint of a smaller size, not covering the entry", func(r *ledger.Receipt) { r.Checkpoint = string(smaller) }, true},
		{"checkpoint of a smaller size, covering the entry", func(r *ledger.Receipt) { r.Checkpoint = string(notProven) }, true},
		{"checkpoint text altered", func(r *ledger.Receipt) {
			r.Checkpoint = strings.Replace(r.Checkpoint, "\n45\n", "\n46\n", 1)
		}, true},
		{"proof truncated", func(r *ledger.Receipt) { r.Proof = r.Proof[:len(r.Proof)-1] }, true},
		{"proof extended", func(r *ledger.Receipt) { r.Proof = append(r.Proof, r.Proof[0]) }, true},
		{"no proof", func(r *ledger.Receipt) { r.Proof = nil }, true},
	}
	r0 := f.receipt(t, index)
	for i := range r0.Proof {
		tests = append(tests, mutation{fmt.Sprintf("proof hash %d altered", i), func(r *ledger.Receipt) {
			r.Proof = bytes2proof(r.Proof)
			r.Proof[i][31-i] ^= 0x80
		}, true})
	}
	for i := range len(r0.Leaf) {
		if r0.Leaf[i] == '\n' {
			continue // a flipped newline may still be "a" leaf; kept simple
		}
		tests = append(tests, mutation{fmt.Sprintf("leaf byte %d altered", i), func(r *ledger.Receipt) {
			b := []byte(r.Leaf)
			b[i] ^= 0x01
			r.Leaf = string(b)
		}, true})
	}
	// The leaf altered and its hash recomputed: only the proof can catch it.
	tests = append(tests, mutation{"leaf altered with its hash recomputed", func(r *ledger.Receipt) {
		l := f.leaves[index-1]
		l.Party = "someone-else"
		b := l.Marshal()
		r.Leaf, r.LeafHash = string(b), tlog.RecordHash(b)
	}, true})

	if err := verifyReceiptIndependently(r0, testOrigin, f.lg.v); err != nil {
		t.Fatalf("the unmutated receipt does not verify independently: %v", err)
	}
	if _, _, err := r0.Verify(f.lg.v); err != nil {
		t.Fatalf("the unmutated receipt does not verify: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.receipt(t, index)
			tt.mutate(r)
			l, c, err := r.Verify(f.lg.v)
			if err == nil {
				t.Errorf("Verify accepted it: leaf %+v, checkpoint %+v", l, c)
			} else if !errors.Is(err, ledger.ErrBadReceipt) && !errors.Is(err, ledger.ErrBadCheckpoint) {
				t.Errorf("Verify = %v, want ErrBadReceipt or ErrBadCheckpoint", err)
			}
			if tt.independent {
				if err := verifyReceiptIndependently(r, testOrigin, f.lg.v); err == nil {
					t.Error("the independent check accepts it: the mutation is not a negative case")
				}
			}
		})
	}

	// The receipt is also rejected when checked against another log's key.
	if _, _, err := r0.Verify(other.v); err == nil {
		t.Error("Verify with another log's key accepted the receipt")
	}
}

func bytes2proof(p []tlog.Hash) []tlog.Hash { return append([]tlog.Hash(nil), p...) }

// ---------------------------------------------------------------------------
// 5. Witness and consistency.

func TestInteropWitnessAdvance(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	rt := newRandTree(t, 21, 300)
	w := &ledger.Witness{Log: lg.v}
	if signed, _ := w.Last(); signed != nil {
		t.Fatalf("zero Witness has a last checkpoint: %q", signed)
	}
	rng := rand.New(rand.NewPCG(21, 0))
	var last uint64
	var lastSigned []byte
	steps := 0
	for size := uint64(1); size <= 300; size += 1 + rng.Uint64N(23) {
		c, signed := lg.sign(t, rt.tree, size)
		var p tlog.TreeProof
		if last > 0 {
			var err error
			if p, err = rt.tree.ConsistencyProof(last, size); err != nil {
				t.Fatal(err)
			}
			// The same proof verifies independently.
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, last, size, hashSlices(p),
				rfcMTH(rt.leafHashes[:last]), rfcMTH(rt.leafHashes[:size])); err != nil {
				t.Fatalf("ConsistencyProof(%d, %d) fails independently: %v", last, size, err)
			}
		}
		got, err := w.Advance(signed, p)
		if err != nil || got != c {
			t.Fatalf("Advance(%d -> %d) = %+v, %v; want %+v", last, size, got, err, c)
		}
		if ls, lc := w.Last(); !bytes.Equal(ls, signed) || lc != c {
			t.Fatalf("Last() = %+v after advancing to %d", lc, size)
		}
		last, lastSigned = size, signed
		steps++
	}
	t.Logf("advanced %d times to %d", steps, last)

	// The same checkpoint again, and an older one with the proof from it to
	// the last: accepted as consistent, the last one stays.
	if _, err := w.Advance(lastSigned, nil); err != nil {
		t.Errorf("Advance(same checkpoint) = %v", err)
	}
	_, older := lg.sign(t, rt.tree, 50)
	p, err := rt.tree.ConsistencyProof(50, last)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Advance(older, p); err != nil {
		t.Errorf("Advance(older, proof to last) = %v", err)
	}
	if ls, lc := w.Last(); !bytes.Equal(ls, lastSigned) || lc.Size != last {
		t.Errorf("Last() = size %d after an older checkpoint, want %d", lc.Size, last)
	}

	// Not signed by the log: refused, not an inconsistency.
	other := newTestLog(t, testOrigin, "another key")
	_, forged := other.sign(t, rt.tree, last)
	if _, err := w.Advance(forged, nil); !errors.Is(err, ledger.ErrBadCheckpoint) || errors.Is(err, ledger.ErrInconsistent) {
		t.Errorf("Advance(signed by another key) = %v, want ErrBadCheckpoint", err)
	}
	// A corrupted proof between genuine checkpoints is refused.
	if last > 60 {
		_, sNew := lg.sign(t, rt.tree, last)
		p, err := rt.tree.ConsistencyProof(60, last)
		if err != nil {
			t.Fatal(err)
		}
		w2 := &ledger.Witness{Log: lg.v}
		_, s60 := lg.sign(t, rt.tree, 60)
		if _, err := w2.Advance(s60, nil); err != nil {
			t.Fatal(err)
		}
		bad := bytes2proof(p)
		bad[0][0] ^= 1
		if _, err := w2.Advance(sNew, bad); err == nil {
			t.Error("Advance accepted a corrupted consistency proof")
		}
		if _, lc := w2.Last(); lc.Size != 60 {
			t.Errorf("Last() = size %d after a refused proof, want 60", lc.Size)
		}
	}
}

// forkedTrees returns two trees that share the first prefix leaves and then
// differ, both of n leaves.
func forkedTrees(t *testing.T, prefix, n int) (a, b *randTree) {
	t.Helper()
	a = newRandTree(t, 31, n)
	b = newRandTree(t, 32, n, a.leaves[:prefix]...)
	for i := range prefix {
		if !bytes.Equal(a.leafHashes[i], b.leafHashes[i]) {
			t.Fatal("prefix differs")
		}
	}
	if bytes.Equal(a.leafHashes[prefix], b.leafHashes[prefix]) {
		t.Fatal("trees do not diverge")
	}
	return a, b
}

func TestInteropFork(t *testing.T) {
	lg := newTestLog(t, testOrigin, "log")
	const prefix, n = 50, 200
	a, b := forkedTrees(t, prefix, n)
	hasher := rfc6962.DefaultHasher

	tests := []struct {
		name      string
		seen      uint64 // the witness has accepted A's checkpoint of this size
		next      uint64 // then is shown B's checkpoint of this size
		proofFrom *randTree
		fork      bool
	}{
		{"equal sizes, different roots", 120, 120, nil, true},
		{"equal sizes past the fork point by one", prefix + 1, prefix + 1, nil, true},
		{"larger, proof from the other tree", 120, 180, b, true},
		{"larger, proof from the witness's tree", 120, 180, a, true},
		{"smaller, past the fork point", 180, 120, b, true},
		{"smaller, inside the shared prefix", 180, 40, a, false},
		{"larger, from inside the shared prefix", 40, 180, b, false},
		{"equal sizes inside the shared prefix", prefix, prefix, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cA, sA := lg.sign(t, a.tree, tt.seen)
			cB, sB := lg.sign(t, b.tree, tt.next)
			var p tlog.TreeProof
			if tt.proofFrom != nil {
				lo, hi := min(tt.seen, tt.next), max(tt.seen, tt.next)
				var err error
				if p, err = tt.proofFrom.tree.ConsistencyProof(lo, hi); err != nil {
					t.Fatal(err)
				}
			}

			// The independent verifier's view of the pair.
			rootA, rootB := rfcMTH(a.leafHashes[:tt.seen]), rfcMTH(b.leafHashes[:tt.next])
			var indep error
			switch {
			case tt.seen == tt.next:
				if !bytes.Equal(rootA, rootB) {
					indep = errors.New("same size, different roots")
				}
			case tt.seen < tt.next:
				indep = proof.VerifyConsistency(hasher, tt.seen, tt.next, hashSlices(p), rootA, rootB)
			default:
				indep = proof.VerifyConsistency(hasher, tt.next, tt.seen, hashSlices(p), rootB, rootA)
			}
			if (indep != nil) != tt.fork {
				t.Fatalf("independent verifier: %v; test expects fork=%v", indep, tt.fork)
			}

			check := func(what string, err error) {
				t.Helper()
				if !tt.fork {
					if err != nil {
						t.Errorf("%s = %v, want nil", what, err)
					}
					return
				}
				var ie *ledger.InconsistencyError
				if !errors.Is(err, ledger.ErrInconsistent) || !errors.As(err, &ie) {
					t.Fatalf("%s = %v, want an *InconsistencyError", what, err)
				}
				// The evidence is the two signed checkpoints, each of which
				// verifies independently.
				for _, ev := range [][]byte{ie.Old, ie.New} {
					if _, _, _, err := flog.ParseCheckpoint(ev, testOrigin, lg.v); err != nil {
						t.Errorf("%s: evidence does not verify: %v", what, err)
					}
				}
				got := map[uint64]bool{ie.OldC.Size: true, ie.NewC.Size: true}
				if !got[tt.seen] || !got[tt.next] {
					t.Errorf("%s: evidence about sizes %d and %d, want %d and %d", what, ie.OldC.Size, ie.NewC.Size, tt.seen, tt.next)
				}
				if !(bytes.Equal(ie.Old, sA) && bytes.Equal(ie.New, sB)) && !(bytes.Equal(ie.Old, sB) && bytes.Equal(ie.New, sA)) {
					t.Errorf("%s: evidence is not the two signed checkpoints", what)
				}
			}

			check("CheckConsistency(A, B)", ledger.CheckConsistency(cA, sA, cB, sB, p))
			check("CheckConsistency(B, A)", ledger.CheckConsistency(cB, sB, cA, sA, p))

			w := &ledger.Witness{Log: lg.v}
			if _, err := w.Advance(sA, nil); err != nil {
				t.Fatal(err)
			}
			_, err := w.Advance(sB, p)
			check("Witness.Advance", err)
			wantLast := sA
			if !tt.fork && tt.next > tt.seen {
				wantLast = sB
			}
			if ls, _ := w.Last(); !bytes.Equal(ls, wantLast) {
				t.Errorf("Last() after Advance is not the expected checkpoint")
			}

			// A witness resumed from A's checkpoint sees the same.
			w2 := &ledger.Witness{Log: lg.v}
			if err := w2.Resume(sA); err != nil {
				t.Fatal(err)
			}
			_, err = w2.Advance(sB, p)
			check("resumed Witness.Advance", err)
		})
	}

	// Resume refuses a checkpoint the log did not sign.
	other := newTestLog(t, testOrigin, "another key")
	_, forged := other.sign(t, a.tree, 10)
	w := &ledger.Witness{Log: lg.v}
	if err := w.Resume(forged); err == nil {
		t.Error("Resume accepted a checkpoint signed by another key")
	}
	// A genuine proof between genuine checkpoints, corrupted: not a proof of
	// consistency. CheckConsistency says so with ErrInconsistent (the log
	// "failed to prove" the prefix).
	cOld, sOld := lg.sign(t, a.tree, 70)
	cNew, sNew := lg.sign(t, a.tree, 150)
	p, err := a.tree.ConsistencyProof(70, 150)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.CheckConsistency(cOld, sOld, cNew, sNew, p); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	for i := range p {
		bad := bytes2proof(p)
		bad[i][i%32] ^= 4
		if err := ledger.CheckConsistency(cOld, sOld, cNew, sNew, bad); !errors.Is(err, ledger.ErrInconsistent) {
			t.Errorf("proof hash %d corrupted: CheckConsistency = %v, want ErrInconsistent", i, err)
		}
	}
}
