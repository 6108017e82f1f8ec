package server

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
)

// viewGen makes random answers: every optional part present or not,
// strings with characters json escapes, numbers of every magnitude, times
// in several zones.
type viewGen struct{ r *rand.Rand }

func (g viewGen) str() string {
	pieces := []string{"a", "Z9", "-_.:", "é", "日本", "\n", `"`, `\`, "<", "&", "\x01", "\u2028", "— ", "🛩", "\xff"}
	var sb strings.Builder
	for range g.r.IntN(6) {
		sb.WriteString(pieces[g.r.IntN(len(pieces))])
	}
	return sb.String()
}

func (g viewGen) num() float64 {
	switch g.r.IntN(4) {
	case 0:
		return math.Round(g.r.Float64() * 1e5)
	case 1:
		return (g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(40)-20))
	}
	return g.r.NormFloat64() * 1000
}

func (g viewGen) time() time.Time {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -7*3600)}
	return time.Unix(g.r.Int64N(4e9), g.r.Int64N(3)*g.r.Int64N(1e9)).In(zones[g.r.IntN(len(zones))])
}

func (g viewGen) spec() geo.VolumeSpec {
	s := geo.VolumeSpec{AltLoM: geo.Meters(g.num()), AltHiM: geo.Meters(g.num()), Start: g.time(), End: g.time()}
	if g.r.IntN(2) == 0 {
		s.Circle = &geo.CircleSpec{Lat: geo.Degrees(g.num()), Lng: geo.Degrees(g.num()), RadiusM: geo.Meters(g.num())}
	}
	for range g.r.IntN(4) {
		s.Polygon = append(s.Polygon, [2]geo.Degrees{geo.Degrees(g.num()), geo.Degrees(g.num())})
	}
	return s
}

func (g viewGen) intent() IntentView {
	v := IntentView{ID: registry.IntentID(g.str()), Owner: registry.PartyID(g.str()), OVN: registry.OVN(g.str()), Level: g.str()}
	if g.r.IntN(2) == 0 {
		v.State = registry.State(g.str())
	}
	if g.r.IntN(2) == 0 {
		p := g.r.IntN(201) - 100
		v.Priority = &p
	}
	for range g.r.IntN(3) {
		v.Volumes = append(v.Volumes, g.spec())
	}
	for range g.r.IntN(3) {
		o := Overlap{CellLevel: g.r.IntN(31), AltLoM: geo.Meters(g.num()), AltHiM: geo.Meters(g.num()), Start: g.time(), End: g.time()}
		switch g.r.IntN(3) {
		case 0:
			o.Cells = []string{}
		case 1:
			for range 1 + g.r.IntN(5) {
				o.Cells = append(o.Cells, g.str())
			}
		}
		v.Overlaps = append(v.Overlaps, o)
	}
	if g.r.IntN(8) == 0 {
		v.Details = json.RawMessage(`{ "note": "<b>",  "n": [1, 2] }`)
	}
	if g.r.IntN(2) == 0 {
		c, u := g.time(), g.time()
		v.Created, v.Updated = &c, &u
	}
	for range g.r.IntN(3) {
		v.PreemptedBy = append(v.PreemptedBy, registry.IntentID(g.str()))
	}
	return v
}

func (g viewGen) hash() tlog.Hash {
	var h tlog.Hash
	for i := range h {
		h[i] = byte(g.r.IntN(256))
	}
	return h
}

func (g viewGen) filed() *FiledView {
	f := &FiledView{Intent: g.intent(), Entry: g.r.Uint64()}
	for range g.r.IntN(4) {
		f.Conflicts = append(f.Conflicts, g.intent())
	}
	if g.r.IntN(3) > 0 {
		rc := &ledger.Receipt{Index: g.r.Uint64(), Leaf: g.str(), LeafHash: g.hash(), Checkpoint: "deconflict\n" + g.str() + "\n\n— deconflict abc=\n"}
		switch g.r.IntN(3) {
		case 0:
			rc.Proof = []tlog.Hash{}
		case 1:
			for range 1 + g.r.IntN(5) {
				rc.Proof = append(rc.Proof, g.hash())
			}
		}
		f.Receipt = rc
	}
	return f
}

func (g viewGen) batch() *BatchResponse {
	r := &BatchResponse{}
	if g.r.IntN(8) == 0 {
		return r
	}
	r.Results = []BatchItem{}
	for range g.r.IntN(5) {
		if g.r.IntN(3) == 0 {
			r.Results = append(r.Results, BatchItem{Status: 409, Problem: &Problem{Type: g.str(), Title: g.str(), Status: 409, Intents: []IntentView{g.intent()}}})
		} else {
			r.Results = append(r.Results, BatchItem{Status: 201, Filed: g.filed()})
		}
	}
	return r
}

// damage returns b with a random change: cut short, a byte replaced by
// one that matters to JSON, or a byte doubled.
func damage(r *rand.Rand, b []byte) []byte {
	m := slices.Clone(b)
	k := r.IntN(len(m))
	switch r.IntN(3) {
	case 0:
		return m[:k]
	case 1:
		m[k] = `0123456789-.eE",:[]{}nul\ `[r.IntN(25)]
		return m
	}
	return slices.Insert(m, k, m[k])
}

