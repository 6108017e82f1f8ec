package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliServer inits a data directory with france and usa and serves it in
// this process; it returns the directory and the server address.
func cliServer(t *testing.T) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir, addr, _ := serveParties(t, ctx, "france", "usa")
	return dir, addr
}

// serveParties inits a data directory with the member parties and serves
// it in this process until ctx ends (or the test does); it returns the
// directory, the server address and the running service.
func serveParties(t *testing.T, ctx context.Context, parties ...string) (string, string, *running) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"init", "-dir", dir}
	for _, p := range parties {
		args = append(args, "-party", p)
	}
	if err := run(ctx, args, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r, err := startService(ctx, dir, cfg, slog.New(slog.DiscardHandler), 1000, &env{stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	go r.serve(ctx, ln)
	return dir, "http://" + ln.Addr().String(), r
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIntentCLI drives the intent commands as the README shows them.
func TestIntentCLI(t *testing.T) {
	dir, addr := cliServer(t)
	t0 := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	win := `"start":"` + t0.Format(time.RFC3339) + `","end":"` + t0.Add(2*time.Hour).Format(time.RFC3339) + `"`
	patrol := writeFile(t, t.TempDir(), "patrol.json", `[{"circle":{"lat":34.8,"lng":33.0,"radius_m":20000},"alt_lo_m":3000,"alt_hi_m":6000,`+win+`}]`)
	moved := writeFile(t, t.TempDir(), "moved.json", `[{"polygon":[[35.5,33.0],[35.6,33.1],[35.6,32.9]],"alt_lo_m":3000,"alt_hi_m":6000,`+win+`}]`)
	geojson := writeFile(t, t.TempDir(), "transit.geojson", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[32.9,34.7],[33.1,34.7],[33.1,34.9],[32.9,34.9],[32.9,34.7]]]},"properties":{"alt_lo_m":4000,"alt_hi_m":5000,`+win+`}}`)

	cli := func(as string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		full := append([]string{"intent"}, args...)
		full = append(full, "-dir", dir, "-server", addr)
		if as != "" {
			full = append(full, "-as", as)
		}
		err := run(context.Background(), full, nil, &out, &errb)
		return out.String() + errb.String(), err
	}
	filedRE := regexp.MustCompile(`intent (\S+) \(state (\S+), ovn (\S+),`)
	mustFiled := func(out string, err error) (id, ovn string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		m := filedRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no intent in output:\n%s", out)
		}
		return m[1], m[3]
	}

	fid, fovn := mustFiled(cli("france", "file", "-f", patrol, "-priority", "10"))

	out, err := cli("usa", "file", "-f", geojson, "-priority", "30")
	if err == nil || !strings.Contains(out, "refused") || !strings.Contains(out, "-key "+fovn) || !strings.Contains(out, fid) {
		t.Fatalf("overlapping filing without key: %v\n%s", err, out)
	}
	mustFiled(cli("usa", "file", "-f", geojson, "-priority", "30", "-key", fovn))

	out, err = cli("france", "get", fid)
	if err != nil || !strings.Contains(out, `"preempted_by"`) {
		t.Fatalf("get after preemption: %v\n%s", err, out)
	}

	// ID before the flags, as the README writes it.
	_, aovn := mustFiled(cli("france", "activate", fid, "-ovn", fovn))
	if _, err := cli("france", "update", fid, "-ovn", fovn, "-f", moved); err == nil {
		t.Fatal("update with a stale OVN was accepted")
	}
	_, uovn := mustFiled(cli("france", "update", fid, "-ovn", aovn, "-f", moved))
	out, err = cli("france", "get", fid)
	var v struct {
		Priority int
		State    string
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v.Priority != 10 || v.State != "activated" {
		t.Fatalf("after an update without -priority: %v, %+v\n%s", err, v, out)
	}
	mustFiled(cli("france", "end", fid, "-ovn", uovn))

	if out, err := cli("", "list"); err == nil || !strings.Contains(err.Error(), "-as PARTY") {
		t.Fatalf("list without -as: %v\n%s", err, out)
	}
	for _, sub := range []string{"file", "update", "get", "activate", "end", "list"} {
		var errb bytes.Buffer
		err := run(context.Background(), []string{"intent", sub, "-h"}, nil, io.Discard, &errb)
		if !errors.Is(err, errHelp) || exitCode(err) != 0 || !strings.Contains(errb.String(), "usage: deconflict intent "+sub) {
			t.Errorf("intent %s -h: %v\n%s", sub, err, errb.String())
		}
	}
	if _, err := cli("france", "file"); err == nil {
		t.Error("intent file without -f was accepted")
	}
}

func TestReadVolumesForms(t *testing.T) {
	d := t.TempDir()
	vol := `{"circle":{"lat":1,"lng":2,"radius_m":100},"alt_lo_m":0,"alt_hi_m":10,"start":"2026-12-01T00:00:00Z","end":"2026-12-01T01:00:00Z"}`
	for _, tc := range []struct {
		name, body string
		want       int
		bad        bool
	}{
		{"array", "[" + vol + "," + vol + "]", 2, false},
		{"one volume", vol, 1, false},
		{"wrapped", `{"volumes":[` + vol + `]}`, 1, false},
		{"unknown field", `[{"colour":"red"}]`, 0, true},
		{"geojson point", `{"type":"Feature","geometry":{"type":"Point","coordinates":[2,1]},"properties":{"radius_m":100,"alt_lo_m":0,"alt_hi_m":10,"start":"2026-12-01T00:00:00Z","end":"2026-12-01T01:00:00Z"}}`, 1, false},
		{"geojson hole", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]]},"properties":{"alt_lo_m":0,"alt_hi_m":10,"start":"2026-12-01T00:00:00Z","end":"2026-12-01T01:00:00Z"}}`, 0, true},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := readVolumes(writeFile(t, d, tc.name+".json", tc.body))
			if (err != nil) != tc.bad || len(vs) != tc.want {
				t.Fatalf("got %d volumes, err %v; want %d, error %v", len(vs), err, tc.want, tc.bad)
			}
		})
	}
}
