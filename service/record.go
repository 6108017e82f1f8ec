package service

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/deconflict/deconflict/registry"
)

// recordVersion is the version of the encoding of log records.
const recordVersion = 1

// Record is what the log holds for each entry: the entry as the sequencer
// made it (index, time, kind, party and the command with the ids and OVNs
// it assigned), and the exact request the party signed, so that no party
// can later deny a change it asked for and nobody can forge one.
type Record struct {
	Version int            `json:"v"`
	Entry   registry.Entry `json:"entry"`
	Request *Request       `json:"request,omitempty"` // nil for entries made by the operator (init)
	// For the second and later items of a batch request: the entry whose
	// Request holds the signed batch, and this entry's position in it.
	RequestAt uint64 `json:"request_at,omitempty"`
	Item      int    `json:"item,omitempty"`
}

// Request is a signed request as received: the bearer token and the body
// whose SHA-256 the token carries.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Token  string `json:"token"`
	Body   []byte `json:"body,omitempty"`
}

func encodeRecord(r *Record) ([]byte, error) {
	r.Version = recordVersion
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("service: encoding entry %d: %w", r.Entry.Index, err)
	}
	return b, nil
}

// DecodeRecord decodes one log record, rejecting unknown fields and
// versions.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("service: decoding record: %w", err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("service: record version %d, want %d", r.Version, recordVersion)
	}
	return &r, nil
}
