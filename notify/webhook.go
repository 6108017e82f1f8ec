// Package notify delivers the alerts of the deconfliction service to the
// parties' HTTPS webhooks.
//
// Delivery is at least once while the process runs: an event is POSTed to
// its URL until the receiver answers 2xx or MaxAttempts attempts have
// failed. Every attempt of one event carries the same Idempotency-Key (the
// event id) and the same body, so a receiver dedupes by that key. Every
// attempt is signed with the service's Ed25519 key; a receiver checks it
// with Verify.
//
// Events for one URL are sent one at a time, in the order queued: a failing
// event is retried (with exponential backoff and jitter) before any later
// event for that URL is sent. Different URLs are independent. Queues live in
// memory only: events still queued when Close is called, or when the
// process dies, are not delivered (see Stats.Abandoned).
//
// # Wire format
//
//	POST <url>
//	Content-Type: application/json
//	Idempotency-Key: <event id>
//	Deconflict-Party: <party id>
//	Deconflict-Timestamp: <unix seconds of this attempt>
//	Deconflict-Signature: ed25519=<base64 std of the signature>
//
//	<event data>
//
// The signature is over
//
//	"deconflict-webhook-v1\n" + timestamp + "\n" + id + "\n" + body
//
// The Deconflict-Party header is not covered by the signature.
package notify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Header names of a delivery.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderParty          = "Deconflict-Party"
	HeaderTimestamp      = "Deconflict-Timestamp"
	HeaderSignature      = "Deconflict-Signature"
)

// Limits and defaults.
const (
	// MaxURL is the longest webhook URL CheckURL accepts.
	MaxURL = 2048
	// MaxToken is the longest event id or party id Deliver accepts.
	MaxToken = 256
	// DefaultQueueSize is the default bound of the queue of one URL.
	DefaultQueueSize = 10000

	defaultTimeout     = 10 * time.Second
	defaultBaseBackoff = 500 * time.Millisecond
	defaultMaxBackoff  = time.Minute
	defaultMaxAttempts = 30
	maxResponseBody    = 64 << 10
	signatureContext   = "deconflict-webhook-v1"
	signaturePrefix    = "ed25519="
	jitter             = 0.2
)

// Errors.
var (
	// ErrQueueFull is returned by Deliver when the URL's queue is full.
	ErrQueueFull = errors.New("notify: webhook queue full")
	// ErrClosed is returned by Deliver after Close.
	ErrClosed = errors.New("notify: webhooks closed")
	// ErrMissingHeader means a delivery lacks a signature header (or has
	// it more than once).
	ErrMissingHeader = errors.New("notify: missing or repeated webhook header")
	// ErrBadSignature means the signature is malformed or does not verify.
	ErrBadSignature = errors.New("notify: bad webhook signature")
	// ErrStale means the delivery's timestamp is not within maxSkew of now.
	ErrStale = errors.New("notify: webhook timestamp outside allowed skew")
)

// Event is one alert to deliver to one party.
type Event struct {
	ID    string          // the alert id, e.g. "42-1"; used as the idempotency key
	Party string          // recipient party id
	Data  json.RawMessage // the alert as JSON; the POST body is exactly Data
}

// WebhookConfig configures Webhooks.
type WebhookConfig struct {
	Key ed25519.PrivateKey // signs every delivery (required)
	// Client sends the requests. Default: 10 s timeout, standard TLS
	// verification. A given client is copied: its redirects are never
	// followed, its cookie jar is not used, and a zero Timeout becomes 10 s.
	Client      *http.Client
	BaseBackoff time.Duration    // first retry delay (default 500ms)
	MaxBackoff  time.Duration    // cap (default 1 min); jitter may exceed it by 20%
	MaxAttempts int              // give up after this many attempts (default 30); 0 = default
	QueueSize   int              // bound of each URL's queue, in-flight event included (default 10,000)
	Logger      *slog.Logger     // default discard
	Now         func() time.Time // default time.Now
	AllowHTTP   bool             // tests only: accept http:// URLs (default: https only)
	// AllowPrivate lets deliveries reach loopback, private, link-local and
	// unspecified addresses. By default they are refused when connecting
	// (after DNS), so that a party cannot make the service post to the
	// operator's internal network. Only the default transport (no Client
	// given, or a Client with an *http.Transport) is guarded.
	AllowPrivate bool
}