// TestFiledViewJSON: AppendFiledView and AppendBatchResponse write exactly
// what json.Marshal writes; ReadFiledView and ReadBatchResponse read back
// exactly what json.Unmarshal decodes, take every answer without details,
// and on damaged answers decode the same as json.Unmarshal or decline.
func TestFiledViewJSON(t *testing.T) {
	g := viewGen{rand.New(rand.NewPCG(21, 21))}
	fast := 0
	for i := range 3000 {
		f := g.filed()
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := AppendFiledView(nil, f)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("answer %d: AppendFiledView (ok %v)\n%s\njson.Marshal\n%s", i, ok, got, want)
		}
		hasDetails := len(f.Intent.Details) > 0
		for _, c := range f.Conflicts {
			hasDetails = hasDetails || len(c.Details) > 0
		}
		got = append(got, '\n')
		if _, ok := ReadFiledView(got); ok {
			fast++
		} else if !hasDetails && validUTF8(got) {
			t.Fatalf("answer %d: ReadFiledView declined\n%s", i, got)
		}
		checkRead(t, got, func(b []byte) (any, bool) { return ReadFiledView(b) }, &FiledView{})
		for range 4 {
			checkRead(t, damage(g.r, got), func(b []byte) (any, bool) { return ReadFiledView(b) }, &FiledView{})
		}

		br := g.batch()
		want, err = json.Marshal(br)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := AppendBatchResponse(nil, br); !ok || !bytes.Equal(got, want) {
			t.Fatalf("batch %d: AppendBatchResponse (ok %v)\n%s\njson.Marshal\n%s", i, ok, got, want)
		}
		checkRead(t, want, func(b []byte) (any, bool) { return ReadBatchResponse(b) }, &BatchResponse{})
		for range 4 {
			checkRead(t, damage(g.r, want), func(b []byte) (any, bool) { return ReadBatchResponse(b) }, &BatchResponse{})
		}
	}
	if fast < 1500 {
		t.Fatalf("only %d of 3000 answers were read by ReadFiledView", fast)
	}
}

// validUTF8 reports whether b holds no invalid UTF-8 (json.Marshal writes
// \ufffd for it, which the readers leave to encoding/json).
func validUTF8(b []byte) bool { return !bytes.Contains(b, []byte(`\ufffd`)) }

// checkRead fails if read accepts b and json.Unmarshal into zero does not
// decode the same value.
func checkRead(t *testing.T, b []byte, read func([]byte) (any, bool), zero any) {
	t.Helper()
	got, ok := read(b)
	if !ok {
		return
	}
	if err := json.Unmarshal(b, zero); err != nil {
		t.Fatalf("read accepted what json.Unmarshal refuses (%v):\n%s", err, b)
	}
	if !reflect.DeepEqual(got, zero) {
		t.Fatalf("%s\nread           %+v\njson.Unmarshal %+v", b, got, zero)
	}
}

