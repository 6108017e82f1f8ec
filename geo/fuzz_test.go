package geo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/google/go-cmp/cmp"
)

func decodeSpec(data []byte) (geo.VolumeSpec, error) {
	var s geo.VolumeSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&s)
	return s, err
}

var decodeSeeds = []string{
	`{"circle":{"lat":33.008642,"lng":38.590819,"radius_m":2288},"alt_lo_m":5244,"alt_hi_m":5671,"start":"2026-01-01T01:23:00Z","end":"2026-01-01T01:36:00Z"}`,
	`{"polygon":[[32.94,38.39],[32.93,38.38],[32.92,38.37]],"alt_lo_m":0,"alt_hi_m":100,"start":"2026-01-01T01:23:00Z","end":"2026-01-01T01:36:00Z"}`,
	`{"polygon":[[32.94,38.39],[32.92,38.37],[32.93,38.38]],"alt_lo_m":0,"alt_hi_m":100,"start":"2026-01-01T01:23:00Z","end":"2026-01-01T01:36:00Z"}`,
	`{"polygon":[[0,0],[0,1],[1,1],[1,0],[0,0]],"alt_lo_m":-10,"alt_hi_m":100,"start":"2026-01-01T01:23:00+02:00","end":"2026-01-01T01:36:00.000000001+02:00"}`,
	`{"polygon":[[-1,179.5],[-1,-179.5],[1,-179.5],[1,179.5]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-08T00:00:00Z"}`,
	`{"polygon":[[89,0],[89,90],[89,180],[89,-90]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":[[90,0],[89,0],[89,90]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"circle":{"lat":-90,"lng":180,"radius_m":500000},"alt_lo_m":-8000,"alt_hi_m":100000,"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:00.000000001Z"}`,
	`{"circle":{"lat":0,"lng":0,"radius_m":1},"polygon":[[0,0],[0,1],[1,0]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":[],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":null,"circle":null,"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":[[0,0],[1,1],[0,1],[1,0]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":[[0,0],[0,1],[0,1],[1,0]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":[[0,0],[0,5],[5,5],[5,0]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"circle":{"lat":91,"lng":0,"radius_m":10},"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"circle":{"lat":0,"lng":0,"radius_m":10},"alt_lo_m":1,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"circle":{"lat":0,"lng":0,"radius_m":10},"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}`,
	`{"circle":{"lat":0,"lng":0,"radius_m":10},"alt_lo_m":0,"alt_hi_m":1,"start":"2300-01-02T00:00:00Z","end":"2300-01-03T00:00:00Z"}`,
	`{"circle":{"lat":0,"lng":0,"radius_m":10},"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z"}`,
	`{"circle":{"lat":0,"lng":0,"radius_m":10},"extra":1}`,
	`{"circle":{"lat":1e400,"lng":0,"radius_m":10}}`,
	`{"polygon":[[1,2,3]]}`,
	`{"polygon":[[10,5],[12,5],[11,5]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`{"polygon":[[0,0],[0,1],[0,2]],"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`,
	`not json`,
	``,
}

// FuzzVolumeDecode decodes arbitrary bytes as a VolumeSpec and validates
// it: NewVolume must not panic, must refuse with a *FieldError wrapping
// ErrInvalid, or accept a volume whose Spec() survives a JSON round trip and
// re-validation unchanged.
func FuzzVolumeDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := decodeSpec(data)
		if err != nil {
			return
		}
		v, err := geo.NewVolume(spec, geo.Limits{})
		if err != nil {
			if v != nil {
				t.Errorf("NewVolume returned both a volume and error %v", err)
			}
			var fe *geo.FieldError
			if !errors.Is(err, geo.ErrInvalid) || !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("NewVolume error %#v is not a *FieldError wrapping ErrInvalid", err)
			}
			return
		}
		out := v.Spec()
		enc, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("Spec() %+v does not encode: %v", out, err)
		}
		spec2, err := decodeSpec(enc)
		if err != nil {
			t.Fatalf("Spec() encoding %s does not decode: %v", enc, err)
		}
		if diff := cmp.Diff(out, spec2); diff != "" {
			t.Fatalf("Spec() changes in a JSON round trip (-before +after):\n%s", diff)
		}
		v2, err := geo.NewVolume(spec2, geo.Limits{})
		if err != nil {
			t.Fatalf("input %s was accepted, but its Spec() %s is refused: %v", data, enc, err)
		}
		if diff := cmp.Diff(out, v2.Spec()); diff != "" {
			t.Fatalf("input %s: re-validating Spec() %s changes it (-first +second):\n%s", data, enc, diff)
		}
		if d := geo.Distance(v, v2); d != 0 {
			t.Fatalf("input %s: volume and its re-validated Spec() are %v m apart", data, d)
		}
		if a1, a2 := v.Area(), v2.Area(); math.IsNaN(a1) || math.Abs(a1-a2) > 1e-9*a1+1e-9 {
			t.Fatalf("input %s: area %v, after round trip %v", data, a1, a2)
		}
	})
}

