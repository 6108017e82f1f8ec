package auth

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary tokens and bodies to Verify: it must never
// panic, must refuse with a *TokenError that wraps ErrUnauthenticated and
// does not quote the token, and may accept only once.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"intent":"i-1"}`)
	good := mustSign(f, "alice", body, t0(), time.Minute)
	for _, s := range []struct {
		token string
		body  []byte
	}{
		{good, body},
		{good, nil},
		{mustSign(f, "bob", nil, t0(), time.Minute), nil},
		{signedClaims(map[string]any{"aud": []string{testAudience}, "nbf": 1.5}), nil},
		{craft(`{"alg":"none"}`, claimsJSON(nil), nil), nil},
		{craft(`{"alg":"HS256"}`, claimsJSON(nil), hmacSigner("alice")), nil},
		{craft(`{"alg":"EdDSA","alg":"EdDSA"}`, claimsJSON(nil), edSigner("alice")), nil},
		{"", nil},
		{"..", nil},
		{"a.b.c", []byte("x")},
		{good + "\n", body},
	} {
		f.Add(s.token, s.body)
	}
	f.Fuzz(func(t *testing.T, token string, body []byte) {
		v := newTestVerifier(t, nil)
		party, err := v.Verify(token, body, t0())
		if err != nil {
			checkRefusal(t, err, token, "")
			return
		}
		if party != "alice" && party != "bob" {
			t.Fatalf("accepted party %q", party)
		}
		_, err = v.Verify(token, body, t0())
		checkRefusal(t, err, token, "token replayed")
	})
}

// FuzzVerifySigned signs arbitrary headers and claims with alice's key, so
// that the checks after the signature are reached, and compares every
// acceptance with a plain reading of the specification.
func FuzzVerifySigned(f *testing.F) {
	unix := t0().Unix()
	body := []byte("body")
	for _, s := range []struct {
		header, claims string
		body           []byte
	}{
		{edHeader, claimsJSON(nil), nil},
		{edHeader, claimsJSON(map[string]any{"bsh": bodyHash(body)}), body},
		{`{"alg":"EdDSA"}`, claimsJSON(map[string]any{"aud": []string{testAudience}, "iat": unix - 240, "exp": unix + 60}), nil},
		{edHeader, claimsJSON(map[string]any{"iat": float64(unix) + 0.25, "exp": float64(unix) + 300.25, "nbf": unix + 30}), nil},
		{edHeader, `{"iss":"alice","aud":"deconflict.test","iat":1772366400,"exp":1772366460,"jti":"j","iss":"bob"}`, nil},
		{`{"alg":"EdDSA","crit":[]}`, claimsJSON(nil), nil},
	} {
		f.Add(s.header, s.claims, s.body)
	}
	f.Fuzz(func(t *testing.T, header, claims string, body []byte) {
		token := craft(header, claims, edSigner("alice"))
		v := newTestVerifier(t, nil)
		party, err := v.Verify(token, body, t0())
		if err != nil {
			checkRefusal(t, err, token, "")
			return
		}
		if party != "alice" {
			t.Fatalf("accepted party %q", party)
		}
		if msg := specRefusal(header, claims, body, t0()); msg != "" {
			t.Fatalf("accepted a token that the specification refuses: %s\nheader %s\nclaims %s", msg, header, claims)
		}
		_, err = v.Verify(token, body, t0())
		checkRefusal(t, err, token, "token replayed")
	})
}

// specRefusal checks an accepted token against the package documentation,
// read as plainly as possible, with the default configuration. It returns
// why the token should have been refused, or "".
func specRefusal(header, claims string, body []byte, now time.Time) string {
	var h map[string]any
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		return "header is not a JSON object"
	}
	if h["alg"] != "EdDSA" {
		return "alg is not EdDSA"
	}
	if typ, ok := h["typ"]; ok && typ != "JWT" {
		return "typ is not JWT"
	}
	if _, ok := h["crit"]; ok {
		return "crit present"
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(claims), &c); err != nil {
		return "claims are not a JSON object"
	}
	if c["iss"] != "alice" {
		return "iss is not alice"
	}
	switch aud := c["aud"].(type) {
	case string:
		if aud != testAudience {
			return "wrong aud"
		}
	case []any:
		if len(aud) != 1 || aud[0] != testAudience {
			return "wrong aud array"
		}
	default:
		return "aud missing or of the wrong type"
	}
	iat, ok1 := c["iat"].(float64)
	exp, ok2 := c["exp"].(float64)
	if !ok1 || !ok2 {
		return "iat or exp missing or not a number"
	}
	t := float64(now.Unix())
	L, T := DefaultLeeway.Seconds(), DefaultMaxTTL.Seconds()
	switch {
	case iat < 0 || exp < 0 || iat > maxNumericDate || exp > maxNumericDate:
		return "date out of range"
	case !(t < exp+L):
		return "expired"
	case exp > t+T+L:
		return "exp too far"
	case iat > t+L:
		return "iat in the future"
	case !(iat < exp) || exp-iat > T:
		return "bad lifetime"
	}
	if nbf, ok := c["nbf"]; ok {
		if n, ok := nbf.(float64); !ok || n > t+L || n < 0 || n > maxNumericDate {
			return "bad nbf"
		}
	}
	if jti, ok := c["jti"].(string); !ok || jti == "" || len(jti) > MaxJTILen {
		return "bad jti"
	}
	bsh, has := c["bsh"]
	switch {
	case len(body) > 0 && bsh != bodyHash(body):
		return "bsh does not match the body"
	case len(body) == 0 && has && bsh != bodyHash(nil):
		return "bsh present for an empty body"
	}
	return ""
}