// ErrPrivateAddress: a webhook URL resolved to an address not allowed.
var ErrPrivateAddress = errors.New("notify: webhook address is loopback, private or link-local")

// publicOnly is a net.Dialer Control that refuses non-public addresses.
func publicOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w (%s)", ErrPrivateAddress, host)
	}
	return nil
}

// Stats counts what Webhooks did since it was made.
type Stats struct {
	Delivered      uint64 // events answered 2xx
	FailedAttempts uint64 // attempts that failed (non-2xx, network error, timeout)
	GivenUp        uint64 // events dropped after MaxAttempts failed attempts
	Abandoned      uint64 // events still queued (or in flight) when Close was called
}

// Webhooks delivers events to webhook URLs. Its methods are safe for
// concurrent use.
type Webhooks struct {
	key         ed25519.PrivateKey
	client      *http.Client
	ownClient   bool
	baseBackoff time.Duration
	maxBackoff  time.Duration
	maxAttempts int
	queueSize   int
	log         *slog.Logger
	now         func() time.Time
	allowHTTP   bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	queues map[string]*queue // only URLs with a running worker

	delivered, failed, givenUp, abandoned atomic.Uint64
}

// queue is the pending events of one URL; items[0] is in flight. It is
// guarded by Webhooks.mu.
type queue struct {
	items []Event
}

// NewWebhooks checks cfg and returns a Webhooks. Workers start on demand,
// one per URL with pending events; call Close to stop them.
func NewWebhooks(cfg WebhookConfig) (*Webhooks, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("notify: WebhookConfig.Key must be an Ed25519 private key")
	}
	if !ed25519.NewKeyFromSeed(cfg.Key.Seed()).Equal(cfg.Key) {
		return nil, errors.New("notify: WebhookConfig.Key is malformed (public half does not match seed)")
	}
	if cfg.BaseBackoff < 0 || cfg.MaxBackoff < 0 || cfg.MaxAttempts < 0 || cfg.QueueSize < 0 {
		return nil, errors.New("notify: negative backoff, attempts or queue size")
	}
	w := &Webhooks{
		key:         bytes.Clone(cfg.Key),
		baseBackoff: cmpOr(cfg.BaseBackoff, defaultBaseBackoff),
		maxBackoff:  cmpOr(cfg.MaxBackoff, defaultMaxBackoff),
		maxAttempts: cmpOr(cfg.MaxAttempts, defaultMaxAttempts),
		queueSize:   cmpOr(cfg.QueueSize, DefaultQueueSize),
		log:         cfg.Logger,
		now:         cfg.Now,
		allowHTTP:   cfg.AllowHTTP,
		queues:      make(map[string]*queue),
	}
	if w.baseBackoff > w.maxBackoff {
		return nil, fmt.Errorf("notify: BaseBackoff %v exceeds MaxBackoff %v", w.baseBackoff, w.maxBackoff)
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	var c http.Client
	if cfg.Client != nil {
		c = *cfg.Client
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
		w.ownClient = true
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if !cfg.AllowPrivate {
		tr, ok := c.Transport.(*http.Transport)
		if c.Transport == nil {
			tr, ok = http.DefaultTransport.(*http.Transport), true
		}
		if ok {
			tr = tr.Clone()
			d := &net.Dialer{Timeout: 10 * time.Second, Control: publicOnly}
			tr.DialContext = d.DialContext
			tr.Proxy = nil // a proxy would connect for us, past the check
			c.Transport = tr
		}
	}
	c.Jar = nil
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = &c
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// CheckURL validates a webhook URL: absolute, https (or http if allowHTTP),
// host present, no user info, no fragment, at most MaxURL bytes.
func CheckURL(u string, allowHTTP bool) error {
	if len(u) > MaxURL {
		return fmt.Errorf("notify: webhook URL is %d bytes, at most %d", len(u), MaxURL)
	}
	pu, err := url.Parse(u)
	if err != nil {
		return errors.New("notify: webhook URL does not parse")
	}
	switch {
	case !pu.IsAbs():
		return errors.New("notify: webhook URL must be absolute")
	case pu.Scheme != "https" && !(allowHTTP && pu.Scheme == "http"):
		return fmt.Errorf("notify: webhook URL scheme %q: must be https", pu.Scheme)
	case pu.Opaque != "" || pu.Host == "" || pu.Hostname() == "":
		return errors.New("notify: webhook URL has no host")
	case pu.User != nil:
		return errors.New("notify: webhook URL must not have user info")
	case pu.Fragment != "" || strings.Contains(u, "#"):
		return errors.New("notify: webhook URL must not have a fragment")
	}
	return nil
}

// checkToken validates an event or party id: 1 to MaxToken visible ASCII
// characters (so it is a valid header value and has no newline, which would
// make the signed message ambiguous).
func checkToken(what, s string) error {
	if s == "" || len(s) > MaxToken {
		return fmt.Errorf("notify: %s must be 1 to %d bytes", what, MaxToken)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fmt.Errorf("notify: %s must be visible ASCII", what)
		}
	}
	return nil
}

// Deliver queues ev for url and returns at once. Events for one URL (the
// exact string) are delivered in the order queued, one at a time. When the
// URL's queue is full it returns an error wrapping ErrQueueFull; after Close,
// ErrClosed. It never blocks on the network and never drops an event
// silently. ev.Data is copied.
func (w *Webhooks) Deliver(url string, ev Event) error {
	if err := CheckURL(url, w.allowHTTP); err != nil {
		return err
	}
	if err := checkToken("event id", ev.ID); err != nil {
		return err
	}
	if err := checkToken("party id", ev.Party); err != nil {
		return err
	}
	if !json.Valid(ev.Data) {
		return fmt.Errorf("notify: event %s: data is not valid JSON", ev.ID)
	}
	ev.Data = bytes.Clone(ev.Data)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	q := w.queues[url]
	if q == nil {
		q = &queue{}
		w.queues[url] = q
		w.wg.Add(1)
		go w.run(url, q)
	}
	if len(q.items) >= w.queueSize {
		return fmt.Errorf("%w: %d events pending for %s", ErrQueueFull, len(q.items), redact(url))
	}
	q.items = append(q.items, ev)
	return nil
}

// Close stops all workers (in-flight attempts are cancelled) and waits for
// them. Events not yet delivered are abandoned (counted in
// Stats.Abandoned and logged). Close may be called more than once.
func (w *Webhooks) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
	if w.ownClient {
		w.client.CloseIdleConnections()
	}
}

