package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
	"github.com/deconflict/deconflict/workload"
)

// benchEpoch is the service clock in service benchmarks: before every
// volume of the workload, so nothing expires.
var benchEpoch = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)

// svcBench runs the workload through the durable service: in-process
// (Submit) or over HTTP with signed requests, c concurrent clients, batch
// intents per request (0: one intent per request, unbatched).
type svcBench struct {
	e             *env
	intents       []workload.Intent
	clients       int
	batch         int
	http          bool
	receipts      bool // the log signs checkpoints and answers with receipts
	extent        bool // answers show overlaps without cells (?overlaps=extent)
	snapshotEvery int
	dir           string
	conflict      [][]string
	keys          map[string]ed25519.PrivateKey
	httpc         map[string]*client.Client
	cpuLine       string // the CPU time of the last load, for report
}

func clientsFor(b *svcBench, _ *service.Service) map[string]*client.Client { return b.httpc }

func (b *svcBench) run(ctx context.Context) error {
	dir := b.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "deconflict-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	store, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	regCfg := registry.Config{Policy: registry.PolicyDetect}
	now := func() time.Time { return benchEpoch }
	cfg := service.Config{Store: store, Registry: regCfg, Now: now, Origin: "deconflict-bench", SnapshotEvery: b.snapshotEvery}
	if b.receipts {
		if _, cfg.LogKey, err = auth.GenerateKey(); err != nil {
			return err
		}
	}
	svc, err := service.Open(ctx, cfg)
	if err != nil {
		return err
	}
	keys := map[string]ed25519.PrivateKey{}
	add := func(by, id string, role registry.Role) error {
		pub, priv, err := auth.GenerateKey()
		if err != nil {
			return err
		}
		keys[id] = priv
		_, err = svc.Submit(ctx, service.Command{Entry: registry.Entry{Party: registry.PartyID(by), Kind: registry.KindAddParty,
			AddParty: &registry.AddParty{Party: registry.Party{ID: registry.PartyID(id), Name: id, Role: role, PublicKey: pub}}}})
		return err
	}
	if err := add("", "bench", registry.RoleAuthority); err != nil {
		return err
	}
	for _, it := range b.intents {
		if _, ok := keys[it.Party]; !ok {
			if err := add("bench", it.Party, registry.RoleMember); err != nil {
				return err
			}
		}
	}
	b.keys = keys
	mode := "durable in-process (service.Submit)"
	var file func(ctx context.Context, worker int, items []int) ([]outcomeIDs, error)
	if b.http {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv, err := server.New(server.Config{Service: svc, Audience: "bench"})
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: srv.Handler()}
		go hs.Serve(ln)
		defer hs.Close()
		addr := "http://" + ln.Addr().String()
		tr := &http.Transport{MaxIdleConnsPerHost: b.clients * 2}
		var lk string
		if cfg.LogKey != nil {
			if lk, err = ledger.VerifierKey(cfg.Origin, cfg.LogKey.Public().(ed25519.PublicKey)); err != nil {
				return err
			}
		}
		clients := map[string]*client.Client{}
		for id, k := range keys {
			c, err := client.New(client.Config{BaseURL: addr, Party: id, Key: k, Audience: "bench", LogKey: lk, Extent: b.extent, HTTP: &http.Client{Transport: tr, Timeout: time.Minute}})
			if err != nil {
				return err
			}
			clients[id] = c
		}
		b.httpc = clients
		mode = fmt.Sprintf("durable over HTTP, signed requests, %s", plural(max(1, b.batch), "intent")+" per request")
		if b.extent {
			mode += ", overlaps without cells"
		}
		file = func(ctx context.Context, worker int, items []int) ([]outcomeIDs, error) {
			return b.fileHTTP(ctx, clients, items)
		}
	} else {
		file = func(ctx context.Context, worker int, items []int) ([]outcomeIDs, error) {
			return b.fileSubmit(ctx, svc, items)
		}
	}
	if b.batch > 0 && b.http {
		return b.runBatches(ctx, mode, clientsFor(b, svc), svc, store, dir, regCfg, now)
	}
	return b.runSingles(ctx, mode, file, svc, store, dir, regCfg, now)
}

type outcomeIDs struct {
	idx       int
	conflicts []string
	lat       time.Duration
}

