package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	now := t0()
	unix := now.Unix()
	body := []byte(`{"intent":"i-1","volumes":[]}`)
	emptyHash := bodyHash(nil)
	long := strings.Repeat("x", MaxJTILen+1)

	tests := []struct {
		name   string
		token  string
		body   []byte
		now    time.Time // zero: t0
		cfg    func(*VerifierConfig)
		want   string // the reason; "" for success
		cause  error  // if set, the error must wrap it
		verify func(t *testing.T, party string)
	}{
		// Accepted.
		{name: "signed, no body", token: mustSign(t, "alice", nil, now, time.Minute)},
		{name: "signed, with body", token: mustSign(t, "bob", body, now, time.Minute), body: body},
		{name: "signed, longest ttl", token: mustSign(t, "alice", nil, now, DefaultMaxTTL)},
		{name: "aud as one-element array", token: signedClaims(map[string]any{"aud": []string{testAudience}})},
		{name: "unknown claims", token: signedClaims(map[string]any{"sub": "x", "scope": []int{1}, "ISS": "bob"})},
		{name: "typ absent, kid ignored", token: craft(`{"alg":"EdDSA","kid":"other"}`, claimsJSON(nil), edSigner("alice"))},
		{name: "fractional dates", token: signedClaims(map[string]any{"iat": float64(unix) + 0.5, "exp": float64(unix) + 60.25})},
		{name: "signer clock ahead by leeway", token: signedClaims(map[string]any{"iat": unix + 30, "exp": unix + 90})},
		{name: "just before exp plus leeway", token: signedClaims(nil), now: now.Add(89*time.Second + 999*time.Millisecond)},
		{name: "nbf in the past", token: signedClaims(map[string]any{"nbf": unix - 10})},
		{name: "empty body, hash of nothing", token: signedClaims(map[string]any{"bsh": emptyHash})},
		{name: "custom leeway", token: signedClaims(nil), now: now.Add(61 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = 2 * time.Second }},

		// Identity and signature.
		{name: "signed by another key", token: craft(edHeader, claimsJSON(nil), edSigner("bob")), want: "bad signature"},
		{name: "signature of other claims", token: func() string {
			a := strings.Split(signedClaims(nil), ".")
			b := strings.Split(signedClaims(map[string]any{"jti": "other"}), ".")
			return a[0] + "." + a[1] + "." + b[2]
		}(), want: "bad signature"},
		{name: "empty signature", token: craft(edHeader, claimsJSON(nil), nil), want: "bad signature"},
		{name: "unknown party", token: craft(edHeader, claimsJSON(map[string]any{"iss": "mallory"}), edSigner("alice")), want: "unknown party", cause: errUnknownParty},
		{name: "revoked party", token: craft(edHeader, claimsJSON(map[string]any{"iss": "carol"}), edSigner("carol")), want: "unknown party", cause: errRevoked},
		{name: "party key of wrong size", token: signedClaims(nil), cfg: func(c *VerifierConfig) {
			c.Keys = func(string) (ed25519.PublicKey, error) { return make(ed25519.PublicKey, 31), nil }
		}, want: "unknown party", cause: ErrInvalidKey},

		// Algorithm and header.
		{name: "alg none", token: craft(`{"alg":"none","typ":"JWT"}`, claimsJSON(nil), nil), want: "algorithm not allowed"},
		{name: "alg HS256 keyed by the public key", token: craft(`{"alg":"HS256","typ":"JWT"}`, claimsJSON(nil), hmacSigner("alice")), want: "algorithm not allowed"},
		{name: "alg RS256", token: craft(`{"alg":"RS256","typ":"JWT"}`, claimsJSON(nil), edSigner("alice")), want: "algorithm not allowed"},
		{name: "alg Ed25519", token: craft(`{"alg":"Ed25519"}`, claimsJSON(nil), edSigner("alice")), want: "algorithm not allowed"},
		{name: "alg missing", token: craft(`{"typ":"JWT"}`, claimsJSON(nil), edSigner("alice")), want: "algorithm not allowed"},
		{name: "alg not a string", token: craft(`{"alg":1}`, claimsJSON(nil), edSigner("alice")), want: "algorithm not allowed"},
		{name: "alg eddsa lowercase", token: craft(`{"alg":"eddsa"}`, claimsJSON(nil), edSigner("alice")), want: "algorithm not allowed"},
		{name: "duplicate alg", token: craft(`{"alg":"HS256","alg":"EdDSA"}`, claimsJSON(nil), edSigner("alice")), want: "malformed header: duplicate member name"},
		{name: "typ not JWT", token: craft(`{"alg":"EdDSA","typ":"JOSE+JSON"}`, claimsJSON(nil), edSigner("alice")), want: "bad typ header"},
		{name: "crit header", token: craft(`{"alg":"EdDSA","crit":["b64"],"b64":false}`, claimsJSON(nil), edSigner("alice")), want: "unsupported crit header"},

		// Claims: form.
		{name: "duplicate iss", token: craft(edHeader, `{"iss":"bob","iss":"alice","aud":"deconflict.test","iat":1,"exp":2,"jti":"j"}`, edSigner("alice")), want: "malformed claims: duplicate member name"},
		{name: "invalid UTF-8", token: craft(edHeader, strings.Replace(claimsJSON(nil), "jti-0001", "jti-\xff", 1), edSigner("alice")), want: "malformed claims: invalid UTF-8"},
		{name: "claims an array", token: craft(edHeader, `[1]`, edSigner("alice")), want: "malformed token"},
		{name: "claims null", token: craft(edHeader, `null`, edSigner("alice")), want: "malformed claims: not a JSON object"},
		{name: "data after claims", token: craft(edHeader, claimsJSON(nil)+`{}`, edSigner("alice")), want: "malformed token"},
		{name: "missing iss", token: signedClaims(map[string]any{"iss": nil, "ISS": "alice"}), want: "missing iss claim"},
		{name: "empty iss", token: signedClaims(map[string]any{"iss": ""}), want: "bad iss claim"},
		{name: "iss not a string", token: signedClaims(map[string]any{"iss": []string{"alice"}}), want: "bad iss claim"},
		{name: "missing aud", token: signedClaims(map[string]any{"aud": nil}), want: "missing aud claim"},
		{name: "aud a number", token: signedClaims(map[string]any{"aud": 7}), want: "bad aud claim"},
		{name: "aud array of numbers", token: signedClaims(map[string]any{"aud": []int{7}}), want: "bad aud claim"},
		{name: "missing iat", token: signedClaims(map[string]any{"iat": nil}), want: "missing iat claim"},
		{name: "iat a string", token: signedClaims(map[string]any{"iat": "1772366400"}), want: "bad iat claim"},
		{name: "iat negative", token: signedClaims(map[string]any{"iat": -1}), want: "bad iat claim"},
		{name: "iat after year 9999", token: signedClaims(map[string]any{"iat": 1e20}), want: "bad iat claim"},
		{name: "missing exp", token: signedClaims(map[string]any{"exp": nil}), want: "missing exp claim"},
		{name: "exp null", token: craft(edHeader, strings.Replace(claimsJSON(nil), `"exp":`, `"exp":null,"x":`, 1), edSigner("alice")), want: "bad exp claim"},
		{name: "nbf a bool", token: signedClaims(map[string]any{"nbf": true}), want: "bad nbf claim"},
		{name: "missing jti", token: signedClaims(map[string]any{"jti": nil}), want: "missing jti claim"},
		{name: "empty jti", token: signedClaims(map[string]any{"jti": ""}), want: "bad jti claim"},
		{name: "jti too long", token: signedClaims(map[string]any{"jti": long}), want: "bad jti claim"},
		{name: "jti a number", token: signedClaims(map[string]any{"jti": 12}), want: "bad jti claim"},
		{name: "bsh a number", token: signedClaims(map[string]any{"bsh": 12}), body: body, want: "bad bsh claim"},
		{name: "bsh null", token: craft(edHeader, strings.Replace(claimsJSON(nil), `"exp":`, `"bsh":null,"exp":`, 1), edSigner("alice")), want: "bad bsh claim"},
		{name: "typ null", token: craft(`{"alg":"EdDSA","typ":null}`, claimsJSON(nil), edSigner("alice")), want: "bad typ header"},

		// Claims: values.
		{name: "wrong audience", token: signedClaims(map[string]any{"aud": "other.service"}), want: "wrong audience"},
		{name: "audience differs in case", token: signedClaims(map[string]any{"aud": strings.ToUpper(testAudience)}), want: "wrong audience"},
		{name: "audience array of two", token: signedClaims(map[string]any{"aud": []string{testAudience, "other"}}), want: "wrong audience"},
		{name: "audience empty array", token: signedClaims(map[string]any{"aud": []string{}}), want: "wrong audience"},
		{name: "expired at exp plus leeway", token: signedClaims(nil), now: now.Add(90 * time.Second), want: "token expired"},
		{name: "expired long ago", token: mustSign(t, "alice", nil, now.Add(-time.Hour), time.Minute), want: "token expired"},
		{name: "expired, no leeway", token: signedClaims(nil), now: now.Add(60 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = -1 }, want: "token expired"},
		{name: "iat in the future", token: signedClaims(map[string]any{"iat": unix + 31, "exp": unix + 91}), want: "token issued in the future"},
		{name: "signed an hour ahead", token: mustSign(t, "alice", nil, now.Add(time.Hour), time.Minute), want: "token expires too far in the future"},
		{name: "exp too far ahead", token: signedClaims(map[string]any{"exp": unix + 5*60 + 31}), want: "token expires too far in the future"},
		{name: "nbf in the future", token: signedClaims(map[string]any{"nbf": unix + 31}), want: "token not yet valid"},
		{name: "exp before iat", token: signedClaims(map[string]any{"iat": unix + 10, "exp": unix + 5}), want: "token expires before it is issued"},
		{name: "exp equal to iat", token: signedClaims(map[string]any{"iat": unix, "exp": unix}), want: "token expires before it is issued"},
		{name: "ttl too long", token: signedClaims(map[string]any{"iat": unix - 2*60, "exp": unix + 3*60 + 1}), want: "token lifetime too long"},
		{name: "ttl over configured MaxTTL", token: signedClaims(map[string]any{"iat": unix - 30, "exp": unix + 60}), cfg: func(c *VerifierConfig) { c.MaxTTL = time.Minute }, want: "token lifetime too long"},

		// Body.
		{name: "body tampered", token: mustSign(t, "alice", body, now, time.Minute), body: []byte(`{"intent":"i-2","volumes":[]}`), want: "body hash mismatch"},
		{name: "body present, no bsh", token: mustSign(t, "alice", nil, now, time.Minute), body: body, want: "missing body hash"},
		{name: "body removed", token: mustSign(t, "alice", body, now, time.Minute), want: "body hash mismatch"},
		{name: "bsh of nothing, body present", token: signedClaims(map[string]any{"bsh": emptyHash}), body: body, want: "body hash mismatch"},
		{name: "bsh padded", token: signedClaims(map[string]any{"bsh": bodyHash(body) + "="}), body: body, want: "body hash mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, tt.cfg)
			at := tt.now
			if at.IsZero() {
				at = now
			}
			party, err := v.Verify(tt.token, tt.body, at)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if party != "alice" && party != "bob" {
					t.Errorf("party = %q", party)
				}
				return
			}
			checkRefusal(t, err, tt.token, tt.want)
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error does not wrap %v", tt.cause)
			}
			if want := "unauthenticated: " + tt.want; err.Error() != want {
				t.Errorf("error text %q, want %q (a cause is not for clients)", err, want)
			}
			if party != "" {
				t.Errorf("party = %q on refusal", party)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := mustSign(t, "alice", nil, t0(), time.Minute)
	parts := strings.Split(good, ".")
	// Flip a trailing bit of the signature's last character: the same
	// bytes to a lenient decoder, not canonical.
	sig := []byte(parts[2])
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig[len(sig)-1] = alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1]
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"one segment", "abc"},
		{"two segments", parts[0] + "." + parts[1]},
		{"four segments", good + ".x"},
		{"dots only", ".."},
		{"bearer prefix", "Bearer " + good},
		{"trailing newline", good + "\n"},
		{"line break inside", good[:40] + "\r\n" + good[40:]},
		{"space inside", good[:40] + " " + good[40:]},
		{"padded header", parts[0] + "=." + parts[1] + "." + parts[2]},
		{"standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+"},
		{"non-canonical signature", parts[0] + "." + parts[1] + "." + string(sig)},
		{"header not JSON", b64("alg=EdDSA") + "." + parts[1] + "." + parts[2]},
		{"claims not JSON", parts[0] + "." + b64("iss=alice") + "." + parts[2]},
		{"binary", "\x00\xff.\x00.\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, nil)
			_, err := v.Verify(tt.token, nil, t0())
			checkRefusal(t, err, tt.token, "malformed token")
		})
	}
}

