package service

import (
	"slices"
	"testing"

	"github.com/deconflict/deconflict/registry"
)

// TestContentReadersBatch: the alerted party of an entry that names only
// it and the author may read the entry's content, unless the entry comes
// from a batch: submitted with others, referring to an earlier entry's
// request, or sent to the batch route with any query.
func TestContentReadersBatch(t *testing.T) {
	e := registry.Entry{Index: 7, Party: "bravo", Kind: registry.KindFile, File: &registry.File{Intent: "b1"}}
	res := registry.Result{Alerts: []registry.Alert{{To: "alpha", Intent: "a1", By: "b1", ByParty: "bravo"}}}
	tests := []struct {
		name      string
		path      string
		requestAt uint64
		shared    bool
		want      []string
	}{
		{"single filing", "/v1/intents", 0, false, []string{"alpha"}},
		{"single filing with a query", "/v1/intents?overlaps=extent", 0, false, []string{"alpha"}},
		{"batch route", "/v1/intents/batch", 0, false, nil},
		{"batch route with a query", "/v1/intents/batch?overlaps=extent", 0, false, nil},
		{"submitted with others", "/v1/intents", 0, true, nil},
		{"later item of a batch", "/v1/intents/batch", 5, false, nil},
	}
	for _, tc := range tests {
		cmd := Command{Entry: e, Request: &Request{Method: "POST", Path: tc.path}}
		if got := contentReaders(e, res, cmd, tc.requestAt, tc.shared); !slices.Equal(got, tc.want) {
			t.Errorf("%s: readers %v, want %v", tc.name, got, tc.want)
		}
	}
}
