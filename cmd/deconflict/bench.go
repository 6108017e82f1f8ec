package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/workload"
)

func runBench(ctx context.Context, e *env, args []string) error {
	tuneGC()
	tuneProcs()
	fs := newFlags(e, "bench", "[-in FILE] [-out FILE] [-verify]")
	in := fs.String("in", "intents.jsonl", "workload file (JSON lines, see shared/bench), - for stdin")
	out := fs.String("out", "", "write the conflicts of each intent here, in the PostGIS baseline's format")
	verify := fs.Bool("verify", false, "also check every conflict set against an exact all-pairs computation (slow)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the filing phase (with -restart: of the start-up) to this file")
	memProfile := fs.String("memprofile", "", "write a profile of the allocations of the filing phase to this file")
	durable := fs.Bool("durable", false, "file through the durable service (embedded store, one sync per batch) in-process")
	overHTTP := fs.Bool("http", false, "file over HTTP with signed requests to an in-process server on loopback (durable)")
	clients := fs.Int("c", 8, "concurrent clients (with -durable or -http)")
	batch := fs.Int("batch", 0, "with -http: intents per batch request (0: one intent per request)")
	dir := fs.String("dir", "", "with -durable or -http: store directory (default: a temporary one)")
	n := fs.Int("n", 0, "file only the first n intents (0: all)")
	restartOnly := fs.Bool("restart", false, "time a start-up (open, snapshot, replay, then the background audit) of the store in -dir that an earlier -durable or -http run left, in this fresh process; it ends with a clean stop, which saves a snapshot: copy the directory first to time the same start-up again")
	snapEvery := fs.Int("snapshot-every", 0, "with -durable or -http: entries between registry snapshots, or half the intents held if more (0: the service's default)")
	overlaps := fs.String("overlaps", "cells", "with -http: how answers show each overlap: cells, or extent (altitude band and time window only, ?overlaps=extent)")
	receipts := fs.Bool("receipts", true, "with -durable or -http: sign a checkpoint per batch and answer each write with a receipt (-http clients verify them)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *overlaps != "cells" && *overlaps != "extent" {
		return fmt.Errorf("-overlaps %q: want cells or extent", *overlaps)
	}
	if *clients < 1 || *batch < 0 || *batch > 1000 || *n < 0 || *snapEvery < 0 {
		return errors.New("need -c >= 1, 0 <= -batch <= 1000, -n >= 0 and -snapshot-every >= 0")
	}
	if *restartOnly {
		if *dir == "" {
			return errors.New("-restart needs -dir: the store of an earlier -durable or -http run")
		}
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
		return benchRestart(ctx, e, *dir)
	}
	intents, err := readWorkload(e, *in)
	if err != nil {
		return err
	}
	if *n > 0 && *n < len(intents) {
		intents = intents[:*n]
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
		defer writeMemProfile(e, *memProfile)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	if *durable || *overHTTP {
		defer pprof.StopCPUProfile()
		sb := &svcBench{e: e, intents: intents, clients: *clients, batch: *batch, http: *overHTTP, dir: *dir, receipts: *receipts, snapshotEvery: *snapEvery, extent: *overlaps == "extent"}
		if err := sb.run(ctx); err != nil {
			return err
		}
		if *out != "" {
			if err := writeConflictsFile(*out, intents, sb.conflict); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := benchEngine(ctx, e, intents)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	res.print(e.stdout)
	if *out != "" {
		if err := writeConflictsFile(*out, intents, res.conflicts); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "bench: wrote %s\n", *out)
	}
	if *verify {
		fmt.Fprintln(e.stderr, "bench: verifying against an exact all-pairs computation...")
		want := bruteForceConflicts(ctx, intents, func(done, total int) {
			fmt.Fprintf(e.stderr, "bench: verify %d/%d volumes\n", done, total)
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range intents {
			if !slices.Equal(res.conflicts[i], want[i]) {
				return fmt.Errorf("verify: intent %s: engine found %v, exact all-pairs %v", intents[i].ID, res.conflicts[i], want[i])
			}
		}
		fmt.Fprintf(e.stdout, "verify: conflict sets of all %d intents equal the exact all-pairs computation\n", len(intents))
	}
	return nil
}

// startCPUProfile starts a CPU profile written to path (none if path is
// empty) and returns what stops it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeMemProfile writes the allocations made so far (the workload's
// reading included: compare with the filing phase's share in the profile).
func writeMemProfile(e *env, path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "bench: memory profile: %v\n", err)
	}
}

func readWorkload(e *env, path string) ([]workload.Intent, error) {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("bench: %w (make one with: cd shared/bench/workload && go run . -n 100000 -parties 12 -seed 1 > intents.jsonl)", err)
		}
		defer f.Close()
		r = f
	}
	start := time.Now()
	intents, err := workload.Read(bufio.NewReaderSize(r, 1<<20), geo.Limits{}, func(n int) {
		if n%50_000 == 0 {
			fmt.Fprintf(e.stderr, "bench: read %d intents\n", n)
		}
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "bench: read and validated %d intents in %.2fs\n", len(intents), time.Since(start).Seconds())
	return intents, nil
}

// benchResult holds what the engine run measured.
type benchResult struct {
	n, volumes   int
	elapsed      time.Duration
	latencies    []time.Duration
	conflicts    [][]string // per intent: the earlier intents it conflicts with, sorted
	heapPerVol   float64
	gomaxprocs   int
	totalPairs   int
	lastTenthAvg float64
	cpuLine      string // the CPU time of the filing, if known
}

// benchEngine files every intent in order into a registry in detect mode
// and measures Apply (check + apply) per intent.
func benchEngine(ctx context.Context, e *env, intents []workload.Intent) (*benchResult, error) {
	reg, err := registry.New(registry.Config{Policy: registry.PolicyDetect})
	if err != nil {
		return nil, err
	}
	entryTime := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC) // before every volume
	var idx uint64
	apply := func(en registry.Entry) (registry.Result, error) {
		idx++
		en.Index, en.Time = idx, entryTime
		return reg.Apply(en)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	if _, err := apply(registry.Entry{Kind: registry.KindAddParty, AddParty: &registry.AddParty{
		Party: registry.Party{ID: "bench", Name: "bench authority", Role: registry.RoleAuthority, PublicKey: pub}}}); err != nil {
		return nil, err
	}
	for _, it := range intents {
		id := registry.PartyID(it.Party)
		if reg.Party(id) != nil {
			continue
		}
		if _, err := apply(registry.Entry{Party: "bench", Kind: registry.KindAddParty, AddParty: &registry.AddParty{
			Party: registry.Party{ID: id, Name: it.Party, Role: registry.RoleMember, PublicKey: pub}}}); err != nil {
			return nil, fmt.Errorf("bench: party %s: %w", it.Party, err)
		}
	}
	res := &benchResult{n: len(intents), gomaxprocs: runtime.GOMAXPROCS(0),
		latencies: make([]time.Duration, len(intents)), conflicts: make([][]string, len(intents))}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	cpu := startCPU()
	lastProgress := time.Now()
	start := lastProgress
	for i, it := range intents {
		en := registry.Entry{Party: registry.PartyID(it.Party), Kind: registry.KindFile,
			File: &registry.File{Intent: registry.IntentID(it.ID), NewOVN: "1", Volumes: it.Volumes}}
		t := time.Now()
		r, err := apply(en)
		res.latencies[i] = time.Since(t)
		if err != nil {
			return nil, fmt.Errorf("bench: intent %s: %w", it.ID, err)
		}
		if len(r.Conflicts) > 0 {
			ids := make([]string, len(r.Conflicts))
			for k, c := range r.Conflicts {
				ids[k] = string(c.Intent.ID)
			}
			res.conflicts[i] = ids
		}
		if i%1024 == 0 && time.Since(lastProgress) > 2*time.Second {
			lastProgress = time.Now()
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			fmt.Fprintf(e.stderr, "bench: filed %d/%d intents (%.0f/s)\n", i, len(intents), float64(i)/time.Since(start).Seconds())
		}
		res.volumes += len(it.Volumes)
	}
	res.elapsed = time.Since(start)
	res.cpuLine = cpu.line(res.n, res.elapsed)

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	// The registry holds the volumes; the caller's slice shares them, so
	// they are counted once, in the registry's share.
	if v := reg.NumVolumes(); v > 0 {
		res.heapPerVol = float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc)) / float64(v)
	}
	runtime.KeepAlive(reg)
	return res, nil
}

