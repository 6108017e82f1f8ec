package service

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
)

// recordGen makes random records of every kind the tests need: file and
// update records (with optional fields present or not, strings with every
// character json escapes when !clean) and others left to json.Marshal.
type recordGen struct {
	t     *testing.T
	r     *rand.Rand
	clean bool // strings without characters json escapes
}

func (g *recordGen) str() string {
	pieces := []string{"a", "Z9", "-_.:", "é", "日本", "🛩", `"`, `\`, "<", ">", "&", "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\xff", "\xe2\x80"}
	if g.clean {
		pieces = pieces[:6]
	}
	var sb strings.Builder
	for range g.r.IntN(6) {
		sb.WriteString(pieces[g.r.IntN(len(pieces))])
	}
	return sb.String()
}

func (g *recordGen) vol() *geo.Volume {
	r := g.r
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	spec := geo.VolumeSpec{AltLoM: geo.Meters(r.IntN(1000)), AltHiM: 2000.5, Start: t0.Add(time.Duration(r.Int64N(1e15))), End: t0.Add(2e15)}
	if r.IntN(2) == 0 {
		spec.Circle = &geo.CircleSpec{Lat: geo.Degrees(r.Float64()*10 - 5), Lng: geo.Degrees(r.Float64()*360 - 180), RadiusM: geo.Meters(1 + r.Float64()*1e5)}
	} else {
		spec.Polygon = [][2]geo.Degrees{{1, 1}, {1.01, 1}, {1, 1.0001 + geo.Degrees(r.Float64())}}
	}
	v, err := geo.NewVolume(spec, geo.NoLimits)
	if err != nil {
		g.t.Fatal(err)
	}
	return v
}

func (g *recordGen) vols() []*geo.Volume {
	switch g.r.IntN(8) {
	case 0:
		return nil
	case 1:
		return []*geo.Volume{g.vol(), nil}
	case 2:
		return []*geo.Volume{}
	}
	out := make([]*geo.Volume, 1+g.r.IntN(4))
	for i := range out {
		out[i] = g.vol()
	}
	return out
}

func (g *recordGen) key() []registry.OVN {
	if g.r.IntN(2) == 0 {
		return nil
	}
	k := make([]registry.OVN, g.r.IntN(3))
	for i := range k {
		k[i] = registry.OVN(g.str())
	}
	return k
}

func (g *recordGen) blob() []byte {
	if g.r.IntN(2) == 0 {
		return nil
	}
	b := make([]byte, g.r.IntN(40))
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func (g *recordGen) record() *Record {
	r := g.r
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &Record{Version: recordVersion, Entry: registry.Entry{Index: r.Uint64(), Time: t0.Add(time.Duration(r.Int64N(1e18))),
		Party: registry.PartyID(g.str()), Kind: registry.Kind(g.str())}}
	switch r.IntN(3) {
	case 0:
		rec.Entry.File = &registry.File{Intent: registry.IntentID(g.str()), NewOVN: registry.OVN(g.str()), Priority: r.IntN(201) - 100,
			State: registry.State(g.str()), Volumes: g.vols(), Key: g.key(), Details: g.blob()}
	case 1:
		rec.Entry.Update = &registry.Update{Intent: registry.IntentID(g.str()), OVN: registry.OVN(g.str()), NewOVN: registry.OVN(g.str()),
			Priority: r.IntN(101), State: registry.State(g.str()), Volumes: g.vols(), Key: g.key(), Details: g.blob()}
	case 2:
		rec.Entry.End = &registry.End{Intent: registry.IntentID(g.str())}
	}
	if r.IntN(2) == 0 { // the volumes encoded by the submitter, as Submit does
		switch e := &rec.Entry; {
		case e.File != nil:
			rec.volumes = newPending(Command{Entry: *e}).volumes
		case e.Update != nil:
			rec.volumes = newPending(Command{Entry: *e}).volumes
		}
	}
	if r.IntN(2) == 0 {
		rec.Request = &Request{Method: g.str(), Path: g.str(), Token: g.str(), Body: g.blob()}
	}
	if r.IntN(3) == 0 {
		rec.RequestAt, rec.Item = r.Uint64N(1000), r.IntN(5)
	}
	return rec
}

// TestAppendRecordMatchesMarshal: the hand-written encoding of file and
// update records is byte for byte json.Marshal's, for strings with every
// kind of character json escapes, optional fields present or not, and
// other kinds of records left to json.Marshal.
func TestAppendRecordMatchesMarshal(t *testing.T) {
	g := &recordGen{t: t, r: rand.New(rand.NewPCG(13, 13))}
	hand := 0
	for i := range 5000 {
		rec := g.record()
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("record %d:\nencodeRecord %s\njson.Marshal %s", i, got, want)
		}
		if _, ok := appendRecord(nil, rec); ok {
			hand++
		}
	}
	if hand < 3000 {
		t.Fatalf("only %d records took the hand-written path", hand)
	}
}

// jsonRecord decodes b as DecodeRecord does when readRecord declines.
func jsonRecord(b []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&r)
	return &r, err
}

// TestReadRecordMatchesUnmarshal: what readRecord decodes is exactly what
// encoding/json decodes, on random records; it takes every file and update
// record whose strings json writes without escapes, and declines the
// others and every record cut short or with a byte changed where json
// would decode it differently or not at all.
func TestReadRecordMatchesUnmarshal(t *testing.T) {
	g := &recordGen{t: t, r: rand.New(rand.NewPCG(14, 14))}
	fast, mutants := 0, 0
	for i := range 5000 {
		g.clean = i%2 == 0
		rec := g.record()
		b, err := encodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := jsonRecord(b)
		if err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, b)
		}
		_, hand := appendRecord(nil, rec)
		hasNil := false
		for _, vs := range [][]*geo.Volume{fileVols(rec), updateVols(rec)} {
			hasNil = hasNil || slices.Contains(vs, nil)
		}
		got, ok := readRecord(b)
		switch {
		case ok && !reflect.DeepEqual(got, want):
			t.Fatalf("record %d %s:\nreadRecord %+v\njson       %+v", i, b, got, want)
		case !ok && g.clean && hand && !hasNil:
			t.Fatalf("record %d: readRecord declined a record in its layout:\n%s", i, b)
		}
		if ok {
			fast++
		}
		// Damaged copies: whatever readRecord accepts, json decodes the same.
		for range 4 {
			m := slices.Clone(b)
			switch g.r.IntN(3) {
			case 0:
				m = m[:g.r.IntN(len(m))]
			case 1:
				m[g.r.IntN(len(m))] = "0123456789-.eE\",:[]{}tnx\\ "[g.r.IntN(26)]
			case 2:
				k := g.r.IntN(len(m))
				m = slices.Insert(m, k, m[k])
			}
			checkReadRecord(t, m)
			mutants++
		}
	}
	if fast < 1500 {
		t.Fatalf("only %d of 5000 records took the fast path", fast)
	}
}

func fileVols(r *Record) []*geo.Volume {
	if r.Entry.File != nil {
		return r.Entry.File.Volumes
	}
	return nil
}

func updateVols(r *Record) []*geo.Volume {
	if r.Entry.Update != nil {
		return r.Entry.Update.Volumes
	}
	return nil
}

// checkReadRecord fails if readRecord accepts b and encoding/json does not
// decode b to the same record.
func checkReadRecord(t *testing.T, b []byte) {
	t.Helper()
	got, ok := readRecord(b)
	if !ok {
		return
	}
	want, err := jsonRecord(b)
	if err != nil {
		t.Fatalf("readRecord accepted what encoding/json refuses (%v):\n%s", err, b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\nreadRecord %+v\njson       %+v", b, got, want)
	}
}

// FuzzReadRecord: on any input readRecord accepts, it decodes what
// encoding/json decodes.
func FuzzReadRecord(f *testing.F) {
	g := &recordGen{t: &testing.T{}, r: rand.New(rand.NewPCG(15, 15)), clean: true}
	for range 20 {
		if b, err := encodeRecord(g.record()); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkReadRecord(t, b) })
}