func (b *svcBench) fileSubmit(ctx context.Context, svc *service.Service, items []int) ([]outcomeIDs, error) {
	var out []outcomeIDs
	for _, i := range items {
		it := b.intents[i]
		t := time.Now()
		so, err := svc.Submit(ctx, service.Command{Entry: registry.Entry{Party: registry.PartyID(it.Party), Kind: registry.KindFile,
			File: &registry.File{Intent: registry.IntentID(it.ID), Volumes: it.Volumes}}})
		if err != nil {
			return nil, fmt.Errorf("intent %s: %w", it.ID, err)
		}
		o := outcomeIDs{idx: i, lat: time.Since(t)}
		for _, c := range so.Result.Conflicts {
			o.conflicts = append(o.conflicts, string(c.Intent.ID))
		}
		out = append(out, o)
	}
	return out, nil
}

func specs(it workload.Intent) []geo.VolumeSpec {
	out := make([]geo.VolumeSpec, len(it.Volumes))
	for i, v := range it.Volumes {
		out[i] = v.Spec()
	}
	return out
}

func (b *svcBench) fileHTTP(ctx context.Context, clients map[string]*client.Client, items []int) ([]outcomeIDs, error) {
	var out []outcomeIDs
	for _, i := range items {
		it := b.intents[i]
		t := time.Now()
		f, err := clients[it.Party].File(ctx, server.FileRequest{ID: uuidFor(it.ID), Volumes: specs(it)})
		if err != nil {
			return nil, fmt.Errorf("intent %s: %w", it.ID, err)
		}
		o := outcomeIDs{idx: i, lat: time.Since(t)}
		for _, c := range f.Conflicts {
			o.conflicts = append(o.conflicts, idFromUUID(c.ID))
		}
		out = append(out, o)
	}
	return out, nil
}

// uuidFor maps a workload id (i000123) to a UUID the API accepts, and back.
func uuidFor(id string) string { return "00000000-0000-4000-8000-" + fmt.Sprintf("%012s", id[1:]) }

func idFromUUID(id registry.IntentID) string { return "i" + string(id[len(id)-6:]) }

// load runs b.clients workers, each calling work(w, lat) until it returns,
// with progress on stderr; it returns the elapsed time, per-intent
// latencies and the first error.
func (b *svcBench) load(work func(w int, lat []time.Duration, done *atomic.Int64) error) (time.Duration, []time.Duration, error) {
	cpu := startCPU()
	n := len(b.intents)
	lat := make([]time.Duration, n)
	b.conflict = make([][]string, n)
	var done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, b.clients)
	start := time.Now()
	stop := make(chan struct{})
	go b.progress(&done, n, start, stop)
	for w := 0; w < b.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(w, lat, &done); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	b.cpuLine = cpu.line(n, elapsed)
	close(errc)
	return elapsed, lat, <-errc
}

