package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

type countingVerifier struct {
	note.Verifier
	calls int
}

func (c *countingVerifier) Verify(msg, sig []byte) bool {
	c.calls++
	return c.Verifier.Verify(msg, sig)
}

// TestCachingVerifier: a signature accepted once is accepted again without
// a new check; a bad one is refused every time; the oldest are forgotten.
func TestCachingVerifier(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, err := NewSigner("example.com/log", key)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := VerifierKey("example.com/log", key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	inner := &countingVerifier{Verifier: v}
	cv := CachingVerifier(inner, 2)
	sign := func(size uint64) []byte {
		b, err := SignCheckpoint(Checkpoint{Origin: "example.com/log", Size: size}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := sign(1), sign(2), sign(3)
	for _, cp := range [][]byte{a, a, a, b, b} {
		if _, _, err := OpenCheckpoint(cp, cv); err != nil {
			t.Fatal(err)
		}
	}
	if inner.calls != 2 {
		t.Fatalf("%d verifications for 2 distinct checkpoints", inner.calls)
	}
	// A signature of a's text by the log's name but another key: well
	// formed, so the verifier is asked, and wrong.
	other, err := NewSigner("example.com/log", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	forgedSig, err := other.Sign(mustNoteText(t, a))
	if err != nil {
		t.Fatal(err)
	}
	forged := append(append(mustNoteText(t, a), '\n'), []byte("— example.com/log "+base64.StdEncoding.EncodeToString(append(keyHashBytes(cv), forgedSig...))+"\n")...)
	calls0 := inner.calls
	for range 2 {
		if _, _, err := OpenCheckpoint(forged, cv); err == nil {
			t.Fatal("a forged signature was accepted")
		}
	}
	if inner.calls != calls0+2 {
		t.Fatalf("the forged signature was checked %d times, want 2 (never cached)", inner.calls-calls0)
	}
	OpenCheckpoint(c, cv) // forgets a
	calls := inner.calls
	if _, _, err := OpenCheckpoint(a, cv); err != nil || inner.calls != calls+1 {
		t.Fatalf("the oldest was not forgotten: err %v, calls %d -> %d", err, calls, inner.calls)
	}
}

// mustNoteText is the text of a signed note (before its blank line).
func mustNoteText(t *testing.T, signed []byte) []byte {
	i := bytes.Index(signed, []byte("\n\n"))
	if i < 0 {
		t.Fatal("not a signed note")
	}
	return bytes.Clone(signed[:i+1])
}

// keyHashBytes is the verifier's key hash as a note signature starts.
func keyHashBytes(v note.Verifier) []byte {
	h := v.KeyHash()
	return []byte{byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}