func TestVerifySize(t *testing.T) {
	// tokenWithPad returns a signed token with a pad claim of n bytes.
	tokenWithPad := func(n int) string {
		return signedClaims(map[string]any{"pad": strings.Repeat("p", n)})
	}
	// Find the largest token of at most MaxTokenSize bytes: base64 makes
	// 4 characters of 3 bytes, so start a little below the estimate.
	n := (MaxTokenSize-len(tokenWithPad(0)))*3/4 - 8
	for len(tokenWithPad(n+1)) <= MaxTokenSize {
		n++
	}
	largest, over := tokenWithPad(n), tokenWithPad(n+1)
	if len(largest) < MaxTokenSize-3 || len(over) <= MaxTokenSize {
		t.Fatalf("token sizes %d and %d do not straddle %d", len(largest), len(over), MaxTokenSize)
	}
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"largest accepted", largest, ""},
		{"one byte of claims more", over, "token too large"},
		{"huge garbage", strings.Repeat("A", 1<<20), "token too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestVerifier(t, nil).Verify(tt.token, nil, t0())
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify of %d bytes: %v", len(tt.token), err)
				}
				return
			}
			checkRefusal(t, err, tt.token, tt.want)
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	now := t0()
	body := []byte("body")
	first := mustSign(t, "alice", nil, now, time.Minute)
	second := mustSign(t, "alice", nil, now, time.Minute)
	sameJTI := craft(edHeader, claimsJSON(nil), edSigner("alice"))
	sameJTIOtherParty := craft(edHeader, claimsJSON(map[string]any{"iss": "bob"}), edSigner("bob"))
	withBody := mustSign(t, "alice", body, now, time.Minute)

	v := newTestVerifier(t, nil)
	steps := []struct {
		name  string
		token string
		body  []byte
		at    time.Duration // after t0
		want  string
	}{
		{"first use", first, nil, 0, ""},
		{"second use", first, nil, time.Second, "token replayed"},
		{"other jti", second, nil, time.Second, ""},
		{"jti-0001 of alice", sameJTI, nil, 2 * time.Second, ""},
		{"jti-0001 of alice again", sameJTI, nil, 3 * time.Second, "token replayed"},
		{"jti-0001 of bob", sameJTIOtherParty, nil, 3 * time.Second, ""},
		{"refused use is not recorded", withBody, []byte("other"), 4 * time.Second, "body hash mismatch"},
		{"then accepted", withBody, body, 4 * time.Second, ""},
		{"replayed after the refusal", withBody, body, 5 * time.Second, "token replayed"},
		{"replayed just before expiry", first, nil, 89 * time.Second, "token replayed"},
		{"replayed after expiry", first, nil, 90 * time.Second, "token expired"},
	}
	for _, s := range steps {
		_, err := v.Verify(s.token, s.body, now.Add(s.at))
		if s.want == "" {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		t.Run(s.name, func(t *testing.T) { checkRefusal(t, err, s.token, s.want) })
	}
}

