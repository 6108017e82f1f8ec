package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// claims are the registered claims of a token, as Verify reads them.
type claims struct {
	iss    string
	aud    []string // a single string is a one-element list
	iat    time.Time
	exp    time.Time
	nbf    time.Time
	hasNBF bool
	jti    string
	bsh    string
	hasBSH bool
}

// splitToken returns the header and payload segments of a compact token
// that the jwt parser has already split into exactly three parts.
func splitToken(token string) (header, payload string) {
	header, rest, _ := strings.Cut(token, ".")
	payload, _, _ = strings.Cut(rest, ".")
	return header, payload
}

// checkHeader checks the JOSE header: alg must be "EdDSA", typ absent or
// "JWT", crit absent.
func checkHeader(seg string) error {
	m, err := decodeSegmentObject(seg)
	if err != nil {
		return refuse("malformed header: " + err.Error())
	}
	alg, ok, err := stringMember(m, "alg")
	if err != nil || !ok || alg != "EdDSA" {
		return refuse("algorithm not allowed")
	}
	if typ, ok, err := stringMember(m, "typ"); err != nil || ok && typ != "JWT" {
		return refuse("bad typ header")
	}
	if _, ok := m["crit"]; ok {
		return refuse("unsupported crit header")
	}
	return nil
}

// signedHeader is the header segment of the tokens Sign makes,
// {"alg":"EdDSA","typ":"JWT"}: checkHeader passes it.
const signedHeader = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9"

// parseClaims decodes and type-checks the claims segment. It checks the
// form of each claim Verify uses, not its value.
func parseClaims(seg string) (claims, error) {
	b, err := decodeSegment(seg)
	if err != nil {
		return claims{}, refuse("malformed claims: bad base64url")
	}
	return parseClaimsJSON(b)
}

// parseClaimsJSON is parseClaims of the decoded segment.
func parseClaimsJSON(b []byte) (claims, error) {
	var c claims
	m, err := decodeObject(b)
	if err != nil {
		return c, refuse("malformed claims: " + err.Error())
	}
	var ok bool
	if c.iss, ok, err = stringMember(m, "iss"); err != nil || ok && c.iss == "" {
		return c, refuse("bad iss claim")
	} else if !ok {
		return c, refuse("missing iss claim")
	}
	if c.aud, ok, err = audienceMember(m); err != nil {
		return c, refuse("bad aud claim")
	} else if !ok {
		return c, refuse("missing aud claim")
	}
	for _, d := range []struct {
		name string
		t    *time.Time
		ok   *bool
	}{{"iat", &c.iat, nil}, {"exp", &c.exp, nil}, {"nbf", &c.nbf, &c.hasNBF}} {
		t, ok, err := dateMember(m, d.name)
		if err != nil {
			return c, refuse("bad " + d.name + " claim")
		}
		if !ok && d.ok == nil {
			return c, refuse("missing " + d.name + " claim")
		}
		*d.t = t
		if d.ok != nil {
			*d.ok = ok
		}
	}
	if c.jti, ok, err = stringMember(m, "jti"); err != nil || ok && (c.jti == "" || len(c.jti) > MaxJTILen) {
		return c, refuse("bad jti claim")
	} else if !ok {
		return c, refuse("missing jti claim")
	}
	if c.bsh, c.hasBSH, err = stringMember(m, "bsh"); err != nil {
		return c, refuse("bad bsh claim")
	}
	return c, nil
}

// decodeSegmentObject decodes a base64url segment holding one JSON object.
func decodeSegmentObject(seg string) (map[string]json.RawMessage, error) {
	b, err := decodeSegment(seg)
	if err != nil {
		return nil, errors.New("bad base64url")
	}
	return decodeObject(b)
}

// decodeObject decodes one JSON object into its members. It refuses
// invalid UTF-8, duplicate member names and anything after the object, so
// that every reader of a signed token sees the same claims.
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return nil, errors.New("not JSON")
	} else if tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not JSON")
		}
		name, _ := tok.(string) // Token returns object keys as strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not JSON")
		}
		if _, dup := m[name]; dup {
			return nil, errors.New("duplicate member name")
		}
		m[name] = bytes.TrimSpace(v)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, errors.New("not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}

var errType = errors.New("wrong JSON type")

// stringMember returns the member name of m, which must be a JSON string
// if present.
func stringMember(m map[string]json.RawMessage, name string) (s string, ok bool, err error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", true, errType
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, err
	}
	return s, true, nil
}

// audienceMember returns the aud member: a JSON string, or an array of
// JSON strings.
func audienceMember(m map[string]json.RawMessage) (aud []string, ok bool, err error) {
	raw, ok := m["aud"]
	if !ok {
		return nil, false, nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		s, _, err := stringMember(m, "aud")
		return []string{s}, true, err
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, true, errType
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, true, err
	}
	for _, e := range elems {
		if len(e) == 0 || e[0] != '"' {
			return nil, true, errType
		}
		var s string
		if err := json.Unmarshal(e, &s); err != nil {
			return nil, true, err
		}
		aud = append(aud, s)
	}
	return aud, true, nil
}

// dateMember returns the member name of m, which must be a NumericDate if
// present: a JSON number of seconds since 1970-01-01T00:00:00Z, integer or
// not, in [0, maxNumericDate].
func dateMember(m map[string]json.RawMessage, name string) (t time.Time, ok bool, err error) {
	raw, ok := m[name]
	if !ok {
		return time.Time{}, false, nil
	}
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return time.Time{}, true, errType
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || !(f >= 0 && f <= maxNumericDate) {
		return time.Time{}, true, errors.New("date out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}
