package service

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/deconflict/deconflict/ledger"
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

	volumes []byte // if not nil, the JSON of the command's volumes (see appendRecord)
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
	if b, ok := appendRecord(nil, r); ok {
		return b, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("service: encoding entry %d: %w", r.Entry.Index, err)
	}
	return b, nil
}

// DecodeStored decodes a record as the ledger stores it (a ledger.Entry
// whose content is the Record), after checking that its leaf names index
// and commits to its content. It returns the record and the leaf.
func DecodeStored(index uint64, data []byte) (*Record, ledger.Leaf, error) {
	e, err := ledger.UnmarshalEntry(data)
	if err != nil {
		return nil, ledger.Leaf{}, err
	}
	leaf, err := e.Open(index)
	if err != nil {
		return nil, ledger.Leaf{}, err
	}
	r, err := DecodeRecord(e.Content)
	if err != nil {
		return nil, ledger.Leaf{}, err
	}
	if r.Entry.Index != index || !r.Entry.Time.Equal(leaf.Time) || string(r.Entry.Kind) != leaf.Kind || string(r.Entry.Party) != leaf.Party {
		return nil, ledger.Leaf{}, fmt.Errorf("service: entry %d: the content does not match the leaf's metadata", index)
	}
	return r, leaf, nil
}

// DecodeRecord decodes one record's content (a ledger.Entry's Content),
// rejecting unknown fields and versions.
func DecodeRecord(b []byte) (*Record, error) {
	if r, ok := readRecord(b); ok {
		return r, nil
	}
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
