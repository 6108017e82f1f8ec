package server

import (
	"net/http"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// The verifiable log's endpoints: checkpoints (with cosignatures), public
// leaves, proofs, entry content for the parties entitled to it, and
// cosignatures from witnesses.

// MaxLogEntries is the most leaves one GET /v1/log/entries returns.
const MaxLogEntries = 1000

// InclusionProof answers GET /v1/log/proof/inclusion.
type InclusionProof struct {
	Index    uint64      `json:"index"`
	Size     uint64      `json:"size"`
	LeafHash tlog.Hash   `json:"leaf_hash"`
	Proof    []tlog.Hash `json:"proof"`
}

// ConsistencyProof answers GET /v1/log/proof/consistency.
type ConsistencyProof struct {
	Old   uint64      `json:"old"`
	Size  uint64      `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// CosignRequest carries a checkpoint of this log cosigned by the caller
// (POST /v1/log/cosignatures).
type CosignRequest struct {
	Checkpoint string `json:"checkpoint"`
}

// CosignResponse says which checkpoint the cosignature was recorded for.
type CosignResponse struct {
	Size uint64 `json:"size"`
}

// EntriesResponse answers GET /v1/log/entries.
type EntriesResponse struct {
	Entries []service.PublicEntry `json:"entries"`
}

// uintParam reads a required unsigned query parameter.
func uintParam(r *http.Request, name string) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, invalidf("query parameter %s is required", name)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, invalidf("query parameter %s=%q is not a non-negative integer", name, v)
	}
	return n, nil
}

// checkpoint serves the latest checkpoint as a signed note (text/plain),
// with the cosignatures collected for it; ?witnessed=true serves the
// latest one cosigned by enough parties instead (404 if none yet), and
// ?cosign=true the one witnesses should cosign now.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	var signed []byte
	var err error
	q := r.URL.Query()
	switch {
	case q.Get("cosign") == "true":
		signed, _, err = s.svc.CosignTarget()
	case q.Get("cosign") != "" && q.Get("cosign") != "false":
		return invalidf("cosign must be true or false")
	case q.Get("witnessed") == "" || q.Get("witnessed") == "false":
		signed, _, err = s.svc.Checkpoint()
	case q.Get("witnessed") == "true":
		var ok bool
		signed, _, ok, err = s.svc.WitnessedCheckpoint()
		if err == nil && !ok {
			return &Problem{Type: TypeNotFound, Title: "not found", Status: http.StatusNotFound,
				Detail: "no checkpoint has been cosigned by enough parties yet"}
		}
	default:
		return invalidf("witnessed must be true or false")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(signed)
	return nil
}

func (s *Server) logEntries(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	start, err := uintParam(r, "start")
	if err != nil {
		return err
	}
	if start == 0 {
		return invalidf("entries are numbered from 1")
	}
	count := uint64(MaxLogEntries)
	if r.URL.Query().Has("count") {
		if count, err = uintParam(r, "count"); err != nil {
			return err
		}
		if count == 0 || count > MaxLogEntries {
			return invalidf("count must be 1 to %d", MaxLogEntries)
		}
	}
	entries, err := s.svc.Leaves(r.Context(), start, int(count))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []service.PublicEntry{}
	}
	writeJSON(w, http.StatusOK, EntriesResponse{Entries: entries})
	return nil
}

func (s *Server) entryContent(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil || index == 0 {
		return invalidf("entry index %q must be a positive integer", r.PathValue("index"))
	}
	authority := false
	s.svc.View(func(reg *registry.Registry) {
		p := reg.Party(c.party)
		authority = p != nil && p.Role == registry.RoleAuthority
	})
	// An alerted party reads the entry that alerted it only if the
	// author's grant lets it see the whole intent (operational or full).
	mayRead := func(author registry.PartyID) bool {
		ok := false
		s.svc.View(func(reg *registry.Registry) { ok = s.policyFor(reg, c.party).mayReadContent(author) })
		return ok
	}
	content, err := s.svc.EntryContent(r.Context(), index, c.party, authority, mayRead)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, content)
	return nil
}

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	index, err := uintParam(r, "index")
	if err != nil {
		return err
	}
	size, err := uintParam(r, "size")
	if err != nil {
		return err
	}
	if index == 0 || index > size {
		return invalidf("need 1 <= index <= size, not index %d and size %d", index, size)
	}
	p, h, err := s.svc.InclusionProof(index, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, InclusionProof{Index: index, Size: size, LeafHash: h, Proof: p})
	return nil
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	old, err := uintParam(r, "old")
	if err != nil {
		return err
	}
	size, err := uintParam(r, "size")
	if err != nil {
		return err
	}
	if old > size {
		return invalidf("need old <= size, not old %d and size %d", old, size)
	}
	p, err := s.svc.ConsistencyProof(old, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ConsistencyProof{Old: old, Size: size, Proof: p})
	return nil
}

func (s *Server) cosign(w http.ResponseWriter, r *http.Request, c *call) error {
	var cr CosignRequest
	if err := decode(c.body, &cr); err != nil {
		return err
	}
	key, err := s.partyKey(string(c.party))
	if err != nil {
		return err
	}
	size, err := s.svc.AddCosignature(c.party, key, []byte(cr.Checkpoint))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, CosignResponse{Size: size})
	return nil
}

// noBody refuses a body on a GET.
func noBody(c *call) error {
	if len(c.body) > 0 {
		return invalidf("this request takes no body")
	}
	return nil
}
