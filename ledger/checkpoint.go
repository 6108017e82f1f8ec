package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a tree head in the C2SP tlog-checkpoint format: the log's
// origin (its name), the number of entries, and the root hash. Signed, it
// is a note (golang.org/x/mod/sumdb/note) whose text is Marshal().
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   tlog.Hash
}

// Marshal returns the checkpoint body: "<origin>\n<size>\n<base64 root>\n".
func (c Checkpoint) Marshal() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ErrBadCheckpoint: a checkpoint that does not parse or whose signature
// does not verify.
var ErrBadCheckpoint = errors.New("ledger: bad checkpoint")

// ParseCheckpoint parses a checkpoint body (a note's text). Extension lines
// after the root are allowed and ignored, as the format says.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.SplitAfterN(string(text), "\n", 4)
	if len(lines) < 3 || !strings.HasSuffix(lines[2], "\n") {
		return Checkpoint{}, fmt.Errorf("%w: want origin, size and root lines", ErrBadCheckpoint)
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	if origin == "" {
		return Checkpoint{}, fmt.Errorf("%w: empty origin", ErrBadCheckpoint)
	}
	sizeText := strings.TrimSuffix(lines[1], "\n")
	size, err := strconv.ParseUint(sizeText, 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != sizeText {
		return Checkpoint{}, fmt.Errorf("%w: size %q", ErrBadCheckpoint, sizeText)
	}
	root, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root %q", ErrBadCheckpoint, strings.TrimSuffix(lines[2], "\n"))
	}
	c := Checkpoint{Origin: origin, Size: size}
	copy(c.Root[:], root)
	return c, nil
}

// NewSigner returns a note signer for the log named origin with an Ed25519
// key. The note's key name is the origin.
func NewSigner(origin string, key ed25519.PrivateKey) (note.Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("ledger: not an Ed25519 private key")
	}
	pub := key.Public().(ed25519.PublicKey)
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", origin, noteKeyHash(origin, 1, pub),
		base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...)))
	return note.NewSigner(skey)
}

// VerifierKey returns the note verifier key of the log named origin:
// "<origin>+<hash>+<key>", the form parties are given out of band to check
// the log's checkpoints.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(origin, pub)
}

// noteKeyHash is the key id of a note key: the first 4 bytes of
// SHA-256(name || "\n" || alg || key).
func noteKeyHash(name string, alg byte, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', alg})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// SignCheckpoint signs c as a note with the log's signer.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: string(c.Marshal())}, s)
}

// OpenCheckpoint verifies a signed checkpoint: it must carry a valid
// signature by log (whose name must be the checkpoint's origin); valid
// signatures by other known verifiers (cosigners) are returned in the
// note, unknown ones ignored.
func OpenCheckpoint(signed []byte, log note.Verifier, others ...note.Verifier) (Checkpoint, *note.Note, error) {
	n, err := note.Open(signed, note.VerifierList(append([]note.Verifier{log}, others...)...))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	logSigned := false
	for _, s := range n.Sigs {
		if s.Name == log.Name() && s.Hash == log.KeyHash() {
			logSigned = true
		}
	}
	if !logSigned {
		return Checkpoint{}, nil, fmt.Errorf("%w: not signed by the log %s", ErrBadCheckpoint, log.Name())
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Origin != log.Name() {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, want %q", ErrBadCheckpoint, c.Origin, log.Name())
	}
	return c, n, nil
}

// Cosignatures (C2SP tlog-cosignature, cosignature/v1): a witness signs
// "cosignature/v1\ntime <unix seconds>\n" followed by the checkpoint body,
// with an Ed25519 key; the note signature is the key id (algorithm 0x04),
// the time as 8 big-endian bytes, then the 64-byte signature.
const cosigAlg = 0x04

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
	now  func() time.Time
}

// NewCosigner returns a note signer that cosigns checkpoints as witness
// name with key. now is the clock (time.Now if nil).
func NewCosigner(name string, key ed25519.PrivateKey, now func() time.Time) (note.Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("ledger: not an Ed25519 private key")
	}
	if now == nil {
		now = time.Now
	}
	pub := key.Public().(ed25519.PublicKey)
	return &cosigner{name: name, hash: noteKeyHash(name, cosigAlg, pub), key: key, now: now}, nil
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }
func (c *cosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(c.now().Unix())
	sig := ed25519.Sign(c.key, cosignedMessage(t, msg))
	return append(binary.BigEndian.AppendUint64(nil, t), sig...), nil
}

func cosignedMessage(t uint64, msg []byte) []byte {
	return append(fmt.Appendf(nil, "cosignature/v1\ntime %d\n", t), msg...)
}

type cosigVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

// NewCosignatureVerifier returns a note verifier for cosignatures by
// witness name with public key pub.
func NewCosignatureVerifier(name string, pub ed25519.PublicKey) (note.Verifier, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("ledger: not an Ed25519 public key")
	}
	return &cosigVerifier{name: name, hash: noteKeyHash(name, cosigAlg, pub), key: pub}, nil
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	return ed25519.Verify(v.key, cosignedMessage(t, msg), sig[8:])
}

// CosignatureTime returns the time in a cosignature/v1 signature.
func CosignatureTime(s note.Signature) (time.Time, error) {
	b, err := base64.StdEncoding.DecodeString(s.Base64)
	if err != nil || len(b) != 4+8+ed25519.SignatureSize {
		return time.Time{}, errors.New("ledger: not a cosignature/v1 signature")
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[4:])), 0).UTC(), nil
}

// SignatureLines returns the signature lines of a signed note (each "— name
// base64\n"), to merge cosignatures into a checkpoint.
func SignatureLines(signed []byte) ([][]byte, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil, fmt.Errorf("%w: no signature block", ErrBadCheckpoint)
	}
	var out [][]byte
	for _, l := range bytes.SplitAfter(signed[i+2:], []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}
