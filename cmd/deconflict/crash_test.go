package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

// startServe runs "deconflict serve" in a child process and returns it
// with its address once it listens.
func startServe(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DECONFLICT_TEST_ARGS=serve -dir "+dir+" -listen 127.0.0.1:0 -snapshot-every 150")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrRE := regexp.MustCompile(`msg=serving addr=(http://\S+)`)
	sc := bufio.NewScanner(stderr)
	var log bytes.Buffer
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return cmd, m[1]
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("serve did not start:\n%s", log.String())
	return nil, ""
}

func partyClient(t *testing.T, dir, party, addr string) *client.Client {
	t.Helper()
	c, err := client.New(partyConfig(t, dir, party, addr))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// partyConfig is the client configuration of party from the data
// directory: its key, the service id and the log's verifier key.
func partyConfig(t *testing.T, dir, party, addr string) client.Config {
	t.Helper()
	cfg, err := loadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.ReadPrivateKey(keyPath(dir, party))
	if err != nil {
		t.Fatal(err)
	}
	lk, err := logKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return client.Config{BaseURL: addr, Party: party, Key: key, Audience: cfg.ServiceID, LogKey: lk}
}

// TestCrashRecovery kills the server (SIGKILL) in the middle of a
// concurrent load; after a restart every write that was answered with
// success is there, and the state equals a replay of the log from scratch.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	parties := []string{"france", "usa", "russia", "italy"}
	args := []string{"init", "-dir", dir}
	for _, p := range parties {
		args = append(args, "-party", p)
	}
	if err := run(ctx, args, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	cmd, addr := startServe(t, dir)

	type acked struct {
		id  registry.IntentID
		ovn registry.OVN
	}
	var mu sync.Mutex
	var got []acked
	var wg sync.WaitGroup
	stop := make(chan struct{})
	start := time.Now().UTC().Add(time.Hour)
	for w, p := range parties {
		c := partyClient(t, dir, p, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Each worker has its own longitude band: no conflicts,
				// so every filing is accepted unless the server dies.
				v := geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: geo.Degrees(-60 + float64(i%1200)*0.1), Lng: geo.Degrees(10 * w), RadiusM: 1000},
					AltLoM: 0, AltHiM: 100, Start: start, End: start.Add(time.Hour)}
				f, err := c.File(ctx, server.FileRequest{Volumes: []geo.VolumeSpec{v}})
				if err != nil {
					return // the server died: this write was not acknowledged
				}
				mu.Lock()
				got = append(got, acked{f.Intent.ID, f.Intent.OVN})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(got) < 50 {
		t.Fatalf("only %d writes were acknowledged before the kill: the load did not run", len(got))
	}

	cmd, addr = startServe(t, dir)
	found := map[registry.IntentID]registry.OVN{}
	for _, p := range parties {
		pc := partyClient(t, dir, p, addr)
		list, err := pc.List(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range list {
			found[v.ID] = v.OVN
		}
	}
	for _, a := range got {
		if found[a.id] != a.ovn {
			t.Errorf("acknowledged intent %s (ovn %s) is missing or changed after the crash (found ovn %q)", a.id, a.ovn, found[a.id])
		}
	}
	t.Logf("%d writes acknowledged before SIGKILL, all present after restart (%d intents in all)", len(got), len(found))

	// Stop cleanly, then compare the start-up state (snapshot + replay)
	// with a replay of every entry from the first.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}
	cfg, err := loadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	scratch, err := service.ReplayAll(ctx, store, cfg.registryConfig())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, service.Config{Store: store, Registry: cfg.registryConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	want, err := scratch.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var have []byte
	svc.View(func(r *registry.Registry) { have, err = r.Snapshot() })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatalf("state after start-up (%d bytes) differs from a replay from scratch (%d bytes)", len(have), len(want))
	}
	if scratch.NumIntents() != len(found) {
		t.Fatalf("replay has %d intents, the server listed %d", scratch.NumIntents(), len(found))
	}
}