// runSingles gives each of b.clients workers every clients-th intent, in
// file order, and measures per-intent latency.
func (b *svcBench) runSingles(ctx context.Context, mode string, file func(context.Context, int, []int) ([]outcomeIDs, error),
	svc *service.Service, store interface{ Close(context.Context) error }, dir string, regCfg registry.Config, now func() time.Time) error {
	elapsed, lat, err := b.load(func(w int, lat []time.Duration, done *atomic.Int64) error {
		for i := w; i < len(b.intents); i += b.clients {
			res, err := file(ctx, w, []int{i})
			if err != nil {
				return err
			}
			for _, o := range res {
				lat[o.idx], b.conflict[o.idx] = o.lat, o.conflicts
			}
			done.Add(1)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.report(mode, elapsed, lat)
	return b.restart(ctx, svc, store, dir, regCfg, now)
}

// runBatches files the intents in batches of up to b.batch per signed
// request, each batch of one party (a request is signed by one party), in
// file order, b.clients requests in flight.
func (b *svcBench) runBatches(ctx context.Context, mode string, clients map[string]*client.Client,
	svc *service.Service, store interface{ Close(context.Context) error }, dir string, regCfg registry.Config, now func() time.Time) error {
	var batches [][]int
	open := map[string]int{} // party -> index in batches of its open batch
	for i, it := range b.intents {
		k, ok := open[it.Party]
		if !ok || len(batches[k]) >= b.batch {
			batches = append(batches, nil)
			k = len(batches) - 1
			open[it.Party] = k
		}
		batches[k] = append(batches[k], i)
	}
	var next atomic.Int64
	elapsed, lat, err := b.load(func(w int, lat []time.Duration, done *atomic.Int64) error {
		for {
			k := int(next.Add(1)) - 1
			if k >= len(batches) {
				return nil
			}
			items := batches[k]
			reqs := make([]server.FileRequest, len(items))
			for j, i := range items {
				reqs[j] = server.FileRequest{ID: uuidFor(b.intents[i].ID), Volumes: specs(b.intents[i])}
			}
			t := time.Now()
			resp, err := clients[b.intents[items[0]].Party].FileBatch(ctx, reqs)
			if err != nil {
				return err
			}
			d := time.Since(t)
			for j, r := range resp.Results {
				i := items[j]
				if r.Filed == nil {
					return fmt.Errorf("intent %s: %v", b.intents[i].ID, r.Problem)
				}
				lat[i] = d
				for _, c := range r.Filed.Conflicts {
					b.conflict[i] = append(b.conflict[i], idFromUUID(c.ID))
				}
			}
			done.Add(int64(len(items)))
		}
	})
	if err != nil {
		return err
	}
	b.report(mode+" (latency per request)", elapsed, lat)
	return b.restart(ctx, svc, store, dir, regCfg, now)
}

func (b *svcBench) progress(done *atomic.Int64, n int, start time.Time, stop chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			d := done.Load()
			fmt.Fprintf(b.e.stderr, "bench: filed %d/%d intents (%.0f/s)\n", d, n, float64(d)/time.Since(start).Seconds())
		}
	}
}

func (b *svcBench) report(mode string, elapsed time.Duration, lat []time.Duration) {
	l := slices.Clone(lat)
	slices.Sort(l)
	pct := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	total := 0
	for _, c := range b.conflict {
		total += len(c)
	}
	fmt.Fprintf(b.e.stdout, "mode=%s clients=%d intents=%d GOMAXPROCS=%d\n", mode, b.clients, len(b.intents), runtime.GOMAXPROCS(0))
	fmt.Fprintf(b.e.stdout, "elapsed %.2fs  %.0f intents/s  latency p50 %s p99 %s max %s\n",
		elapsed.Seconds(), float64(len(lat))/elapsed.Seconds(), fmtDur(pct(0.5)), fmtDur(pct(0.99)), fmtDur(pct(1)))
	fmt.Fprint(b.e.stdout, b.cpuLine)
	fmt.Fprintf(b.e.stdout, "conflicting pairs found: %d\n", total)
}

// restart closes the service and measures how long opening it again
// (latest snapshot + replay) takes.
func (b *svcBench) restart(ctx context.Context, svc *service.Service, store interface{ Close(context.Context) error }, dir string, regCfg registry.Config, now func() time.Time) error {
	if err := svc.Close(ctx); err != nil {
		return err
	}
	if err := store.Close(ctx); err != nil {
		return err
	}
	start := time.Now()
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close(ctx)
	s2, err := service.Open(ctx, service.Config{Store: st, Registry: regCfg, Now: now})
	if err != nil {
		return err
	}
	took := time.Since(start)
	var n int
	s2.View(func(r *registry.Registry) { n = r.NumIntents() })
	s2.Close(ctx)
	fmt.Fprintf(b.e.stdout, "restart (open store, latest snapshot + replay): %.2fs for %d intents\n", took.Seconds(), n)
	if n != len(b.intents) {
		return fmt.Errorf("after restart the registry holds %d intents, want %d", n, len(b.intents))
	}
	return nil
}

// benchRestart times the start-up of the service on the store in dir, as a
// restarted process would do it: the time until the service can answer,
// then until the background audit of the entries the snapshot covers ends.
func benchRestart(ctx context.Context, e *env, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "log")); err != nil {
		return fmt.Errorf("no store in %s (run bench -durable -dir %s first): %w", dir, dir, err)
	}
	start := time.Now()
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close(ctx)
	svc, err := service.Open(ctx, service.Config{Store: st, Registry: registry.Config{Policy: registry.PolicyDetect}, Now: func() time.Time { return benchEpoch }})
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	ready := time.Since(start)
	var n int
	svc.View(func(r *registry.Registry) { n = r.NumIntents() })
	fmt.Fprintf(e.stdout, "restart (fresh process: open store, latest snapshot + replay): %.2fs for %d intents, %d log entries\n", ready.Seconds(), n, st.LastIndex())
	if err := <-svc.Audit(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "background audit of the entries the snapshot covers ended %.2fs after the start\n", time.Since(start).Seconds())
	return nil
}
