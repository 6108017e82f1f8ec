package ledger

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Leaf is the public part of a log entry: what every party may see of it.
// Its text form (Marshal) is the Merkle tree leaf, hashed as RFC 6962 does
// (tlog.RecordHash). It holds the entry's metadata and a salted commitment
// to its content; the content itself is shown only to the parties entitled
// to it, who check it with [Commit].
type Leaf struct {
	Index      uint64    // position in the log, from 1
	Time       time.Time // when the sequencer made the entry (UTC)
	Kind       string    // what the entry does (file, update, ...)
	Party      string    // who asked for it; empty for the operator
	Commitment [32]byte  // Commit(salt, content)
}

// leafHeader is the first line of every leaf.
const leafHeader = "deconflict/entry/v1"

// Marshal returns the leaf's canonical text form:
//
//	deconflict/entry/v1
//	index 42
//	time 2026-11-25T13:51:32.123456789Z
//	kind file
//	party france
//	commit <base64 of 32 bytes>
func (l Leaf) Marshal() []byte {
	var b bytes.Buffer
	b.Grow(160)
	b.WriteString(leafHeader)
	b.WriteString("\nindex ")
	b.WriteString(strconv.FormatUint(l.Index, 10))
	b.WriteString("\ntime ")
	b.WriteString(l.Time.UTC().Format(time.RFC3339Nano))
	b.WriteString("\nkind ")
	b.WriteString(l.Kind)
	b.WriteString("\nparty ")
	b.WriteString(l.Party)
	b.WriteString("\ncommit ")
	b.WriteString(base64.StdEncoding.EncodeToString(l.Commitment[:]))
	b.WriteByte('\n')
	return b.Bytes()
}

// Hash returns the leaf's Merkle tree hash.
func (l Leaf) Hash() tlog.Hash { return tlog.RecordHash(l.Marshal()) }

// ErrBadLeaf: bytes that are not a leaf in canonical form.
var ErrBadLeaf = errors.New("ledger: malformed leaf")

// ParseLeaf parses a leaf's text form. Only the canonical form is accepted:
// ParseLeaf(b).Marshal() equals b.
func ParseLeaf(b []byte) (Leaf, error) {
	var l Leaf
	bad := func(why string) (Leaf, error) { return Leaf{}, fmt.Errorf("%w: %s", ErrBadLeaf, why) }
	if len(b) > 1024 {
		return bad("longer than 1024 bytes")
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) != 7 || lines[6] != "" {
		return bad("want 6 lines, each ending in a newline")
	}
	if lines[0] != leafHeader {
		return bad(fmt.Sprintf("first line %q, want %q", lines[0], leafHeader))
	}
	field := func(i int, name string) (string, bool) {
		return strings.CutPrefix(lines[i], name+" ")
	}
	v, ok := field(1, "index")
	if !ok {
		return bad("line 2 is not an index")
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return bad(fmt.Sprintf("index %q", v))
	}
	l.Index = n
	if v, ok = field(2, "time"); !ok {
		return bad("line 3 is not a time")
	}
	if l.Time, err = time.Parse(time.RFC3339Nano, v); err != nil {
		return bad(fmt.Sprintf("time %q", v))
	}
	if l.Kind, ok = field(3, "kind"); !ok || l.Kind == "" {
		return bad("line 4 is not a kind")
	}
	if l.Party, ok = field(4, "party"); !ok {
		return bad("line 5 is not a party")
	}
	if v, ok = field(5, "commit"); !ok {
		return bad("line 6 is not a commitment")
	}
	c, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(c) != len(l.Commitment) {
		return bad(fmt.Sprintf("commitment %q", v))
	}
	copy(l.Commitment[:], c)
	if !bytes.Equal(l.Marshal(), b) {
		return bad("not in canonical form")
	}
	return l, nil
}

// SaltSize is the length of the salt of a commitment.
const SaltSize = 32

// Commit returns the commitment to content with salt:
// SHA-256("deconflict/commit/v1\n" || salt || content). The random salt
// keeps a party that sees only the leaf from confirming a guess of the
// content.
func Commit(salt, content []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("deconflict/commit/v1\n"))
	h.Write(salt)
	h.Write(content)
	var c [32]byte
	h.Sum(c[:0])
	return c
}

// Entry is a log record as stored: the public leaf, and the content with
// its salt and the parties entitled to read it.
type Entry struct {
	Leaf    []byte   // Leaf.Marshal()
	Salt    []byte   // SaltSize bytes
	Readers []string // parties besides the author and the authority who may read the content
	Content []byte
}

// entryMagic starts every encoded Entry.
const entryMagic = "DCE1"

// Marshal encodes e for storage.
func (e *Entry) Marshal() []byte {
	n := len(entryMagic) + 4*binary.MaxVarintLen64 + len(e.Leaf) + len(e.Salt) + len(e.Content)
	for _, r := range e.Readers {
		n += binary.MaxVarintLen64 + len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, entryMagic...)
	b = binary.AppendUvarint(b, uint64(len(e.Leaf)))
	b = append(b, e.Leaf...)
	b = binary.AppendUvarint(b, uint64(len(e.Salt)))
	b = append(b, e.Salt...)
	b = binary.AppendUvarint(b, uint64(len(e.Readers)))
	for _, r := range e.Readers {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return append(b, e.Content...)
}

// UnmarshalEntry decodes a stored Entry; its slices alias b. It checks
// the framing only: see [Entry.Open] for the leaf and the commitment.
func UnmarshalEntry(b []byte) (*Entry, error) {
	rest, ok := bytes.CutPrefix(b, []byte(entryMagic))
	if !ok {
		return nil, errors.New("ledger: stored entry does not start with " + entryMagic)
	}
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, false
		}
		v := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return v, true
	}
	var e Entry
	if e.Leaf, ok = next(); !ok {
		return nil, errors.New("ledger: stored entry: truncated leaf")
	}
	if e.Salt, ok = next(); !ok {
		return nil, errors.New("ledger: stored entry: truncated salt")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return nil, errors.New("ledger: stored entry: bad reader count")
	}
	rest = rest[k:]
	for range n {
		r, ok := next()
		if !ok {
			return nil, errors.New("ledger: stored entry: truncated reader")
		}
		e.Readers = append(e.Readers, string(r))
	}
	e.Content = rest
	return &e, nil
}

// Open checks that the entry is the one at index: its leaf parses, names
// index, and commits to its salt and content. It returns the leaf.
func (e *Entry) Open(index uint64) (Leaf, error) {
	l, err := ParseLeaf(e.Leaf)
	if err != nil {
		return Leaf{}, err
	}
	if l.Index != index {
		return Leaf{}, fmt.Errorf("ledger: the entry stored at %d says it is entry %d", index, l.Index)
	}
	if err := CheckContent(l, e.Salt, e.Content); err != nil {
		return Leaf{}, err
	}
	return l, nil
}

// ErrCommitment: content that does not match its leaf's commitment.
var ErrCommitment = errors.New("ledger: content does not match the leaf's commitment")

// CheckContent reports whether salt and content are what leaf commits to.
func CheckContent(l Leaf, salt, content []byte) error {
	if len(salt) != SaltSize {
		return fmt.Errorf("%w (entry %d: salt of %d bytes, want %d)", ErrCommitment, l.Index, len(salt), SaltSize)
	}
	c := Commit(salt, content)
	if subtle.ConstantTimeCompare(c[:], l.Commitment[:]) != 1 {
		return fmt.Errorf("%w (entry %d)", ErrCommitment, l.Index)
	}
	return nil
}