// Stats returns the counters.
func (w *Webhooks) Stats() Stats {
	return Stats{
		Delivered:      w.delivered.Load(),
		FailedAttempts: w.failed.Load(),
		GivenUp:        w.givenUp.Load(),
		Abandoned:      w.abandoned.Load(),
	}
}

// run is the worker of one URL: it sends the queue's events in order and
// exits when the queue is empty or Close was called.
func (w *Webhooks) run(url string, q *queue) {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		if len(q.items) == 0 || w.ctx.Err() != nil {
			n := len(q.items)
			q.items = nil
			delete(w.queues, url)
			w.mu.Unlock()
			if n > 0 {
				w.abandoned.Add(uint64(n))
				w.log.Warn("webhook events abandoned at close", "url", redact(url), "events", n)
			}
			return
		}
		ev := q.items[0]
		w.mu.Unlock()

		if !w.send(url, ev) {
			continue // cancelled: the loop head abandons the queue
		}
		w.mu.Lock()
		q.items[0] = Event{}
		q.items = q.items[1:]
		w.mu.Unlock()
	}
}

// send delivers ev, retrying with backoff, until it is delivered or given
// up (true) or Close cancels it (false).
func (w *Webhooks) send(url string, ev Event) bool {
	for attempt := 1; ; attempt++ {
		err := w.attempt(url, ev)
		if err == nil {
			w.delivered.Add(1)
			w.log.Debug("webhook delivered", "url", redact(url), "event", ev.ID, "party", ev.Party, "attempts", attempt)
			return true
		}
		if w.ctx.Err() != nil {
			return false
		}
		w.failed.Add(1)
		if attempt >= w.maxAttempts {
			w.givenUp.Add(1)
			w.log.Error("webhook delivery given up", "url", redact(url), "event", ev.ID, "party", ev.Party,
				"attempts", attempt, "err", err.Error())
			return true
		}
		d := w.backoff(attempt)
		w.log.Debug("webhook attempt failed", "url", redact(url), "event", ev.ID, "party", ev.Party,
			"attempt", attempt, "retry_in", d, "err", err.Error())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// backoff is the delay after the attempt-th failed attempt (from 1):
// BaseBackoff·2^(attempt-1), capped at MaxBackoff, ±20% jitter.
func (w *Webhooks) backoff(attempt int) time.Duration {
	d := w.baseBackoff
	for i := 1; i < attempt && d < w.maxBackoff; i++ {
		if d > w.maxBackoff/2 {
			d = w.maxBackoff
			break
		}
		d *= 2
	}
	j := float64(d) * (1 - jitter + 2*jitter*rand.Float64())
	if j >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(j)
}

// statusError is a non-2xx answer.
type statusError int

func (e statusError) Error() string { return "HTTP status " + strconv.Itoa(int(e)) }

// attempt makes one signed POST of ev to url.
func (w *Webhooks) attempt(url string, ev Event) error {
	req, err := newRequest(w.ctx, url, ev, w.key, w.now())
	if err != nil {
		return err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return scrub(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp.StatusCode)
	}
	return nil
}

// newRequest builds the signed request of one attempt made at now.
func newRequest(ctx context.Context, url string, ev Event, key ed25519.PrivateKey, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev.Data))
	if err != nil {
		return nil, scrub(err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := ed25519.Sign(key, signedMessage(ts, ev.ID, ev.Data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "deconflict-webhook/1")
	req.Header.Set(HeaderIdempotencyKey, ev.ID)
	req.Header.Set(HeaderParty, ev.Party)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, signaturePrefix+base64.StdEncoding.EncodeToString(sig))
	return req, nil
}

func signedMessage(ts, id string, body []byte) []byte {
	m := make([]byte, 0, len(signatureContext)+len(ts)+len(id)+len(body)+3)
	m = append(m, signatureContext...)
	m = append(m, '\n')
	m = append(m, ts...)
	m = append(m, '\n')
	m = append(m, id...)
	m = append(m, '\n')
	return append(m, body...)
}

// scrub drops the URL from a *url.Error (it may hold a secret path or
// query) and keeps the cause.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// redact reduces a URL to scheme and host for logs and errors: webhook
// paths and queries often carry secrets.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "<invalid url>"
	}
	return pu.Scheme + "://" + pu.Host
}

