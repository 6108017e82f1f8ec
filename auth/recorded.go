package auth

import (
	"crypto/ed25519"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// CheckRecorded checks a request as a log recorded it, long after the
// fact: token must be signed by pub, name party as its issuer and audience
// as its audience, and carry the hash of body. Times and replays are not
// checked (the token has long expired; the log orders requests). It is how
// a party confirms that an entry made in its name holds a request it
// signed. Errors wrap ErrUnauthenticated.
func CheckRecorded(token string, body []byte, party, audience string, pub ed25519.PublicKey) error {
	if len(token) > MaxTokenSize || !compactForm(token) {
		return refuse("malformed token")
	}
	if len(pub) != ed25519.PublicKeySize {
		return refuseCause("unknown party", fmt.Errorf("%w: public key has %d bytes", ErrInvalidKey, len(pub)))
	}
	var c claims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation())
	t, err := parser.Parse(token, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodEdDSA {
			return nil, refuse("algorithm not allowed")
		}
		header, payload := splitToken(t.Raw)
		if err := checkHeader(header); err != nil {
			return nil, err
		}
		var err error
		if c, err = parseClaims(payload); err != nil {
			return nil, err
		}
		return pub, nil
	})
	if err != nil {
		return parseError(t, err)
	}
	switch {
	case c.iss != party:
		return refuse(fmt.Sprintf("token issued by %q, not %q", c.iss, party))
	case len(c.aud) != 1 || c.aud[0] != audience:
		return refuse("wrong audience")
	case len(body) > 0 && !c.hasBSH:
		return refuse("missing body hash")
	case c.hasBSH && c.bsh != bodyHash(body):
		return refuse("body hash mismatch")
	}
	return nil
}
