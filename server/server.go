// Package server is deconflict's HTTP API under /v1: JSON bodies, errors as
// RFC 9457 application/problem+json with a stable type per error, every
// request authenticated by an EdDSA JWT signed by the party's own key (see
// package auth). Handlers parse and validate at the edge, the registry
// decides (through the service's sequencer), and one function maps errors
// to problems. The routes are listed in the OpenAPI document served at
// /v1/openapi.json.
package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/notify"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures a Server.
type Config struct {
	Service  *service.Service // required
	Audience string           // the service id tokens must name (required)
	Limits   geo.Limits       // what volumes may be filed
	// MaxBody is the largest request body (default DefaultMaxBody).
	MaxBody int64
	// MaxBatch is the most intents in one batch request (default DefaultMaxBatch).
	MaxBatch int
	// RateLimit is how many authenticated requests per second each party
	// may make on average, RateBurst how many at once (defaults
	// DefaultRateLimit, DefaultRateBurst; a negative RateLimit disables it).
	RateLimit float64
	RateBurst int
	Logger    *slog.Logger
	Now       func() time.Time

	// CellLevel is the S2 level of the overlap cells shown under a
	// deconfliction grant (default DefaultCellLevel, about 1 km).
	CellLevel int
	// AckDeadline: an alert unacknowledged for longer is overdue
	// (default DefaultAckDeadline).
	AckDeadline time.Duration
	// RedeliverEvery: how often alert streams send unacknowledged alerts
	// again (default DefaultRedeliverEvery).
	RedeliverEvery time.Duration
	// QuotaAreaTime (km²·h per hour) and QuotaDisclosures (intents shown
	// by refusals per hour) bound each party (defaults
	// DefaultQuotaAreaTime, DefaultQuotaDisclosure; negative: no limit).
	QuotaAreaTime    float64
	QuotaDisclosures float64
	// Webhooks, if set, posts each alert to its recipient's webhook, if
	// it registered one (signed by the key Webhooks was made with).
	Webhooks *notify.Webhooks
}

// Defaults for Config.
const (
	DefaultMaxBody  = 1 << 20
	DefaultMaxBatch = 1000

	DefaultRateLimit = 2000
	DefaultRateBurst = 4000

	DefaultAckDeadline    = 10 * time.Minute
	DefaultRedeliverEvery = 30 * time.Second
)

// Server serves the API. It is safe for concurrent use.
type Server struct {
	cfg      Config
	svc      *service.Service
	verifier *auth.Verifier
	log      *slog.Logger
	mux      *http.ServeMux
	routes   []route

	metrics *metrics
	limiter *limiter
	quotas  *quotas
	hub     *hub

	streamsDone chan struct{} // closed by CloseStreams
	closeOnce   sync.Once
}

// CloseStreams ends every alert stream (register it with
// http.Server.RegisterOnShutdown: streams never end on their own).
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.streamsDone) }) }

type route struct {
	method, pattern string
	auth            bool
	h               handler
}

// call is an authenticated request: who asked, and the body they signed.
type call struct {
	party registry.PartyID
	body  []byte
	req   *service.Request
}

