package auth

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// BenchmarkVerify verifies tokens as Sign makes them, for a request with a
// body (each token once: the replay cache refuses a second use).
func BenchmarkVerify(b *testing.B) {
	pub := testKey("alice").Public().(ed25519.PublicKey)
	keys := func(string) (ed25519.PublicKey, error) { return pub, nil }
	v, err := NewVerifier(VerifierConfig{Audience: testAudience, Keys: keys, MaxReplayEntries: 1 << 24})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"intent":"i-1","volumes":[]}`)
	now := t0()
	toks := make([]string, 20_000)
	for i := range toks {
		if toks[i], err = Sign(testKey("alice"), "alice", testAudience, body, now, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i == len(toks) {
			b.StopTimer()
			if v, err = NewVerifier(VerifierConfig{Audience: testAudience, Keys: keys, MaxReplayEntries: 1 << 24}); err != nil {
				b.Fatal(err)
			}
			i = 0
			b.StartTimer()
		}
		if _, err := v.Verify(toks[i], body, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign signs tokens for a request with a body.
func BenchmarkSign(b *testing.B) {
	body := []byte(`{"intent":"i-1","volumes":[]}`)
	key, now := testKey("alice"), t0()
	for b.Loop() {
		if _, err := Sign(key, "alice", testAudience, body, now, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
