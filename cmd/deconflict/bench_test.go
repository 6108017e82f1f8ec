package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/workload"
)

// sharedWorkload makes n intents of the shared benchmark workload with its
// own generator (shared/bench/workload, beside this repository), or skips
// the test if the generator is not there.
func sharedWorkload(t *testing.T, n int) []workload.Intent {
	t.Helper()
	gen, err := filepath.Abs("../../../shared/bench/workload")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(gen, "main.go")); err != nil {
		t.Skip("shared/bench/workload is not beside the repository")
	}
	cmd := exec.Command("go", "run", ".", "-n", itoa(n), "-parties", "12", "-seed", "1")
	cmd.Dir = gen
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running the workload generator: %v\n%s", err, stderr.String())
	}
	intents, err := workload.Read(&out, geo.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(intents) != n {
		t.Fatalf("generator gave %d intents, want %d", len(intents), n)
	}
	return intents
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestBenchEngineMatchesAllPairs files a prefix of the shared workload
// through the engine and compares every intent's conflict set with the
// exact all-pairs computation; the baseline's figure for the first 20,000
// is 26,849 pairs, so the prefix must find conflicts.
func TestBenchEngineMatchesAllPairs(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1000
	}
	intents := sharedWorkload(t, n)
	e := &env{stdout: io.Discard, stderr: io.Discard}
	res, err := benchEngine(context.Background(), e, intents)
	if err != nil {
		t.Fatal(err)
	}
	want := bruteForceConflicts(context.Background(), intents, nil)
	pairs := 0
	for i := range intents {
		if !slices.Equal(res.conflicts[i], want[i]) {
			t.Fatalf("intent %s: engine %v, all pairs %v", intents[i].ID, res.conflicts[i], want[i])
		}
		pairs += len(want[i])
	}
	if pairs == 0 {
		t.Fatal("no conflicts in the prefix: the test checks nothing")
	}
	t.Logf("%d intents, %d conflicting pairs, identical", n, pairs)
}

// TestBenchDurableHTTP runs the service benchmark over HTTP, one intent
// per request and in batches, with answers with and without overlap cells,
// and checks it finds the same pairs.
func TestBenchDurableHTTP(t *testing.T) {
	intents := sharedWorkload(t, 600)
	want := bruteForceConflicts(context.Background(), intents, nil)
	for _, run := range []struct {
		batch  int
		extent bool
	}{{0, false}, {50, false}, {50, true}} {
		batch := run.batch
		var out bytes.Buffer
		sb := &svcBench{e: &env{stdout: &out, stderr: io.Discard}, intents: intents, clients: 4, batch: batch, http: true, extent: run.extent, dir: t.TempDir()}
		if err := sb.run(context.Background()); err != nil {
			t.Fatalf("batch %d, extent %t: %v", batch, run.extent, err)
		}
		got, wantPairs := pairSet(intents, sb.conflict), pairSet(intents, want)
		if !slices.Equal(got, wantPairs) || len(got) == 0 {
			t.Fatalf("batch %d, extent %t: %d pairs, want the %d of the all-pairs computation", batch, run.extent, len(got), len(wantPairs))
		}
		if !bytes.Contains(out.Bytes(), []byte("restart (open store, latest snapshot + replay)")) {
			t.Fatalf("batch %d, extent %t: no restart figure in:\n%s", batch, run.extent, out.String())
		}
		if _, _, ok := processCPU(); ok && !bytes.Contains(out.Bytes(), []byte(" µs per intent, ")) {
			t.Fatalf("batch %d, extent %t: no CPU figure in:\n%s", batch, run.extent, out.String())
		}
	}
}

// TestCPULine checks the figures of the cpu line on fixed times.
func TestCPULine(t *testing.T) {
	for _, tc := range []struct {
		user, sys time.Duration
		n         int
		elapsed   time.Duration
		want      string
	}{
		{1500 * time.Millisecond, 500 * time.Millisecond, 1000, time.Second, "cpu 1.50s user + 0.50s system = 2000 µs per intent, 2.00 cores busy"},
		{47150 * time.Millisecond, 13680 * time.Millisecond, 100_000, 36470 * time.Millisecond, "cpu 47.15s user + 13.68s system = 608 µs per intent, 1.67 cores busy"},
		{time.Second, 0, 0, time.Second, ""},
		{time.Second, 0, 10, 0, ""},
	} {
		got := cpuLine(tc.user, tc.sys, tc.n, tc.elapsed)
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("cpuLine(%v, %v, %d, %v) = %q, want %q...", tc.user, tc.sys, tc.n, tc.elapsed, got, tc.want)
		}
	}
}

// TestCPUMeter burns some CPU time between start and line and checks the
// line counts at least that.
func TestCPUMeter(t *testing.T) {
	u0, s0, ok := processCPU()
	if !ok {
		t.Skip("no process CPU time on this system")
	}
	m := startCPU()
	start := time.Now()
	x := 1.0
	for {
		for range 100_000 {
			x = x*1.0000001 + 1e-9
		}
		if u, s, _ := processCPU(); u+s-u0-s0 >= 50*time.Millisecond {
			break
		}
	}
	line := m.line(10, time.Since(start))
	var user, sys float64
	if _, err := fmt.Sscanf(line, "cpu %fs user + %fs system", &user, &sys); err != nil {
		t.Fatalf("line %q: %v (x %g)", line, err, x)
	}
	if user+sys < 0.04 {
		t.Errorf("line %q counts %.2fs, want at least the 0.05s burned", line, user+sys)
	}
	if (cpuMeter{}).line(10, time.Second) != "" {
		t.Error("a meter that did not start gives a line")
	}
}

// pairSet lists conflicting pairs as "a b" with a < b, sorted: with
// concurrent clients a pair may be found by either intent.
func pairSet(intents []workload.Intent, conflicts [][]string) []string {
	var out []string
	for i, cs := range conflicts {
		for _, c := range cs {
			a, b := intents[i].ID, c
			if b < a {
				a, b = b, a
			}
			out = append(out, a+" "+b)
		}
	}
	slices.Sort(out)
	return out
}
