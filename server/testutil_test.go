package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	pebblestore "github.com/deconflict/deconflict/ledger/pebble"
	"github.com/deconflict/deconflict/notify"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

// audience is the service id every test server and token uses.
const audience = "test-svc"

// logOrigin names every test log; logWitnesses cosignatures make a
// checkpoint witnessed.
const (
	logOrigin    = "test-log"
	logWitnesses = 2
)

// authority is the first party of every env, registered by the operator.
const authority registry.PartyID = "authority"

// envConfig varies the service an env runs.
type envConfig struct {
	SnapshotEvery int     // service.Config.SnapshotEvery (0: default)
	RateLimit     float64 // server.Config.RateLimit (0: default)
	RateBurst     int     // server.Config.RateBurst (0: default)

	AckDeadline      time.Duration // server.Config.AckDeadline (0: default)
	RedeliverEvery   time.Duration // server.Config.RedeliverEvery (0: default)
	QuotaAreaTime    float64       // server.Config.QuotaAreaTime (0: default)
	QuotaDisclosures float64       // server.Config.QuotaDisclosures (0: default)
	// Webhooks, if set, makes the server's webhook sender with this
	// client (to trust a test TLS server) and the log key.
	WebhookClient *http.Client
}

// env is a running deconflict: a Pebble store in a temporary directory,
// the service, the HTTP server and the keys of the parties it knows.
type env struct {
	dir string
	cfg envConfig

	// start and end bound the time window of every volume of the test:
	// an hour from now, for an hour.
	start, end time.Time

	spots atomic.Int64 // spots handed out by spot

	// mu guards the running parts, replaced by restart, and keys.
	logKey ed25519.PrivateKey // signs the log's checkpoints

	mu    sync.Mutex
	store *pebblestore.Store
	svc   *service.Service
	srv   *server.Server
	ts    *httptest.Server
	keys  map[registry.PartyID]ed25519.PrivateKey
}

// newEnv starts an env with the authority registered; it is stopped when
// the test ends.
func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	start := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	_, logKey, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: t.TempDir(), cfg: cfg, start: start, end: start.Add(time.Hour), logKey: logKey,
		keys: make(map[registry.PartyID]ed25519.PrivateKey)}
	e.open(t)
	t.Cleanup(func() { e.close(t) })
	e.addParty(t, "", authority, registry.RoleAuthority)
	return e
}

// open opens the store, the service and the server on e.dir.
func (e *env) open(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st, err := pebblestore.Open(ctx, e.dir, pebblestore.Options{})
	if err != nil {
		t.Fatalf("pebblestore.Open: %v", err)
	}
	svc, err := service.Open(ctx, service.Config{Store: st, SnapshotEvery: e.cfg.SnapshotEvery,
		LogKey: e.logKey, Origin: logOrigin, Witnesses: logWitnesses})
	if err != nil {
		st.Close(ctx)
		t.Fatalf("service.Open: %v", err)
	}
	var wh *notify.Webhooks
	if e.cfg.WebhookClient != nil {
		wh, err = notify.NewWebhooks(notify.WebhookConfig{Key: e.logKey, Client: e.cfg.WebhookClient, AllowPrivate: true,
			BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(wh.Close)
	}
	srv, err := server.New(server.Config{Service: svc, Audience: audience, Webhooks: wh,
		RateLimit: e.cfg.RateLimit, RateBurst: e.cfg.RateBurst, AckDeadline: e.cfg.AckDeadline,
		RedeliverEvery: e.cfg.RedeliverEvery, QuotaAreaTime: e.cfg.QuotaAreaTime, QuotaDisclosures: e.cfg.QuotaDisclosures})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	e.mu.Lock()
	e.store, e.svc, e.srv, e.ts = st, svc, srv, httptest.NewServer(srv.Handler())
	e.mu.Unlock()
}

// close stops the server, the service and the store, in that order.
func (e *env) close(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.srv.CloseStreams()
	e.ts.Close()
	if err := e.svc.Close(ctx); err != nil {
		t.Errorf("service.Close: %v", err)
	}
	if err := e.store.Close(ctx); err != nil {
		t.Errorf("store.Close: %v", err)
	}
	e.store, e.svc, e.ts = nil, nil, nil
}

// restart closes everything and opens it again on the same directory.
func (e *env) restart(t *testing.T) {
	t.Helper()
	e.close(t)
	e.open(t)
}

func (e *env) service() *service.Service {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.svc
}

func (e *env) server() *server.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv
}

func (e *env) url() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ts.URL
}

func (e *env) key(p registry.PartyID) ed25519.PrivateKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.keys[p]
}

