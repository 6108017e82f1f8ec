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

// checkString fails t unless AppendString writes s as json.Marshal does,
// after what b already holds.
func checkString(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("json.Marshal(%q): %v", s, err)
	}
	if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("AppendString(%q) = %s, json.Marshal writes %s", s, got[1:], want)
	}
}

// TestAppendStringMatchesMarshal compares AppendString with json.Marshal on
// every byte alone, at the start, middle and end of plain text, on every
// pair of a set of bytes that matter (escapes, UTF-8 lead and continuation
// bytes, U+2028's), and on random strings of those bytes.
func TestAppendStringMatchesMarshal(t *testing.T) {
	checkString(t, "")
	for c := range 256 {
		b := string([]byte{byte(c)})
		for _, s := range []string{b, b + "89c25a3", "89c25a3" + b, "ab" + b + "cd"} {
			checkString(t, s)
		}
	}
	set := []byte{'a', '0', ' ', '"', '\\', '<', '>', '&', '\b', '\f', '\n', '\r', '\t', 0, 0x1f, 0x7f,
		0x80, 0xbf, 0xc0, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0xff}
	for _, a := range set {
		for _, b := range set {
			checkString(t, string([]byte{a, b}))
			checkString(t, "id-"+string([]byte{a, b})+"-\u2028\u2029é")
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		p := make([]byte, rng.IntN(24))
		for i := range p {
			p[i] = set[rng.IntN(len(set))]
		}
		checkString(t, string(p))
	}
}

// FuzzAppendString: AppendString writes every string as json.Marshal does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "89c25a31", "p06", "a<b&c>", "é\u2028\u2029", "\xff\xfe", "tab\there", `q"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkString(t, s)
	})
}

func BenchmarkAppendString(b *testing.B) {
	vals := []string{"89c25a31", "3b5e2a1f4", "8f2b1d6e-5c4a-4f2e-9b1a-3c2d1e0f9a8b", "p06", "conflict", "a<b"}
	buf := make([]byte, 0, 64)
	for i := range b.N {
		buf = AppendString(buf[:0], vals[i%len(vals)])
	}
}
