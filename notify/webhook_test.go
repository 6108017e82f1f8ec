package notify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const skew = 5 * time.Minute

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func newHooks(t *testing.T, cfg WebhookConfig) *Webhooks {
	t.Helper()
	w, err := NewWebhooks(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type attemptRec struct {
	at     time.Time
	key    string
	party  string
	ctype  string
	ts     string
	sig    string
	body   []byte
	verr   error
	status int
}

// receiver is a webhook receiver that verifies each delivery and processes
// each idempotency key once.
type receiver struct {
	pub ed25519.PublicKey
	// fail decides whether attempt n (from 1) of all requests, with key, fails.
	fail func(n int, key string) bool

	mu        sync.Mutex
	attempts  []attemptRec
	processed map[string]int // key -> times processed (must stay 1)
	order     []string       // keys in order of first processing
	inflight  int
	overlap   bool
}

func (rc *receiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.inflight++
	if rc.inflight > 1 {
		rc.overlap = true
	}
	rc.mu.Unlock()
	// Give a concurrent request the chance to show up.
	time.Sleep(200 * time.Microsecond)

	id, verr := Verify(rc.pub, r.Header, body, time.Now(), skew)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.inflight--
	n := len(rc.attempts) + 1
	rec := attemptRec{at: time.Now(), key: r.Header.Get(HeaderIdempotencyKey), party: r.Header.Get(HeaderParty),
		ctype: r.Header.Get("Content-Type"), ts: r.Header.Get(HeaderTimestamp), sig: r.Header.Get(HeaderSignature), body: body, verr: verr}
	switch {
	case verr != nil:
		rec.status = http.StatusUnauthorized
	case rc.fail != nil && rc.fail(n, id):
		rec.status = http.StatusInternalServerError
	default:
		if rc.processed[id] == 0 {
			rc.order = append(rc.order, id)
		}
		rc.processed[id]++
		rec.status = http.StatusNoContent
	}
	rc.attempts = append(rc.attempts, rec)
	rw.WriteHeader(rec.status)
}

func (rc *receiver) snapshot() ([]attemptRec, map[string]int, []string, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	p := make(map[string]int, len(rc.processed))
	for k, v := range rc.processed {
		p[k] = v
	}
	return append([]attemptRec(nil), rc.attempts...), p, append([]string(nil), rc.order...), rc.overlap
}

func TestRetryThenSuccess(t *testing.T) {
	pub, priv := newKey(t)
	rc := &receiver{pub: pub, processed: map[string]int{}, fail: func(n int, _ string) bool { return n <= 3 }}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()

	const base = 20 * time.Millisecond
	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, BaseBackoff: base, MaxBackoff: time.Second, MaxAttempts: 10})
	data := json.RawMessage(`{"id":"42-1","kind":"conflict"}`)
	if err := w.Deliver(srv.URL+"/hook", Event{ID: "42-1", Party: "alpha", Data: data}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "delivery", func() bool { return w.Stats().Delivered == 1 })
	// Several backoff periods (the next would be 8·base): no more attempts.
	time.Sleep(20 * base)

	attempts, processed, _, _ := rc.snapshot()
	if len(attempts) != 4 {
		t.Fatalf("got %d attempts, want 4 (3 failures, 1 success, none after)", len(attempts))
	}
	if got := (Stats{Delivered: 1, FailedAttempts: 3}); w.Stats() != got {
		t.Errorf("Stats = %+v, want %+v", w.Stats(), got)
	}
	if len(processed) != 1 || processed["42-1"] != 1 {
		t.Errorf("processed = %v, want exactly once for 42-1", processed)
	}
	for i, a := range attempts {
		if a.verr != nil {
			t.Errorf("attempt %d: Verify: %v", i+1, a.verr)
		}
		if a.key != "42-1" || a.party != "alpha" || a.ctype != "application/json" {
			t.Errorf("attempt %d: key %q party %q content type %q", i+1, a.key, a.party, a.ctype)
		}
		if !bytes.Equal(a.body, data) {
			t.Errorf("attempt %d: body %q, want %q", i+1, a.body, data)
		}
		wantStatus := http.StatusInternalServerError
		if i == 3 {
			wantStatus = http.StatusNoContent
		}
		if a.status != wantStatus {
			t.Errorf("attempt %d: status %d, want %d", i+1, a.status, wantStatus)
		}
	}
	// Backoff grows: gap i is base·2^(i-1) ±20% (plus latency).
	var prev time.Duration
	for i := 1; i < len(attempts); i++ {
		gap := attempts[i].at.Sub(attempts[i-1].at)
		min := time.Duration(float64(base<<(i-1)) * 0.8)
		if gap < min {
			t.Errorf("gap %d = %v, want ≥ %v", i, gap, min)
		}
		if gap <= prev {
			t.Errorf("gap %d = %v did not grow from %v", i, gap, prev)
		}
		prev = gap
	}
}