// TestVerifyReplayClockBackwards checks that a token cannot be replayed by
// a caller whose clock reading is older than one the cache already saw
// (and pruned with).
func TestVerifyReplayClockBackwards(t *testing.T) {
	now := t0()
	v := newTestVerifier(t, nil)
	tok := mustSign(t, "alice", nil, now, time.Minute) // usable until now+90s
	if _, err := v.Verify(tok, nil, now); err != nil {
		t.Fatal(err)
	}
	// A later call prunes tok's entry.
	if _, err := v.Verify(mustSign(t, "bob", nil, now.Add(90*time.Second), time.Minute), nil, now.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := v.replay.len(); n != 1 {
		t.Fatalf("replay cache holds %d entries, want 1 (the first pruned)", n)
	}
	// A stale clock reading must not make tok new again.
	_, err := v.Verify(tok, nil, now.Add(89*time.Second))
	checkRefusal(t, err, tok, "token expired")
}

func TestReplayCacheBound(t *testing.T) {
	now := t0()
	v := newTestVerifier(t, func(c *VerifierConfig) { c.MaxReplayEntries = 3 })
	var toks []string
	for i := range 5 {
		// Tokens 0..2 expire at now+60s (+30s leeway), 3 and 4 at now+120s.
		ttl := time.Minute
		if i >= 3 {
			ttl = 2 * time.Minute
		}
		toks = append(toks, mustSign(t, "alice", nil, now, ttl))
	}
	steps := []struct {
		name  string
		token int
		at    time.Duration
		want  string
	}{
		{"fill 0", 0, 0, ""},
		{"fill 1", 1, 0, ""},
		{"fill 2", 2, 0, ""},
		{"full", 3, time.Second, "replay cache full"},
		{"replay while full is still caught", 0, time.Second, "token replayed"},
		{"still full before expiry", 3, 89 * time.Second, "replay cache full"},
		{"room after expiry", 3, 90 * time.Second, ""},
		{"replay of the late one", 3, 91 * time.Second, "token replayed"},
		{"next", 4, 91 * time.Second, ""},
	}
	for _, s := range steps {
		_, err := v.Verify(toks[s.token], nil, now.Add(s.at))
		if s.want == "" {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			checkRefusal(t, err, toks[s.token], s.want)
			if full := errors.Is(err, ErrReplayCacheFull); full != (s.want == "replay cache full") {
				t.Errorf("errors.Is(err, ErrReplayCacheFull) = %v", full)
			}
		})
	}
	if n := v.replay.len(); n != 2 {
		t.Errorf("replay cache holds %d entries, want 2", n)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	const distinct, reusers = 64, 64
	now := t0()
	v := newTestVerifier(t, nil)
	var toks []string
	for range distinct {
		toks = append(toks, mustSign(t, "alice", []byte("b"), now, time.Minute))
	}
	shared := mustSign(t, "bob", []byte("b"), now, time.Minute)

	var wg sync.WaitGroup
	var mu sync.Mutex
	distinctOK, sharedOK := 0, 0
	var failures []error
	for i := range distinct + reusers {
		wg.Go(func() {
			tok := shared
			if i < distinct {
				tok = toks[i]
			}
			_, err := v.Verify(tok, []byte("b"), now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && i < distinct:
				distinctOK++
			case err == nil:
				sharedOK++
			case i < distinct:
				failures = append(failures, err)
			default:
				var te *TokenError
				if !errors.As(err, &te) || te.Reason != "token replayed" {
					failures = append(failures, err)
				}
			}
		})
	}
	wg.Wait()
	if distinctOK != distinct || sharedOK != 1 || len(failures) > 0 {
		t.Errorf("distinct tokens accepted %d/%d, shared token accepted %d times (want 1), unexpected errors %v",
			distinctOK, distinct, sharedOK, failures)
	}
}

func TestNewVerifier(t *testing.T) {
	keys := testKeys
	tests := []struct {
		name    string
		cfg     VerifierConfig
		wantErr bool
	}{
		{"minimal", VerifierConfig{Audience: "a", Keys: keys}, false},
		{"all set", VerifierConfig{Audience: "a", Keys: keys, MaxTTL: time.Minute, Leeway: -1, MaxReplayEntries: 10}, false},
		{"no audience", VerifierConfig{Keys: keys}, true},
		{"no keys", VerifierConfig{Audience: "a"}, true},
		{"negative MaxTTL", VerifierConfig{Audience: "a", Keys: keys, MaxTTL: -time.Second}, true},
		{"negative MaxReplayEntries", VerifierConfig{Audience: "a", Keys: keys, MaxReplayEntries: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewVerifier: err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && v == nil {
				t.Fatal("nil Verifier")
			}
		})
	}
	v := newTestVerifier(t, nil)
	if v.maxTTL != DefaultMaxTTL || v.leeway != DefaultLeeway || v.replay.max != DefaultMaxReplayEntries {
		t.Errorf("defaults: maxTTL %v, leeway %v, max entries %d", v.maxTTL, v.leeway, v.replay.max)
	}
}

// TestSpecExample verifies the worked example of the package documentation.
func TestSpecExample(t *testing.T) {
	const (
		seedB64 = "IB5YRywcxC7SwmtB1unizAAQE+fESd174ZP/e50YHMM="
		pubB64  = "rUhT+uKTq0tnjIhQvE6AVOGU5KngWDKWqmssWMZ91pw="
		token   = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9." +
			"eyJhdWQiOiJkZWNvbmZsaWN0LmV4YW1wbGUiLCJic2giOiJmcmlHYmlsbXhlOUdkUnotN1lyMUdyRkp0NVAwTGxNRGt3ZFdBQmpWNFZ3IiwiZXhwIjoxNzY3MjI1OTAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6InBhcnR5LWEiLCJqdGkiOiJxOG4yWWsweTNiMG00alo2VDljVzFBIn0." +
			"LP_IKvoNa7jADDguOuczblgoez5OwmuJUG-ZSC4y4sGXsr00dPFdJlqtS9pupCmfqXLBOSSVyvpkGO52bOK8DQ"
	)
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(strings.Split(token, "."), seedB64, pubB64) {
		if !strings.Contains(string(doc), s) {
			t.Errorf("doc.go does not contain %q", s)
		}
	}
	seed, err := base64.StdEncoding.DecodeString(seedB64)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey([]byte(pubB64))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(ed25519.NewKeyFromSeed(seed).Public()) {
		t.Fatal("the example public key is not that of the example seed")
	}
	v, err := NewVerifier(VerifierConfig{
		Audience: "deconflict.example",
		Keys: func(party string) (ed25519.PublicKey, error) {
			if party != "party-a" {
				return nil, errUnknownParty
			}
			return pub, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"intent":"demo"}`)
	for _, at := range []string{"2025-12-31T23:59:29Z", "2026-01-01T00:05:30Z"} {
		now, _ := time.Parse(time.RFC3339, at)
		if _, err := v.Verify(token, body, now); err == nil {
			t.Errorf("accepted at %s, outside its window", at)
		}
	}
	now := time.Date(2026, 1, 1, 0, 5, 29, 0, time.UTC)
	if party, err := v.Verify(token, body, now); err != nil || party != "party-a" {
		t.Fatalf("Verify = %q, %v; want party-a", party, err)
	}
	if _, err := v.Verify(token, body, now); err == nil {
		t.Error("replay accepted")
	}
}
