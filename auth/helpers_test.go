package auth

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const testAudience = "deconflict.test"

// t0 is the time most tests verify at.
func t0() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

var (
	errUnknownParty = errors.New("no such party")
	errRevoked      = errors.New("party revoked")
)

// testKey returns a deterministic key pair for name.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("auth test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// testKeys is VerifierConfig.Keys for the parties alice and bob; carol is
// revoked, anyone else unknown.
func testKeys(party string) (ed25519.PublicKey, error) {
	switch party {
	case "alice", "bob":
		return testKey(party).Public().(ed25519.PublicKey), nil
	case "carol":
		return nil, errRevoked
	}
	return nil, errUnknownParty
}

func newTestVerifier(t testing.TB, edit func(*VerifierConfig)) *Verifier {
	t.Helper()
	cfg := VerifierConfig{Audience: testAudience, Keys: testKeys}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func mustSign(t testing.TB, party string, body []byte, now time.Time, ttl time.Duration) string {
	t.Helper()
	tok, err := Sign(testKey(party), party, testAudience, body, now, ttl)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// craft returns a token with the given header and claims JSON, signed by
// sign over the signing input (nil sign: empty signature).
func craft(header, claims string, sign func(input []byte) []byte) string {
	input := b64(header) + "." + b64(claims)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// edSigner signs with the test key of party.
func edSigner(party string) func([]byte) []byte {
	key := testKey(party)
	return func(input []byte) []byte { return ed25519.Sign(key, input) }
}

// hmacSigner signs with HMAC-SHA256 keyed by party's public key, as in the
// classic algorithm-confusion attack.
func hmacSigner(party string) func([]byte) []byte {
	pub := testKey(party).Public().(ed25519.PublicKey)
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, pub)
		m.Write(input)
		return m.Sum(nil)
	}
}

const edHeader = `{"alg":"EdDSA","typ":"JWT"}`

// claimsJSON returns the JSON of a valid claim set of alice at t0 (iat t0,
// exp t0+60s, no body), with edits applied; a nil value deletes a claim.
func claimsJSON(edits map[string]any) string {
	c := map[string]any{
		"iss": "alice",
		"aud": testAudience,
		"iat": t0().Unix(),
		"exp": t0().Unix() + 60,
		"jti": "jti-0001",
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// signedClaims returns a token of alice with claimsJSON(edits).
func signedClaims(edits map[string]any) string {
	return craft(edHeader, claimsJSON(edits), edSigner("alice"))
}

// checkRefusal fails t unless err is a refusal with reason want that
// wraps ErrUnauthenticated and does not quote the token.
func checkRefusal(t testing.TB, err error, token, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want refusal %q", want)
	}
	if !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("error %q does not wrap ErrUnauthenticated", err)
	}
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error %q is not a *TokenError", err)
	}
	if want != "" && te.Reason != want {
		t.Errorf("reason = %q, want %q", te.Reason, want)
	}
	checkNoLeak(t, err, token)
}

// checkNoLeak fails t if the text of err quotes token or a long part of it.
func checkNoLeak(t testing.TB, err error, token string) {
	t.Helper()
	msg := err.Error()
	for _, part := range append(strings.Split(token, "."), token) {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("error %q quotes the token", msg)
		}
	}
}