func (r *benchResult) print(w io.Writer) {
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	counts := make([]int, len(r.conflicts))
	total, lastTenth := 0, 0
	for i, c := range r.conflicts {
		counts[i] = len(c)
		total += len(c)
		if i >= len(r.conflicts)-len(r.conflicts)/10 {
			lastTenth += len(c)
		}
	}
	slices.Sort(counts)
	cp := func(p float64) int {
		if len(counts) == 0 {
			return 0
		}
		return counts[min(len(counts)-1, int(p*float64(len(counts))))]
	}
	mean := func(sum, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(sum) / float64(n)
	}
	fmt.Fprintf(w, "mode=engine policy=detect intents=%d volumes=%d GOMAXPROCS=%d\n", r.n, r.volumes, r.gomaxprocs)
	fmt.Fprintf(w, "elapsed %.2fs  %.0f intents/s  latency p50 %s p99 %s max %s\n",
		r.elapsed.Seconds(), float64(r.n)/r.elapsed.Seconds(), fmtDur(pct(0.50)), fmtDur(pct(0.99)), fmtDur(pct(1)))
	fmt.Fprint(w, r.cpuLine)
	fmt.Fprintf(w, "conflicts: total %d, per intent mean %.2f p10 %d p50 %d p90 %d p99 %d max %d; last tenth mean %.2f\n",
		total, mean(total, len(counts)), cp(0.1), cp(0.5), cp(0.9), cp(0.99), cp(1), mean(lastTenth, len(r.conflicts)/10))
	fmt.Fprintf(w, "heap per indexed volume %.0f bytes (%.2f KiB)\n", r.heapPerVol, r.heapPerVol/1024)
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

func writeConflictsFile(path string, intents []workload.Intent, conflicts [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i, it := range intents {
		if err := workload.WriteConflicts(w, it.ID, slices.Clone(conflicts[i])); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cpuMeter measures the CPU time the process uses between start and stop.
type cpuMeter struct {
	user, sys time.Duration
	ok        bool
}

func startCPU() cpuMeter {
	u, s, ok := processCPU()
	return cpuMeter{u, s, ok}
}

// line describes the CPU time used since m started, for n intents over
// elapsed, or is empty if it is unknown.
func (m cpuMeter) line(n int, elapsed time.Duration) string {
	u, s, ok := processCPU()
	if !m.ok || !ok {
		return ""
	}
	return cpuLine(u-m.user, s-m.sys, n, elapsed)
}

// cpuLine describes user and system CPU time spent on n intents over
// elapsed, or is empty if there were none.
func cpuLine(user, sys time.Duration, n int, elapsed time.Duration) string {
	if n <= 0 || elapsed <= 0 {
		return ""
	}
	total := user + sys
	return fmt.Sprintf("cpu %.2fs user + %.2fs system = %.0f µs per intent, %.2f cores busy (this whole process: in -http, the clients too)\n",
		user.Seconds(), sys.Seconds(), float64(total.Microseconds())/float64(n), total.Seconds()/elapsed.Seconds())
}