// fuzzFootprint builds a circle (even kind) or a regular k-gon (odd kind)
// of circumradius size metres around (lat, lng).
func fuzzFootprint(kind uint8, lat, lng, size float64, k uint8, rot float64) geo.VolumeSpec {
	if kind%2 == 0 {
		return geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: geo.Degrees(lat), Lng: geo.Degrees(lng), RadiusM: geo.Meters(size)}}
	}
	n := 3 + int(k%30)
	c := vecFromDeg(lat, lng)
	e1, e2 := tangentBasis(c)
	r := size / earthR
	ring := make([][2]geo.Degrees, n)
	for i := range ring {
		th := rot + 2*math.Pi*float64(i)/float64(n)
		d := e1.scale(math.Cos(th)).add(e2.scale(math.Sin(th)))
		ring[i] = llFromVec(c.scale(math.Cos(r)).add(d.scale(math.Sin(r))))
	}
	if kind%4 == 3 {
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			ring[i], ring[j] = ring[j], ring[i]
		}
	}
	return geo.VolumeSpec{Polygon: ring}
}

// FuzzConflictSymmetric builds two volumes from fuzzed numbers and checks
// that Conflict and Distance do not depend on the order of the arguments,
// and that Distance agrees with the oracle.
func FuzzConflictSymmetric(f *testing.F) {
	type seed struct {
		kindA              uint8
		latA, lngA, sizeA  float64
		kA                 uint8
		rotA               float64
		kindB              uint8
		latB, lngB, sizeB  float64
		kB                 uint8
		rotB               float64
		startA, durA       int64
		startB, durB       int64
		loA, hiA, loB, hiB float64
		sepH, sepV         float64
		sepT               int64
	}
	seeds := []seed{
		{0, 0, 0, 1000, 0, 0, 0, 0, 1, 2000, 0, 0, 0, 60, 30, 60, 0, 100, 50, 150, 108195, 0, 0},
		{1, 0, 179.99, 500, 3, 0.3, 1, 0, -179.99, 500, 5, 1.1, 0, 60, 60, 60, 0, 100, 100, 200, 1000, 0, 0},
		{1, 89.99, 0, 800, 4, 0, 0, 89.99, 180, 300, 0, 0, 0, 10, 10, 10, 0, 100, 0, 100, 0, 0, 1},
		{3, -90, 0, 100000, 7, 0.1, 1, -89, 45, 5000, 2, 2, 0, 100, 50, 100, 0, 10, 5, 15, 50000, 5, 60},
		{1, 45, 45, 1, 0, 0, 3, 45, 45.00001, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0.5, 0, 0},
		{0, 0, 0, 1, 0, 0, 0, 0, 180, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 2e7, 0, 0},
		{1, 10, 10, 150000, 29, 0, 1, 10, 10, 10, 2, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0},
		{1, 60, -30, 20000, 2, 0.7, 1, 60.2, -30, 20000, 2, 0.7, 0, 5, 5, 5, 0, 1, 1, 2, 3000, 0, 0},
	}
	for _, s := range seeds {
		f.Add(s.kindA, s.latA, s.lngA, s.sizeA, s.kA, s.rotA,
			s.kindB, s.latB, s.lngB, s.sizeB, s.kB, s.rotB,
			s.startA, s.durA, s.startB, s.durB,
			s.loA, s.hiA, s.loB, s.hiB, s.sepH, s.sepV, s.sepT)
	}
	f.Fuzz(func(t *testing.T,
		kindA uint8, latA, lngA, sizeA float64, kA uint8, rotA float64,
		kindB uint8, latB, lngB, sizeB float64, kB uint8, rotB float64,
		startA, durA, startB, durB int64,
		loA, hiA, loB, hiB, sepH, sepV float64, sepT int64,
	) {
		mk := func(s geo.VolumeSpec, start, dur int64, lo, hi float64) (geo.VolumeSpec, *geo.Volume) {
			// Minutes on a small grid so windows often touch.
			s.Start = t0.Add(time.Duration(start%10_000) * time.Minute)
			s.End = s.Start.Add(time.Duration(dur%20_000) * time.Minute)
			s.AltLoM, s.AltHiM = geo.Meters(lo), geo.Meters(hi)
			v, err := geo.NewVolume(s, geo.Limits{})
			if err != nil {
				return s, nil
			}
			return s, v
		}
		sa, a := mk(fuzzFootprint(kindA, latA, lngA, sizeA, kA, rotA), startA, durA, loA, hiA)
		sb, b := mk(fuzzFootprint(kindB, latB, lngB, sizeB, kB, rotB), startB, durB, loB, hiB)
		if a == nil || b == nil {
			return
		}
		sep := geo.Separation{Horizontal: geo.Meters(sepH), Vertical: geo.Meters(sepV), Time: time.Duration(sepT)}
		if sep.Validate() != nil {
			return
		}
		dab, dba := float64(geo.Distance(a, b)), float64(geo.Distance(b, a))
		if math.IsNaN(dab) || math.IsNaN(dba) || dab < 0 || dba < 0 || math.Abs(dab-dba) > 1 {
			t.Fatalf("Distance(a, b) = %v, Distance(b, a) = %v\n a=%s\n b=%s", dab, dba, specJSON(sa), specJSON(sb))
		}
		if cab, cba := geo.Conflict(a, b, sep), geo.Conflict(b, a, sep); cab != cba {
			t.Fatalf("Conflict(a, b) = %v, Conflict(b, a) = %v (sep %+v, distance %v)\n a=%s\n b=%s", cab, cba, sep, dab, specJSON(sa), specJSON(sb))
		}
		if wab, wba := geo.Within(a, b, sep.Horizontal), geo.Within(b, a, sep.Horizontal); wab != wba && math.Abs(dab-sepH) > 1 {
			t.Fatalf("Within(a, b, %v) = %v, Within(b, a) = %v (distance %v)\n a=%s\n b=%s", sepH, wab, wba, dab, specJSON(sa), specJSON(sb))
		}
		if ta := geo.TimeAltOverlap(a, b, sep); ta != oracleTimeAlt(sa, sb, sep) || ta != geo.TimeAltOverlap(b, a, sep) {
			t.Fatalf("TimeAltOverlap = %v, want %v (sep %+v)\n a=%s\n b=%s", ta, oracleTimeAlt(sa, sb, sep), sep, specJSON(sa), specJSON(sb))
		}
		oa, okA := newOShape(sa)
		ob, okB := newOShape(sb)
		if !okA || !okB {
			return
		}
		if want, sure := oracleMeters(&oa, &ob); sure && math.Abs(dab-want) > 1 {
			t.Fatalf("Distance = %.4f m, oracle %.4f m\n a=%s\n b=%s", dab, want, specJSON(sa), specJSON(sb))
		}
	})
}