// addParty registers party id with a new key, as the operator does: an
// entry submitted to the service directly, by party by ("" for the first).
func (e *env) addParty(t *testing.T, by, id registry.PartyID, role registry.Role) {
	t.Helper()
	pub, priv, err := auth.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	_, err = e.service().Submit(t.Context(), service.Command{Entry: registry.Entry{
		Party: by, Kind: registry.KindAddParty,
		AddParty: &registry.AddParty{Party: registry.Party{ID: id, Name: string(id), Role: role, PublicKey: pub}},
	}})
	if err != nil {
		t.Fatalf("adding party %s: %v", id, err)
	}
	e.mu.Lock()
	e.keys[id] = priv
	e.mu.Unlock()
}

// addMembers registers member parties, added by the authority.
func (e *env) addMembers(t *testing.T, ids ...registry.PartyID) {
	t.Helper()
	for _, id := range ids {
		e.addParty(t, authority, id, registry.RoleMember)
	}
}

// client is the Go client of party p.
func (e *env) client(t *testing.T, p registry.PartyID) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: e.url(), Party: string(p), Key: e.key(p), Audience: audience, LogKey: e.logVKey(t)})
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

// numIntents is how many intents the registry holds, ended ones included.
func (e *env) numIntents() int {
	var n int
	e.service().View(func(r *registry.Registry) { n = r.NumIntents() })
	return n
}

// spot is a point on the map that no other call of spot returns: spots are
// 0.01° (over a kilometre) apart, and volumes around them 100 m wide, so
// volumes at different spots never conflict.
type spot struct{ lat, lng geo.Degrees }

func (e *env) spot() spot {
	n := e.spots.Add(1)
	return spot{lat: geo.Degrees(10 + float64(n/100)*0.01), lng: geo.Degrees(20 + float64(n%100)*0.01)}
}

// vol is a circle of 100 m at s from the ground to 120 m, in the test's
// time window.
func (e *env) vol(s spot) geo.VolumeSpec {
	return e.volAt(s, 0, 120)
}

// volAt is a circle of 100 m at s between the altitudes lo and hi.
func (e *env) volAt(s spot, lo, hi geo.Meters) geo.VolumeSpec {
	return geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: s.lat, Lng: s.lng, RadiusM: 100},
		AltLoM: lo, AltHiM: hi, Start: e.start, End: e.end}
}

// file files an intent through the client and fails the test if it is
// refused.
func (e *env) file(t *testing.T, as registry.PartyID, fr server.FileRequest) *server.FiledView {
	t.Helper()
	f, err := e.client(t, as).File(t.Context(), fr)
	if err != nil {
		t.Fatalf("%s filing %+v: %v", as, fr, err)
	}
	return f
}

// request is one HTTP request of a test. It is signed by the party as
// (none: no Authorization header).
type request struct {
	as     registry.PartyID
	method string
	path   string
	body   any // nil: no body; []byte: sent as is; anything else: its JSON
}

// reply is an HTTP answer, read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// bodyOf returns the bytes a request body is sent as.
func bodyOf(t *testing.T, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case []byte:
		return b
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encoding request body: %v", err)
	}
	return b
}

// token signs a one-minute token of party p for body.
func (e *env) token(t *testing.T, p registry.PartyID, body []byte) string {
	t.Helper()
	tok, err := auth.Sign(e.key(p), string(p), audience, body, time.Now(), time.Minute)
	if err != nil {
		t.Fatalf("auth.Sign: %v", err)
	}
	return tok
}

// do sends rq, signed with a fresh token.
func (e *env) do(t *testing.T, rq request) *reply {
	t.Helper()
	body := bodyOf(t, rq.body)
	authz := ""
	if rq.as != "" {
		authz = "Bearer " + e.token(t, rq.as, body)
	}
	return e.raw(t, rq.method, rq.path, body, authz)
}

// raw sends a request as given, with the Authorization header authz
// (none if empty).
func (e *env) raw(t *testing.T, method, path string, body []byte, authz string) *reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.url()+path, rd)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, req)
}

// send sends req and reads the whole answer.
func send(t *testing.T, req *http.Request) *reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer to %s %s: %v", req.Method, req.URL.Path, err)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantProblem fails the test unless r is a problem+json answer with the
// given status and type; it returns the problem.
func wantProblem(t *testing.T, r *reply, status int, typ string) *server.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p server.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding problem %s: %v", r.body, err)
	}
	if p.Type != typ {
		t.Errorf("problem type %q, want %q; problem: %s", p.Type, typ, r.body)
	}
	if p.Status != status {
		t.Errorf("problem status %d, want the HTTP status %d", p.Status, status)
	}
	return &p
}

// wantJSON fails the test unless r is a JSON answer with the given status;
// it decodes the body into out (if not nil).
func wantJSON(t *testing.T, r *reply, status int, out any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("decoding %s: %v", r.body, err)
		}
	}
}

// intentPath is the path of intent id, with an optional suffix ("/end").
func intentPath(id registry.IntentID, suffix string) string {
	return "/v1/intents/" + string(id) + suffix
}

// logVKey is the log's note verifier key.
func (e *env) logVKey(t *testing.T) string {
	t.Helper()
	k, err := ledger.VerifierKey(logOrigin, e.logKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