func TestOrder(t *testing.T) {
	pub, priv := newKey(t)
	rng := mrand.New(mrand.NewPCG(1, 2))
	rc := &receiver{pub: pub, processed: map[string]int{}, fail: func(int, string) bool { return rng.IntN(10) < 4 }}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()

	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, BaseBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, MaxAttempts: 100})
	const n = 20
	var want []string
	for i := range n {
		id := fmt.Sprintf("%d-1", i+1)
		want = append(want, id)
		if err := w.Deliver(srv.URL, Event{ID: id, Party: "alpha", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "all deliveries", func() bool { return w.Stats().Delivered == n })

	attempts, processed, order, overlap := rc.snapshot()
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("first deliveries in order %v, want %v", order, want)
	}
	for _, id := range want {
		if processed[id] != 1 {
			t.Errorf("event %s processed %d times", id, processed[id])
		}
	}
	// No attempt of a later event before the earlier one succeeded: the ids
	// of all attempts are non-decreasing.
	last := 0
	for _, a := range attempts {
		k, _, _ := strings.Cut(a.key, "-")
		i, _ := strconv.Atoi(k)
		if i < last {
			t.Errorf("attempt of %s after event %d", a.key, last)
		}
		last = i
	}
	if overlap {
		t.Error("two requests to one URL were in flight at once")
	}
	st := w.Stats()
	if st.FailedAttempts == 0 || int(st.FailedAttempts) != len(attempts)-n || st.GivenUp != 0 {
		t.Errorf("Stats = %+v with %d attempts; want some failures, all counted, none given up", st, len(attempts))
	}
}

func TestVerify(t *testing.T) {
	pub, priv := newKey(t)
	otherPub, otherPriv := newKey(t)
	now := time.Unix(1_800_000_000, 0)
	ev := Event{ID: "42-1", Party: "alpha", Data: json.RawMessage(`{"a":1}`)}
	signed := func(key ed25519.PrivateKey, at time.Time) http.Header {
		req, err := newRequest(context.Background(), "https://example.com/h", ev, key, at)
		if err != nil {
			t.Fatal(err)
		}
		return req.Header
	}
	good := signed(priv, now)
	if id, err := Verify(pub, good, ev.Data, now, skew); err != nil || id != "42-1" {
		t.Fatalf("Verify(good) = %q, %v", id, err)
	}
	if _, err := Verify(otherPub, signed(otherPriv, now), ev.Data, now, skew); err != nil {
		t.Fatalf("Verify(other key, own signature): %v", err)
	}
	with := func(name, value string) http.Header {
		h := good.Clone()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	sig := good.Get(HeaderSignature)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "ed25519="))
	raw[0] ^= 1
	flipped := "ed25519=" + base64.StdEncoding.EncodeToString(raw)
	ts := good.Get(HeaderTimestamp)
	tsPlus1 := func() string { n, _ := strconv.ParseInt(ts, 10, 64); return strconv.FormatInt(n+1, 10) }()

	tests := []struct {
		name string
		pub  ed25519.PublicKey
		h    http.Header
		body string
		now  time.Time
		want error
	}{
		{"wrong key", otherPub, good, `{"a":1}`, now, ErrBadSignature},
		{"signed by other key", pub, signed(otherPriv, now), `{"a":1}`, now, ErrBadSignature},
		{"tampered body", pub, good, `{"a":2}`, now, ErrBadSignature},
		{"empty body", pub, good, ``, now, ErrBadSignature},
		{"tampered id", pub, with(HeaderIdempotencyKey, "42-2"), `{"a":1}`, now, ErrBadSignature},
		{"tampered timestamp", pub, with(HeaderTimestamp, tsPlus1), `{"a":1}`, now, ErrBadSignature},
		{"flipped signature bit", pub, with(HeaderSignature, flipped), `{"a":1}`, now, ErrBadSignature},
		{"no prefix", pub, with(HeaderSignature, strings.TrimPrefix(sig, "ed25519=")), `{"a":1}`, now, ErrBadSignature},
		{"bad base64", pub, with(HeaderSignature, "ed25519=!!!"), `{"a":1}`, now, ErrBadSignature},
		{"signed timestamp, negative", pub, with(HeaderTimestamp, "-"+ts), `{"a":1}`, now, ErrBadSignature},
		{"stale", pub, good, `{"a":1}`, now.Add(skew + time.Second), ErrStale},
		{"future", pub, good, `{"a":1}`, now.Add(-skew - time.Second), ErrStale},
		{"stale signed", pub, signed(priv, now.Add(-time.Hour)), `{"a":1}`, now, ErrStale},
		{"missing id", pub, with(HeaderIdempotencyKey, ""), `{"a":1}`, now, ErrMissingHeader},
		{"missing timestamp", pub, with(HeaderTimestamp, ""), `{"a":1}`, now, ErrMissingHeader},
		{"missing signature", pub, with(HeaderSignature, ""), `{"a":1}`, now, ErrMissingHeader},
		{"no headers", pub, http.Header{}, `{"a":1}`, now, ErrMissingHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Verify(tt.pub, tt.h, []byte(tt.body), tt.now, skew)
			if !errors.Is(err, tt.want) || id != "" {
				t.Errorf("Verify = %q, %v; want error %v", id, err, tt.want)
			}
		})
	}
	// Within skew on both sides is fine.
	for _, d := range []time.Duration{-skew, skew} {
		if _, err := Verify(pub, good, ev.Data, now.Add(d), skew); err != nil {
			t.Errorf("Verify at now%+v: %v", d, err)
		}
	}
	// Repeated header is refused.
	h := good.Clone()
	h.Add(HeaderSignature, sig)
	if _, err := Verify(pub, h, ev.Data, now, skew); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("Verify(repeated signature) = %v", err)
	}
	if _, err := Verify(pub[:10], good, ev.Data, now, skew); err == nil {
		t.Error("Verify accepted a short public key")
	}
	if _, err := Verify(pub, good, ev.Data, now, 0); err == nil {
		t.Error("Verify accepted maxSkew 0")
	}
}

func TestCheckURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURL)
	tests := []struct {
		url       string
		allowHTTP bool
		ok        bool
	}{
		{"https://example.com/hook", false, true},
		{"https://example.com:8443/hook?token=x", false, true},
		{"HTTPS://example.com/", false, true},
		{"https://example.com/" + strings.Repeat("a", MaxURL-len("https://example.com/")), false, true},
		{"http://example.com/hook", false, false},
		{"http://example.com/hook", true, true},
		{"ftp://example.com/hook", true, false},
		{"/hook", false, false},
		{"example.com/hook", false, false},
		{"https:///hook", false, false},
		{"https://:443/hook", false, false},
		{"https:example.com", false, false},
		{"https://user:pw@example.com/hook", false, false},
		{"https://user@example.com/hook", false, false},
		{"https://example.com/hook#frag", false, false},
		{"https://example.com/hook#", false, false},
		{long, false, false},
		{"https://exa mple.com/", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		err := CheckURL(tt.url, tt.allowHTTP)
		if (err == nil) != tt.ok {
			name := tt.url
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			t.Errorf("CheckURL(%q, %v) = %v, want ok=%v", name, tt.allowHTTP, err, tt.ok)
		}
	}
}

func TestQueueFullAndClose(t *testing.T) {
	_, priv := newKey(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get(HeaderIdempotencyKey))
		mu.Unlock()
		select { // hang
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	w, err := NewWebhooks(WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, QueueSize: 3, BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := func(i int) Event {
		return Event{ID: fmt.Sprintf("%d-1", i), Party: "alpha", Data: json.RawMessage(`{}`)}
	}
	for i := 1; i <= 3; i++ {
		if err := w.Deliver(srv.URL, ev(i)); err != nil {
			t.Fatalf("Deliver %d: %v", i, err)
		}
	}
	if err := w.Deliver(srv.URL, ev(4)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Deliver to a full queue = %v, want ErrQueueFull", err)
	}
	// Another URL has its own queue.
	if err := w.Deliver(srv.URL+"/other", ev(5)); err != nil {
		t.Fatalf("Deliver to another URL: %v", err)
	}
	waitFor(t, 5*time.Second, "requests in flight", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })

	start := time.Now()
	done := make(chan struct{})
	go func() { w.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return while the receiver hangs")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := w.Deliver(srv.URL, ev(6)); !errors.Is(err, ErrClosed) {
		t.Errorf("Deliver after Close = %v, want ErrClosed", err)
	}
	if want := (Stats{Abandoned: 4}); w.Stats() != want {
		t.Errorf("Stats = %+v, want %+v", w.Stats(), want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Errorf("receiver got %v, want only the two head events", got)
	}
	w.Close() // idempotent
}

func TestGiveUp(t *testing.T) {
	pub, priv := newKey(t)
	rc := &receiver{pub: pub, processed: map[string]int{}, fail: func(_ int, key string) bool { return key == "1-1" }}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()

	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		MaxAttempts: 4, Logger: logger})
	url := srv.URL + "/secret-path-token?key=secret-query-token"
	for _, id := range []string{"1-1", "2-1"} {
		if err := w.Deliver(url, Event{ID: id, Party: "alpha", Data: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "give-up and next delivery", func() bool { s := w.Stats(); return s.GivenUp == 1 && s.Delivered == 1 })
	time.Sleep(20 * time.Millisecond)

	if want := (Stats{Delivered: 1, FailedAttempts: 4, GivenUp: 1}); w.Stats() != want {
		t.Errorf("Stats = %+v, want %+v", w.Stats(), want)
	}
	attempts, processed, _, _ := rc.snapshot()
	var keys []string
	for _, a := range attempts {
		keys = append(keys, a.key)
	}
	if got, want := strings.Join(keys, ","), "1-1,1-1,1-1,1-1,2-1"; got != want {
		t.Errorf("attempts %s, want %s", got, want)
	}
	if processed["1-1"] != 0 || processed["2-1"] != 1 {
		t.Errorf("processed = %v", processed)
	}

	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, "given up") || !strings.Contains(out, "1-1") {
		t.Errorf("give-up not logged:\n%s", out)
	}
	secrets := []string{"secret-path-token", "secret-query-token", base64.StdEncoding.EncodeToString(priv),
		base64.StdEncoding.EncodeToString(priv.Seed()), "ed25519="}
	for _, a := range attempts {
		secrets = append(secrets, strings.TrimPrefix(a.sig, "ed25519="))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("log contains secret %q:\n%s", s, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRedirectNotFollowed(t *testing.T) {
	_, priv := newKey(t)
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/hook" {
			http.Redirect(rw, r, "/target", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, BaseBackoff: time.Millisecond, MaxAttempts: 2})
	if err := w.Deliver(srv.URL+"/hook", Event{ID: "1-1", Party: "alpha", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "give-up", func() bool { return w.Stats().GivenUp == 1 })
	mu.Lock()
	defer mu.Unlock()
	if paths["/hook"] != 2 || paths["/target"] != 0 {
		t.Errorf("requests by path %v, want 2 to /hook and none to /target", paths)
	}
	if st := w.Stats(); st.Delivered != 0 || st.FailedAttempts != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestTimestampIsAttemptTime(t *testing.T) {
	pub, priv := newKey(t)
	var mu sync.Mutex
	clock := time.Unix(1_800_000_000, 0)
	var stamps []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		stamps = append(stamps, r.Header.Get(HeaderTimestamp))
		if _, err := Verify(pub, r.Header, body, clock, time.Second); err != nil {
			t.Errorf("Verify: %v", err)
		}
		clock = clock.Add(time.Hour) // the next attempt happens "an hour later"
		if len(stamps) < 2 {
			rw.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, BaseBackoff: time.Millisecond, Now: now})
	if err := w.Deliver(srv.URL, Event{ID: "1-1", Party: "alpha", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "delivery", func() bool { return w.Stats().Delivered == 1 })
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"1800000000", "1800003600"}; strings.Join(stamps, ",") != strings.Join(want, ",") {
		t.Errorf("timestamps %v, want %v", stamps, want)
	}
}

func TestBackoff(t *testing.T) {
	_, priv := newKey(t)
	w := newHooks(t, WebhookConfig{Key: priv, BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for attempt, nominal := range map[int]time.Duration{1: 100, 2: 200, 3: 400, 4: 800, 5: 1000, 60: 1000, 1 << 30: 1000} {
		nominal *= time.Millisecond
		lo, hi := time.Duration(float64(nominal)*0.8), time.Duration(float64(nominal)*1.2)
		seen := map[time.Duration]bool{}
		for range 50 {
			d := w.backoff(attempt)
			if d < lo || d > hi {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) has no jitter", attempt)
		}
	}
	huge := newHooks(t, WebhookConfig{Key: priv, BaseBackoff: time.Duration(1 << 61), MaxBackoff: time.Duration(1<<63 - 1)})
	if d := huge.backoff(10); d <= 0 {
		t.Errorf("backoff overflowed: %v", d)
	}
}

func TestConfigAndDeliverValidation(t *testing.T) {
	_, priv := newKey(t)
	bad := []WebhookConfig{
		{},
		{Key: priv[:32]},
		{Key: append(append(ed25519.PrivateKey{}, priv.Seed()...), make([]byte, 32)...)},
		{Key: priv, BaseBackoff: -1},
		{Key: priv, MaxAttempts: -1},
		{Key: priv, BaseBackoff: 2 * time.Minute}, // over the default cap
	}
	for i, cfg := range bad {
		if _, err := NewWebhooks(cfg); err == nil {
			t.Errorf("NewWebhooks(bad config %d) succeeded", i)
		}
	}
	w := newHooks(t, WebhookConfig{Key: priv})
	if w.client.Timeout != 10*time.Second || w.maxAttempts != 30 || w.baseBackoff != 500*time.Millisecond || w.maxBackoff != time.Minute {
		t.Errorf("defaults: timeout %v attempts %d backoff %v..%v", w.client.Timeout, w.maxAttempts, w.baseBackoff, w.maxBackoff)
	}
	ok := Event{ID: "1-1", Party: "alpha", Data: json.RawMessage(`{}`)}
	for name, tc := range map[string]struct {
		url string
		ev  Event
	}{
		"http url":    {"http://example.com/", ok},
		"empty id":    {"https://example.com/", Event{Party: "alpha", Data: ok.Data}},
		"newline id":  {"https://example.com/", Event{ID: "1-1\n", Party: "alpha", Data: ok.Data}},
		"space party": {"https://example.com/", Event{ID: "1-1", Party: "al pha", Data: ok.Data}},
		"no party":    {"https://example.com/", Event{ID: "1-1", Data: ok.Data}},
		"bad json":    {"https://example.com/", Event{ID: "1-1", Party: "alpha", Data: json.RawMessage(`{`)}},
		"nil data":    {"https://example.com/", Event{ID: "1-1", Party: "alpha"}},
	} {
		if err := w.Deliver(tc.url, tc.ev); err == nil {
			t.Errorf("Deliver(%s) succeeded", name)
		}
	}
	if s := w.Stats(); s != (Stats{}) {
		t.Errorf("Stats after refused deliveries = %+v", s)
	}
}

func TestDataCopied(t *testing.T) {
	pub, priv := newKey(t)
	rc := &receiver{pub: pub, processed: map[string]int{}, fail: func(n int, _ string) bool { return n == 1 }}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), AllowPrivate: true, BaseBackoff: 5 * time.Millisecond})
	data := []byte(`{"v":1}`)
	if err := w.Deliver(srv.URL, Event{ID: "1-1", Party: "alpha", Data: data}); err != nil {
		t.Fatal(err)
	}
	copy(data, `{"v":2}`) // the caller reuses its buffer
	waitFor(t, 5*time.Second, "delivery", func() bool { return w.Stats().Delivered == 1 })
	attempts, _, _, _ := rc.snapshot()
	for i, a := range attempts {
		if string(a.body) != `{"v":1}` {
			t.Errorf("attempt %d body %s", i+1, a.body)
		}
	}
}

// TestPrivateAddressRefused: by default a webhook never reaches a
// loopback address (a party must not make the service post into the
// operator's network); the attempt fails and is retried like any failure.
func TestPrivateAddressRefused(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	hit := make(chan struct{}, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
	defer srv.Close()
	w := newHooks(t, WebhookConfig{Key: priv, Client: srv.Client(), BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxAttempts: 3})
	if err := w.Deliver(srv.URL+"/hook", Event{ID: "1-1", Party: "alpha", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Stats().GivenUp == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := w.Stats(); st.GivenUp != 1 || st.Delivered != 0 {
		t.Fatalf("stats %+v, want the event given up, never delivered", st)
	}
	select {
	case <-hit:
		t.Fatal("the loopback receiver was reached")
	default:
	}
}
