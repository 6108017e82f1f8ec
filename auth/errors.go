package auth

import (
	"errors"
)

// Errors a caller branches on.
var (
	// ErrUnauthenticated is wrapped by every error Verify returns: the
	// request must be refused (HTTP 401). The error is a *TokenError whose
	// Reason says which check failed.
	ErrUnauthenticated = errors.New("unauthenticated")

	// ErrReplayCacheFull is wrapped (as well as ErrUnauthenticated) when a
	// token could not be accepted because the replay cache holds
	// MaxReplayEntries unexpired tokens. The token itself may be good: this
	// is overload (HTTP 503), not a forgery.
	ErrReplayCacheFull = errors.New("too many unexpired tokens")

	// ErrInvalidKey is wrapped by every error about key material: a key of
	// the wrong size, a key file that cannot be parsed, or a private key
	// file that other users may read.
	ErrInvalidKey = errors.New("invalid key")
)

// TokenError is a refused token. Reason is a short lowercase phrase naming
// the check that failed ("token expired", "bad signature", ...); it never
// holds key material or any part of the token, and it is all that Error
// returns, so the error is safe to show to the client. Err is the
// underlying cause, if any, such as the error of VerifierConfig.Keys or
// ErrReplayCacheFull; it is left out of Error (it may say more than the
// client should learn) but errors.Is and errors.As find it.
type TokenError struct {
	Reason string
	Err    error
}

func (e *TokenError) Error() string { return "unauthenticated: " + e.Reason }

// Unwrap makes errors.Is(err, ErrUnauthenticated) true, and exposes Err.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.Err}
}

func refuse(reason string) error { return &TokenError{Reason: reason} }

func refuseCause(reason string, cause error) error { return &TokenError{Reason: reason, Err: cause} }
