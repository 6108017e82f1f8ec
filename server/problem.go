package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// Problem is an RFC 9457 problem detail. Type is stable per kind of error;
// clients branch on it. Intents, for the 409 refusals, lists the intents in
// question as far as the caller may see them.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Intents  []IntentView `json:"intents,omitempty"`
	// Disclosure is the log entry that records what this refusal showed
	// (the owners are alerted), with its receipt.
	Disclosure *DisclosureRef `json:"disclosure,omitempty"`

	retryAfter string // Retry-After header, for 429
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%s (%d): %s", p.Title, p.Status, p.Detail)
	}
	return fmt.Sprintf("%s (%d)", p.Title, p.Status)
}

// Problem types.
const (
	TypeValidation      = "urn:deconflict:problem:validation"
	TypeMissingKey      = "urn:deconflict:problem:missing-key"
	TypeConflict        = "urn:deconflict:problem:conflict"
	TypeStaleOVN        = "urn:deconflict:problem:stale-ovn"
	TypeExists          = "urn:deconflict:problem:exists"
	TypeNotFound        = "urn:deconflict:problem:not-found"
	TypeForbidden       = "urn:deconflict:problem:forbidden"
	TypeUnauthenticated = "urn:deconflict:problem:unauthenticated"
	TypeRateLimited     = "urn:deconflict:problem:rate-limited"
	TypeTooLarge        = "urn:deconflict:problem:too-large"
	TypeUnavailable     = "urn:deconflict:problem:unavailable"
	TypeInternal        = "urn:deconflict:problem:internal"
)

// badRequest marks an error as the client's, safe to show.
type badRequest struct{ err error }

func (e *badRequest) Error() string { return e.err.Error() }
func (e *badRequest) Unwrap() error { return e.err }

func invalidf(format string, args ...any) error {
	return &badRequest{fmt.Errorf(format, args...)}
}

// problemFor maps an error to the problem shown to the caller. Only errors
// known to be safe to show have their text shown; anything else is an
// internal error whose detail is logged, not sent.
func (s *Server) problemFor(caller registry.PartyID, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var ref *registry.RefusalError
	if errors.As(err, &ref) {
		return s.refusal(caller, ref, nil, service.Outcome{}, false)
	}
	var br *badRequest
	switch {
	case errors.As(err, &br), errors.Is(err, geo.ErrInvalid), errors.Is(err, registry.ErrInvalid):
		return &Problem{Type: TypeValidation, Title: "invalid request", Status: http.StatusBadRequest, Detail: err.Error()}
	case errors.Is(err, registry.ErrStaleOVN):
		return &Problem{Type: TypeStaleOVN, Title: "stale OVN: the intent changed since you read it", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, registry.ErrExists):
		return &Problem{Type: TypeExists, Title: "already exists", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, registry.ErrNotFound):
		return &Problem{Type: TypeNotFound, Title: "not found", Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, registry.ErrForbidden):
		return &Problem{Type: TypeForbidden, Title: "forbidden", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.Is(err, auth.ErrReplayCacheFull):
		return &Problem{Type: TypeUnavailable, Title: "service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "too many requests in flight to check for replays; retry later", retryAfter: "5"}
	case errors.Is(err, auth.ErrUnauthenticated):
		return &Problem{Type: TypeUnauthenticated, Title: "unauthenticated", Status: http.StatusUnauthorized, Detail: err.Error()}
	case errors.Is(err, ledger.ErrTooLarge), errors.Is(err, service.ErrNoCheckpoints):
		return &Problem{Type: TypeNotFound, Title: "not found", Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, service.ErrNotEntitled):
		return &Problem{Type: TypeForbidden, Title: "forbidden", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.Is(err, service.ErrBadCosignature):
		return &Problem{Type: TypeValidation, Title: "invalid request", Status: http.StatusBadRequest, Detail: err.Error()}
	case errors.Is(err, service.ErrUnavailable):
		return &Problem{Type: TypeUnavailable, Title: "service unavailable", Status: http.StatusServiceUnavailable, Detail: "the service cannot accept writes now; retry later"}
	}
	s.log.Error("internal error", "party", caller, "err", err)
	return &Problem{Type: TypeInternal, Title: "internal error", Status: http.StatusInternalServerError}
}

// DisclosureRef names the entry that recorded a disclosure.
type DisclosureRef struct {
	Entry   uint64          `json:"entry"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
}

// refusal is the 409 for a refused filing or update of volumes mine: the
// intents in question as the caller may see them, and the entry that
// recorded the disclosure (o, if it was logged); extent leaves out the
// overlaps' cells (?overlaps=extent).
func (s *Server) refusal(caller registry.PartyID, ref *registry.RefusalError, mine []*geo.Volume, o service.Outcome, extent bool) *Problem {
	typ, title := TypeConflict, "conflict with intents of equal or higher priority"
	if errors.Is(ref.Reason, registry.ErrMissingKey) {
		typ, title = TypeMissingKey, "missing key: present the current OVN of each conflicting intent"
	}
	p := &Problem{Type: typ, Title: title, Status: http.StatusConflict, Detail: ref.Error()}
	s.svc.View(func(reg *registry.Registry) {
		pol := s.policyFor(reg, caller)
		pol.extent = extent
		for _, c := range ref.Intents {
			p.Intents = append(p.Intents, pol.conflictView(c.Intent, mine, c.Pairs))
		}
	})
	if o.Entry.Kind == registry.KindDisclose {
		p.Disclosure = &DisclosureRef{Entry: o.Entry.Index, Receipt: o.Receipt}
	}
	return p
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	if p.retryAfter != "" {
		w.Header().Set("Retry-After", p.retryAfter)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="deconflict", error="invalid_token"`)
	}
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// writeEncoded writes b, v encoded by a hand-written encoder (see
// viewjson.go), as writeJSON writes v; if !ok, it writes v by writeJSON.
func writeEncoded(w http.ResponseWriter, status int, b []byte, ok bool, v any) {
	if !ok {
		writeJSON(w, status, v)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
