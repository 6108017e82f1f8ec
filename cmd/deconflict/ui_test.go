package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/geo/s2"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/server"
)

// uiTokens holds the session secret of each test proxy, by origin.
var uiTokens sync.Map

// startUI starts a UI proxy for party on loopback and returns its origin
// (uiDo sends its session cookie; a browser opens uiURL(origin)).
func startUI(t *testing.T, dir, addr, party string) string {
	t.Helper()
	rp := filepath.Join(dir, "receipts", party+".jsonl")
	ccfg := partyConfig(t, dir, party, addr)
	ccfg.OnReceipt = receiptSink(&env{stderr: io.Discard}, rp)
	ln, err := listenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newUIProxy(ccfg, rp, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	uiTokens.Store(p.origin, p.token)
	return p.origin
}

// uiURL is the URL a browser opens for the proxy at origin.
func uiURL(origin string) string {
	tok, _ := uiTokens.Load(origin)
	return origin + "/?s=" + tok.(string)
}

type uiReply struct {
	status int
	body   []byte
	header http.Header
}

func uiDo(t *testing.T, method, url, origin, host string, body string) uiReply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if host != "" {
		req.Host = host
	}
	for o, tok := range uiTokens.Range {
		if strings.HasPrefix(url, o.(string)+"/") {
			req.AddCookie(&http.Cookie{Name: uiCookie, Value: tok.(string)})
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return uiReply{resp.StatusCode, b, resp.Header}
}

// TestUIProxy: the UI proxy serves the page, signs API requests as its
// party (the key stays in the proxy), verifies and keeps receipts,
// streams alerts, and refuses cross-site writes, foreign Host headers and
// non-loopback addresses.
func TestUIProxy(t *testing.T) {
	dir, addr := cliServer(t)
	o := startUI(t, dir, addr, "france")
	if r := uiDo(t, "GET", o+"/", "", "", ""); r.status != 200 || !strings.Contains(strings.ToLower(string(r.body)), "<!doctype html") {
		t.Fatalf("GET /: %d %.80s", r.status, r.body)
	}
	var who map[string]string
	if r := uiDo(t, "GET", o+"/api/whoami", "", "", ""); r.status != 200 || json.Unmarshal(r.body, &who) != nil || who["party"] != "france" {
		t.Fatalf("whoami: %d %s", r.status, r.body)
	}
	t0 := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	fr := server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{{Circle: &geo.CircleSpec{Lat: 34.8, Lng: 33, RadiusM: 5000},
		AltLoM: 0, AltHiM: 1000, Start: t0, End: t0.Add(time.Hour)}}}
	body, _ := json.Marshal(fr)
	// Cross-site and rebinding attempts are refused before anything is signed.
	for name, r := range map[string]uiReply{
		"no Origin":      uiDo(t, "POST", o+"/api/v1/intents", "", "", string(body)),
		"foreign Origin": uiDo(t, "POST", o+"/api/v1/intents", "http://evil.example", "", string(body)),
		"foreign Host":   uiDo(t, "GET", o+"/api/v1/intents", "", "evil.example:80", ""),
	} {
		if r.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, r.status)
		}
	}
	var filed struct {
		server.FiledView
		ReceiptVerified bool `json:"receipt_verified"`
	}
	r := uiDo(t, "POST", o+"/api/v1/intents", o, "", string(body))
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &filed) != nil || !filed.ReceiptVerified || filed.Receipt == nil {
		t.Fatalf("filing through the proxy: %d %s", r.status, r.body)
	}
	var rs struct {
		Receipts []uiReceipt `json:"receipts"`
	}
	if r := uiDo(t, "GET", o+"/api/receipts", "", "", ""); json.Unmarshal(r.body, &rs) != nil || len(rs.Receipts) != 1 || !rs.Receipts[0].Verified || rs.Receipts[0].Index != filed.Entry {
		t.Fatalf("receipts: %s", r.body)
	}
	// A problem passes through as is.
	if r := uiDo(t, "GET", o+"/api/v1/intents/nope", "", "", ""); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown intent: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// Cells.
	tok := s2.CellIDFromLatLng(s2.LatLngFromDegrees(34.8, 33)).Parent(13).ToToken()
	var cells struct {
		Cells map[string][4][2]float64 `json:"cells"`
	}
	if r := uiDo(t, "GET", o+"/api/cells?tokens="+tok, "", "", ""); json.Unmarshal(r.body, &cells) != nil || len(cells.Cells[tok]) != 4 ||
		cells.Cells[tok][0][0] < 34.7 || cells.Cells[tok][0][0] > 34.9 {
		t.Fatalf("cells: %s", r.body)
	}
	if r := uiDo(t, "GET", o+"/api/cells?tokens=zz!", "", "", ""); r.status != 400 {
		t.Fatalf("bad token: %d", r.status)
	}
	// Without the session secret, the API is closed (another user of the
	// machine could reach the port); the printed URL opens a session.
	req0, _ := http.NewRequestWithContext(t.Context(), "GET", o+"/api/whoami", nil)
	if resp, err := http.DefaultClient.Do(req0); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API without the session cookie: %v %v", resp, err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noRedirect.Get(uiURL(o)); err != nil || resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || !resp.Cookies()[0].HttpOnly {
		t.Fatalf("opening the printed URL: %v %v", resp, err)
	}
	if resp, err := noRedirect.Get(o + "/?s=guess"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a wrong secret: %v %v", resp, err)
	}
	if _, err := listenLoopback("0.0.0.0:0"); err == nil {
		t.Fatal("the UI listened on a non-loopback address")
	}

	// The alert stream passes through live: usa is refused over france's
	// intent, france is told.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", o+"/api/v1/alerts/stream", nil)
	stok, _ := uiTokens.Load(o)
	req.AddCookie(&http.Cookie{Name: uiCookie, Value: stok.(string)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	us := partyClient(t, dir, "usa", addr)
	if _, err := us.File(t.Context(), fr); err == nil {
		t.Fatal("usa's filing over france's intent was accepted without a key")
	}
	// Through usa's proxy, a refusal's disclosure receipt is verified.
	uo := startUI(t, dir, addr, "usa")
	r = uiDo(t, "POST", uo+"/api/v1/intents", uo, "", string(body))
	var prob struct {
		Disclosure struct {
			Entry           uint64 `json:"entry"`
			ReceiptVerified bool   `json:"receipt_verified"`
		} `json:"disclosure"`
	}
	if r.status != http.StatusConflict || json.Unmarshal(r.body, &prob) != nil || !prob.Disclosure.ReceiptVerified {
		t.Fatalf("refusal through the proxy: %d %s", r.status, r.body)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), `"kind":"disclosed"`) {
			return
		}
	}
	t.Fatalf("no alert came through the proxy's stream: %v", sc.Err())
}