// Verify is what a receiver runs: it checks the signature headers of a
// delivery against the service's public key, and that the timestamp is
// within maxSkew of now. It returns the event id (the Idempotency-Key),
// which the receiver should use to process each event once.
//
// Errors wrap ErrMissingHeader, ErrBadSignature or ErrStale. The
// Deconflict-Party header is not signed and is not checked.
func Verify(pub ed25519.PublicKey, h http.Header, body []byte, now time.Time, maxSkew time.Duration) (id string, err error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", errors.New("notify: Verify needs an Ed25519 public key")
	}
	if maxSkew <= 0 {
		return "", errors.New("notify: Verify needs a positive maxSkew")
	}
	id, err = oneHeader(h, HeaderIdempotencyKey)
	if err != nil {
		return "", err
	}
	ts, err := oneHeader(h, HeaderTimestamp)
	if err != nil {
		return "", err
	}
	sigHeader, err := oneHeader(h, HeaderSignature)
	if err != nil {
		return "", err
	}
	if err := checkToken("idempotency key", id); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	secs, err := parseUnix(ts)
	if err != nil {
		return "", fmt.Errorf("%w: malformed timestamp", ErrBadSignature)
	}
	b64, ok := strings.CutPrefix(sigHeader, signaturePrefix)
	if !ok {
		return "", fmt.Errorf("%w: want %q prefix", ErrBadSignature, signaturePrefix)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	if !ed25519.Verify(pub, signedMessage(ts, id, body), sig) {
		return "", fmt.Errorf("%w: signature does not verify", ErrBadSignature)
	}
	t := time.Unix(secs, 0)
	if t.Before(now.Add(-maxSkew)) || t.After(now.Add(maxSkew)) {
		return "", fmt.Errorf("%w: timestamp %s, now %s", ErrStale, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return id, nil
}

func oneHeader(h http.Header, name string) (string, error) {
	v := h.Values(name)
	if len(v) != 1 || v[0] == "" {
		return "", fmt.Errorf("%w: %s", ErrMissingHeader, name)
	}
	return v[0], nil
}

// parseUnix parses decimal unix seconds: digits only, no sign.
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, errors.New("bad timestamp")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("bad timestamp")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}
