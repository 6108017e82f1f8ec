package auth

import (
	"errors"
	"time"
)

// Remember records a token that was accepted before (by this service, in an
// earlier run) as used, so that it is refused as a replay until it expires.
// A service calls it at start-up with the tokens of the requests its log
// recorded in the last MaxTTL, since its replay cache lives in memory. The
// token is not verified again; one that expired before now is ignored.
func (v *Verifier) Remember(token string, now time.Time) error {
	_, payload := splitToken(token)
	if payload == "" {
		return errors.New("auth: remember: not a compact token")
	}
	c, err := parseClaims(payload)
	if err != nil {
		return err
	}
	deadline := c.exp.Add(v.leeway)
	if !deadline.After(now) {
		return nil
	}
	err = v.replay.add(replayKey{c.iss, c.jti}, deadline, now)
	var te *TokenError
	if errors.As(err, &te) && te.Reason == "token replayed" {
		return nil // a batch's entries share one token
	}
	return err
}