// TestUIBrowser drives the map UI in headless Chromium (Debian's, with
// playwright-core from web/node_modules): two parties with different
// grants see different maps; russia draws and files an operation over
// usa's, is refused with the overlap shown, and re-files with the key;
// france's inbox gets an alert live and acknowledges it; 10,000 volumes
// are drawn and the frame time reported. Screenshots go to
// $DECONFLICT_UI_ARTIFACTS (default: a temporary directory). It needs
// node, /usr/bin/chromium and `npm ci` in web/ (.ci/run installs them and
// sets DECONFLICT_UI_TEST=require, which turns a missing part into a
// failure instead of a skip).
func TestUIBrowser(t *testing.T) {
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing = append(missing, "/usr/bin/chromium (apt-get install chromium)")
	}
	if _, err := os.Stat("../../web/node_modules/playwright-core"); err != nil {
		missing = append(missing, "web/node_modules (cd web && npm ci)")
	}
	if _, err := os.Stat("../../web/test/ui.test.mjs"); err != nil {
		missing = append(missing, "web/test/ui.test.mjs")
	}
	if len(missing) > 0 {
		if os.Getenv("DECONFLICT_UI_TEST") == "require" {
			t.Fatalf("the browser test needs: %s", strings.Join(missing, ", "))
		}
		t.Skipf("browser test skipped, missing: %s (run .ci/run to install them)", strings.Join(missing, ", "))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir, addr, _ := serveParties(t, ctx, "france", "usa", "russia")

	t0 := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	circle := func(lat, lng, r, lo, hi float64) geo.VolumeSpec {
		return geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: geo.Degrees(lat), Lng: geo.Degrees(lng), RadiusM: geo.Meters(r)},
			AltLoM: geo.Meters(lo), AltHiM: geo.Meters(hi), Start: t0, End: t0.Add(time.Hour)}
	}
	us, fr := partyClient(t, dir, "usa", addr), partyClient(t, dir, "france", addr)
	if _, err := us.File(ctx, server.FileRequest{Priority: 30, Volumes: []geo.VolumeSpec{circle(34.9, 33.3, 10_000, 4000, 5000)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := us.SetGrant(ctx, "france", "operational"); err != nil {
		t.Fatal(err)
	}
	own := []geo.VolumeSpec{circle(35.6, 33.0, 20_000, 3000, 6000)}
	if _, err := fr.File(ctx, server.FileRequest{Priority: 10, Volumes: own}); err != nil {
		t.Fatal(err)
	}
	a, b := startUI(t, dir, addr, "france"), startUI(t, dir, addr, "russia")

	shots := os.Getenv("DECONFLICT_UI_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	trigger := filepath.Join(shots, "trigger-alert")
	os.Remove(trigger)
	// When the browser test asks, usa files over france's intent (with
	// the key it is shown, at a higher priority): france is alerted live.
	triggered := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(trigger); err == nil {
				fr := server.FileRequest{Priority: 50, Volumes: []geo.VolumeSpec{circle(35.6, 33.0, 5_000, 3500, 4500)}}
				_, err := us.File(ctx, fr)
				var p *server.Problem
				if errors.As(err, &p) {
					for _, it := range p.Intents {
						fr.Key = append(fr.Key, it.OVN)
					}
					_, err = us.File(ctx, fr)
				}
				triggered <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	cmd := exec.CommandContext(ctx, "node", "ui.test.mjs")
	cmd.Dir = "../../web/test"
	cmd.Env = append(os.Environ(), "UI_URL_A="+uiURL(a), "UI_URL_B="+uiURL(b), "SCREENSHOT_DIR="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", out)
	select {
	case terr := <-triggered:
		if terr != nil {
			t.Errorf("usa's filing for the live alert failed: %v", terr)
		}
	default:
		t.Error("the browser test never asked for the live alert")
	}
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}
	for _, k := range []string{"UI_FRAME_MS", "UI_LOAD_MS"} {
		if m := regexp.MustCompile(k + `=([0-9.]+)`).FindSubmatch(out); m == nil {
			t.Errorf("the browser test printed no %s", k)
		} else {
			t.Logf("%s = %s ms (screenshots in %s)", k, m[1], shots)
		}
	}
}
