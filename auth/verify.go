package auth

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifierConfig configures a Verifier. Zero values of the optional fields
// mean their defaults.
type VerifierConfig struct {
	// Audience is the service id that tokens must name in aud. Required.
	Audience string

	// Keys returns the public key of a party. It returns an error (any)
	// if the party is unknown or revoked; Verify wraps that error. Keys is
	// called with an unverified iss claim and must be safe for concurrent
	// use. Required.
	Keys func(party string) (ed25519.PublicKey, error)

	// MaxTTL is the longest lifetime accepted: exp - iat and exp - now
	// must not exceed it (exp - now by at most Leeway). Zero means
	// DefaultMaxTTL. A longer MaxTTL means a larger replay cache.
	MaxTTL time.Duration

	// Leeway is the clock skew tolerated between signer and verifier on
	// iat, nbf and exp. Zero means DefaultLeeway; a negative value means
	// none. A larger leeway keeps tokens usable (and cached) longer.
	Leeway time.Duration

	// MaxReplayEntries bounds the replay cache: the number of unexpired
	// tokens remembered. When it is full, new tokens are refused with
	// ErrReplayCacheFull until old ones expire. Zero means
	// DefaultMaxReplayEntries. Each entry costs about 160 bytes (with the
	// 22-character jti of Sign), so the default bound is some 160 MB.
	MaxReplayEntries int
}

// withDefaults returns c with zero optional fields set to their defaults.
func (c VerifierConfig) withDefaults() VerifierConfig {
	if c.MaxTTL == 0 {
		c.MaxTTL = DefaultMaxTTL
	}
	switch {
	case c.Leeway == 0:
		c.Leeway = DefaultLeeway
	case c.Leeway < 0:
		c.Leeway = 0
	}
	if c.MaxReplayEntries == 0 {
		c.MaxReplayEntries = DefaultMaxReplayEntries
	}
	return c
}

// Validate reports whether c can make a Verifier.
func (c VerifierConfig) Validate() error {
	switch {
	case c.Audience == "":
		return errors.New("auth: verifier config: empty Audience")
	case c.Keys == nil:
		return errors.New("auth: verifier config: nil Keys")
	case c.MaxTTL < 0:
		return fmt.Errorf("auth: verifier config: negative MaxTTL %v", c.MaxTTL)
	case c.MaxReplayEntries < 0:
		return fmt.Errorf("auth: verifier config: negative MaxReplayEntries %d", c.MaxReplayEntries)
	}
	return nil
}

// Verifier checks request tokens. It is safe for concurrent use.
type Verifier struct {
	audience string
	keys     func(party string) (ed25519.PublicKey, error)
	maxTTL   time.Duration
	leeway   time.Duration
	parser   *jwt.Parser // read-only after NewVerifier
	replay   *replayCache
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Verifier{
		audience: cfg.Audience,
		keys:     cfg.Keys,
		maxTTL:   cfg.MaxTTL,
		leeway:   cfg.Leeway,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithStrictDecoding(),
			jwt.WithoutClaimsValidation(), // checkClaims does it
		),
		replay: newReplayCache(cfg.MaxReplayEntries),
	}, nil
}

// Verify checks token, as the package documentation specifies, for a
// request with the given body at time now, and returns the party that
// signed it. Every error wraps ErrUnauthenticated and is a *TokenError.
// A token that passes is recorded, and any later use of it is refused, so
// Verify must be called once per request. now should not go backwards:
// the replay cache refuses tokens that expired before the latest now it
// was given.
func (v *Verifier) Verify(token string, body []byte, now time.Time) (party string, err error) {
	if len(token) > MaxTokenSize {
		return "", refuse("token too large")
	}
	if !compactForm(token) {
		// The base64 decoder skips CR and LF; a token must not hold them.
		return "", refuse("malformed token")
	}
	now = now.Round(0) // wall clock only, like the claims
	var c claims
	var raw rawClaims
	t, err := v.parser.ParseWithClaims(token, &raw, func(t *jwt.Token) (any, error) {
		return v.key(t, raw.json, &c)
	})
	if err != nil {
		return "", parseError(t, err)
	}
	if err := v.checkClaims(&c, body, now); err != nil {
		return "", err
	}
	if err := v.replay.add(replayKey{c.iss, c.jti}, c.exp.Add(v.leeway), now); err != nil {
		return "", err
	}
	return c.iss, nil
}

// compactForm reports whether token is made only of the base64url alphabet
// and dots.
func compactForm(token string) bool {
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// key is the jwt.Keyfunc: it checks the header, parses the (not yet
// verified) claims, the JSON the parser decoded, into c and returns the key
// of the party named by iss.
func (v *Verifier) key(t *jwt.Token, payload []byte, c *claims) (any, error) {
	if t.Method != jwt.SigningMethodEdDSA {
		return nil, refuse("algorithm not allowed")
	}
	if header, _ := splitToken(t.Raw); header != signedHeader {
		if err := checkHeader(header); err != nil {
			return nil, err
		}
	}
	if payload == nil {
		payload = []byte("null") // the parser decoded null without us
	}
	var err error
	if *c, err = parseClaimsJSON(payload); err != nil {
		return nil, err
	}
	pub, err := v.keys(c.iss)
	if err != nil {
		return nil, refuseCause("unknown party", err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, refuseCause("unknown party", fmt.Errorf("%w: public key has %d bytes", ErrInvalidKey, len(pub)))
	}
	return pub, nil
}

// rawClaims is the jwt.Claims the parser decodes the claims into: it keeps
// their JSON for parseClaimsJSON (instead of building a jwt.MapClaims that
// nothing reads), and refuses what jwt.MapClaims refuses, anything but an
// object or null. Its validation methods are never called: the parser
// skips claims validation, and checkClaims does it.
type rawClaims struct {
	json []byte
	jwt.RegisteredClaims
}

func (r *rawClaims) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' && string(b) != "null" {
		return errors.New("claims are not a JSON object")
	}
	r.json = append(r.json[:0], b...)
	return nil
}

// parseError maps an error of jwt.Parser.Parse to a *TokenError.
func parseError(t *jwt.Token, err error) error {
	var te *TokenError
	switch {
	case errors.As(err, &te): // from key
		return te
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refuse("malformed token")
	case t == nil || t.Method != jwt.SigningMethodEdDSA, errors.Is(err, jwt.ErrTokenUnverifiable):
		return refuse("algorithm not allowed")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse("bad signature")
	}
	return refuse("malformed token")
}

// checkClaims checks the values of the signed claims against the
// configuration, the time and the body.
func (v *Verifier) checkClaims(c *claims, body []byte, now time.Time) error {
	if len(c.aud) != 1 || c.aud[0] != v.audience {
		return refuse("wrong audience")
	}
	switch {
	case !now.Before(c.exp.Add(v.leeway)):
		return refuse("token expired")
	case c.exp.After(now.Add(v.maxTTL + v.leeway)):
		return refuse("token expires too far in the future")
	case c.iat.After(now.Add(v.leeway)):
		return refuse("token issued in the future")
	case c.hasNBF && c.nbf.After(now.Add(v.leeway)):
		return refuse("token not yet valid")
	case !c.exp.After(c.iat):
		return refuse("token expires before it is issued")
	case c.exp.Sub(c.iat) > v.maxTTL:
		return refuse("token lifetime too long")
	}
	switch {
	case len(body) > 0 && !c.hasBSH:
		return refuse("missing body hash")
	case c.hasBSH && c.bsh != bodyHash(body):
		return refuse("body hash mismatch")
	}
	return nil
}