// FuzzReadFiledView: on any input ReadFiledView or ReadBatchResponse
// accepts, it decodes what json.Unmarshal decodes.
func FuzzReadFiledView(f *testing.F) {
	g := viewGen{rand.New(rand.NewPCG(22, 22))}
	for range 10 {
		b, _ := json.Marshal(g.filed())
		f.Add(b)
		b, _ = json.Marshal(g.batch())
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRead(t, b, func(b []byte) (any, bool) { return ReadFiledView(b) }, &FiledView{})
		checkRead(t, b, func(b []byte) (any, bool) { return ReadBatchResponse(b) }, &BatchResponse{})
	})
}

func (g viewGen) fileRequest() FileRequest {
	f := FileRequest{Priority: g.r.IntN(201) - 100}
	if g.r.IntN(2) == 0 {
		f.ID = g.str()
	}
	if g.r.IntN(2) == 0 {
		f.State = registry.State(g.str())
	}
	switch g.r.IntN(6) {
	case 0:
	case 1:
		f.Volumes = []geo.VolumeSpec{}
	default:
		for range 1 + g.r.IntN(4) {
			f.Volumes = append(f.Volumes, g.spec())
		}
	}
	for range g.r.IntN(3) {
		f.Key = append(f.Key, registry.OVN(g.str()))
	}
	if g.r.IntN(8) == 0 {
		f.Details = json.RawMessage(`{"a": "<x>"}`)
	}
	return f
}

// strictDecode decodes b as the server's decode does, into a zero T.
func strictDecode[T any](b []byte) (*T, error) {
	var v T
	return &v, decode(b, &v)
}

// checkStrictRead fails if read accepts b and decode does not decode the
// same value.
func checkStrictRead[T any](t *testing.T, b []byte, read func([]byte) (*T, bool)) {
	t.Helper()
	got, ok := read(b)
	if !ok {
		return
	}
	want, err := strictDecode[T](b)
	if err != nil {
		t.Fatalf("read accepted what decode refuses (%v):\n%s", err, b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s\nread   %+v\ndecode %+v", b, got, want)
	}
}

// TestFileRequestJSON: AppendFileRequest and AppendBatchRequest write
// json.Marshal's bytes; readFileRequest and readBatchRequest decode what
// the server's strict decode decodes, take every request without details,
// and on damaged requests decode the same as decode or decline.
func TestFileRequestJSON(t *testing.T) {
	g := viewGen{rand.New(rand.NewPCG(23, 23))}
	fast := 0
	for i := range 3000 {
		f := g.fileRequest()
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := AppendFileRequest(nil, &f); !ok || !bytes.Equal(got, want) {
			t.Fatalf("request %d: AppendFileRequest (ok %v)\n%s\njson.Marshal\n%s", i, ok, got, want)
		}
		if _, ok := readFileRequest(want); ok {
			fast++
		} else if len(f.Details) == 0 && validUTF8(want) {
			t.Fatalf("request %d: readFileRequest declined\n%s", i, want)
		}
		checkStrictRead(t, want, readFileRequest)
		for range 4 {
			checkStrictRead(t, damage(g.r, want), readFileRequest)
		}

		br := BatchRequest{}
		if g.r.IntN(8) > 0 {
			br.Intents = []FileRequest{}
			for range g.r.IntN(4) {
				br.Intents = append(br.Intents, g.fileRequest())
			}
		}
		want, err = json.Marshal(br)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := AppendBatchRequest(nil, &br); !ok || !bytes.Equal(got, want) {
			t.Fatalf("batch %d: AppendBatchRequest (ok %v)\n%s\njson.Marshal\n%s", i, ok, got, want)
		}
		checkStrictRead(t, want, readBatchRequest)
		for range 4 {
			checkStrictRead(t, damage(g.r, want), readBatchRequest)
		}
	}
	if fast < 1500 {
		t.Fatalf("only %d of 3000 requests were read by readFileRequest", fast)
	}
}

// FuzzReadFileRequest: on any input readFileRequest or readBatchRequest
// accepts, it decodes what the server's decode decodes.
func FuzzReadFileRequest(f *testing.F) {
	g := viewGen{rand.New(rand.NewPCG(24, 24))}
	for range 10 {
		fr := g.fileRequest()
		b, _ := json.Marshal(fr)
		f.Add(b)
		b, _ = json.Marshal(BatchRequest{Intents: []FileRequest{fr, g.fileRequest()}})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStrictRead(t, b, readFileRequest)
		checkStrictRead(t, b, readBatchRequest)
	})
}
