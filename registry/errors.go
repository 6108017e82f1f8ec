package registry

import (
	"errors"
	"fmt"
	"strings"
)

// Errors a caller branches on. Refusals by the conflict rules are
// *RefusalError values wrapping ErrMissingKey or ErrConflict.
var (
	ErrInvalid    = errors.New("invalid command")
	ErrNotFound   = errors.New("not found")
	ErrForbidden  = errors.New("forbidden")
	ErrStaleOVN   = errors.New("stale OVN")
	ErrMissingKey = errors.New("missing key")
	ErrConflict   = errors.New("conflict")
	ErrExists     = errors.New("already exists")
)

// RefusalError is a refusal by a conflict rule: Reason is ErrMissingKey or
// ErrConflict, Intents the intents in question, as far as the registry
// knows them (what the filer may see of them is the server's business).
type RefusalError struct {
	Reason  error
	Intents []Conflict
}

func (e *RefusalError) Error() string {
	ids := make([]string, len(e.Intents))
	for i, c := range e.Intents {
		ids[i] = string(c.Intent.ID)
	}
	switch e.Reason {
	case ErrMissingKey:
		return fmt.Sprintf("missing key: the command lacks the current OVN of %d conflicting intent(s): %s",
			len(ids), strings.Join(ids, ", "))
	default:
		return fmt.Sprintf("conflict with %d intent(s) of equal or higher priority: %s", len(ids), strings.Join(ids, ", "))
	}
}

func (e *RefusalError) Unwrap() error { return e.Reason }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
