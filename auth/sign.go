package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Limits of the token format (see the package documentation).
const (
	// DefaultMaxTTL is the longest lifetime (exp - iat) Sign gives a token
	// and, unless configured otherwise, the longest a Verifier accepts.
	DefaultMaxTTL = 5 * time.Minute
	// DefaultLeeway is the clock skew a Verifier tolerates on iat, nbf and exp.
	DefaultLeeway = 30 * time.Second
	// DefaultMaxReplayEntries bounds the replay cache of a Verifier.
	DefaultMaxReplayEntries = 1_000_000

	// MaxTokenSize is the largest token, in bytes, that Verify parses.
	MaxTokenSize = 8 << 10
	// MaxJTILen is the largest jti, in bytes, that Verify accepts.
	MaxJTILen = 128
)

// maxNumericDate is 9999-12-31T23:59:59Z, the latest iat, nbf or exp.
const maxNumericDate = 253402300799

// decodeSegment decodes one part of a compact token: base64url without
// padding, refusing non-canonical encodings (non-zero trailing bits).
func decodeSegment(seg string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(seg)
}

// Sign returns a compact JWT for one request to audience, signed by key on
// behalf of party. now is the issue time and ttl the token's lifetime,
// which must be in (0, DefaultMaxTTL]: iat is now in whole seconds
// (rounded down) and exp is iat plus ttl rounded up to whole seconds. The
// token carries a fresh random jti, and the SHA-256 of body in the bsh
// claim when body is not empty. Sign is safe for concurrent use.
func Sign(key ed25519.PrivateKey, party, audience string, body []byte, now time.Time, ttl time.Duration) (string, error) {
	if len(key) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("auth: sign: %w: private key has %d bytes, want %d", ErrInvalidKey, len(key), ed25519.PrivateKeySize)
	}
	if party == "" {
		return "", fmt.Errorf("auth: sign: empty party")
	}
	if audience == "" {
		return "", fmt.Errorf("auth: sign: empty audience")
	}
	if ttl <= 0 || ttl > DefaultMaxTTL {
		return "", fmt.Errorf("auth: sign: ttl %v is not in (0, %v]", ttl, DefaultMaxTTL)
	}
	iat := now.Unix()
	exp := iat + int64((ttl+time.Second-1)/time.Second)
	if iat < 0 || exp > maxNumericDate {
		return "", fmt.Errorf("auth: sign: time %s is out of range", now.UTC().Format(time.RFC3339))
	}
	c := jwt.MapClaims{
		"iss": party,
		"aud": audience,
		"iat": iat,
		"exp": exp,
		"jti": newJTI(),
	}
	if len(body) > 0 {
		c["bsh"] = bodyHash(body)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	if len(tok) > MaxTokenSize {
		return "", fmt.Errorf("auth: sign: token would be %d bytes, over the limit of %d", len(tok), MaxTokenSize)
	}
	return tok, nil
}

// newJTI returns 128 random bits, base64url without padding (22 characters).
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// bodyHash returns the bsh claim for body: its SHA-256, base64url without
// padding (43 characters).
func bodyHash(body []byte) string {
	h := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(h[:])
}
