package service

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
)

// TestAppendRecordMatchesMarshal: the hand-written encoding of file and
// update records is byte for byte json.Marshal's, for strings with every
// kind of character json escapes, optional fields present or not, and
// other kinds of records left to json.Marshal.
func TestAppendRecordMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	pieces := []string{"a", "Z9", "-_.:", `"`, `\`, "<", ">", "&", "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f", "é", "日本", "\u2028", "\u2029", "\xff", "\xe2\x80", "🛩"}
	str := func() string {
		var sb strings.Builder
		for range r.IntN(6) {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		return sb.String()
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vol := func() *geo.Volume {
		spec := geo.VolumeSpec{AltLoM: geo.Meters(r.IntN(1000)), AltHiM: 2000.5, Start: t0.Add(time.Duration(r.Int64N(1e15))), End: t0.Add(2e15)}
		if r.IntN(2) == 0 {
			spec.Circle = &geo.CircleSpec{Lat: geo.Degrees(r.Float64()*10 - 5), Lng: geo.Degrees(r.Float64()*360 - 180), RadiusM: geo.Meters(1 + r.Float64()*1e5)}
		} else {
			spec.Polygon = [][2]geo.Degrees{{1, 1}, {1.01, 1}, {1, 1.0001 + geo.Degrees(r.Float64())}}
		}
		v, err := geo.NewVolume(spec, geo.NoLimits)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	vols := func() []*geo.Volume {
		switch r.IntN(8) {
		case 0:
			return nil
		case 1:
			return []*geo.Volume{vol(), nil}
		}
		out := make([]*geo.Volume, 1+r.IntN(4))
		for i := range out {
			out[i] = vol()
		}
		return out
	}
	key := func() []registry.OVN {
		if r.IntN(2) == 0 {
			return nil
		}
		k := make([]registry.OVN, r.IntN(3))
		for i := range k {
			k[i] = registry.OVN(str())
		}
		return k
	}
	blob := func() []byte {
		if r.IntN(2) == 0 {
			return nil
		}
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	hand := 0
	for i := range 5000 {
		rec := &Record{Version: recordVersion, Entry: registry.Entry{Index: r.Uint64(), Time: t0.Add(time.Duration(r.Int64N(1e18))),
			Party: registry.PartyID(str()), Kind: registry.Kind(str())}}
		switch r.IntN(3) {
		case 0:
			rec.Entry.File = &registry.File{Intent: registry.IntentID(str()), NewOVN: registry.OVN(str()), Priority: r.IntN(201) - 100,
				State: registry.State(str()), Volumes: vols(), Key: key(), Details: blob()}
		case 1:
			rec.Entry.Update = &registry.Update{Intent: registry.IntentID(str()), OVN: registry.OVN(str()), NewOVN: registry.OVN(str()),
				Priority: r.IntN(101), State: registry.State(str()), Volumes: vols(), Key: key(), Details: blob()}
		case 2:
			rec.Entry.End = &registry.End{Intent: registry.IntentID(str())}
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
			rec.Request = &Request{Method: str(), Path: str(), Token: str(), Body: blob()}
		}
		if r.IntN(3) == 0 {
			rec.RequestAt, rec.Item = r.Uint64N(1000), r.IntN(5)
		}
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
