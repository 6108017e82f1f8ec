package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/golang/geo/s2"
	"golang.org/x/mod/sumdb/note"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/web"
)

func runUI(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ui", "-as PARTY [-listen 127.0.0.1:0] [-open=false]")
	cf := addClientFlags(e, fs)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve the UI on")
	open := fs.Bool("open", true, "open the UI in the default browser (xdg-open, if there is one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.config(false)
	if err != nil {
		return err
	}
	ln, err := listenLoopback(*listen)
	if err != nil {
		return err
	}
	p, err := newUIProxy(cfg, cf.receiptsFile(cfg.Party), ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	// Requests derive from ctx, so that alert streams end with the command.
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(e.stdout, "deconflict UI for %s at %s\n(loopback only; the URL holds this session's secret; requests are signed here with %s's key, which never reaches the browser; Ctrl-C to stop)\n",
		cfg.Party, p.URL(), cfg.Party)
	if *open {
		if path, err := exec.LookPath("xdg-open"); err != nil {
			fmt.Fprintf(e.stderr, "no browser to open here (no xdg-open): open the URL above yourself\n")
		} else if err := exec.Command(path, p.URL()).Start(); err != nil {
			fmt.Fprintf(e.stderr, "could not open a browser (%v): open the URL above yourself\n", err)
		}
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listenLoopback listens on addr, which must be a loopback address: the
// UI proxy signs whatever it is asked, so only this machine may ask.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-listen %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
		addr = strings.Replace(addr, "localhost", host, 1)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-listen %q: the UI serves loopback addresses only (127.0.0.1 or ::1)", addr)
	}
	return net.Listen("tcp", addr)
}

// uiCookie holds the UI session secret.
const uiCookie = "deconflict_ui"

// URL is the address to open: it carries the session secret.
func (p *uiProxy) URL() string { return p.origin + "/?s=" + p.token }

// uiProxy serves the UI's assets and forwards /api/v1/... to the
// service's /v1/..., signing each request as the party.
type uiProxy struct {
	cfg      client.Config
	log      note.Verifier
	receipts string
	keep     func(*ledger.Receipt)
	origin   string   // http://127.0.0.1:PORT
	token    string   // the session secret in the printed URL, then a cookie
	hosts    []string // Host headers accepted (against DNS rebinding)
	base     *url.URL
	hc       *http.Client
	assets   http.Handler
}

func newUIProxy(cfg client.Config, receipts, addr string) (*uiProxy, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("server address %q", cfg.BaseURL)
	}
	lv, err := note.NewVerifier(cfg.LogKey)
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	var tb [16]byte
	rand.Read(tb[:])
	p := &uiProxy{token: base64.RawURLEncoding.EncodeToString(tb[:]), cfg: cfg, log: lv, receipts: receipts, keep: cfg.OnReceipt, origin: "http://" + addr, base: base,
		hosts:  []string{addr, "localhost:" + port},
		hc:     &http.Client{Transport: http.DefaultTransport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		assets: web.Handler()}
	return p, nil
}

func (p *uiProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !containsHost(p.hosts, r.Host) {
		http.Error(w, "unknown host", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Only the UI's own pages may write: refuse cross-site requests.
		if o := r.Header.Get("Origin"); o != p.origin && o != "http://localhost:"+portOf(p.origin) {
			http.Error(w, "cross-origin writes are refused", http.StatusForbidden)
			return
		}
	}
	// Another user of this machine could connect to the port too: the API
	// needs the session secret, given in the printed URL and kept as a
	// cookie.
	if t := r.URL.Query().Get("s"); t != "" && r.URL.Path == "/" {
		if subtle.ConstantTimeCompare([]byte(t), []byte(p.token)) != 1 {
			http.Error(w, "wrong session secret: use the URL deconflict ui printed", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: uiCookie, Value: p.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		c, err := r.Cookie(uiCookie)
		if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(p.token)) != 1 {
			http.Error(w, "no session: open the URL deconflict ui printed", http.StatusUnauthorized)
			return
		}
	}
	switch {
	case r.URL.Path == "/api/whoami":
		writeJSONTo(w, map[string]string{"party": p.cfg.Party, "service": p.cfg.Audience, "log_origin": p.log.Name()})
	case r.URL.Path == "/api/cells":
		p.cells(w, r)
	case r.URL.Path == "/api/receipts":
		p.listReceipts(w)
	case strings.HasPrefix(r.URL.Path, "/api/v1/"):
		p.forward(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		http.Error(w, "no such API", http.StatusNotFound)
	default:
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
		p.assets.ServeHTTP(w, r)
	}
}

func containsHost(hosts []string, h string) bool {
	for _, x := range hosts {
		if x == h {
			return true
		}
	}
	return false
}

func portOf(origin string) string {
	i := strings.LastIndex(origin, ":")
	return origin[i+1:]
}

func writeJSONTo(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// cells answers the corners of S2 cells given by token, to draw the
// overlap cells a deconfliction grant shows.
func (p *uiProxy) cells(w http.ResponseWriter, r *http.Request) {
	toks := strings.Split(r.URL.Query().Get("tokens"), ",")
	if len(toks) > 4096 {
		http.Error(w, "at most 4096 cells", http.StatusBadRequest)
		return
	}
	out := map[string][4][2]float64{}
	for _, t := range toks {
		if t == "" {
			continue
		}
		id := s2.CellIDFromToken(t)
		if !id.IsValid() {
			http.Error(w, fmt.Sprintf("%q is not an S2 cell token", t), http.StatusBadRequest)
			return
		}
		c := s2.CellFromCellID(id)
		var corners [4][2]float64
		for k := range 4 {
			ll := s2.LatLngFromPoint(c.Vertex(k))
			corners[k] = [2]float64{ll.Lat.Degrees(), ll.Lng.Degrees()}
		}
		out[t] = corners
	}
	writeJSONTo(w, map[string]any{"cells": out})
}

// uiReceipt is a kept receipt with whether it verifies.
type uiReceipt struct {
	ledger.Receipt
	Verified bool `json:"verified"`
}

func (p *uiProxy) listReceipts(w http.ResponseWriter) {
	rs, err := readJSONLines[ledger.Receipt](p.receipts)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		http.Error(w, "reading the receipts file failed", http.StatusInternalServerError)
		return
	}
	out := []uiReceipt{}
	for _, r := range rs {
		l, _, err := r.Verify(p.log)
		out = append(out, uiReceipt{Receipt: r, Verified: err == nil && l.Party == p.cfg.Party})
	}
	writeJSONTo(w, map[string]any{"receipts": out})
}

// forward signs and forwards an /api/v1/ request to the service.
func (p *uiProxy) forward(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if len(body) == 0 {
		body = nil
	}
	tok, err := auth.Sign(p.cfg.Key, p.cfg.Party, p.cfg.Audience, body, time.Now(), time.Minute)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	u := *p.base
	u.Path = strings.TrimSuffix(p.base.Path, "/") + strings.TrimPrefix(r.URL.Path, "/api")
	u.RawQuery = r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		req.Header.Set("Last-Event-ID", v)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		http.Error(w, "the service is unreachable: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Retry-After", "Cache-Control"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		w.WriteHeader(resp.StatusCode)
		streamCopy(w, resp.Body)
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		http.Error(w, "reading the service's answer failed", http.StatusBadGateway)
		return
	}
	switch ct := resp.Header.Get("Content-Type"); {
	case r.Method != http.MethodGet && resp.StatusCode/100 == 2 && strings.HasPrefix(ct, "application/json"):
		data = p.checkReceipt(data)
	case resp.StatusCode == http.StatusConflict && strings.HasPrefix(ct, "application/problem+json"):
		data = p.checkDisclosure(data)
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(data)
}

// checkReceipt verifies the receipt in a write's answer, keeps it, and
// adds "receipt_verified" to the answer.
func (p *uiProxy) checkReceipt(data []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m["receipt"] == nil {
		return data
	}
	var rc ledger.Receipt
	ok := json.Unmarshal(m["receipt"], &rc) == nil
	if ok {
		l, _, err := rc.Verify(p.log)
		ok = err == nil && l.Party == p.cfg.Party
		var entry uint64
		if e, has := m["entry"]; has && json.Unmarshal(e, &entry) == nil && entry != rc.Index {
			ok = false
		}
	}
	if ok && p.keep != nil {
		p.keep(&rc)
	}
	m["receipt_verified"], _ = json.Marshal(ok)
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

// checkDisclosure verifies the receipt of the entry that recorded what a
// refusal showed (problem.disclosure), and adds its receipt_verified.
func (p *uiProxy) checkDisclosure(data []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m["disclosure"] == nil {
		return data
	}
	m["disclosure"] = p.checkReceipt(m["disclosure"])
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

// streamCopy copies a Server-Sent Events stream, flushing as it goes.
func streamCopy(w http.ResponseWriter, r io.Reader) {
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush() // the headers, before the first event
	}
	buf := make([]byte, 8<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}
