package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSign(t *testing.T) {
	now := t0().Add(700 * time.Millisecond)
	tests := []struct {
		name    string
		body    []byte
		ttl     time.Duration
		wantExp int64 // exp - iat
	}{
		{"no body", nil, time.Minute, 60},
		{"empty body", []byte{}, time.Minute, 60},
		{"body", []byte("hello"), 2 * time.Minute, 120},
		{"ttl rounded up", nil, 1500 * time.Millisecond, 2},
		{"shortest ttl", nil, time.Nanosecond, 1},
		{"longest ttl", nil, DefaultMaxTTL, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(testKey("alice"), "alice", testAudience, tt.body, now, tt.ttl)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts", len(parts))
			}
			header, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil {
				t.Fatal(err)
			}
			if string(header) != edHeader {
				t.Errorf("header = %s, want %s", header, edHeader)
			}
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			jti, _ := c["jti"].(string)
			if raw, err := base64.RawURLEncoding.Strict().DecodeString(jti); err != nil || len(raw) != 16 {
				t.Errorf("jti %q is not 128 bits in base64url", jti)
			}
			want := map[string]any{
				"iss": "alice",
				"aud": testAudience,
				"iat": float64(t0().Unix()),
				"exp": float64(t0().Unix() + tt.wantExp),
				"jti": jti,
			}
			if len(tt.body) > 0 {
				want["bsh"] = bodyHash(tt.body)
			}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatal(err)
			}
			pub := testKey("alice").Public().(ed25519.PublicKey)
			if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
				t.Error("signature does not verify")
			}
			v := newTestVerifier(t, nil)
			if party, err := v.Verify(tok, tt.body, now); err != nil || party != "alice" {
				t.Errorf("Verify = %q, %v", party, err)
			}
		})
	}
}

func TestSignBodyHash(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1, in base64url.
	const want = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
	if got := bodyHash([]byte("abc")); got != want {
		t.Errorf("bodyHash(abc) = %s, want %s", got, want)
	}
}

func TestSignErrors(t *testing.T) {
	key := testKey("alice")
	tests := []struct {
		name     string
		key      ed25519.PrivateKey
		party    string
		audience string
		now      time.Time
		ttl      time.Duration
		body     []byte
	}{
		{"short key", key[:32], "alice", testAudience, t0(), time.Minute, nil},
		{"nil key", nil, "alice", testAudience, t0(), time.Minute, nil},
		{"empty party", key, "", testAudience, t0(), time.Minute, nil},
		{"empty audience", key, "alice", "", t0(), time.Minute, nil},
		{"zero ttl", key, "alice", testAudience, t0(), 0, nil},
		{"negative ttl", key, "alice", testAudience, t0(), -time.Second, nil},
		{"ttl too long", key, "alice", testAudience, t0(), DefaultMaxTTL + time.Nanosecond, nil},
		{"before 1970", key, "alice", testAudience, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Minute, nil},
		{"after 9999", key, "alice", testAudience, time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC), time.Minute, nil},
		{"token too large", key, strings.Repeat("p", MaxTokenSize), testAudience, t0(), time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(tt.key, tt.party, tt.audience, tt.body, tt.now, tt.ttl)
			if err == nil {
				t.Fatalf("Sign = %q, want error", tok)
			}
		})
	}
}

func TestSignUniqueJTI(t *testing.T) {
	v := newTestVerifier(t, nil)
	for i := range 1000 {
		tok := mustSign(t, "alice", nil, t0(), time.Minute)
		if _, err := v.Verify(tok, nil, t0()); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
}

// TestCheckRecorded: a recorded request checks out long after its token
// expired, and not with another key, party, audience or body.
func TestCheckRecorded(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := GenerateKey()
	body := []byte(`{"priority":1}`)
	tok, err := Sign(priv, "france", "svc", body, time.Now().Add(-24*time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckRecorded(tok, body, "france", "svc", pub); err != nil {
		t.Fatalf("recorded request refused: %v", err)
	}
	for name, call := range map[string]func() error{
		"other key":      func() error { return CheckRecorded(tok, body, "france", "svc", otherPub) },
		"other party":    func() error { return CheckRecorded(tok, body, "usa", "svc", pub) },
		"other audience": func() error { return CheckRecorded(tok, body, "france", "other", pub) },
		"other body":     func() error { return CheckRecorded(tok, []byte(`{"priority":2}`), "france", "svc", pub) },
		"garbage":        func() error { return CheckRecorded("a.b.c", body, "france", "svc", pub) },
	} {
		if err := call(); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", name, err)
		}
	}
}

// TestSignedHeader: the tokens Sign makes start with signedHeader, which
// checkHeader passes (Verify skips checkHeader for it).
func TestSignedHeader(t *testing.T) {
	tok, err := Sign(testKey("alice"), "alice", testAudience, []byte("x"), t0(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if header, _ := splitToken(tok); header != signedHeader {
		t.Fatalf("header %q, want %q", header, signedHeader)
	}
	if err := checkHeader(signedHeader); err != nil {
		t.Fatalf("checkHeader(signedHeader): %v", err)
	}
}
