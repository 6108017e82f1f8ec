package geo

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/deconflict/deconflict/internal/canonjson"
)

// TestAppendJSONMatchesMarshal: AppendJSON writes exactly what
// json.Marshal writes for the volume's spec, for circles and polygons,
// numbers of every magnitude and times of every precision and zone.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	num := func(lo, hi float64) float64 {
		switch r.IntN(5) {
		case 0:
			return math.Round(lo + r.Float64()*(hi-lo))
		case 1:
			return lo + (hi-lo)*math.Pow(10, -float64(r.IntN(12)))
		}
		return lo + r.Float64()*(hi-lo)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("x", 3*3600+1800), time.FixedZone("y", -7*3600)}
	n := 0
	for range 20_000 {
		start := time.Unix(int64(num(0, 7e9)), int64(r.IntN(3))*int64(r.IntN(1e9))).In(zones[r.IntN(len(zones))])
		spec := VolumeSpec{AltLoM: Meters(num(-8000, 1000)), Start: start, End: start.Add(time.Duration(1 + r.Int64N(int64(DefaultMaxDuration))))}
		spec.AltHiM = spec.AltLoM + Meters(num(1e-7, 90000))
		lat, lng := num(-89.9, 89.9), num(-180, 180)
		if r.IntN(4) == 0 { // exponent forms: below 1e-6
			lat, lng = (r.Float64()-0.5)*math.Pow(10, -float64(5+r.IntN(20))), -r.Float64()*1e-7
		}
		if r.IntN(2) == 0 {
			spec.Circle = &CircleSpec{Lat: Degrees(lat), Lng: Degrees(lng), RadiusM: Meters(num(1, 500_000))}
		} else {
			d := num(1e-5, 1)
			spec.Polygon = [][2]Degrees{{Degrees(lat), Degrees(lng)}, {Degrees(lat + d), Degrees(lng)}, {Degrees(lat), Degrees(math.Mod(lng+d+180, 360) - 180)}}
		}
		v, err := NewVolume(spec, NoLimits)
		if err != nil {
			continue
		}
		want, err := json.Marshal(v.Spec())
		if err != nil {
			t.Fatal(err)
		}
		got := v.AppendJSON(nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON\n%s\njson.Marshal\n%s", got, want)
		}
		// And ReadVolumeSpec reads it back as encoding/json does.
		var spec2 VolumeSpec
		if err := json.Unmarshal(got, &spec2); err != nil {
			t.Fatal(err)
		}
		r := canonjson.NewReader(got)
		if back := ReadVolumeSpec(r); !r.Done() || !reflect.DeepEqual(back, spec2) {
			t.Fatalf("ReadVolumeSpec(%s) = %+v (ok %v), json %+v", got, back, r.Done(), spec2)
		}
		n++
	}
	if n < 10_000 {
		t.Fatalf("only %d volumes were valid: the generator is broken", n)
	}
}