type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// New makes a server.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil || cfg.Audience == "" {
		return nil, errors.New("server: a service and an audience are required")
	}
	if err := cfg.Limits.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst == 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CellLevel == 0 {
		cfg.CellLevel = DefaultCellLevel
	}
	if cfg.CellLevel < 1 || cfg.CellLevel > 30 {
		return nil, errors.New("server: cell level must be 1 to 30")
	}
	if cfg.AckDeadline == 0 {
		cfg.AckDeadline = DefaultAckDeadline
	}
	if cfg.RedeliverEvery == 0 {
		cfg.RedeliverEvery = DefaultRedeliverEvery
	}
	if cfg.QuotaAreaTime == 0 {
		cfg.QuotaAreaTime = DefaultQuotaAreaTime
	}
	if cfg.QuotaDisclosures == 0 {
		cfg.QuotaDisclosures = DefaultQuotaDisclosure
	}
	s := &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, mux: http.NewServeMux(), metrics: newMetrics(),
		limiter: newLimiter(cfg.RateLimit, cfg.RateBurst), quotas: newQuotas(cfg.QuotaAreaTime, cfg.QuotaDisclosures), hub: newHub(),
		streamsDone: make(chan struct{})}
	cfg.Service.SetAlertHook(s.notify)
	v, err := auth.NewVerifier(auth.VerifierConfig{Audience: cfg.Audience, Keys: s.partyKey})
	if err != nil {
		return nil, err
	}
	s.verifier = v
	// The replay cache lives in memory: refuse again the tokens the log
	// recorded within their lifetime, as before a restart.
	now := cfg.Now()
	if err := cfg.Service.RecentRequests(context.Background(), now.Add(-auth.DefaultMaxTTL-auth.DefaultLeeway), func(r *service.Request) {
		if err := v.Remember(r.Token, now); err != nil {
			s.log.Warn("cannot remember a logged token", "err", err)
		}
	}); err != nil {
		return nil, fmt.Errorf("server: reading recent requests from the log: %w", err)
	}
	s.routes = []route{
		{"GET", "/healthz", false, s.healthz},
		{"GET", "/metrics", false, nil},
		{"GET", "/v1/openapi.json", false, s.openapi},
		{"POST", "/v1/intents", true, s.fileIntent},
		{"POST", "/v1/intents/batch", true, s.fileBatch},
		{"POST", "/v1/intents/query", true, s.queryIntents},
		{"GET", "/v1/intents", true, s.listIntents},
		{"GET", "/v1/intents/{id}", true, s.getIntent},
		{"PUT", "/v1/intents/{id}", true, s.updateIntent},
		{"POST", "/v1/intents/{id}/state", true, s.setState},
		{"POST", "/v1/intents/{id}/end", true, s.endIntent},
		{"GET", "/v1/conflicts", true, s.conflicts},
		{"GET", "/v1/alerts", true, s.alerts},
		{"GET", "/v1/alerts/stream", true, s.alertStream},
		{"POST", "/v1/alerts/{id}/ack", true, s.ackAlert},
		{"GET", "/v1/grants", true, s.listGrants},
		{"PUT", "/v1/grants/{party}", true, s.setGrant},
		{"GET", "/v1/disclosures", true, s.disclosures},
		{"GET", "/v1/conflicts/{id}/messages", true, s.hotline},
		{"POST", "/v1/conflicts/{id}/messages", true, s.postMessage},
		{"POST", "/v1/conflicts/{id}/coordinate", true, s.coordinate},
		{"PUT", "/v1/webhook", true, s.setWebhook},
		{"GET", "/v1/parties", true, s.listParties},
		{"POST", "/v1/parties", true, s.addParty},
		{"POST", "/v1/parties/{id}/revoke", true, s.revokeParty},
		{"GET", "/v1/log/checkpoint", true, s.checkpoint},
		{"GET", "/v1/log/entries", true, s.logEntries},
		{"GET", "/v1/log/entries/{index}/content", true, s.entryContent},
		{"GET", "/v1/log/proof/inclusion", true, s.inclusionProof},
		{"GET", "/v1/log/proof/consistency", true, s.consistencyProof},
		{"POST", "/v1/log/cosignatures", true, s.cosign},
	}
	for _, rt := range s.routes {
		pattern := rt.method + " " + rt.pattern
		if rt.h == nil {
			s.mux.Handle(pattern, promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
			continue
		}
		s.mux.Handle(pattern, s.wrap(rt))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &Problem{Type: TypeNotFound, Title: "not found", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no route %s %s; see /v1/openapi.json", r.Method, r.URL.Path)})
	})
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// partyKey is the verifier's key lookup: active parties only.
func (s *Server) partyKey(id string) (ed25519.PublicKey, error) {
	var key ed25519.PublicKey
	var err error
	s.svc.View(func(r *registry.Registry) {
		p := r.Party(registry.PartyID(id))
		switch {
		case p == nil:
			err = errors.New("unknown party")
		case p.Revoked:
			err = errors.New("party revoked")
		default:
			key = p.PublicKey
		}
	})
	return key, err
}

// wrap authenticates (if the route needs it), bounds the body, runs the
// handler and turns its error into a problem.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if rt.pattern != "/v1/alerts/stream" {
			// Bound every answer but the streams (the http.Server has no
			// WriteTimeout, for them).
			http.NewResponseController(w).SetWriteDeadline(start.Add(time.Minute))
		}
		sw := &statusWriter{ResponseWriter: w, status: 200}
		c := &call{}
		err := s.serve(sw, r, rt, c)
		if err != nil {
			p := s.problemFor(c.party, err)
			p.Instance = r.URL.Path
			writeProblem(sw, p)
		}
		s.metrics.observe(rt.method+" "+rt.pattern, sw.status, time.Since(start))
	})
}

