package canonjson

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// checkFloat fails t unless AppendFloat writes f as json.Marshal does.
func checkFloat(t *testing.T, f float64) {
	t.Helper()
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return // json.Marshal refuses them; so do AppendFloat's callers
	}
	want, err := json.Marshal(f)
	if err != nil {
		t.Fatalf("json.Marshal(%v): %v", f, err)
	}
	if got := AppendFloat(nil, f); string(got) != string(want) {
		t.Fatalf("AppendFloat(%v) = %s, json.Marshal writes %s", f, got, want)
	}
}

// TestAppendFloatMatchesMarshal compares AppendFloat with json.Marshal on
// the numbers its fast path takes (millionths, whole numbers), on their
// neighbours one ulp away (which it must leave to strconv), and on the
// edges of its range and of the exponent form.
func TestAppendFloatMatchesMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	edges := []float64{0, math.Copysign(0, -1), 1, -1, 1e-6, -1e-6, 9.99999e-7, 1.5e-6, 0.1, 0.3, 1e6, 1e20, 1e21,
		1<<32 - 1e-6, 1 << 32, -(1 << 32), 1<<32 + 1, 1<<31 + 0.5, 4294967295.999999, 123456789.123456,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, 1<<53 + 2}
	for _, f := range edges {
		checkFloat(t, f)
		checkFloat(t, math.Nextafter(f, math.Inf(1)))
		checkFloat(t, math.Nextafter(f, math.Inf(-1)))
	}
	for range 200_000 {
		var f float64
		switch rng.IntN(5) {
		case 0: // a coordinate with six decimals
			f = float64(rng.Int64N(360_000_001)-180_000_000) / 1e6
		case 1: // a whole number of metres
			f = float64(rng.Int64N(2_000_001) - 1_000_000)
		case 2: // millionths anywhere in the fast path's range and beyond
			f = float64(rng.Int64N(1<<53)-1<<52) / 1e6
		case 3: // fewer decimals
			f = float64(rng.Int64N(2_000_001)-1_000_000) / math.Pow10(rng.IntN(7))
		default: // any double of a random magnitude
			f = (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(50)-25))
		}
		checkFloat(t, f)
		checkFloat(t, math.Nextafter(f, math.Inf(1)))
	}
}

// FuzzAppendFloat: AppendFloat writes every finite double as json.Marshal
// does.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 1e-6, 33.008642, -179.999999, 4294967295.999999, 1 << 32, 15000} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		checkFloat(t, v)
	})
}

func BenchmarkAppendFloat(b *testing.B) {
	vals := []float64{33.008642, 38.590819, -12.5, 3762, 0.000123, 179.999999}
	buf := make([]byte, 0, 64)
	for i := range b.N {
		buf = AppendFloat(buf[:0], vals[i%len(vals)])
	}
}
