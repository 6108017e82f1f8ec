package ledger

import (
	"crypto/ed25519"
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
	_, key, _ := ed25519.GenerateKey(nil)
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
	forged := append([]byte(nil), a...)
	forged[len(forged)-5] ^= 1 // in the signature's base64
	for range 2 {
		if _, _, err := OpenCheckpoint(forged, cv); err == nil {
			t.Fatal("a forged signature was accepted")
		}
	}
	OpenCheckpoint(c, cv) // forgets a
	calls := inner.calls
	if _, _, err := OpenCheckpoint(a, cv); err != nil || inner.calls != calls+1 {
		t.Fatalf("the oldest was not forgotten: err %v, calls %d -> %d", err, calls, inner.calls)
	}
}