// readBody reads r's body, at most max bytes. For a body whose length the
// request states (at most max: the caller checked), it reserves up to
// presizeBody before the bytes arrive and doubles that only as they do,
// so a client that states a large body and sends little holds little; it
// reads no more than the stated length (net/http ends the body there too),
// and a shorter body fails.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, max)
	if r.ContentLength <= 0 {
		return io.ReadAll(body)
	}
	n := int(r.ContentLength)
	b := make([]byte, 0, min(n, presizeBody))
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n, 2*cap(b))-len(b))
		}
		m, err := body.Read(b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err == io.EOF && len(b) < n {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return b, nil
}

// presizeBody bounds what readBody reserves for a body before it arrives:
// the body is read before the token that authenticates it can be checked.
// A filing of one intent is about 1 KiB, a batch of 100 about 110 KiB.
const presizeBody = 4 << 10

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route, c *call) error {
	if !rt.auth {
		return rt.h(w, r, c)
	}
	if r.ContentLength > s.cfg.MaxBody {
		return tooLarge(s.cfg.MaxBody)
	}
	body, err := readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(s.cfg.MaxBody)
		}
		return invalidf("reading the body: %v", err)
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return fmt.Errorf("%w: missing Authorization: Bearer token", auth.ErrUnauthenticated)
	}
	party, err := s.verifier.Verify(token, body, s.cfg.Now())
	if err != nil {
		return err
	}
	c.party, c.body = registry.PartyID(party), body
	if ok, retry := s.limiter.allow(c.party, s.cfg.Now()); !ok {
		return rateLimited(retry)
	}
	c.req = &service.Request{Method: r.Method, Path: r.URL.RequestURI(), Token: token, Body: body}
	return rt.h(w, r, c)
}

func tooLarge(max int64) error {
	return &Problem{Type: TypeTooLarge, Title: "request body too large", Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("the body must be at most %d bytes; file fewer intents per request", max)}
}

// decode decodes a JSON body strictly: one value, no unknown fields.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidf("the request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("decoding the body: %v", err)
	}
	if dec.More() {
		return invalidf("the body holds more than one JSON value")
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, c *call) error {
	var last uint64
	s.svc.View(func(r *registry.Registry) { last = r.LastIndex() })
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "last_entry": last})
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// Flush lets handlers stream (Server-Sent Events).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// metrics are the server's Prometheus metrics.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deconflict_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deconflict_http_request_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency, prometheus.NewGoCollector())
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// notify is the service's alert hook: it wakes up the recipients' alert
// streams (called by the committer once the alerts' entries are durable).
func (s *Server) notify(alerts []registry.Alert) {
	s.hub.publish(alerts)
	if s.cfg.Webhooks != nil {
		s.postWebhooks(alerts)
	}
}

// postWebhooks queues alerts for their recipients' webhooks.
func (s *Server) postWebhooks(alerts []registry.Alert) {
	type post struct {
		url string
		ev  notify.Event
	}
	var posts []post
	now := s.cfg.Now()
	s.svc.View(func(reg *registry.Registry) {
		for _, a := range alerts {
			u := reg.Webhook(a.To)
			if u == "" {
				continue
			}
			data, err := json.Marshal(s.alertView(reg, a, now))
			if err != nil {
				continue
			}
			posts = append(posts, post{u, notify.Event{ID: a.ID, Party: string(a.To), Data: data}})
		}
	})
	for _, p := range posts {
		if err := s.cfg.Webhooks.Deliver(p.url, p.ev); err != nil {
			s.log.Warn("webhook not queued; the alert stays listed and streamed", "party", p.ev.Party, "alert", p.ev.ID, "err", err)
		}
	}
}

// RedeliverWebhooks queues every unacknowledged alert of the parties that
// have a webhook: after a restart, deliveries that were in flight are
// made again (receivers dedupe by the Idempotency-Key).
func (s *Server) RedeliverWebhooks() int {
	if s.cfg.Webhooks == nil {
		return 0
	}
	var pending []registry.Alert
	s.svc.View(func(reg *registry.Registry) {
		for _, p := range reg.Parties() {
			if reg.Webhook(p.ID) == "" {
				continue
			}
			for _, a := range reg.Alerts(p.ID, 0) {
				if _, ok := reg.Acked(a.ID); !ok {
					pending = append(pending, a)
				}
			}
		}
	})
	s.postWebhooks(pending)
	return len(pending)
}
