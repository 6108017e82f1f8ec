package canonjson

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReaderMatchesUnmarshal: each of Reader's values, on literals it
// accepts, is what encoding/json decodes into a field of that type, on
// random literals made of the characters numbers, strings and times are
// made of (most of them not valid JSON).
func TestReaderMatchesUnmarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lit := func(alphabet string) string {
		var sb strings.Builder
		for range 1 + r.IntN(12) {
			sb.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return sb.String()
	}
	accepted := map[string]int{}
	check := func(kind, s string, read func(*Reader) any, zero any) {
		rd := NewReader([]byte(s))
		got := read(rd)
		if !rd.Done() {
			return
		}
		accepted[kind]++
		p := reflect.New(reflect.TypeOf(zero))
		if err := json.Unmarshal([]byte(s), p.Interface()); err != nil {
			t.Fatalf("%s %q: Reader accepted it, json: %v", kind, s, err)
		}
		if want := p.Elem().Interface(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q: Reader %#v, json %#v", kind, s, got, want)
		}
	}
	for range 200_000 {
		num := lit("0123456789-+.eE")
		if r.IntN(2) == 0 {
			num = "1" + lit("0123456789")
		}
		check("float", num, func(rd *Reader) any { return rd.Float() }, float64(0))
		check("int", num, func(rd *Reader) any { return rd.Int() }, int(0))
		check("uint", num, func(rd *Reader) any { return rd.Uint() }, uint64(0))
		str := `"` + lit("aZ9+/=é\\\"\x01") + `"`
		switch r.IntN(5) {
		case 4: // escapes, good and bad
			var sb strings.Builder
			for range r.IntN(5) {
				sb.WriteString([]string{`\n`, `\"`, `\\`, `\/`, `\t`, `\u00e9`, `\u2028`, `\ud83d`, `\ud83d\ude00`, `\x`, `\u12`, "a", "é"}[r.IntN(13)])
			}
			str = `"` + sb.String() + `"`
		case 0:
			str = `"` + lit("aZ9") + "\xff" + `"`
		case 1:
			str = `"` + base64.StdEncoding.EncodeToString([]byte(lit("abc\x00\xff"))) + `"`
		}
		check("string", str, func(rd *Reader) any { return rd.String() }, "")
		check("bytes", str, func(rd *Reader) any { return rd.Bytes() }, []byte(nil))
		arr := "[" + str
		for range r.IntN(4) {
			arr += []string{",", ", ", ""}[r.IntN(3)] + `"` + lit("a9Z\\\"é\x01") + `"`
		}
		arr += []string{"]", "]", "]", "", ",]", "]x"}[r.IntN(6)]
		check("strings", arr, func(rd *Reader) any { return rd.Strings() }, []string(nil))
		ts := `"2026-0` + lit("0123456789-:TZ.+") + `"`
		if r.IntN(2) == 0 {
			ts = `"` + time.Unix(r.Int64N(1e11), r.Int64N(1e9)).UTC().Format(time.RFC3339Nano) + `"`
		}
		check("time", ts, func(rd *Reader) any { return rd.Time() }, time.Time{})
		// Value finds the extent of a value inside an object: what
		// encoding/json decodes from it is the member's value.
		doc := `{"a":` + lit(`{}[]"1,:ab\`) + `,"b":2}`
		if r.IntN(2) == 0 {
			doc = `{"a":` + []string{`1`, `"x,}"`, `[1,{"y":"]"}]`, `{"z":[]}`, `null`, `"\""`}[r.IntN(6)] + `,"b":2}`
		}
		checkValue(t, doc, accepted)
	}
	for _, k := range []string{"float", "int", "uint", "string", "strings", "bytes", "time", "value"} {
		if accepted[k] < 1000 {
			t.Errorf("only %d %s literals accepted: the generator is broken", accepted[k], k)
		}
	}
}

// checkValue: if Value reads the member "a" of doc, encoding/json decodes
// the same from it as from doc.
func checkValue(t *testing.T, doc string, accepted map[string]int) {
	t.Helper()
	rd := NewReader([]byte(doc))
	rd.Lit(`{"a":`)
	v := rd.Value()
	rd.Lit(`,"b":2}`)
	if !rd.Done() {
		return
	}
	var whole struct{ A any }
	if err := json.Unmarshal([]byte(doc), &whole); err != nil {
		return // not JSON: Value need not notice, the decoding of v fails
	}
	var part any
	if err := json.Unmarshal(v, &part); err != nil || !reflect.DeepEqual(part, whole.A) {
		t.Fatalf("Value in %s = %s (%v), json has %v", doc, v, err, whole.A)
	}
	accepted["value"]++
}

// TestStringsInContext: Strings leaves the reader just past the array, on
// both of its paths (plain ASCII, and string by string), so what follows
// reads on (arrays as json.Marshal writes them, without spaces).
func TestStringsInContext(t *testing.T) {
	for _, arr := range []string{`["a"]`, `["a","bc",""]`, `["\n","x"]`, `["é"]`} {
		var want []string
		if err := json.Unmarshal([]byte(arr), &want); err != nil {
			t.Fatal(err)
		}
		rd := NewReader([]byte(`{"s":` + arr + `,"n":7}`))
		rd.Lit(`{"s":`)
		got := rd.Strings()
		rd.Lit(`,"n":`)
		n := rd.Int()
		rd.Lit("}")
		if !rd.Done() || n != 7 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read %q then %d (done %v); want %q then 7", arr, got, n, rd.Done(), want)
		}
	}
}

// TestFloatMatchesParseFloat: Float reads decimals (coordinates, metres)
// to exactly the bits strconv.ParseFloat gives, on both of its paths: the
// exact division for up to 16 digits, and ParseFloat for the rest.
func TestFloatMatchesParseFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	digits := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(byte('0' + r.IntN(10)))
		}
		return sb.String()
	}
	fast := 0
	const n = 300_000
	for i := range n {
		lit := digits(1 + r.IntN(17))
		if len(lit) > 1 && lit[0] == '0' {
			lit = lit[1:] // JSON has no leading zeros
			if lit[0] == '0' {
				lit = "0"
			}
		}
		if r.IntN(4) > 0 {
			lit += "." + strings.Repeat("0", r.IntN(4)) + digits(1+r.IntN(22))
		}
		if i%7 == 0 { // 2^53 and its neighbours, 17 digits, zeros
			lit = []string{"9007199254740992", "9007199254740993", "9007199254740991", "0.9007199254740993", "1.0000000000000000000001", "0", "0.0"}[r.IntN(7)]
		}
		if r.IntN(2) == 0 {
			lit = "-" + lit
		}
		want, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		rd := NewReader([]byte(lit))
		got := rd.Float()
		if !rd.Done() || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("Float(%s) = %v (%#x), ParseFloat %v (%#x)", lit, got, math.Float64bits(got), want, math.Float64bits(want))
		}
		if _, ok := exactDecimal([]byte(lit)); ok {
			fast++
		}
	}
	if fast < n/4 || fast > n*3/4 {
		t.Fatalf("%d of %d literals on the exact path: the generator does not test both paths", fast, n)
	}
}
